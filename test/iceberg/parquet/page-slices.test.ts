/**
 * The reader decodes a data page a slice of SLICE_ENTRIES level entries at a time: values of pages many slices
 * long, in every way a page holds them (PLAIN fixed-width and length-prefixed, dictionary indices, bit-packed
 * booleans, nulls, lists whose elements run across a slice's end), read back exactly as written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLICE_ENTRIES } from '../../../shared/iceberg/parquet/page-decoder';
import { Encoding } from '../../../shared/iceberg/parquet/parquet-thrift';
import { readDataFile, readParquetFooter } from '../../../shared/iceberg/parquet/parquet-reader';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import type { Row } from '../../../shared/iceberg/spec/values';
import { type TempWarehouse, readAll, tempWarehouse, writeRows } from './helpers';

const ROWS = 5 * SLICE_ENTRIES + 123;

const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'name', required: false, type: 'string' },
  { id: 3, name: 'status', required: true, type: 'string' },
  { id: 4, name: 'flag', required: false, type: 'boolean' },
  { id: 5, name: 'u', required: false, type: 'uuid' },
  { id: 6, name: 'tags', required: false, type: { type: 'list', 'element-id': 8, element: 'string', 'element-required': false } },
  { id: 7, name: 'at', required: false, type: 'timestamptz' },
]);

function rowOf(i: number): Row {
  const hex = (i * 2654435761).toString(16).padStart(32, '0').slice(-32);
  return [
    BigInt(i) * 1_000_003n,
    i % 7 === 0 ? null : `name ${i} ${'é'.repeat(i % 5)}`,
    ['new', 'paid', 'shipped'][i % 3]!,
    i % 5 === 0 ? null : i % 3 === 0,
    i % 11 === 0 ? null : `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    i % 13 === 0 ? null : Array.from({ length: i % 6 }, (_v, k) => (k === 2 ? null : `t${(i + k) % 9}`)),
    i % 17 === 0 ? null : 1_600_000_000_000_000n + BigInt(i) * 13_000_017n,
  ];
}

let warehouse: TempWarehouse;
let location: string;
const rows = Array.from({ length: ROWS }, (_v, i) => rowOf(i));

beforeAll(async () => {
  warehouse = await tempWarehouse();
  const [file] = await writeRows(warehouse, schema, rows);
  location = file!.filePath;
});

afterAll(async () => {
  await warehouse?.cleanup();
});

describe('page slices', () => {
  it('are what the file holds: one row group whose pages run over several slices, PLAIN and dictionary-encoded', async () => {
    const { metadata } = await readParquetFooter(warehouse.io, location);
    expect(metadata.row_groups.length).toBe(1);
    const chunks = metadata.row_groups[0]!.columns.map((c) => c.meta_data!);
    // Every column fits one 1 MB page: each page is more than five slices.
    for (const chunk of chunks) expect(chunk.total_uncompressed_size, chunk.path_in_schema.join('.')).toBeLessThan(1 << 20);
    const encodings = new Set(chunks.flatMap((c) => c.encodings));
    expect(encodings.has(Encoding.PLAIN)).toBe(true);
    expect(encodings.has(Encoding.RLE_DICTIONARY)).toBe(true);
  });

  it('read back every value exactly, in batches of any size and with 64-bit integers as numbers', async () => {
    expect(await readAll(warehouse, location, schema)).toEqual(rows);
    expect(await readAll(warehouse, location, schema, { batchSize: 999 })).toEqual(rows);
    const safe = rows.map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
    expect(await readAll(warehouse, location, schema, { safeIntegers: true })).toEqual(safe);
  });

  it('hand out the same row arrays batch after batch with reuseRows, every field written again', async () => {
    const copies: Row[] = [];
    let first: Row | undefined;
    let batches = 0;
    for await (const batch of readDataFile(warehouse.io, location, schema, { batchSize: 999, reuseRows: true })) {
      first ??= batch[0];
      expect(batch[0]).toBe(first);
      for (const row of batch) copies.push([...row]);
      batches++;
    }
    expect(batches).toBe(Math.ceil(ROWS / 999));
    expect(copies).toEqual(rows);
  });

  it('read back a projection of the file in another order', async () => {
    const projection = createSchema([schema.fields[5]!, schema.fields[3]!, schema.fields[0]!]);
    expect(await readAll(warehouse, location, projection)).toEqual(rows.map((row) => [row[5], row[3], row[0]]));
  });
});
