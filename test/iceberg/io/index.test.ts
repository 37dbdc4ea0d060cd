import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import { AzureFileIO, LocalFileIO, MemoryFileIO, ResolvingFileIO, createFileIO, storageKindOf } from '../../../shared/iceberg/io/index';

describe('createFileIO', () => {
  it('chooses the implementation by scheme', () => {
    expect(createFileIO('file:///tmp/w')).toBeInstanceOf(LocalFileIO);
    expect(createFileIO('/tmp/w')).toBeInstanceOf(LocalFileIO);
    expect(createFileIO('memory://w')).toBeInstanceOf(MemoryFileIO);
    const azure = { accounts: [{ accountName: 'acct01', accountKey: Buffer.from('k').toString('base64') }] };
    expect(createFileIO('abfss://lake@acct01.dfs.core.windows.net/w', { azure })).toBeInstanceOf(AzureFileIO);
  });

  it('refuses unknown schemes, relative paths and Azure without settings', () => {
    expect(() => storageKindOf('s3://bucket/w')).toThrow(ValidationError);
    expect(() => storageKindOf('warehouse/w')).toThrow(ValidationError);
    expect(() => createFileIO('abfss://lake@acct01.dfs.core.windows.net/w')).toThrow('no Azure storage settings');
  });
});

describe('ResolvingFileIO', () => {
  it('dispatches by scheme and keeps one memory store', async () => {
    const io = new ResolvingFileIO();
    await io.write('memory://w/a', new Uint8Array([1, 2]));
    expect(await io.read('memory://w/a')).toEqual(new Uint8Array([1, 2]));
    const listed = [];
    for await (const file of io.list('memory://w/')) listed.push(file);
    expect(listed).toEqual([{ location: 'memory://w/a', size: 2 }]);
  });

  it('rejects, rather than throws, for unsupported locations', async () => {
    const io = new ResolvingFileIO();
    const reading = io.read('s3://bucket/x');
    await expect(reading).rejects.toBeInstanceOf(ValidationError);
    await expect(io.stat('abfss://lake@acct01.dfs.core.windows.net/x')).rejects.toBeInstanceOf(ValidationError);
  });
});
