/**
 * The columnar read (CopyBinaryParser.pushColumns with column sinks) against the row read of the same bytes: every
 * kind with a typed vector (numbers, uuid bytes, lists' elements) and a few without, values a typed array cannot hold (bigints,
 * mapped infinities), nulls, tuples split anywhere, batches cut in the middle of a chunk, and a failing value.
 */
import { describe, expect, it } from 'vitest';
import { type ColumnBatch, batchRows } from '../../shared/iceberg/spec/column-batch';
import type { Row } from '../../shared/iceberg/spec/values';
import { compileDecoder } from '../../shared/postgres/binary-decoders';
import { compileSink } from '../../shared/postgres/column-sinks';
import { CopyBinaryParser, RowDecodeFailure } from '../../shared/postgres/copy-binary-parser';
import type { DecodePlan } from '../../shared/postgres/decode-plan';
import { EPOCH_SHIFT_MICROS, arrayBinary, copyStream, int16, int32, int64, numericBinary } from './binary-wire';

const INT64_MAX = 0x7fffffffffffffffn;

const plans: DecodePlan[] = [
  { kind: 'int8' },
  { kind: 'int2' },
  { kind: 'int4' },
  { kind: 'oid' },
  { kind: 'float4' },
  { kind: 'float8' },
  { kind: 'date' },
  { kind: 'timestamptz', infinity: { positive: 9_000_000_000_000_000n, negative: -9_000_000_000_000_000n } },
  { kind: 'decimal', precision: 18, scale: 2, checked: false },
  { kind: 'uuid' },
  { kind: 'text' },
  { kind: 'boolean' },
  { kind: 'array', element: { kind: 'text' } },
];
const options = { uuidAsBytes: true, textAsBytes: true };

function float4(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeFloatBE(n);
  return b;
}

function float8(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b;
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Rows of every kind above; every fifth field null, longs and timestamps past 2^53 and infinities among them. */
function stream(rows: number): Buffer {
  const encoded: Array<Array<Buffer | null>> = [];
  for (let i = 0; i < rows; i++) {
    const big = i % 3 === 0 ? 2n ** 60n + BigInt(i) : BigInt(i * 1_000_003);
    const micros = i % 7 === 0 ? INT64_MAX : i % 11 === 0 ? 2n ** 58n : BigInt(i) * 86_400_000_000n - EPOCH_SHIFT_MICROS;
    const fields: Array<Buffer | null> = [
      int64(i % 2 === 0 ? big : -big),
      int16(i % 2 === 0 ? -32768 + i : 32767 - i),
      int32(-2147483648 + i * 7919),
      uint32(4294967295 - i),
      float4(i % 9 === 0 ? Number.NaN : i === 4 ? -0 : Math.fround(i / 3)),
      float8(i % 13 === 0 ? -0 : i / 7),
      int32(i * 31 - 20000),
      int64(micros),
      numericBinary(i % 4 === 0 ? `${'9'.repeat(16)}.${String(i % 100).padStart(2, '0')}` : `-${i}.5`),
      Buffer.from(Array.from({ length: 16 }, (_, b) => (i * 17 + b * 29) & 0xff)),
      Buffer.from(i % 3 === 0 ? 'shipped' : `note ${i} é`),
      Buffer.from([i % 2]),
      i % 4 === 0
        ? arrayBinary(25, [], [])
        : arrayBinary(
            25,
            [{ size: i % 4, lower: 1 }],
            Array.from({ length: i % 4 }, (_, e) => (e === 1 && i % 3 === 0 ? null : Buffer.from(`tag ${e}`))),
          ),
    ];
    encoded.push(fields.map((f, c) => ((i + c) % 5 === 0 ? null : f)));
  }
  return copyStream(encoded);
}

function rowsOf(bytes: Buffer): Row[] {
  const parser = new CopyBinaryParser(plans.map((p) => compileDecoder(p, options)));
  const out: Row[] = [];
  parser.push(bytes, out);
  parser.finish();
  return out;
}

/** The columnar read of `bytes` pushed in chunks of `sizes(i)` bytes, into batches of `capacity` rows. */
function columnsOf(bytes: Buffer, sizes: (index: number) => number, capacity: number): ColumnBatch[] {
  const sinks = plans.map((p) => compileSink(p, options));
  const parser = new CopyBinaryParser(
    plans.map((p) => compileDecoder(p, options)),
    [0],
    sinks.map((s) => s.sink),
  );
  const fresh = (): ColumnBatch => ({ rows: 0, columns: sinks.map((s) => s.vector(capacity)) });
  const batches: ColumnBatch[] = [];
  let batch = fresh();
  const empty = Buffer.alloc(0);
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const size = Math.max(1, sizes(i));
    parser.pushColumns(Buffer.from(bytes.subarray(pos, pos + size)), batch, capacity);
    pos += size;
    while (batch.rows === capacity) {
      batches.push(batch);
      batch = fresh();
      parser.pushColumns(empty, batch, capacity);
    }
  }
  parser.finish();
  if (batch.rows > 0) batches.push(batch);
  return batches;
}

