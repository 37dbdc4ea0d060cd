/**
 * The keys and locations of the key index: a one-column integer or text key is held by its value (integers beyond
 * 2^53 as bigints, never rounded onto a neighbour), composite and keyless keys by their canonical text, locations in
 * reusable slots; new rows' positions come from the order the writer filled its files, and after batches that
 * delete and re-insert keys the index equals one built afresh from the table.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeRow, RowChange } from '../../shared/cdc/change-decoder';
import { scanToArray } from '../../shared/iceberg/scan/table-scan';
import { createSchema } from '../../shared/iceberg/spec/schema';
import { currentSchema } from '../../shared/iceberg/spec/table-metadata';
import { fastAppend } from '../../shared/iceberg/transaction/table-operations';
import { TableWriter } from '../../shared/iceberg/writer/table-writer';
import { applyChanges, openSyncTable } from '../../shared/sync/apply-changes';
import { type IndexKey, KeyIndex, buildKeyIndex, keyTextOf } from '../../shared/sync/key-index';
import { TABLE, newTable, row, writeData } from '../iceberg/scan/delete-fixtures';
import { transaction } from './change-events';

const SOURCE = { schema: 'public', name: 'changes' };
const FILE = { path: 'memory://f.parquet', specId: 0, partition: [] };

const insert = (after: ChangeRow): RowChange => ({ op: 'insert', table: SOURCE, after });
const remove = (id: bigint): RowChange => ({ op: 'delete', table: SOURCE, before: [id, null, null], beforeKind: 'key' });
const update = (after: [bigint, string, string]): RowChange => ({ op: 'update', table: SOURCE, before: undefined, beforeKind: undefined, after });

/** Every key of the index with its (file path, position) list, for comparing two indexes. */
function contents(index: KeyIndex, keys: readonly IndexKey[]): Array<[IndexKey, string[]]> {
  return keys.map((key) => [key, index.locations(key).map((l) => `${index.file(l).path}#${l.pos}`)]);
}

describe('the key index’s keys', () => {
  const schema = createSchema([
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'name', required: false, type: 'string' },
    { id: 3, name: 'region', required: true, type: 'string' },
  ]);

  it('holds a bigint key beyond 2^53 apart from its rounded neighbour, and a safe one the same as a number', () => {
    const key = keyTextOf(schema, [0]);
    const big = 2n ** 53n + 1n;
    // Number(2^53 + 1) is 2^53: a key held as a rounded number would merge these two rows.
    expect(key([big, null, 'x'])).not.toEqual(key([2n ** 53n, null, 'x']));
    expect(key([-big, null, 'x'])).not.toEqual(key([-(2n ** 53n), null, 'x']));
    expect(key([2n ** 53n - 1n, null, 'x'])).toBe(key([Number.MAX_SAFE_INTEGER, null, 'x']));

    const index = new KeyIndex([0], key);
    index.add(key([big, null, 'x']), FILE, 0);
    index.add(key([2n ** 53n, null, 'x']), FILE, 1);
    expect(index.locations(key([big, null, 'x'])).map((l) => l.pos)).toEqual([0]);
    expect(index.locations(key([2n ** 53n, null, 'x'])).map((l) => l.pos)).toEqual([1]);
  });

  it('holds text keys by their exact code points, non-ASCII included, and null apart from the text null', () => {
    const key = keyTextOf(schema, [1]);
    const composed = 'caf\u00e9';
    const decomposed = 'cafe\u0301';
    expect(key([1n, composed, 'x'])).not.toEqual(key([1n, decomposed, 'x']));
    expect(key([1n, 'naïve 東京 🐘', 'x'])).toBe(key([2n, 'naïve 東京 🐘', 'y']));
    expect(key([1n, null, 'x'])).not.toEqual(key([1n, 'null', 'x']));
    const index = new KeyIndex([1], key);
    index.add(key([1n, composed, 'x']), FILE, 0);
    index.add(key([1n, '🐘', 'x']), FILE, 1);
    expect(index.location(key([1n, decomposed, 'x']), 0)).toBeUndefined();
    expect(index.location(key([9n, '🐘', 'y']), 0)).toEqual({ file: 0, pos: 1 });
  });

  it('keeps composite keys apart where a joined text would not', () => {
    const key = keyTextOf(schema, [1, 2]);
    expect(key([1n, 'a","b', 'c'])).not.toEqual(key([1n, 'a', 'b","c']));
    expect(key([1n, 'a', 'b'])).toBe(key([2n, 'a', 'b']));
    expect(typeof key([1n, 'a', 'b'])).toBe('string');
  });

  it('reuses freed slots, moves a repeated key to several places, and counts rows', () => {
    const key = keyTextOf(schema, [0]);
    const index = new KeyIndex([0], key);
    const other = { path: 'memory://g.parquet', specId: 0, partition: [] };
    for (let i = 0; i < 3000; i++) index.add(i, FILE, i);
    for (let i = 0; i < 3000; i += 2) index.remove(i, 1);
    for (let i = 0; i < 3000; i += 2) index.add(i, other, i + 1);
    index.add(7, other, 9);
    expect(index.rows).toBe(3001);
    expect(index.size).toBe(3000);
    for (let i = 0; i < 3000; i++) {
      const expected = i === 7 ? ['memory://f.parquet#7', 'memory://g.parquet#9'] : [i % 2 === 0 ? `memory://g.parquet#${i + 1}` : `memory://f.parquet#${i}`];
      expect(contents(index, [i])[0]![1]).toEqual(expected);
    }
    index.remove(7, 1);
    expect(index.location(7, 0)).toEqual({ file: 1, pos: 9 });
    expect(() => index.remove(8, 2)).toThrow(/holds 1 row/);
    index.clear();
    expect(index.rows).toBe(0);
    expect(index.locations(1)).toEqual([]);
  });
});

