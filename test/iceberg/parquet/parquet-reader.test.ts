import { writeFile } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataFile, readParquetFooter } from '../../../shared/iceberg/parquet/parquet-reader';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import type { Row } from '../../../shared/iceberg/spec/values';
import { type TempWarehouse, duckdb, query, readAll, sqlPath, tempWarehouse, writeRows } from './helpers';

const WRITTEN = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'name', required: false, type: 'string' },
  { id: 3, name: 'count', required: false, type: 'int' },
  { id: 4, name: 'ratio', required: false, type: 'float' },
  { id: 5, name: 'amount', required: false, type: 'decimal(9, 2)' },
  {
    id: 6, name: 'st', required: false,
    type: { type: 'struct', fields: [{ id: 7, name: 'a', required: true, type: 'int' }, { id: 8, name: 'b', required: false, type: 'string' }] },
  },
  { id: 9, name: 'tags', required: false, type: { type: 'list', 'element-id': 10, element: 'int', 'element-required': false } },
  { id: 14, name: 'big', required: false, type: 'decimal(20, 4)' },
]);

const ROWS: Row[] = [
  [1n, 'one', 1, 0.5, 12345n, [1, 'x'], [1, 2], 10n ** 20n - 1n],
  [2n, null, -2147483648, Math.fround(-1.1), null, null, null, null],
  [3n, 'three', null, Number.NaN, -999999999n, [3, null], [], -(10n ** 20n) + 1n],
];

