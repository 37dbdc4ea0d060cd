import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import { MemoryFileIO } from '../../../shared/iceberg/io/memory-file-io';
import { describeFileIOContract, pattern } from './file-io-contract';

describeFileIOContract('memory', () => ({ io: new MemoryFileIO(), base: 'memory://warehouse/' }));

describe('MemoryFileIO', () => {
  it('refuses locations of other schemes, so a test cannot silently write elsewhere', async () => {
    const io = new MemoryFileIO();
    await expect(io.write('/tmp/x', pattern(1))).rejects.toBeInstanceOf(ValidationError);
    await expect(io.read('file:///tmp/x')).rejects.toBeInstanceOf(ValidationError);
  });

  it('copies chunks handed to a stream', async () => {
    const io = new MemoryFileIO();
    const stream = await io.create('memory://s/file');
    const chunk = pattern(8);
    await stream.write(chunk);
    chunk.fill(0);
    await stream.close();
    expect(await io.read('memory://s/file')).toEqual(pattern(8));
  });

  it('keeps separate instances separate', async () => {
    const first = new MemoryFileIO();
    await first.write('memory://a/file', pattern(3));
    expect(await new MemoryFileIO().stat('memory://a/file')).toBeUndefined();
  });
});
