import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquetFooter } from '../../../shared/iceberg/parquet/parquet-reader';
import { type DataFile, DataFileContent } from '../../../shared/iceberg/spec/manifest';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import { deserializeValue } from '../../../shared/iceberg/spec/conversions';
import type { PrimitiveType } from '../../../shared/iceberg/spec/types';
import type { Row } from '../../../shared/iceberg/spec/values';
import { type TempWarehouse, duckdb, query, sqlPath, tempWarehouse, writeRows } from './helpers';

const SCHEMA = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'name', required: false, type: 'string' },
  { id: 3, name: 'f', required: false, type: 'float' },
  { id: 4, name: 'd', required: false, type: 'double' },
  { id: 5, name: 'dec', required: false, type: 'decimal(10, 2)' },
  { id: 6, name: 'u', required: false, type: 'uuid' },
  { id: 7, name: 'bin', required: false, type: 'binary' },
  { id: 8, name: 'tags', required: false, type: { type: 'list', 'element-id': 9, element: 'string', 'element-required': false } },
  { id: 10, name: 'st', required: false, type: { type: 'struct', fields: [{ id: 11, name: 'x', required: false, type: 'int' }] } },
  { id: 12, name: 'allnan', required: false, type: 'double' },
]);

const U_LOW = '00000000-0000-0000-0000-000000000001';
const U_MID = '7fffffff-0000-0000-0000-000000000000';
const U_HIGH = 'f0000000-0000-0000-0000-000000000000';
const LONG_NAME = 'x'.repeat(100);
const ALL_FF = new Uint8Array(20).fill(0xff);

const ROWS: Row[] = [
  [1n, 'apple', 1.5, Number.NaN, 100n, U_MID, Uint8Array.of(1, 2), ['z', 'a'], [5], Number.NaN],
  [2, null, Number.NaN, -0, -5n, null, null, null, null, null],
  [3n, 'banana', -0, 0, 99999n, U_HIGH, Uint8Array.of(0xff), [], [null], Number.NaN],
  [-4n, LONG_NAME, null, Infinity, null, U_LOW, ALL_FF, [null], [7], null],
];

function bound(file: DataFile, map: 'lowerBounds' | 'upperBounds', id: number, type: PrimitiveType): unknown {
  const bytes = file[map]!.get(id);
  return bytes === undefined ? undefined : deserializeValue(type, bytes);
}