describe('columnar COPY read', () => {
  const bytes = stream(300);
  const expected = rowsOf(bytes);

  it('holds numbers and uuids in typed arrays, and what they cannot hold beside them', () => {
    const [batch] = columnsOf(bytes, () => bytes.length, 1000);
    expect(batch!.columns.map((c) => c.kind)).toEqual([
      'numbers',
      'numbers',
      'numbers',
      'numbers',
      'numbers',
      'numbers',
      'numbers',
      'numbers',
      'numbers',
      'bytes',
      'values',
      'values',
      'list',
    ]);
    // The reading of every value is the row read's: bigints, mapped infinities, NaN, -0 and nulls included.
    expect(batchRows(batch!)).toEqual(expected);
    expect(expected.some((row) => typeof row[0] === 'bigint')).toBe(true);
    expect(expected.some((row) => row[7] === 9_000_000_000_000_000n)).toBe(true);
    expect(expected.some((row) => typeof row[8] === 'bigint')).toBe(true);
  });

  it('reads the same rows whatever the chunk boundaries and batch size', () => {
    for (const [sizes, capacity] of [
      [() => 1, 7],
      [(i: number) => (i * 7919) % 97, 64],
      [() => bytes.length, 1],
      [() => bytes.length, 299],
      [(i: number) => 3 + (i % 50), 300],
    ] as const) {
      const batches = columnsOf(bytes, sizes, capacity);
      expect(batches.every((b, i) => b.rows === (i < batches.length - 1 ? capacity : b.rows))).toBe(true);
      expect(batches.flatMap(batchRows)).toEqual(expected);
    }
  });

  it('names the failing row by its key, as the row read does', () => {
    /** A row of plain values with key `key`: its date field (int32 days) and its list as given. */
    const row = (key: bigint, days: number, list: Buffer | null): Array<Buffer | null> => [
      int64(key),
      int16(1),
      int32(1),
      uint32(1),
      float4(1),
      float8(1),
      int32(days),
      int64(1n),
      numericBinary('1'),
      Buffer.alloc(16),
      Buffer.from('a'),
      Buffer.from([1]),
      list,
    ];
    // Date infinity (0x7fffffff days) with no mapping configured: the second row fails in its seventh column.
    const bad = copyStream([row(1n, 1, null), row(42n, 0x7fffffff, null)]);
    let caught: unknown;
    try {
      columnsOf(bad, () => 5, 10);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RowDecodeFailure);
    expect((caught as RowDecodeFailure).columnIndex).toBe(6);
    expect((caught as RowDecodeFailure).keyValues).toEqual([42]);
    expect((caught as RowDecodeFailure).rowNumber).toBe(2);
    // A list's elements go through the same checks: a two-dimensional array is refused, naming its row.
    const plane = arrayBinary(
      25,
      [
        { size: 1, lower: 1 },
        { size: 1, lower: 1 },
      ],
      [Buffer.from('x')],
    );
    expect(() => columnsOf(copyStream([row(7n, 1, plane)]), () => 3, 4)).toThrow(/multi-dimensional arrays are not migrated/);
  });
});