describe('the positions of new rows', () => {
  it('are the order the writer filled its files in, across several files, as reading them back finds', async () => {
    const catalog = await newTable();
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const rows = Array.from({ length: 5000 }, (_, i) => row(i));
    const writer = new TableWriter({ io: catalog.io, metadata, targetFileSizeInBytes: 8 * 1024, rowGroupSizeInBytes: 4 * 1024 });
    await writer.writeRows(rows);
    const files = await writer.close();
    expect(files.length).toBeGreaterThan(2);
    const key = keyTextOf(currentSchema(metadata), [0]);
    const keys = rows.map(key);
    const written = new KeyIndex([0], key);
    expect(written.addWritten(keys, files, 0)).toBe(true);
    const read = new KeyIndex([0], key);
    await read.addFiles(catalog.io, metadata, files, 0);
    expect(contents(written, keys)).toEqual(contents(read, keys));
    // Counts that do not add up are refused, nothing indexed: the caller reads the files back.
    const refused = new KeyIndex([0], key);
    expect(refused.addWritten(keys.slice(1), files, 0)).toBe(false);
    expect(refused.rows).toBe(0);
  });

  for (const partitioned of [false, true]) {
    it(`leave the index equal to a fresh build after keys are deleted and re-inserted in one batch${partitioned ? ' (partitioned)' : ''}`, async () => {
      const catalog = await newTable(partitioned);
      const regions = partitioned ? ['eu', 'us'] : ['eu'];
      for (const region of regions) {
        const file = await writeData(
          catalog,
          Array.from({ length: 50 }, (_, i) => row(i * regions.length + regions.indexOf(region), region)),
          partitioned ? [region] : [],
        );
        await fastAppend(catalog, TABLE, { dataFiles: [file] });
      }
      const table = await openSyncTable({ catalog }, TABLE, SOURCE, { keyColumns: ['id'], rowColumns: ['id', 'name', 'region'] });
      const region = (i: number): string => regions[i % regions.length]!;
      await applyChanges(
        { catalog },
        table,
        transaction(
          0x100n,
          remove(3n),
          insert([3n, 'back', region(3)]),
          update([4n, 'four', region(4)]),
          remove(5n),
          insert([100n, 'new', region(100)]),
          insert([2n ** 60n, 'huge', region(0)]),
        ),
      );
      await applyChanges(
        { catalog },
        table,
        transaction(0x200n, remove(3n), insert([3n, 'again', region(3)]), remove(100n), update([2n ** 60n, 'huger', region(0)])),
      );
      const metadata = (await catalog.loadTable(TABLE)).metadata;
      const fresh = await buildKeyIndex(catalog.io, metadata, [0]);
      const all = (await scanToArray(catalog.io, metadata)).map((r) => table.index.keyText(r));
      expect(all).toHaveLength(50 * regions.length + 1 - 1);
      expect(table.index.rows).toBe(fresh.rows);
      expect(contents(table.index, all)).toEqual(contents(fresh, all));
      expect(table.index.locations(5)).toEqual([]);
      expect(table.index.locations(100)).toEqual([]);
      const byId = new Map((await scanToArray(catalog.io, metadata)).map((r) => [r[0], r[1]]));
      expect([byId.get(3n), byId.get(4n), byId.get(2n ** 60n)]).toEqual(['again', 'four', 'huger']);
    });
  }
});

describe('a keyless table', () => {
  it('applies deletes of one of several equal rows and keeps the rest where they are', async () => {
    const catalog = await newTable();
    const file = await writeData(catalog, [row(1), row(2), row(1), row(1)]);
    await fastAppend(catalog, TABLE, { dataFiles: [file] });
    const table = await openSyncTable({ catalog }, TABLE, SOURCE, { keyColumns: [], rowColumns: ['id', 'name', 'region'] });
    await applyChanges(
      { catalog },
      table,
      transaction(0x100n, { op: 'delete', table: SOURCE, before: row(1), beforeKind: 'full' }, insert(row(1)), insert(row(2))),
    );
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const fresh = await buildKeyIndex(catalog.io, metadata, [0, 1, 2]);
    const keys = [table.index.keyText(row(1)), table.index.keyText(row(2))];
    // Equal rows are interchangeable: which of them goes first is the order files were indexed in.
    const sorted = (index: typeof fresh): Array<[unknown, string[]]> => contents(index, keys).map(([k, l]) => [k, [...l].sort()]);
    expect(sorted(table.index)).toEqual(sorted(fresh));
    expect(table.index.locations(keys[0]!)).toHaveLength(3);
    expect(table.index.locations(keys[1]!)).toHaveLength(2);
  });
});
