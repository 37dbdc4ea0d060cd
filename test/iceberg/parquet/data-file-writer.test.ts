import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import type { FileIO, OutputStream } from '../../../shared/iceberg/io/file-io';
import { MemoryFileIO } from '../../../shared/iceberg/io/memory-file-io';
import { DataFileWriter } from '../../../shared/iceberg/parquet/data-file-writer';
import { readDataFile, readParquetFooter } from '../../../shared/iceberg/parquet/parquet-reader';
import { CompressionCodec, Encoding, readPageHeader } from '../../../shared/iceberg/parquet/parquet-thrift';
import { type Schema, createSchema } from '../../../shared/iceberg/spec/schema';
import type { IcebergType } from '../../../shared/iceberg/spec/types';
import type { Row, Value } from '../../../shared/iceberg/spec/values';
import { type TempWarehouse, duckdb, query, readAll, sqlPath, tempWarehouse, writeRows } from './helpers';

const SCHEMA: Schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'name', required: false, type: 'string' },
  { id: 3, name: 'amount', required: false, type: 'decimal(12, 2)' },
  { id: 4, name: 'tags', required: false, type: { type: 'list', 'element-id': 5, element: 'string', 'element-required': false } },
]);

function row(i: number): Row {
  return [BigInt(i), `name-${i % 1000}-${'z'.repeat(i % 50)}`, BigInt(i * 7 - 3000), i % 5 === 0 ? null : [`t${i % 3}`, null]];
}

