/** Key ranges aligned with data files: grouping files by their key bounds, and reading the bounds from manifests. */
import { describe, expect, it } from 'vitest';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { MemoryFileIO } from '../../shared/iceberg/io/memory-file-io';
import { createSchema } from '../../shared/iceberg/spec/schema';
import type { Row } from '../../shared/iceberg/spec/values';
import { fastAppend, overwrite } from '../../shared/iceberg/transaction/table-operations';
import { TableWriter } from '../../shared/iceberg/writer/table-writer';
import type { KeyRange } from '../../shared/verify/contracts';
import { type KeyFileBounds, keyFileBounds, rangesFromFiles } from '../../shared/verify/ranges/key-ranges';

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const file = (lower: bigint, upper: bigint, records: number): KeyFileBounds => ({ lower, upper, records });
const owners = (ranges: KeyRange[], key: bigint) => ranges.filter((r) => (r.lo === null || key >= BigInt(r.lo)) && (r.hi === null || key < BigInt(r.hi)));
/** Ranges a file's key span [lower, upper] intersects. */
const readers = (ranges: KeyRange[], f: KeyFileBounds) =>
  ranges.filter((r) => (r.hi === null || f.lower! < BigInt(r.hi)) && (r.lo === null || f.upper! >= BigInt(r.lo))).map((r) => r.index);

/** Every int64 key in exactly one range, indexes in order, outer ranges open. */
function expectPartition(ranges: KeyRange[], files: KeyFileBounds[]): void {
  expect(ranges.map((r) => r.index)).toEqual(ranges.map((_r, i) => i));
  expect(ranges[0]!.lo).toBeNull();
  expect(ranges[ranges.length - 1]!.hi).toBeNull();
  const keys = [MIN, MAX, 0n, ...files.flatMap((f) => [f.lower! - 1n, f.lower!, f.upper!, f.upper! + 1n])];
  for (const key of keys) expect(owners(ranges, key), String(key)).toHaveLength(1);
  for (let i = 1; i < ranges.length; i++) expect(BigInt(ranges[i]!.lo!)).toBeGreaterThan(BigInt(ranges[i - 1]!.lo ?? MIN));
}

describe('rangesFromFiles', () => {
  it('puts boundaries at file lower bounds so each disjoint file is read by one range', () => {
    // Seven files of ~285k rows, as a 2M-row table written in key order.
    const files = Array.from({ length: 7 }, (_v, i) => file(BigInt(i * 300_000 + 1), BigInt(i * 300_000 + 285_000), i === 6 ? 285_716 : 285_714));
    const ranges = rangesFromFiles(files, 500_000);
    expect(ranges).toHaveLength(4);
    expectPartition(ranges, files);
    const lowers = new Set(files.map((f) => String(f.lower)));
    for (const r of ranges.slice(1)) expect(lowers.has(r.lo!)).toBe(true);
    for (const f of files) expect(readers(ranges, f)).toHaveLength(1);
    expect(ranges.reduce((sum, r) => sum + r.estimatedRows, 0)).toBe(2_000_000);
    for (const r of ranges) {
      const owned = files.filter((f) => readers(ranges, f)[0] === r.index);
      expect(r.estimatedRows).toBe(owned.reduce((sum, f) => sum + f.records, 0));
    }
  });

  it('aims at ceil(total / rowsPerRange) ranges of balanced size', () => {
    const files = Array.from({ length: 10 }, (_v, i) => file(BigInt(i * 100), BigInt(i * 100 + 99), 100));
    const ranges = rangesFromFiles(files, 250);
    expect(ranges).toHaveLength(4);
    expect(ranges.map((r) => r.estimatedRows)).toEqual([300, 200, 300, 200]);
    expect(ranges.map((r) => [r.lo, r.hi])).toEqual([
      [null, '300'],
      ['300', '500'],
      ['500', '800'],
      ['800', null],
    ]);
  });

  it('sorts files given out of order', () => {
    const files = [file(200n, 299n, 100), file(0n, 99n, 100), file(300n, 399n, 100), file(100n, 199n, 100)];
    const ranges = rangesFromFiles(files, 200);
    expect(ranges.map((r) => [r.lo, r.hi, r.estimatedRows])).toEqual([
      [null, '200', 200],
      ['200', null, 200],
    ]);
    for (const f of files) expect(readers(ranges, f)).toHaveLength(1);
  });

  it('places no boundary where an earlier file reaches past it', () => {
    // The second file spans the third and fourth, so no boundary may fall at 100, 200 or 300.
    const files = [file(0n, 99n, 100), file(50n, 350n, 100), file(100n, 199n, 100), file(200n, 299n, 100), file(400n, 499n, 100), file(500n, 599n, 100)];
    const ranges = rangesFromFiles(files, 200);
    expectPartition(ranges, files);
    expect(ranges.map((r) => [r.lo, r.hi, r.estimatedRows])).toEqual([
      [null, '400', 400],
      ['400', null, 200],
    ]);
    for (const f of files) expect(readers(ranges, f)).toHaveLength(1);
  });

  it('keeps every file in one range even when overlap leaves a single group', () => {
    const files = [file(0n, 1000n, 100), file(10n, 20n, 100), file(500n, 600n, 100)];
    expect(rangesFromFiles(files, 100)).toEqual([]);
    const chained = [file(0n, 150n, 100), file(100n, 250n, 100), file(200n, 350n, 100), file(400n, 450n, 100), file(460n, 470n, 100)];
    const ranges = rangesFromFiles(chained, 100);
    expectPartition(ranges, chained);
    for (const f of chained) expect(readers(ranges, f)).toHaveLength(1);
    expect(ranges.map((r) => r.lo)).toEqual([null, '400', '460']);
  });

  it('covers extreme keys', () => {
    const files = [file(MIN, -1n, 100), file(0n, MAX, 100)];
    const ranges = rangesFromFiles(files, 100);
    expect(ranges.map((r) => [r.lo, r.hi])).toEqual([
      [null, '0'],
      ['0', null],
    ]);
    expectPartition(ranges, files);
  });

  it('gives up when a bound is missing or everything fits one range', () => {
    expect(rangesFromFiles([file(0n, 99n, 100), { lower: null, upper: 300n, records: 100 }], 50)).toEqual([]);
    expect(rangesFromFiles([file(0n, 99n, 100), { lower: 100n, upper: null, records: 100 }], 50)).toEqual([]);
    expect(rangesFromFiles([file(0n, 99n, 100), file(100n, 199n, 100)], 200)).toEqual([]);
    expect(rangesFromFiles([file(0n, 99n, 100), file(100n, 199n, 100)], 0)).toEqual([]);
    expect(rangesFromFiles([], 10)).toEqual([]);
  });

  it('keeps a huge file whole', () => {
    const files = [file(0n, 99n, 100), file(100n, 10_099n, 10_000), file(10_100n, 10_199n, 100)];
    const ranges = rangesFromFiles(files, 1000);
    expectPartition(ranges, files);
    expect(ranges.map((r) => [r.lo, r.hi, r.estimatedRows])).toEqual([
      [null, '100', 100],
      ['100', '10100', 10_000],
      ['10100', null, 100],
    ]);
    expect(rangesFromFiles([file(0n, 9_999n, 10_000)], 1000)).toEqual([]);
  });
});

