import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { AlreadyExistsError, IcebridgeError, NotFoundError, ValidationError } from '../../../shared/errors';
import type { FileInfo, FileIO } from '../../../shared/iceberg/io/file-io';

/** What a contract run needs: the FileIO under test and a directory location (ending in '/') it may fill. */
export interface FileIOContractTarget {
  io: FileIO;
  base: string;
  /** Block or buffer size of the implementation, so stream tests cross it; defaults to 64 KiB. */
  blockSizeInBytes?: number;
}

/** Bytes 0..n-1 of a pattern seeded by `seed`, so different writers' payloads differ everywhere. */
export function pattern(size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

/** Length and digest of bytes: compares large buffers quickly and prints a readable difference. */
export function digest(bytes: Uint8Array): { length: number; sha256: string } {
  return { length: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Collects a listing into an array sorted by location (locations and sizes: times are checked on their own). */
export async function listAll(io: FileIO, prefix: string): Promise<FileInfo[]> {
  const files: FileInfo[] = [];
  for await (const file of io.list(prefix)) files.push({ location: file.location, size: file.size });
  return files.sort((a, b) => (a.location < b.location ? -1 : 1));
}

/** A stat's location and size (times are checked on their own). */
export function sized(info: FileInfo | undefined): FileInfo | undefined {
  return info === undefined ? undefined : { location: info.location, size: info.size };
}

/** Registers the behaviour every FileIO must share, run once per implementation. */
export function describeFileIOContract(name: string, setup: () => FileIOContractTarget | Promise<FileIOContractTarget>): void {
  describe(`FileIO contract: ${name}`, () => {
    let io: FileIO;
    let base: string;
    let blockSize: number;
    let counter = 0;
    /** A fresh directory per test, so tests never see each other's files. */
    const dir = (): string => `${base}t${++counter}/`;

    beforeAll(async () => {
      const target = await setup();
      io = target.io;
      base = target.base;
      blockSize = target.blockSizeInBytes ?? 64 * 1024;
      expect(base.endsWith('/')).toBe(true);
    });

    it('writes, reads and stats a file, creating parent directories', async () => {
      const location = `${dir()}a/b/c/file.bin`;
      const data = pattern(1000);
      await io.write(location, data);
      expect(digest(await io.read(location))).toEqual(digest(data));
      expect(sized(await io.stat(location))).toEqual({ location, size: 1000 });
    });

    it('writes and reads an empty file', async () => {
      const location = `${dir()}empty.bin`;
      await io.write(location, new Uint8Array(0));
      expect((await io.read(location)).byteLength).toBe(0);
      expect((await io.stat(location))?.size).toBe(0);
    });

    it('does not alias the caller buffer or the returned buffer with stored bytes', async () => {
      const location = `${dir()}alias.bin`;
      const data = pattern(64);
      await io.write(location, data);
      data.fill(0);
      const first = await io.read(location);
      expect(first).toEqual(pattern(64));
      first.fill(7);
      expect(digest(await io.read(location))).toEqual(digest(pattern(64)));
    });

    it('replaces an existing file on a plain write', async () => {
      const location = `${dir()}replace.bin`;
      await io.write(location, pattern(100, 1));
      await io.write(location, pattern(50, 2));
      expect(digest(await io.read(location))).toEqual(digest(pattern(50, 2)));
    });

    it('reads ranges inside the file and rejects ranges outside it', async () => {
      const location = `${dir()}range.bin`;
      const data = pattern(1000);
      await io.write(location, data);
      expect(await io.readRange(location, 0, 10)).toEqual(data.slice(0, 10));
      expect(await io.readRange(location, 990, 10)).toEqual(data.slice(990));
      expect(await io.readRange(location, 500, 0)).toEqual(new Uint8Array(0));
      expect(await io.readRange(location, 1000, 0)).toEqual(new Uint8Array(0));
      await expect(io.readRange(location, 995, 10)).rejects.toBeInstanceOf(ValidationError);
      await expect(io.readRange(location, 2000, 1)).rejects.toBeInstanceOf(ValidationError);
      await expect(io.readRange(location, -1, 1)).rejects.toBeInstanceOf(ValidationError);
    });

    it('reports missing files: NotFoundError on reads, undefined on stat, silence on delete', async () => {
      const location = `${dir()}missing.bin`;
      await expect(io.read(location)).rejects.toBeInstanceOf(NotFoundError);
      await expect(io.readRange(location, 0, 1)).rejects.toBeInstanceOf(NotFoundError);
      await expect(io.readRange(location, 0, 0)).rejects.toBeInstanceOf(NotFoundError);
      expect(await io.stat(location)).toBeUndefined();
      await expect(io.delete(location)).resolves.toBeUndefined();
      expect(await listAll(io, dir())).toEqual([]);
    });

    it('creates exclusively once and refuses the second time without touching the file', async () => {
      const location = `${dir()}v1.metadata.json`;
      await io.write(location, pattern(300, 1), { exclusive: true });
      const second = io.write(location, pattern(200, 2), { exclusive: true });
      await expect(second).rejects.toBeInstanceOf(AlreadyExistsError);
      await expect(second).rejects.toMatchObject({ code: 'ALREADY_EXISTS', retryable: false });
      expect(digest(await io.read(location))).toEqual(digest(pattern(300, 1)));
    });

    it('creates exclusively a file larger than one block', async () => {
      const location = `${dir()}large.bin`;
      const data = pattern(blockSize * 2 + 17, 3);
      await io.write(location, data, { exclusive: true });
      await expect(io.write(location, pattern(blockSize * 2 + 17, 4), { exclusive: true })).rejects.toBeInstanceOf(AlreadyExistsError);
      expect(digest(await io.read(location))).toEqual(digest(data));
    });

    for (const [label, size] of [
      ['small', 700],
      ['multi-block', 0],
    ] as const) {
      it(`lets exactly one of 8 concurrent exclusive writes win (${label} payload)`, async () => {
        const location = `${dir()}v2.metadata.json`;
        const bytes = size || blockSize * 3 + 5;
        const payloads = Array.from({ length: 8 }, (_, i) => pattern(bytes, 100 + i));
        const results = await Promise.allSettled(payloads.map((data) => io.write(location, data, { exclusive: true })));
        const winners = results.flatMap((result, index) => (result.status === 'fulfilled' ? [index] : []));
        const losers = results.filter((result) => result.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(7);
        for (const loser of losers) expect((loser as PromiseRejectedResult).reason).toBeInstanceOf(AlreadyExistsError);
        expect(digest(await io.read(location))).toEqual(digest(payloads[winners[0]!]));
      });
    }

    it('streams a file across block boundaries and publishes it only on close', async () => {
      const location = `${dir()}stream/data.parquet`;
      const stream = await io.create(location);
      const expected = pattern(blockSize * 3 + 123, 5);
      // Odd chunk sizes, one chunk bigger than a block, and a reused buffer the caller overwrites after each write.
      const sizes = [1, 17, blockSize - 18, blockSize + 7, 333];
      let position = 0;
      const scratch = new Uint8Array(blockSize * 2);
      for (const size of [...sizes, expected.byteLength - sizes.reduce((a, b) => a + b, 0)]) {
        const chunk = scratch.subarray(0, size);
        chunk.set(expected.subarray(position, position + size));
        await stream.write(chunk);
        chunk.fill(0xee);
        position += size;
      }
      expect(await io.stat(location)).toBeUndefined();
      expect(await stream.close()).toBe(expected.byteLength);
      expect(digest(await io.read(location))).toEqual(digest(expected));
      await expect(stream.write(new Uint8Array(1))).rejects.toBeInstanceOf(ValidationError);
    });

    it('streams a small file and an empty file', async () => {
      const small = `${dir()}small.bin`;
      const stream = await io.create(small);
      await stream.write(pattern(10));
      expect(await stream.close()).toBe(10);
      expect(digest(await io.read(small))).toEqual(digest(pattern(10)));

      const empty = `${dir()}empty.bin`;
      const nothing = await io.create(empty);
      expect(await nothing.close()).toBe(0);
      expect(sized(await io.stat(empty))).toEqual({ location: empty, size: 0 });
    });

    it('leaves nothing behind when a stream is aborted, and keeps an existing file intact', async () => {
      const directory = dir();
      const fresh = `${directory}aborted.bin`;
      const stream = await io.create(fresh);
      await stream.write(pattern(blockSize + 10));
      await stream.abort();
      expect(await io.stat(fresh)).toBeUndefined();
      expect(await listAll(io, directory)).toEqual([]);

      const existing = `${directory}existing.bin`;
      await io.write(existing, pattern(20, 9));
      const replacing = await io.create(existing);
      await replacing.write(pattern(blockSize * 2, 10));
      await replacing.abort();
      expect(digest(await io.read(existing))).toEqual(digest(pattern(20, 9)));
      expect((await listAll(io, directory)).map((file) => file.location)).toEqual([existing]);
    });

    it('deletes files', async () => {
      const location = `${dir()}gone.bin`;
      await io.write(location, pattern(5));
      await io.delete(location);
      expect(await io.stat(location)).toBeUndefined();
      await expect(io.read(location)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('lists recursively by location prefix with sizes', async () => {
      const directory = dir();
      const files = {
        [`${directory}t/metadata/v1.metadata.json`]: 11,
        [`${directory}t/metadata/v2.metadata.json`]: 12,
        [`${directory}t/data/a=1/part-0.parquet`]: 13,
        [`${directory}t/data/a=2/part-1.parquet`]: 0,
        [`${directory}t2/metadata/v1.metadata.json`]: 14,
      };
      for (const [location, size] of Object.entries(files)) await io.write(location, pattern(size));

      const table = await listAll(io, `${directory}t/`);
      expect(table).toEqual(
        Object.entries(files)
          .filter(([location]) => location.startsWith(`${directory}t/`))
          .map(([location, size]) => ({ location, size }))
          .sort((a, b) => (a.location < b.location ? -1 : 1)),
      );
      expect((await listAll(io, `${directory}t/metadata/v`)).map((f) => f.location)).toEqual([
        `${directory}t/metadata/v1.metadata.json`,
        `${directory}t/metadata/v2.metadata.json`,
      ]);
      expect(await listAll(io, directory)).toHaveLength(5);
      expect(await listAll(io, `${directory}nothing-here/`)).toEqual([]);
      for (const file of table) expect((await io.read(file.location)).byteLength).toBe(file.size);
    });

    it('gives the time of the last write, where it gives one, in stat and list alike', async () => {
      const directory = `${dir()}timed/`;
      const location = `${directory}file.bin`;
      const before = Date.now();
      await io.write(location, pattern(5));
      const stat = await io.stat(location);
      const listed = [];
      for await (const file of io.list(directory)) listed.push(file);
      expect(listed.map((f) => f.lastModifiedMs)).toEqual([stat?.lastModifiedMs]);
      // A store's clock may run a little behind ours (a second of rounding on Azure), never minutes.
      if (stat?.lastModifiedMs !== undefined) expect(Math.abs(stat.lastModifiedMs - before)).toBeLessThan(120_000);
    });

    it('honours an already aborted signal', async () => {
      const location = `${dir()}aborted-signal.bin`;
      const abortSignal = AbortSignal.abort();
      const write = io.write(location, pattern(10), { abortSignal });
      await expect(write).rejects.toBeInstanceOf(IcebridgeError);
      await expect(write).rejects.toMatchObject({ code: 'ABORTED' });
      await io.write(location, pattern(10));
      await expect(io.read(location, { abortSignal })).rejects.toMatchObject({ code: 'ABORTED' });
      expect(sized(await io.stat(location))).toEqual({ location, size: 10 });
    });
  });
}