describe('Iceberg metrics and Parquet statistics', () => {
  let warehouse: TempWarehouse;
  let duck: DuckDBConnection;
  let file: DataFile;

  beforeAll(async () => {
    warehouse = await tempWarehouse();
    duck = await duckdb();
    [file] = (await writeRows(warehouse, SCHEMA, ROWS, { partition: [42, 'p'] })) as [DataFile];
  });
  afterAll(async () => {
    duck?.closeSync();
    await warehouse?.cleanup();
  });

  it('fills the DataFile record', async () => {
    expect(file.content).toBe(DataFileContent.Data);
    expect(file.fileFormat).toBe('PARQUET');
    expect(file.partition).toEqual([42, 'p']);
    expect(file.recordCount).toBe(4n);
    const info = await warehouse.io.stat(file.filePath);
    expect(file.fileSizeInBytes).toBe(BigInt(info!.size));
    expect(file.splitOffsets).toEqual([4n]);
  });

  it('counts values (including nulls and empty lists) and nulls per leaf', () => {
    const leaves = [1, 2, 3, 4, 5, 6, 7, 9, 11, 12];
    expect([...file.valueCounts!.keys()].sort((a, b) => a - b)).toEqual(leaves);
    expect(Object.fromEntries(file.valueCounts!)).toEqual({ 1: 4n, 2: 4n, 3: 4n, 4: 4n, 5: 4n, 6: 4n, 7: 4n, 9: 5n, 11: 4n, 12: 4n });
    expect(Object.fromEntries(file.nullValueCounts!)).toEqual({ 1: 0n, 2: 1n, 3: 1n, 4: 0n, 5: 1n, 6: 1n, 7: 1n, 9: 3n, 11: 2n, 12: 2n });
    expect(Object.fromEntries(file.nanValueCounts!)).toEqual({ 3: 1n, 4: 1n, 12: 2n });
    for (const id of leaves) expect(file.columnSizes!.get(id)! > 0n, `size of ${id}`).toBe(true);
  });

  it('keeps exact bounds, -0.0 below 0.0, excludes NaN, truncates strings and binaries', () => {
    expect(bound(file, 'lowerBounds', 1, 'long')).toBe(-4n);
    expect(bound(file, 'upperBounds', 1, 'long')).toBe(3n);
    expect(bound(file, 'lowerBounds', 2, 'string')).toBe('apple');
    // 100 x's truncated to 16 code points with the last one incremented.
    expect(bound(file, 'upperBounds', 2, 'string')).toBe(`${'x'.repeat(15)}y`);
    expect(Object.is(bound(file, 'lowerBounds', 3, 'float'), -0)).toBe(true);
    expect(bound(file, 'upperBounds', 3, 'float')).toBe(1.5);
    expect(Object.is(bound(file, 'lowerBounds', 4, 'double'), -0)).toBe(true);
    expect(bound(file, 'upperBounds', 4, 'double')).toBe(Infinity);
    expect(bound(file, 'lowerBounds', 5, 'decimal(10, 2)')).toBe(-5n);
    expect(bound(file, 'upperBounds', 5, 'decimal(10, 2)')).toBe(99999n);
    expect([...file.lowerBounds!.get(5)!]).toEqual([0xfb]); // minimal two's complement, as the spec requires
    expect(bound(file, 'lowerBounds', 6, 'uuid')).toBe(U_LOW);
    expect(bound(file, 'upperBounds', 6, 'uuid')).toBe(U_HIGH);
    expect(bound(file, 'lowerBounds', 7, 'binary')).toEqual(Uint8Array.of(1, 2));
    // The largest binary is twenty 0xff bytes: no 16-byte upper bound exists, so none is written.
    expect(file.upperBounds!.has(7)).toBe(false);
    // Leaves inside lists get no bounds; struct members do.
    expect(file.lowerBounds!.has(9)).toBe(false);
    expect(file.upperBounds!.has(9)).toBe(false);
    expect(bound(file, 'lowerBounds', 11, 'int')).toBe(5);
    expect(bound(file, 'upperBounds', 11, 'int')).toBe(7);
    // Only NaN and null: no bounds at all.
    expect(file.lowerBounds!.has(12)).toBe(false);
    expect(file.upperBounds!.has(12)).toBe(false);
  });

  it('honours a custom bound length', async () => {
    const [short] = await writeRows(warehouse, SCHEMA, ROWS, { boundLength: 4 });
    expect(bound(short!, 'lowerBounds', 2, 'string')).toBe('appl');
    expect(bound(short!, 'upperBounds', 2, 'string')).toBe('xxxy');
    expect(bound(short!, 'lowerBounds', 7, 'binary')).toEqual(Uint8Array.of(1, 2));
  });

  it('writes Parquet column statistics other engines read', async () => {
    const rows = await query(
      duck,
      `SELECT path_in_schema, stats_min_value, stats_max_value, stats_null_count
      FROM parquet_metadata(${sqlPath(file.filePath)})`,
    );
    const stats = Object.fromEntries(rows.map((r) => [String(r.path_in_schema), r]));
    expect(stats.id).toMatchObject({ stats_min_value: '-4', stats_max_value: '3', stats_null_count: 0n });
    expect(stats.name).toMatchObject({ stats_min_value: 'apple', stats_null_count: 1n });
    expect(stats.name!.stats_max_value).toBe(`${'x'.repeat(63)}y`);
    expect(stats.dec).toMatchObject({ stats_min_value: '-0.05', stats_max_value: '999.99', stats_null_count: 1n });
    expect(stats.u).toMatchObject({ stats_min_value: U_LOW, stats_max_value: U_HIGH });
    expect(stats['tags, list, element']).toMatchObject({ stats_min_value: 'a', stats_max_value: 'z', stats_null_count: 3n });

    const { metadata } = await readParquetFooter(warehouse.io, file.filePath);
    const columns = metadata.row_groups[0]!.columns;
    const name = columns[1]!.meta_data!.statistics!;
    expect(name.is_min_value_exact).toBe(true);
    expect(name.is_max_value_exact).toBe(false);
    const f = columns[2]!.meta_data!.statistics!;
    expect([...f.min_value!]).toEqual([0, 0, 0, 0x80]); // -0.0f
    expect(f.nan_count).toBe(1);
    const d = columns[3]!.meta_data!.statistics!;
    // The computed max is Infinity and min -0.0; the parquet-format zero rule keeps min at -0.0.
    expect(Buffer.from(d.min_value!).readDoubleLE(0)).toBe(-0);
    expect(Buffer.from(d.max_value!).readDoubleLE(0)).toBe(Infinity);
    const allNan = columns[9]!.meta_data!.statistics!;
    expect(allNan.min_value).toBeUndefined();
    expect(allNan.nan_count).toBe(2);
    expect(allNan.null_count).toBe(2);
    // DuckDB can prune with them: a predicate outside [min, max] matches nothing, one inside matches.
    const count = async (where: string) => (await query(duck, `SELECT count(*) AS n FROM read_parquet(${sqlPath(file.filePath)}) WHERE ${where}`))[0]!.n;
    expect(await count('id > 3')).toBe(0n);
    expect(await count('id = -4')).toBe(1n);
  });
});
