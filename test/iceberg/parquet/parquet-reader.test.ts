import { writeFile } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataFile, readParquetFooter } from '../../../shared/iceberg/parquet/parquet-reader';
import { PageType, readPageHeader } from '../../../shared/iceberg/parquet/parquet-thrift';
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
    id: 6,
    name: 'st',
    required: false,
    type: {
      type: 'struct',
      fields: [
        { id: 7, name: 'a', required: true, type: 'int' },
        { id: 8, name: 'b', required: false, type: 'string' },
      ],
    },
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
    // With safeIntegers, 64-bit integers and short decimals come as numbers; a decimal beyond them stays a bigint.
    expect(await readAll(warehouse, file, projection, { safeIntegers: true })).toEqual([
      [null, 'one', 1, 1, 0.5, 12345, 10n ** 20n - 1n],
      [null, null, 2, -2147483648, Math.fround(-1.1), null, null],
      [null, 'three', 3, null, Number.NaN, -999999999, -(10n ** 20n) + 1n],
    ]);
  });

  it('projects struct members by id, including a struct none of whose projected members exist', async () => {
    const projection = createSchema([
      {
        id: 6,
        name: 'renamed',
        required: false,
        type: {
          type: 'struct',
          fields: [
            { id: 8, name: 'b2', required: false, type: 'string' },
            { id: 12, name: 'c', required: false, type: 'int' },
          ],
        },
      },
      { id: 9, name: 'tags', required: false, type: { type: 'list', 'element-id': 10, element: 'long', 'element-required': false } },
    ]);
    expect(await readAll(warehouse, file, projection)).toEqual([
      [
        ['x', null],
        [1n, 2n],
      ],
      [null, null],
      [[null, null], []],
    ]);
    // A struct whose projected members are all new still knows when the struct itself is null.
    const onlyNew = createSchema([
      { id: 6, name: 'st', required: false, type: { type: 'struct', fields: [{ id: 13, name: 'z', required: false, type: 'int' }] } },
      { id: 1, name: 'id', required: true, type: 'long' },
    ]);
    expect(await readAll(warehouse, file, onlyNew)).toEqual([
      [[null], 1n],
      [null, 2n],
      [[null], 3n],
    ]);
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
        id: 5,
        name: 'st',
        required: false,
        type: {
          type: 'struct',
          fields: [
            { id: 6, name: 'a', required: false, type: 'double' },
            { id: 7, name: 'b', required: false, type: 'string' },
          ],
        },
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
      const expected = (
        await query(duck, `SELECT i, s, to_json(l) AS l, to_json(st) AS st, epoch_us(ts) AS ts, CAST(dec AS VARCHAR) AS dec FROM (${select})`)
      ).map((r): Row => {
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

describe('readDataFile on v2 data pages', () => {
  let warehouse: TempWarehouse;
  let duck: DuckDBConnection;
  beforeAll(async () => {
    warehouse = await tempWarehouse();
    duck = await duckdb();
  });
  afterAll(async () => {
    duck?.closeSync();
    await warehouse?.cleanup();
  });

  it('reads DuckDB PARQUET_VERSION V2 files (DELTA encodings, uncompressed levels)', async () => {
    const schema = createSchema([
      { id: 1, name: 'i', required: false, type: 'int' },
      { id: 2, name: 'l', required: false, type: 'long' },
      { id: 3, name: 's', required: false, type: 'string' },
      { id: 4, name: 'd', required: false, type: 'double' },
      { id: 5, name: 'f', required: false, type: 'float' },
      { id: 6, name: 'dt', required: false, type: 'date' },
      { id: 7, name: 'ts', required: false, type: 'timestamp' },
      { id: 8, name: 'xs', required: false, type: { type: 'list', 'element-id': 9, element: 'string', 'element-required': false } },
      { id: 10, name: 'dec', required: false, type: 'decimal(38, 6)' },
      { id: 11, name: 'u', required: false, type: 'uuid' },
    ]);
    const select = `SELECT
        CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 7919 % 100003 - 50000)::INTEGER END AS i,
        (i * 1000000007 - 9000000000000000000)::BIGINT AS l,
        CASE WHEN i % 5 = 0 THEN NULL ELSE 'prefix-shared-' || (i * 31 % 997) END AS s,
        i / 3 AS d,
        (i / 8)::FLOAT AS f,
        (DATE '1970-01-01' + (i - 2500)::INTEGER) AS dt,
        make_timestamp(i * 1000003 - 1000000000) AS ts,
        CASE WHEN i % 4 = 0 THEN NULL ELSE ['a' || i, NULL] END AS xs,
        (i * 1234567.891011)::DECIMAL(38, 6) AS dec,
        i * 2 AS unprojected,
        ('00000000-0000-4000-8000-' || lpad(i::VARCHAR, 12, '0'))::UUID AS u
      FROM range(5000) t(i)`;
    const target = warehouse.next('duckdb-v2');
    const ids = 'FIELD_IDS {i: 1, l: 2, s: 3, d: 4, f: 5, dt: 6, ts: 7, xs: {__duckdb_field_id: 8, element: 9}, dec: 10, unprojected: 99, u: 11}';
    await duck.run(`COPY (${select}) TO ${sqlPath(target)} (FORMAT parquet, PARQUET_VERSION V2, COMPRESSION zstd, ${ids})`);
    const encodings = (await query(duck, `SELECT DISTINCT encodings FROM parquet_metadata(${sqlPath(target)})`)).map((r) => r.encodings).join();
    expect(encodings).toMatch(/DELTA_BINARY_PACKED/);
    expect(encodings).toMatch(/DELTA_LENGTH_BYTE_ARRAY|DELTA_BYTE_ARRAY/);
    const expected = (
      await query(
        duck,
        `SELECT i, CAST(l AS VARCHAR) AS l, s, d, CAST(f AS DOUBLE) AS f, (dt - DATE '1970-01-01') AS dt,
        epoch_us(ts) AS ts, to_json(xs) AS xs, CAST(dec AS VARCHAR) AS dec, CAST(u AS VARCHAR) AS u FROM read_parquet(${sqlPath(target)})`,
      )
    ).map((r): Row => [
      r.i as number | null,
      BigInt(r.l as string),
      r.s as string | null,
      r.d as number,
      r.f as number,
      Number(r.dt),
      r.ts as bigint,
      r.xs === null ? null : (JSON.parse(r.xs as string) as (string | null)[]),
      BigInt((r.dec as string).replace('.', '')),
      r.u as string,
    ]);
    expect(await readAll(warehouse, target, schema)).toEqual(expected);
    // safeIntegers: the same values, a number where the integer is safe (the timestamps), a bigint where it is not
    // (the longs, around -9e18), through DELTA_BINARY_PACKED pages too.
    const safe = (v: Row[number]) => (typeof v === 'bigint' && v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
    const read = await readAll(warehouse, target, schema, { safeIntegers: true });
    expect(read).toEqual(expected.map((row) => [row[0], row[1], row[2], row[3], row[4], row[5], safe(row[6]!), row[7], row[8], row[9]]));
    expect(read.some((row) => typeof row[1] === 'bigint') && read.some((row) => typeof row[6] === 'number')).toBe(true);
  });

  it('reads arrow-rs (parquet-wasm) files written with DATA_PAGE_V2 headers, dictionaries and SNAPPY', async () => {
    const arrow = await import('apache-arrow');
    const pw = await import('parquet-wasm');
    const n = 3000;
    const id = (fieldId: number) => new Map([['PARQUET:field_id', String(fieldId)]]);
    const element = new arrow.Field('element', new arrow.Utf8(), true, id(5));
    const fields = [
      new arrow.Field('i', new arrow.Int32(), true, id(1)),
      new arrow.Field('l', new arrow.Int64(), false, id(2)),
      new arrow.Field('s', new arrow.Utf8(), true, id(3)),
      new arrow.Field('tags', new arrow.List(element), true, id(4)),
      new arrow.Field('ts', new arrow.TimestampMicrosecond('UTC'), true, id(6)),
      new arrow.Field('d', new arrow.Float64(), true, id(7)),
    ];
    const rows: Row[] = Array.from({ length: n }, (_, k): Row => [
      k % 6 === 0 ? null : k * 37 - 50_000,
      BigInt(k) * 3_000_000_007n - 4_000_000_000_000n,
      k % 4 === 0 ? null : `s-${k % 13}`,
      k % 5 === 0 ? null : k % 5 === 1 ? [] : [`t${k % 3}`, null],
      k % 7 === 0 ? null : BigInt(k) * 1_000_003n - 86_400_000_000n,
      k % 9 === 0 ? null : k / 7,
    ]);
    const column = <T extends import('apache-arrow').DataType>(index: number, values: unknown[]) => {
      const builder = arrow.makeBuilder({ type: fields[index]!.type as T, nullValues: [null] });
      for (const value of values) builder.append(value as never);
      return builder.finish().flush() as import('apache-arrow').Data<T>;
    };
    const children = [
      column(
        0,
        rows.map((r) => r[0]),
      ),
      column(
        1,
        rows.map((r) => r[1]),
      ),
      column(
        2,
        rows.map((r) => r[2]),
      ),
      column(
        3,
        rows.map((r) => r[3]),
      ),
      // The Arrow builder takes epoch milliseconds (fractions kept) for a microsecond column.
      column(
        4,
        rows.map((r) => (r[4] === null ? null : Number(r[4]) / 1000)),
      ),
      column(
        5,
        rows.map((r) => r[5]),
      ),
    ];
    const schema = new arrow.Schema(fields);
    const batch = new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(fields), length: n, nullCount: 0, children }));
    const props = new pw.WriterPropertiesBuilder()
      .setWriterVersion(pw.WriterVersion.V2)
      .setCompression(pw.Compression.SNAPPY)
      .setDataPageSizeLimit(4096)
      .build();
    const bytes = pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(schema, [batch]), 'stream')), props);
    const target = warehouse.next('arrow-rs-v2');
    await writeFile(target, bytes);

    // The file really has v2 data pages and dictionary pages.
    const { metadata } = await readParquetFooter(warehouse.io, target);
    const data = Buffer.from(bytes);
    const types = new Set<number>();
    for (const chunk of metadata.row_groups[0]!.columns) {
      const meta = chunk.meta_data!;
      let pos = meta.dictionary_page_offset ?? meta.data_page_offset;
      const end = pos + meta.total_compressed_size;
      while (pos < end) {
        const { header, end: body } = readPageHeader(data, pos);
        types.add(header.type);
        pos = body + header.compressed_page_size;
      }
    }
    expect([...types].sort()).toEqual([PageType.DICTIONARY_PAGE, PageType.DATA_PAGE_V2]);

    const projection = createSchema([
      { id: 1, name: 'i', required: false, type: 'int' },
      { id: 2, name: 'l', required: true, type: 'long' },
      { id: 3, name: 's', required: false, type: 'string' },
      { id: 4, name: 'tags', required: false, type: { type: 'list', 'element-id': 5, element: 'string', 'element-required': false } },
      { id: 6, name: 'ts', required: false, type: 'timestamptz' },
      { id: 7, name: 'd', required: false, type: 'double' },
    ]);
    expect(await readAll(warehouse, target, projection)).toEqual(rows);
  });
});
