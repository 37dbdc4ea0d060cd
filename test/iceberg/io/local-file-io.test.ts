import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../shared/errors';
import { LOCAL_TEMP_SUFFIX, LocalFileIO, localPath } from '../../../shared/iceberg/io/local-file-io';
import { describeFileIOContract, listAll, pattern } from './file-io-contract';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'local-file-io-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describeFileIOContract('local disk, plain paths', () => ({ io: new LocalFileIO(), base: `${root}/plain/` }));
describeFileIOContract('local disk, file URIs', () => ({
  io: new LocalFileIO(),
  base: `${pathToFileURL(root).href}/uri/`,
}));

/** Every file under a directory, temp files included, as paths relative to it. */
async function filesOnDisk(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)));
}

describe('LocalFileIO', () => {
  const io = new LocalFileIO();

  it('accepts file URIs with one or three slashes and plain absolute paths, nothing else', () => {
    expect(localPath('file:///tmp/a b/c')).toBe('/tmp/a b/c');
    expect(localPath('file:/tmp/x')).toBe('/tmp/x');
    expect(localPath('file://localhost/tmp/x')).toBe('/tmp/x');
    expect(localPath('/tmp/x')).toBe('/tmp/x');
    expect(() => localPath('relative/x')).toThrow(ValidationError);
    expect(() => localPath('memory://x')).toThrow(ValidationError);
    expect(() => localPath('file://otherhost/x')).toThrow(ValidationError);
    expect(() => localPath('file:relative/x')).toThrow(ValidationError);
  });

  it("takes a file: location's path literally, as Hadoop does: '%', '#' and '?' are characters of a name", () => {
    // Table locations are names joined as strings: decoding them as a URI lost everything after a '#'.
    expect(localPath('file:///w/ns/a#b/metadata/v1.metadata.json')).toBe('/w/ns/a#b/metadata/v1.metadata.json');
    expect(localPath('file:///w/ns/q?x=1/data')).toBe('/w/ns/q?x=1/data');
    expect(localPath('file:///w/ns/100%25/data')).toBe('/w/ns/100%25/data');
    expect(localPath('file:///w/ns/100%25/data')).toBe(localPath('/w/ns/100%25/data'));
  });

  it('leaves no temp files after writes, exclusive conflicts, closes and aborts', async () => {
    const directory = path.join(root, 'no-temp');
    await io.write(`${directory}/a.bin`, pattern(10));
    await io.write(`${directory}/m/v1.json`, pattern(10), { exclusive: true });
    await expect(io.write(`${directory}/m/v1.json`, pattern(5), { exclusive: true })).rejects.toThrow();
    const closed = await io.create(`${directory}/s/closed.bin`);
    await closed.write(pattern(100));
    await closed.close();
    const aborted = await io.create(`${directory}/s/aborted.bin`);
    await aborted.write(pattern(100));
    await aborted.abort();
    expect((await filesOnDisk(directory)).sort()).toEqual(['a.bin', 'm/v1.json', 's/closed.bin']);
  });

  it('reports the modification time of the file in stat and list, which orphan removal goes by', async () => {
    const location = path.join(root, 'timed', 'old.bin');
    await io.write(location, pattern(4));
    const when = new Date('2026-01-02T03:04:05.000Z');
    await utimes(location, when, when);
    expect((await io.stat(location))?.lastModifiedMs).toBe(when.getTime());
    const listed = [];
    for await (const file of io.list(`${path.join(root, 'timed')}/`)) listed.push(file.lastModifiedMs);
    expect(listed).toEqual([when.getTime()]);
  });

  it('hides the temp file of a stream in progress from list', async () => {
    const directory = path.join(root, 'in-progress');
    const stream = await io.create(`${directory}/data.bin`);
    await stream.write(pattern(10));
    const onDisk = await filesOnDisk(directory);
    expect(onDisk).toHaveLength(1);
    expect(onDisk[0]!.endsWith(LOCAL_TEMP_SUFFIX)).toBe(true);
    expect(await listAll(io, `${directory}/`)).toEqual([]);
    await stream.close();
    expect(await listAll(io, `${directory}/`)).toEqual([{ location: `${directory}/data.bin`, size: 10 }]);
  });

  it('returns listed locations in the form of the prefix, the path literal under a file: prefix', async () => {
    const directory = path.join(root, 'forms');
    await io.write(`${directory}/with space/f 1.bin`, pattern(3));
    const uri = `${pathToFileURL(directory).href}/`;
    const listed = await listAll(io, uri);
    expect(listed.map((file) => file.location)).toEqual([`${uri}with space/f 1.bin`]);
    expect(await io.read(listed[0]!.location)).toEqual(pattern(3));
    const plain = await listAll(io, `${directory}/`);
    expect(plain.map((file) => file.location)).toEqual([`${directory}/with space/f 1.bin`]);
  });

  it('treats a directory as no file: stat is undefined and read is refused', async () => {
    const directory = path.join(root, 'dir-as-file');
    await io.write(`${directory}/inner/file.bin`, pattern(1));
    expect(await io.stat(`${directory}/inner`)).toBeUndefined();
    await expect(io.read(`${directory}/inner`)).rejects.toBeInstanceOf(ValidationError);
  });

  it('fails a write whose parent path is a file with a storage error, not NotFound', async () => {
    const blocker = path.join(root, 'blocker');
    await writeFile(blocker, 'x');
    const write = io.write(`${blocker}/child.bin`, pattern(1));
    await expect(write).rejects.not.toBeInstanceOf(NotFoundError);
    await expect(write).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
  });

  it('lists what an interrupted write left behind only when asked, so a cleanup can find it', async () => {
    const directory = path.join(root, 'interrupted');
    const out = await io.create(`${directory}/run-1-p00000-a-00001.parquet`);
    await out.write(pattern(10));
    // The process dies here: no close(), no abort().
    expect(await listAll(io, `${directory}/`)).toEqual([]);
    const incomplete: string[] = [];
    for await (const file of io.list(`${directory}/`, { includeIncomplete: true })) incomplete.push(path.basename(file.location));
    expect(incomplete).toHaveLength(1);
    expect(incomplete[0]).toMatch(new RegExp(`^\\.run-1-p00000-a-00001\\.parquet\\.[0-9a-f]+${LOCAL_TEMP_SUFFIX.replace('.', '\\.')}$`));
    for await (const file of io.list(`${directory}/run-1-p`, { includeIncomplete: true })) await io.delete(file.location);
    expect(await readdir(directory)).toEqual([]);
    await out.abort();
  });
});
