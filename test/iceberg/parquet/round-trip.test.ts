/**
 * Every primitive at its edges and nested data with nulls at every level, written by our writer and read back
 * exactly by our reader AND by two independent readers: DuckDB (values, physical/logical types, field ids) and
 * hyparquet (field ids in the footer).
 */
import { readFile } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquetFooter } from '../../../shared/iceberg/parquet/parquet-reader';
import { decimalRequiredBytes } from '../../../shared/iceberg/spec/conversions';
import { type Schema, createSchema } from '../../../shared/iceberg/spec/schema';
import { type IcebergType, type NestedField, decimalType } from '../../../shared/iceberg/spec/types';
import { type PrimitiveValue, type Row, type Value, decimalToString } from '../../../shared/iceberg/spec/values';
import { type TempWarehouse, duckdb, query, readAll, sqlPath, tempWarehouse, writeRows } from './helpers';

const opt = (id: number, name: string, type: IcebergType): NestedField => ({ id, name, required: false, type });
const req = (id: number, name: string, type: IcebergType): NestedField => ({ id, name, required: true, type });
const list = (elementId: number, element: IcebergType, elementRequired = false): IcebergType => ({
  type: 'list',
  'element-id': elementId,
  element,
  'element-required': elementRequired,
});
const map = (keyId: number, key: IcebergType, valueId: number, value: IcebergType, valueRequired = false): IcebergType => ({
  type: 'map',
  'key-id': keyId,
  key,
  'value-id': valueId,
  value,
  'value-required': valueRequired,
});
const struct = (...fields: NestedField[]): IcebergType => ({ type: 'struct', fields });
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const FLOAT_MAX = 3.4028234663852886e38;
const FLOAT_MIN_SUBNORMAL = 1.401298464324817e-45;
const YEAR_0001 = -62135596800000000n;
const YEAR_9999_END = 253402300799999999n;
const randomBinary = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) & 0xff);

const SCHEMA: Schema = createSchema([
  opt(1, 'b', 'boolean'),
  opt(2, 'i', 'int'),
  opt(3, 'l', 'long'),
  opt(4, 'f', 'float'),
  opt(5, 'd', 'double'),
  opt(6, 'dt', 'date'),
  opt(7, 't', 'time'),
  opt(8, 'ts', 'timestamp'),
  opt(9, 'tz', 'timestamptz'),
  opt(10, 's', 'string'),
  opt(11, 'u', 'uuid'),
  opt(12, 'fx', 'fixed[5]'),
  opt(13, 'bin', 'binary'),
  opt(14, 'li', list(15, 'int')),
  opt(16, 'mp', map(17, 'string', 18, 'long')),
  opt(19, 'st', struct(req(20, 'a', 'int'), opt(21, 'inner', struct(opt(22, 'c', 'string'))), opt(23, 'xs', list(24, 'double')))),
  opt(25, 'll', list(26, list(27, 'int', true))),
  opt(28, 'ls', list(29, struct(opt(30, 'n', 'int'), opt(31, 'ys', list(32, 'int'))))),
  opt(33, 'ml', map(34, 'int', 35, list(36, 'string'))),
  req(37, 'rq', 'string'),
]);

const COLUMNS: Value[][] = [
  [true, false, null],
  [-2147483648, 2147483647, 0, -1, null],
  [INT64_MIN, INT64_MAX, 0n, -1n, 9007199254740993n, null],
  [Number.NaN, -0, 0, Infinity, -Infinity, FLOAT_MAX, FLOAT_MIN_SUBNORMAL, Math.fround(0.1), -FLOAT_MAX, null],
  [Number.NaN, -0, 0, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 0.1, -Number.MAX_VALUE, null],
  [-2440550, -719162, 2932896, 0, -1, null],
  [0n, 86399999999n, 43200000001n, null],
  [-1n, 0n, YEAR_9999_END, YEAR_0001, 1n, null],
  [-1n, 0n, YEAR_9999_END, YEAR_0001, 1n, null],
  ['', 'plain', 'NUL\u0000inside', 'ünïcødé', '😀 emoji 𝄞', '\u0000', 'x'.repeat(100), '\uffff\u{10ffff}', null],
  ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '123e4567-e89b-12d3-a456-426614174000', null],
  [bytes(0, 0, 0, 0, 0), bytes(255, 255, 255, 255, 255), bytes(1, 2, 3, 4, 5), null],
  [new Uint8Array(0), bytes(0), bytes(0, 0, 255, 0), randomBinary, null],
  [[1, null, 2], [], null, [null], [2147483647]],
  [
    new Map<Value, Value>([
      ['a', 1n],
      ['b', null],
    ]),
    new Map(),
    null,
    new Map<Value, Value>([['😀', INT64_MIN]]),
  ],
  [[1, ['c'], [1.5, null]], [2, null, null], null, [3, [null], []], [4, null, [-0]]],
  [[[1, 2], []], [], null, [[3]], [[]]],
  [[[1, [10]], null, [null, []]], null, [], [[2, null]], [[null, [null]]]],
  [
    new Map<Value, Value>([
      [1, ['a', null]],
      [2, null],
      [3, []],
    ]),
    null,
    new Map(),
    new Map<Value, Value>([[-1, ['']]]),
  ],
  ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9'],
];
const ROW_COUNT = Math.max(...COLUMNS.map((c) => c.length));
const ROWS: Row[] = Array.from({ length: ROW_COUNT }, (_, r) => COLUMNS.map((column) => (r < column.length ? column[r]! : null)));