describe('readDataFile maps columns by field id', () => {
  let warehouse: TempWarehouse;
  let duck: DuckDBConnection;
  let file: string;

  beforeAll(async () => {
    warehouse = await tempWarehouse();
    duck = await duckdb();
    file = (await writeRows(warehouse, WRITTEN, ROWS))[0]!.filePath;
  });
  afterAll(async () => {
    duck?.closeSync();
    await warehouse?.cleanup();
  });

  it('reads renamed and reordered columns, promoted types, and absent fields as null', async () => {
    const projection = createSchema([
      { id: 11, name: 'added', required: false, type: 'string' },
      { id: 2, name: 'label', required: false, type: 'string' },
      { id: 1, name: 'ident', required: true, type: 'long' },
      { id: 3, name: 'count', required: false, type: 'long' },
      { id: 4, name: 'ratio', required: false, type: 'double' },
      { id: 5, name: 'amount', required: false, type: 'decimal(20, 2)' },
      { id: 14, name: 'big', required: false, type: 'decimal(38, 4)' },
    ]);
    expect(await readAll(warehouse, file, projection)).toEqual([
      [null, 'one', 1n, 1n, 0.5, 12345n, 10n ** 20n - 1n],
      [null, null, 2n, -2147483648n, Math.fround(-1.1), null, null],
      [null, 'three', 3n, null, Number.NaN, -999999999n, -(10n ** 20n) + 1n],
    ]);
  });

  it('projects struct members by id, including a struct none of whose projected members exist', async () => {
    const projection = createSchema([
      {
        id: 6, name: 'renamed', required: false,
        type: { type: 'struct', fields: [{ id: 8, name: 'b2', required: false, type: 'string' }, { id: 12, name: 'c', required: false, type: 'int' }] },
      },
      { id: 9, name: 'tags', required: false, type: { type: 'list', 'element-id': 10, element: 'long', 'element-required': false } },
    ]);
    expect(await readAll(warehouse, file, projection)).toEqual([
      [['x', null], [1n, 2n]],
      [null, null],
      [[null, null], []],
    ]);
    // A struct whose projected members are all new still knows when the struct itself is null.
    const onlyNew = createSchema([
      { id: 6, name: 'st', required: false, type: { type: 'struct', fields: [{ id: 13, name: 'z', required: false, type: 'int' }] } },
      { id: 1, name: 'id', required: true, type: 'long' },
    ]);
    expect(await readAll(warehouse, file, onlyNew)).toEqual([[[null], 1n], [null, 2n], [[null], 3n]]);
  });

  it('refuses a projection type the file cannot be read as, naming the column', async () => {
    const bad = createSchema([{ id: 3, name: 'count', required: false, type: 'string' }]);
    await expect(readAll(warehouse, file, bad)).rejects.toThrow(/column count \(field id 3\): Parquet INT32 cannot be read as string/);
    const narrowing = createSchema([{ id: 5, name: 'amount', required: false, type: 'decimal(5, 2)' }]);
    await expect(readAll(warehouse, file, narrowing)).rejects.toThrow(/cannot be read as decimal\(5, 2\)/);
    const structAsInt = createSchema([{ id: 6, name: 'st', required: false, type: 'int' }]);
    await expect(readAll(warehouse, file, structAsInt)).rejects.toThrow(/is a group in the file/);
  });

  it('yields batches of the requested size', async () => {
    const rows = Array.from({ length: 10 }, (_, i): Row => [BigInt(i), null, i, null, null, null, null, null]);
    const [ten] = await writeRows(warehouse, WRITTEN, rows);
    const sizes: number[] = [];
    for await (const batch of readDataFile(warehouse.io, ten!.filePath, WRITTEN, { batchSize: 3 })) sizes.push(batch.length);
    expect(sizes).toEqual([3, 3, 3, 1]);
  });

  it('rejects files that are not Parquet', async () => {
    const junk = warehouse.next('junk');
    await writeFile(junk, Buffer.from('this is certainly not a parquet file at all'));
    await expect(readParquetFooter(warehouse.io, junk)).rejects.toThrow(/magic/);
    await expect(readParquetFooter(warehouse.io, warehouse.next('missing'))).rejects.toThrow(/does not exist/);
  });

  it('reads files other engines wrote: DuckDB with dictionary pages, SNAPPY and GZIP, field ids', async () => {
    const schema = createSchema([
      { id: 1, name: 'i', required: false, type: 'int' },
      { id: 2, name: 's', required: false, type: 'string' },
      { id: 3, name: 'l', required: false, type: { type: 'list', 'element-id': 4, element: 'long', 'element-required': false } },
      {
        id: 5, name: 'st', required: false,
        type: { type: 'struct', fields: [{ id: 6, name: 'a', required: false, type: 'double' }, { id: 7, name: 'b', required: false, type: 'string' }] },
      },
      { id: 8, name: 'ts', required: false, type: 'timestamptz' },
      { id: 9, name: 'dec', required: false, type: 'decimal(18, 3)' },
    ]);
    const select = `SELECT
        CASE WHEN i % 7 = 0 THEN NULL ELSE i::INTEGER END AS i,
        CASE WHEN i % 5 = 0 THEN NULL ELSE 'value-' || (i % 4) END AS s,
        CASE WHEN i % 4 = 0 THEN NULL WHEN i % 4 = 1 THEN [] ELSE [i, NULL, i * 1000000000000] END AS l,
        CASE WHEN i % 6 = 0 THEN NULL ELSE {'a': i / 4, 'b': 'b' || (i % 3)} END AS st,
        make_timestamptz(i * 1000003) AS ts,
        (i * 1.125)::DECIMAL(18, 3) AS dec
      FROM range(5000) t(i)`;
    const ids = `FIELD_IDS {i: 1, s: 2, l: {__duckdb_field_id: 3, element: 4}, st: {__duckdb_field_id: 5, a: 6, b: 7}, ts: 8, dec: 9}`;
    for (const codec of ['snappy', 'gzip', 'zstd', 'uncompressed']) {
      const target = warehouse.next(`duckdb-${codec}`);
      await duck.run(`COPY (${select}) TO ${sqlPath(target)} (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 2048, ${ids})`);
      const encodings = await query(duck, `SELECT DISTINCT encodings FROM parquet_metadata(${sqlPath(target)})`);
      if (codec === 'snappy') expect(encodings.map((e) => e.encodings).join()).toMatch(/PLAIN_DICTIONARY|RLE_DICTIONARY/);
      const expected = (await query(duck, `SELECT i, s, to_json(l) AS l, to_json(st) AS st, epoch_us(ts) AS ts, CAST(dec AS VARCHAR) AS dec FROM (${select})`))
        .map((r): Row => {
          const list = r.l === null ? null : (JSON.parse(r.l as string) as (number | null)[]);
          const struct = r.st === null ? null : (JSON.parse(r.st as string) as { a: number; b: string });
          return [
            r.i as number | null,
            r.s as string | null,
            list === null ? null : list.map((v) => (v === null ? null : BigInt(v))),
            struct === null ? null : [struct.a, struct.b],
            r.ts as bigint,
            BigInt((r.dec as string).replace('.', '')),
          ];
        });
      expect(await readAll(warehouse, target, schema), codec).toEqual(expected);
    }
  });
});