describe('DataFileWriter', () => {
  let warehouse: TempWarehouse;
  beforeAll(async () => {
    warehouse = await tempWarehouse();
  });
  afterAll(async () => {
    await warehouse?.cleanup();
  });

  it('rolls to new files at the target size and writes every row exactly once', async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => row(i));
    const target = 64 * 1024;
    const files = await writeRows(warehouse, SCHEMA, rows, { targetFileSizeInBytes: target, pageSizeInBytes: 8 * 1024 });
    expect(files.length).toBeGreaterThan(3);
    let total = 0n;
    const seen = new Set<bigint>();
    for (const file of files) {
      total += file.recordCount;
      // A file stops growing once it reaches the target; the last row group and the footer may overshoot a little.
      expect(Number(file.fileSizeInBytes)).toBeLessThan(target * 1.5);
      const { metadata } = await readParquetFooter(warehouse.io, file.filePath);
      expect(BigInt(metadata.num_rows)).toBe(file.recordCount);
      expect(file.splitOffsets).toEqual(metadata.row_groups.map((g) => BigInt(g.columns[0]!.meta_data!.data_page_offset)));
      for (const back of await readAll(warehouse, file.filePath, SCHEMA)) {
        const id = back[0] as bigint;
        expect(seen.has(id)).toBe(false);
        seen.add(id);
        expect(back).toEqual(row(Number(id)));
      }
    }
    expect(total).toBe(30_000n);
    expect(seen.size).toBe(30_000);
    expect(new Set(files.map((f) => f.filePath)).size).toBe(files.length);
  });

  it('writes the same bytes from batches of any size as from rows one at a time, flushes inside a batch included', async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => row(i));
    const options = { targetFileSizeInBytes: 48 * 1024, rowGroupSizeInBytes: 12 * 1024, pageSizeInBytes: 4 * 1024 };
    const filesOf = async (write: (writer: DataFileWriter) => Promise<void>): Promise<Buffer[]> => {
      const io = new MemoryFileIO();
      let n = 0;
      const writer = new DataFileWriter({ io, schema: SCHEMA, newLocation: () => `memory://b/f-${n++}.parquet`, ...options });
      await write(writer);
      const files = await writer.close();
      return Promise.all(files.map(async (f) => Buffer.from(await io.read(f.filePath))));
    };
    const oneByOne = await filesOf(async (writer) => {
      for (const r of rows) {
        const flushed = writer.write(r);
        if (flushed) await flushed;
      }
    });
    expect(oneByOne.length, 'several files, each of several row groups').toBeGreaterThan(3);
    for (const size of [1, 7, 8, 9, 1000, rows.length]) {
      const batched = await filesOf(async (writer) => {
        for (let from = 0; from < rows.length; from += size) await writer.writeBatch(rows.slice(from, from + size));
      });
      expect(batched.length, `batches of ${size}`).toBe(oneByOne.length);
      batched.forEach((file, i) => expect(file.equals(oneByOne[i]!), `batches of ${size}, file ${i}`).toBe(true));
    }
  });

  it('ends a row group at the row limit exactly, row by row and in batches alike', async () => {
    const rows = Array.from({ length: 1_000 }, (_, i) => row(i));
    const groupsOf = async (rowGroupRows: number, batch: number): Promise<number[]> => {
      const io = new MemoryFileIO();
      const writer = new DataFileWriter({ io, schema: SCHEMA, newLocation: () => 'memory://g/f.parquet', rowGroupRows });
      if (batch === 1) {
        for (const r of rows) await writer.write(r);
      } else {
        for (let from = 0; from < rows.length; from += batch) await writer.writeBatch(rows.slice(from, from + batch));
      }
      const [file] = await writer.close();
      const { metadata } = await readParquetFooter(io, file!.filePath);
      expect(file!.splitOffsets).toHaveLength(metadata.row_groups.length);
      return metadata.row_groups.map((g) => g.num_rows);
    };
    for (const batch of [1, 7, 300, rows.length]) {
      expect(await groupsOf(300, batch), `batches of ${batch}`).toEqual([300, 300, 300, 100]);
      expect(await groupsOf(5, batch), `batches of ${batch}, fewer rows than the check interval`).toEqual(Array(200).fill(5));
    }
    expect(await groupsOf(1_000, 9)).toEqual([1_000]);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new DataFileWriter({ io: new MemoryFileIO(), schema: SCHEMA, newLocation: () => 'memory://g/x.parquet', rowGroupRows: bad })).toThrow(
        /rowGroupRows must be a positive integer/,
      );
    }
  });

  it('keeps buffered bytes under the row-group size however many rows it writes', async () => {
    const rowGroupSize = 256 * 1024;
    const writer = new DataFileWriter({
      io: warehouse.io,
      schema: SCHEMA,
      newLocation: () => warehouse.next('bounded'),
      rowGroupSizeInBytes: rowGroupSize,
      pageSizeInBytes: 16 * 1024,
    });
    let peak = 0;
    for (let i = 0; i < 200_000; i++) {
      const flushed = writer.write(row(i));
      if (flushed) await flushed;
      if (writer.bufferedBytes > peak) peak = writer.bufferedBytes;
    }
    const [file] = await writer.close();
    expect(peak).toBeGreaterThan(rowGroupSize / 2); // the gauge does measure the buffered row group
    expect(peak).toBeLessThanOrEqual(rowGroupSize);
    expect(writer.peakBufferedBytes).toBeLessThanOrEqual(rowGroupSize);
    const { metadata } = await readParquetFooter(warehouse.io, file!.filePath);
    expect(metadata.row_groups.length).toBeGreaterThan(3);
    for (const group of metadata.row_groups) expect(group.total_compressed_size!).toBeLessThanOrEqual(rowGroupSize);
    expect(file!.splitOffsets).toHaveLength(metadata.row_groups.length);
    expect(writer.rowsWritten).toBe(200_000);
    expect(writer.bytesWritten).toBe(Number(file!.fileSizeInBytes));
  });

  it('writes uncompressed files when asked and reads them back', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => row(i));
    const [plain] = await writeRows(warehouse, SCHEMA, rows, { compression: 'uncompressed' });
    const [zstd] = await writeRows(warehouse, SCHEMA, rows, { zstdLevel: 9 });
    expect(await readAll(warehouse, plain!.filePath, SCHEMA)).toEqual(rows);
    expect(await readAll(warehouse, zstd!.filePath, SCHEMA)).toEqual(rows);
    expect(plain!.fileSizeInBytes > zstd!.fileSizeInBytes).toBe(true);
    const { metadata } = await readParquetFooter(warehouse.io, plain!.filePath);
    expect(metadata.row_groups[0]!.columns.every((c) => c.meta_data!.codec === CompressionCodec.UNCOMPRESSED)).toBe(true);
  });

  it('accepts safe-integer numbers for 64-bit types and reads back bigints', async () => {
    const schema = createSchema([
      { id: 1, name: 'l', required: true, type: 'long' },
      { id: 2, name: 'ts', required: true, type: 'timestamptz' },
      { id: 3, name: 'dec', required: true, type: 'decimal(30, 0)' },
    ]);
    const [file] = await writeRows(warehouse, schema, [
      [Number.MIN_SAFE_INTEGER, -1, -1],
      [Number.MAX_SAFE_INTEGER, 1, 2 ** 53 - 1],
    ]);
    expect(await readAll(warehouse, file!.filePath, schema)).toEqual([
      [BigInt(Number.MIN_SAFE_INTEGER), -1n, -1n],
      [BigInt(Number.MAX_SAFE_INTEGER), 1n, 2n ** 53n - 1n],
    ]);
  });

  it('writes through the in-memory FileIO and creates no file for zero rows', async () => {
    const io = new MemoryFileIO();
    let n = 0;
    const empty = new DataFileWriter({ io, schema: SCHEMA, newLocation: () => `memory://t/empty-${n++}.parquet` });
    expect(await empty.close()).toEqual([]);
    expect(n).toBe(0);
    const writer = new DataFileWriter({ io, schema: SCHEMA, newLocation: () => `memory://t/data-${n++}.parquet` });
    void writer.write(row(1)); // one row never flushes: there is nothing to await
    const [file] = await writer.close();
    expect(file!.filePath).toBe('memory://t/data-0.parquet');
    const rows: Row[] = [];
    for await (const batch of readDataFile(io, file!.filePath, SCHEMA)) rows.push(...batch);
    expect(rows).toEqual([row(1)]);
    await expect(writer.close()).rejects.toThrow(/close\(\) called twice/);
    expect(() => writer.write(row(2))).toThrow(/after close/);
    // After a successful close the files are the caller's: abort leaves them alone.
    await writer.abort();
    expect(await io.stat(file!.filePath)).toBeDefined();
  });

  it('abort deletes finished files and leaves nothing behind', async () => {
    const before = new Set(await readdir(warehouse.dir));
    const writer = new DataFileWriter({
      io: warehouse.io,
      schema: SCHEMA,
      newLocation: () => warehouse.next('aborted'),
      targetFileSizeInBytes: 16 * 1024,
      pageSizeInBytes: 4096,
    });
    await writer.writeRows(Array.from({ length: 5000 }, (_, i) => row(i)));
    const during = (await readdir(warehouse.dir)).filter((f) => !before.has(f));
    expect(during.length).toBeGreaterThan(1);
    await writer.abort();
    expect((await readdir(warehouse.dir)).filter((f) => !before.has(f))).toEqual([]);
    expect(() => writer.write(row(1))).toThrow(/aborted/);
  });

  it('surfaces a storage failure and can still be aborted', async () => {
    const io = new MemoryFileIO();
    let writes = 0;
    const failing: FileIO = Object.assign(Object.create(io) as FileIO, {
      create: async (location: string): Promise<OutputStream> => {
        const inner = await io.create(location);
        return {
          write: async (chunk: Uint8Array) => {
            if (++writes > 3) throw new Error('disk full');
            return inner.write(chunk);
          },
          close: () => inner.close(),
          abort: () => inner.abort(),
        };
      },
    });
    const writer = new DataFileWriter({
      io: failing,
      schema: SCHEMA,
      newLocation: () => 'memory://t/fail.parquet',
      rowGroupSizeInBytes: 8 * 1024,
      pageSizeInBytes: 2048,
    });
    await expect(writer.writeRows(Array.from({ length: 20_000 }, (_, i) => row(i)))).rejects.toThrow(/disk full/);
    expect(() => writer.write(row(1))).toThrow(/disk full/);
    await expect(writer.close()).rejects.toThrow(/disk full/);
    await writer.abort();
    expect(await io.stat('memory://t/fail.parquet')).toBeUndefined();
  });

  describe('string dictionary encoding', () => {
    const schema = createSchema([
      { id: 1, name: 'low', required: false, type: 'string' },
      { id: 2, name: 'unique', required: true, type: 'string' },
      { id: 3, name: 'growing', required: true, type: 'string' },
      { id: 4, name: 'tags', required: false, type: { type: 'list', 'element-id': 5, element: 'string', 'element-required': false } },
    ]);
    // growing: each value repeats 4 times, so the dictionary pays off at first but passes 1 MiB after ~100k rows.
    const rowAt = (i: number): Row => [
      i % 11 === 0 ? null : `status-${i % 5}`,
      `unique-${i}-${'u'.repeat(i % 7)}`,
      `grow-${String(Math.floor(i / 4)).padStart(31, '0')}`,
      i % 9 === 0 ? null : [`t${i % 3}`, null, 'ünï'],
    ];
    const rows = Array.from({ length: 160_000 }, (_, i) => rowAt(i));

    it('uses a dictionary while it pays, falls back to PLAIN when it does not or grows too big', async () => {
      const [file] = await writeRows(warehouse, schema, rows, { pageSizeInBytes: 16 * 1024, rowGroupSizeInBytes: 64 * 1024 * 1024, rowGroupRows: rows.length });
      const { metadata } = await readParquetFooter(warehouse.io, file!.filePath);
      expect(metadata.row_groups).toHaveLength(1);
      // Page types and encodings of each column chunk, in file order: "dict" or the data page's value encoding.
      const data = await warehouse.io.read(file!.filePath);
      const pagesOf = (column: number): string[] => {
        const meta = metadata.row_groups[0]!.columns[column]!.meta_data!;
        const out: string[] = [];
        let pos = meta.dictionary_page_offset ?? meta.data_page_offset;
        const end = pos + meta.total_compressed_size;
        while (pos < end) {
          const { header, end: bodyStart } = readPageHeader(data, pos);
          out.push(header.dictionary_page_header ? 'dict' : header.data_page_header!.encoding === Encoding.PLAIN ? 'plain' : 'rle_dict');
          pos = bodyStart + header.compressed_page_size;
        }
        return out;
      };
      const runs = (pages: string[]): string => pages.filter((p, i) => p !== pages[i - 1]).join(' ');
      const low = pagesOf(0);
      expect(runs(low)).toBe('dict rle_dict');
      expect(runs(pagesOf(3))).toBe('dict rle_dict');
      // Unique values: the first page shows the dictionary does not pay, so every later page is PLAIN.
      const unique = pagesOf(1);
      expect(unique.slice(0, 2)).toEqual(['dict', 'rle_dict']);
      expect(runs(unique)).toBe('dict rle_dict plain');
      expect(unique.filter((p) => p === 'plain').length).toBeGreaterThan(10);
      // Dictionary pages first, PLAIN once the dictionary passed 1 MiB: both kinds in one chunk.
      const growing = pagesOf(2);
      expect(runs(growing)).toBe('dict rle_dict plain');
      expect(growing.filter((p) => p === 'rle_dict').length).toBeGreaterThan(2);
      expect(growing.filter((p) => p === 'plain').length).toBeGreaterThan(2);
      const meta = metadata.row_groups[0]!.columns[2]!.meta_data!;
      expect(meta.encodings.sort()).toEqual([Encoding.PLAIN, Encoding.RLE, Encoding.RLE_DICTIONARY]);
      expect(meta.dictionary_page_offset! < meta.data_page_offset).toBe(true);
      expect(await readAll(warehouse, file!.filePath, schema)).toEqual(rows);
      expect(file!.lowerBounds!.get(1)).toEqual(Buffer.from('status-0'));
      expect(file!.upperBounds!.get(1)).toEqual(Buffer.from('status-4'));
    });

    it('DuckDB reads the dictionary, PLAIN and mixed chunks identically', async () => {
      const [file] = await writeRows(warehouse, schema, rows, { pageSizeInBytes: 16 * 1024, rowGroupSizeInBytes: 64 * 1024 * 1024, rowGroupRows: rows.length });
      const duck = await duckdb();
      try {
        const got = await query(duck, `SELECT low, "unique", growing, to_json(tags) AS tags FROM read_parquet(${sqlPath(file!.filePath)})`);
        expect(got).toHaveLength(rows.length);
        expect(got.map((r) => [r.low, r.unique, r.growing, r.tags === null ? null : (JSON.parse(r.tags as string) as unknown)])).toEqual(rows);
        const pages = await query(duck, `SELECT path_in_schema, encodings FROM parquet_metadata(${sqlPath(file!.filePath)})`);
        expect(pages.find((p) => p.path_in_schema === 'growing')!.encodings).toMatch(/RLE_DICTIONARY/);
      } finally {
        duck.closeSync();
      }
    });
  });

  describe('rejects invalid values with the column and the value, never coercing', () => {
    const cases: [IcebergType, Value, RegExp][] = [
      ['int', 2147483648, /column c \(field id 1, int\): not an integer in the int32 range: 2147483648/],
      ['int', 1.5, /not an integer in the int32 range: 1\.5/],
      ['int', 5n, /expected a number: 5n/],
      ['long', 2n ** 63n, /outside the int64 range: 9223372036854775808n/],
      ['long', -(2n ** 63n) - 1n, /outside the int64 range/],
      ['long', 2 ** 53, /not a safe integer/],
      ['long', '1', /expected a bigint/],
      ['decimal(4, 2)', 10000n, /unscaled value has more digits than precision 4: 10000n/],
      ['decimal(4, 2)', -10000, /more digits than precision 4: -10000/],
      ['decimal(20, 0)', 10n ** 20n, /more digits than precision 20/],
      ['decimal(38, 0)', 10n ** 38n, /more digits than precision 38/],
      ['decimal(9, 0)', 1.5, /must be a bigint or a safe integer: 1\.5/],
      ['binary', 'text', /a string in a binary column \(pass a Uint8Array\): "text"/],
      ['fixed[4]', Uint8Array.of(1, 2, 3), /expected exactly 4 bytes: bytes\[3\] 0x010203/],
      ['string', 42, /expected a string: 42/],
      ['string', 'lone \ud800 surrogate', /unpaired surrogate/],
      ['uuid', 'not-a-uuid', /not a UUID/],
      ['uuid', '123e4567-e89b-12d3-a456-42661417400g', /bad hex digit/],
      ['float', 0.1, /not exactly representable as a 32-bit float/],
      ['double', 1n, /expected a number/],
      ['boolean', 1, /expected a boolean/],
      ['date', 2 ** 31, /int32 range/],
      ['time', 86_400_000_000n, /time of day must be/],
      ['time', -1, /time of day must be/],
      ['timestamp', undefined as unknown as Value, /undefined \(missing\)/],
    ];
    for (const [type, value, message] of cases) {
      it(`${String(type as string)}: ${typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? 'undefined')}`, () => {
        const schema = createSchema([{ id: 1, name: 'c', required: false, type }]);
        const writer = new DataFileWriter({ io: new MemoryFileIO(), schema, newLocation: () => 'memory://t/x.parquet' });
        expect(() => writer.write([value])).toThrow(ValidationError);
        expect(() => new DataFileWriter({ io: new MemoryFileIO(), schema, newLocation: () => 'memory://t/y.parquet' }).write([value])).toThrow(message);
      });
    }

    it('a null in a required field, top level and nested', () => {
      const schema = createSchema([
        { id: 1, name: 'a', required: true, type: 'string' },
        { id: 2, name: 'xs', required: false, type: { type: 'list', 'element-id': 3, element: 'int', 'element-required': true } },
        { id: 4, name: 'm', required: false, type: { type: 'map', 'key-id': 5, key: 'string', 'value-id': 6, value: 'int', 'value-required': false } },
      ]);
      const writer = (): DataFileWriter => new DataFileWriter({ io: new MemoryFileIO(), schema, newLocation: () => 'memory://t/z.parquet' });
      expect(() => writer().write([null, null, null])).toThrow(/column a \(field id 1, string\): null in a required field/);
      expect(() => writer().write(['a', [1, null], null])).toThrow(/column xs\.element \(field id 3\): null in a required field/);
      expect(() => writer().write(['a', null, new Map([[null, 1]])])).toThrow(/column m\.key \(field id 5\): null in a required field/);
      expect(() => writer().write(['a', null, { k: 1 } as unknown as Value])).toThrow(/a map value must be a Map/);
    });

    it('leaves the writer unusable after a bad value so a partial row is never written', async () => {
      const io = new MemoryFileIO();
      const writer = new DataFileWriter({ io, schema: SCHEMA, newLocation: () => 'memory://t/poisoned.parquet' });
      void writer.write(row(1)); // one row never flushes: there is nothing to await
      expect(() => writer.write([2n, 'ok', 10n ** 12n, null])).toThrow(/precision 12/);
      expect(() => writer.write(row(3))).toThrow(/precision 12/);
      await expect(writer.close()).rejects.toThrow(/precision 12/);
      await writer.abort();
      expect(await io.stat('memory://t/poisoned.parquet')).toBeUndefined();
    });
  });
});