/** The JSON DuckDB's to_json renders for a nested value (bigints as numbers, map keys as strings). */
function asJson(value: Value, type: IcebergType): unknown {
  if (value === null) return null;
  if (typeof type === 'string') return typeof value === 'bigint' ? Number(value) : value;
  if (type.type === 'list') return (value as Value[]).map((v) => asJson(v, type.element));
  if (type.type === 'struct') return Object.fromEntries(type.fields.map((f, i) => [f.name, asJson((value as Value[])[i]!, f.type)]));
  return Object.fromEntries([...(value as Map<Value, Value>)].map(([k, v]) => [String(k as PrimitiveValue), asJson(v, type.value)]));
}

describe('Parquet round trip: every primitive at its edges and nested data', () => {
  let warehouse: TempWarehouse;
  let duck: DuckDBConnection;
  let file: string;

  beforeAll(async () => {
    warehouse = await tempWarehouse();
    duck = await duckdb();
    const files = await writeRows(warehouse, SCHEMA, ROWS);
    expect(files).toHaveLength(1);
    file = files[0]!.filePath;
  });
  afterAll(async () => {
    duck?.closeSync();
    await warehouse?.cleanup();
  });

  it('our reader returns every value exactly (including -0, NaN, bigint extremes)', async () => {
    const back = await readAll(warehouse, file, SCHEMA);
    expect(back).toEqual(ROWS);
    // toEqual already distinguishes -0 from 0; check the float columns value by value to be explicit.
    for (let r = 0; r < ROW_COUNT; r++) {
      for (const c of [3, 4]) expect(Object.is(back[r]![c], ROWS[r]![c]), `row ${r} column ${c}`).toBe(true);
    }
    for (const row of back) for (const v of [row[11], row[12]]) if (v !== null) expect(Object.getPrototypeOf(v)).toBe(Uint8Array.prototype);
  });

  it('DuckDB reads the same primitive values', async () => {
    const rows = await query(
      duck,
      `SELECT
        CAST(b AS VARCHAR) AS b, i, CAST(l AS VARCHAR) AS l, CAST(f AS DOUBLE) AS f, d,
        (dt - DATE '1970-01-01') AS dt, epoch_us(t) AS t, epoch_us(ts) AS ts, epoch_us(tz) AS tz,
        s, hex(encode(s)) AS s_hex, CAST(u AS VARCHAR) AS u, hex(fx) AS fx, hex(bin) AS bin, rq
      FROM read_parquet(${sqlPath(file)})`,
    );
    expect(rows).toHaveLength(ROW_COUNT);
    const hex = (v: Value): string | null =>
      v === null
        ? null
        : Buffer.from(v as Uint8Array)
            .toString('hex')
            .toUpperCase();
    rows.forEach((got, r) => {
      const want = ROWS[r]!;
      expect(got.b).toBe(want[0] === null ? null : String(want[0] as PrimitiveValue));
      expect(got.i).toBe(want[1]);
      expect(got.l).toBe(want[2] === null ? null : String(want[2] as PrimitiveValue));
      expect(Object.is(got.f, want[3]), `float row ${r}: ${String(got.f)}`).toBe(true);
      expect(Object.is(got.d, want[4]), `double row ${r}: ${String(got.d)}`).toBe(true);
      expect(got.dt).toBe(want[5] === null ? null : BigInt(want[5] as number));
      expect(got.t).toBe(want[6]);
      expect(got.ts).toBe(want[7]);
      expect(got.tz).toBe(want[8]);
      expect(got.s).toBe(want[9]);
      expect(got.s_hex).toBe(
        want[9] === null
          ? null
          : Buffer.from(want[9] as string, 'utf8')
              .toString('hex')
              .toUpperCase(),
      );
      expect(got.u).toBe(want[10]);
      expect(got.fx).toBe(hex(want[11]!));
      expect(got.bin).toBe(hex(want[12]!));
      expect(got.rq).toBe(want[19]);
    });
  });

  it('DuckDB reads the same nested values (nulls at every level)', async () => {
    const nested = ['li', 'mp', 'st', 'll', 'ls', 'ml'];
    const rows = await query(duck, `SELECT ${nested.map((c) => `to_json(${c}) AS ${c}`).join(', ')} FROM read_parquet(${sqlPath(file)})`);
    rows.forEach((got, r) => {
      nested.forEach((name, k) => {
        const index = 13 + k;
        const want = asJson(ROWS[r]![index]!, SCHEMA.fields[index]!.type);
        expect(got[name] === null ? null : JSON.parse(got[name] as string), `${name} row ${r}`).toEqual(want);
      });
    });
  });

  it('DuckDB sees the exact physical and logical types and a field id on every Iceberg field', async () => {
    const schema = await query(
      duck,
      `SELECT name, type, type_length, repetition_type, converted_type, field_id, logical_type, duckdb_type
      FROM parquet_schema(${sqlPath(file)})`,
    );
    const byName = (name: string): Record<string, unknown> => schema.find((row) => row.name === name)!;
    const expectColumn = (name: string, type: string, duckdbType: string | null, logical?: RegExp) => {
      const row = byName(name);
      expect(row.type, name).toBe(type);
      expect(row.duckdb_type, name).toBe(duckdbType);
      if (logical) expect(String(row.logical_type), name).toMatch(logical);
    };
    expectColumn('b', 'BOOLEAN', 'BOOLEAN');
    expectColumn('i', 'INT32', 'INTEGER');
    expectColumn('l', 'INT64', 'BIGINT');
    expectColumn('f', 'FLOAT', 'FLOAT');
    expectColumn('d', 'DOUBLE', 'DOUBLE');
    expectColumn('dt', 'INT32', 'DATE', /DateType/);
    expectColumn('t', 'INT64', 'TIME', /TimeType\(isAdjustedToUTC=0, unit=.*MICROS=MicroSeconds/);
    expectColumn('ts', 'INT64', 'TIMESTAMP', /TimestampType\(isAdjustedToUTC=0, unit=.*MICROS=MicroSeconds/);
    expectColumn('tz', 'INT64', 'TIMESTAMP WITH TIME ZONE', /TimestampType\(isAdjustedToUTC=1, unit=.*MICROS=MicroSeconds/);
    expectColumn('s', 'BYTE_ARRAY', 'VARCHAR', /StringType/);
    expectColumn('u', 'FIXED_LEN_BYTE_ARRAY', 'UUID', /UUIDType/);
    expect(Number(byName('u').type_length)).toBe(16);
    expectColumn('fx', 'FIXED_LEN_BYTE_ARRAY', 'BLOB');
    expect(Number(byName('fx').type_length)).toBe(5);
    expectColumn('bin', 'BYTE_ARRAY', 'BLOB');
    expect(byName('ts').converted_type).toBe('TIMESTAMP_MICROS');
    expect(byName('t').converted_type).toBe('TIME_MICROS');
    expect(byName('li').converted_type).toBe('LIST');
    expect(byName('mp').converted_type).toBe('MAP');
    expect(byName('rq').repetition_type).toBe('REQUIRED');
    expect(byName('s').repetition_type).toBe('OPTIONAL');

    // Every element that is an Iceberg field carries its id; only the root and the repeated list/key_value groups do not.
    const withoutId = schema.filter((row) => row.field_id === null).map((row) => String(row.name));
    expect(withoutId.sort()).toEqual(['key_value', 'key_value', 'list', 'list', 'list', 'list', 'list', 'list', 'list', 'table'].sort());
    const ids = schema.filter((row) => row.field_id !== null).map((row) => Number(row.field_id));
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 37 }, (_, i) => i + 1));
  });

  it('hyparquet finds the field id on every schema element that is an Iceberg field', async () => {
    const { parquetMetadata, parquetSchema } = await import('hyparquet');
    const data = await readFile(file);
    const metadata = parquetMetadata(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    const missing = metadata.schema.filter((element) => element.field_id === undefined).map((element) => element.name);
    expect(missing.sort()).toEqual(['key_value', 'key_value', 'list', 'list', 'list', 'list', 'list', 'list', 'list', 'table'].sort());
    expect(metadata.schema.filter((element) => element.field_id !== undefined)).toHaveLength(37);
    expect(metadata.created_by).toBe('icebridge version 0.1.0');
    const icebergSchema = metadata.key_value_metadata?.find((kv) => kv.key === 'iceberg.schema')?.value;
    expect(JSON.parse(icebergSchema!)).toEqual(JSON.parse(JSON.stringify(SCHEMA)));
    // The tree hyparquet builds nests the list element under the repeated `list` group.
    const tree = parquetSchema(metadata);
    const li = tree.children.find((child) => child.element.name === 'li')!;
    expect(li.children[0]!.element.name).toBe('list');
    expect(li.children[0]!.children[0]!.element.field_id).toBe(15);
  });

  it('our footer reader exposes the same schema elements', async () => {
    const { metadata } = await readParquetFooter(warehouse.io, file);
    expect(metadata.schema[0]!.name).toBe('table');
    expect(metadata.schema.find((e) => e.name === 'tz')!.logicalType).toEqual({ TIMESTAMP: { isAdjustedToUTC: true, unit: { MICROS: {} } } });
    expect(metadata.num_rows).toBe(ROW_COUNT);
  });
});

describe('decimals of every precision 1..38 at their extremes', () => {
  let warehouse: TempWarehouse;
  let duck: DuckDBConnection;
  const precisions = Array.from({ length: 38 }, (_, i) => i + 1);
  const schema = createSchema(precisions.map((p) => opt(p, `d${p}`, decimalType(p, Math.floor(p / 2)))));
  const rows: Row[] = [
    precisions.map((p) => 10n ** BigInt(p) - 1n),
    precisions.map((p) => -(10n ** BigInt(p) - 1n)),
    precisions.map(() => 0n),
    precisions.map(() => 1n),
    precisions.map(() => -1n),
    precisions.map(() => null),
    precisions.map((p) => (p <= 15 ? -(10 ** p - 1) : -123)), // safe-integer numbers are accepted too
  ];

  beforeAll(async () => {
    warehouse = await tempWarehouse();
    duck = await duckdb();
  });
  afterAll(async () => {
    duck?.closeSync();
    await warehouse?.cleanup();
  });

  it('round-trip exactly through our reader and DuckDB, with the spec physical types', async () => {
    const [file] = await writeRows(warehouse, schema, rows);
    const back = await readAll(warehouse, file!.filePath, schema);
    expect(back).toEqual(rows.map((row) => row.map((v) => (typeof v === 'number' ? BigInt(v) : v))));

    const got = await query(
      duck,
      `SELECT ${precisions.map((p) => `CAST(d${p} AS VARCHAR) AS d${p}`).join(', ')} FROM read_parquet(${sqlPath(file!.filePath)})`,
    );
    got.forEach((row, r) => {
      precisions.forEach((p) => {
        const v = rows[r]![p - 1]!;
        expect(row[`d${p}`], `decimal(${p}) row ${r}`).toBe(v === null ? null : decimalToString(BigInt(v as bigint | number), Math.floor(p / 2)));
      });
    });

    const elements = await query(
      duck,
      `SELECT name, type, type_length, precision, scale, field_id, logical_type, duckdb_type FROM parquet_schema(${sqlPath(file!.filePath)})`,
    );
    for (const p of precisions) {
      const element = elements.find((e) => e.name === `d${p}`)!;
      const physical = p <= 9 ? 'INT32' : p <= 18 ? 'INT64' : 'FIXED_LEN_BYTE_ARRAY';
      expect(element.type, `d${p}`).toBe(physical);
      if (p > 18) expect(Number(element.type_length), `d${p}`).toBe(decimalRequiredBytes(p));
      expect(Number(element.precision)).toBe(p);
      expect(Number(element.scale)).toBe(Math.floor(p / 2));
      expect(Number(element.field_id)).toBe(p);
      expect(String(element.logical_type)).toBe(`DecimalType(scale=${Math.floor(p / 2)}, precision=${p})`);
      expect(element.duckdb_type).toBe(`DECIMAL(${p},${Math.floor(p / 2)})`);
    }
  });
});