describe('keyFileBounds', () => {
  const schema = createSchema([
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'k', required: true, type: 'int' },
    { id: 3, name: 'name', required: false, type: 'string' },
  ]);
  const id = { namespace: ['ns'], name: 't' };
  const rows = (from: number, count: number): Row[] => Array.from({ length: count }, (_v, i) => [BigInt(from + i), from + i - 700, `n${from + i}`]);

  it("reads each live data file's key bounds from the manifests", async () => {
    const catalog = new HadoopCatalog(new MemoryFileIO(), 'memory://warehouse');
    await catalog.createTable(id, { schema });
    const paths: string[] = [];
    for (const from of [0, 1000]) {
      const table = await catalog.loadTable(id);
      const writer = new TableWriter({ io: catalog.io, metadata: table.metadata });
      await writer.writeRows(rows(from, 500));
      const files = await writer.close();
      paths.push(...files.map((f) => f.filePath));
      await fastAppend(catalog, id, { dataFiles: files });
    }
    const { metadata } = await catalog.loadTable(id);
    const byLower = (a: KeyFileBounds, b: KeyFileBounds) => (a.lower! < b.lower! ? -1 : 1);
    const bounds = (await keyFileBounds(catalog.io, metadata, undefined, 'id'))!.sort(byLower);
    expect(bounds).toEqual([file(0n, 499n, 500), file(1000n, 1499n, 500)]);
    expect((await keyFileBounds(catalog.io, metadata, undefined, 'k'))!.sort(byLower)).toEqual([file(-700n, -201n, 500), file(300n, 799n, 500)]);
    expect(rangesFromFiles(bounds, 500).map((r) => [r.lo, r.hi])).toEqual([
      [null, '1000'],
      ['1000', null],
    ]);
    expect(await keyFileBounds(catalog.io, metadata, undefined, 'name')).toBeUndefined();
    expect(await keyFileBounds(catalog.io, metadata, undefined, 'missing')).toBeUndefined();
    expect(await keyFileBounds(catalog.io, metadata, 42n, 'id')).toBeUndefined();

    const before = metadata['current-snapshot-id']!;
    await overwrite(catalog, id, { deleteWhere: (f) => f.filePath === paths[0] });
    const after = (await catalog.loadTable(id)).metadata;
    expect(await keyFileBounds(catalog.io, after, undefined, 'id')).toEqual([file(1000n, 1499n, 500)]);
    expect(await keyFileBounds(catalog.io, after, before, 'id')).toHaveLength(2);
  });
});
