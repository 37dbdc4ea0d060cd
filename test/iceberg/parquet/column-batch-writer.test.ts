/**
 * DataFileWriter.writeColumns against writeBatch: the same rows given as column vectors (column-batch.ts) make the
 * same bytes and the same DataFile (metrics included), for every column that writes numbers or 16-byte values from
 * typed arrays and a list column from one array of elements, with nulls, empty lists, values beside the arrays (bigints), small row groups and pages; and a column batch
 * breaks the rules exactly where rows would.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import { MemoryFileIO } from '../../../shared/iceberg/io/memory-file-io';
import { DataFileWriter, type DataFileWriterOptions } from '../../../shared/iceberg/parquet/data-file-writer';
import {
  type ColumnBatch,
  type ColumnVector,
  OTHER,
  NULL_FLAG,
  bytesVector,
  listVector,
  numberVector,
  valueVector,
} from '../../../shared/iceberg/spec/column-batch';
import { type Schema, createSchema } from '../../../shared/iceberg/spec/schema';
import type { Row, Value } from '../../../shared/iceberg/spec/values';

const schema = createSchema([
  { id: 1, name: 'i', required: true, type: 'int' },
  { id: 2, name: 'l', required: false, type: 'long' },
  { id: 3, name: 'ts', required: false, type: 'timestamptz' },
  { id: 4, name: 'd', required: false, type: 'date' },
  { id: 5, name: 'f', required: false, type: 'float' },
  { id: 6, name: 'x', required: false, type: 'double' },
  { id: 7, name: 'd9', required: false, type: 'decimal(9, 2)' },
  { id: 8, name: 'd18', required: false, type: 'decimal(18, 2)' },
  { id: 9, name: 'd30', required: false, type: 'decimal(30, 4)' },
  { id: 10, name: 'u', required: false, type: 'uuid' },
  { id: 11, name: 's', required: false, type: 'string' },
  { id: 12, name: 'tags', required: false, type: { type: 'list', 'element-id': 13, element: 'string', 'element-required': false } },
]);

function uuidBytes(i: number): Uint8Array {
  return Uint8Array.from({ length: 16 }, (_, b) => (i * 37 + b * 11) & 0xff);
}

function rows(count: number): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < count; i++) {
    const none = (c: number): boolean => (i + c) % 6 === 0;
    out.push([
      ((i * 7919) % 100_000) - 50_000,
      none(1) ? null : i % 5 === 0 ? 2n ** 62n + BigInt(i) : i * 1_000_003 - 7,
      none(2) ? null : i % 9 === 0 ? -(2n ** 60n) : 1_600_000_000_000_000 + i * 13,
      none(3) ? null : i - 400,
      none(4) ? null : i % 10 === 0 ? Number.NaN : i === 3 ? -0 : Math.fround(i / 3),
      none(5) ? null : i % 11 === 0 ? -0 : i % 17 === 0 ? Number.POSITIVE_INFINITY : i / 7,
      none(6) ? null : (i * 104_729) % 999_999_999,
      none(7) ? null : i % 4 === 0 ? 10n ** 17n + BigInt(i) : -(i * 1_234_567),
      none(8) ? null : i % 3 === 0 ? 10n ** 29n - BigInt(i) : i * 31,
      none(9) ? null : uuidBytes(i),
      none(10) ? null : `text ${i % 40}`,
      none(11) ? null : i % 3 === 0 ? [] : i % 3 === 1 ? ['a', null, `t${i}`] : [`only ${i % 5}`],
    ]);
  }
  return out;
}

/** The rows as one batch: numbers and uuids in typed arrays (bigints beside them), the rest as values. */
function asBatch(source: readonly Row[], kinds: ReadonlyArray<'numbers' | 'bytes' | 'values' | 'list'>): ColumnBatch {
  const columns: ColumnVector[] = kinds.map((kind, c) => {
    if (kind === 'list') {
      const vector = listVector(source.length);
      source.forEach((row, r) => {
        const v = row[c]!;
        if (v === null) vector.flags[r] = NULL_FLAG;
        vector.starts[r] = vector.elements.length;
        if (Array.isArray(v)) vector.elements.push(...v);
        vector.ends[r] = vector.elements.length;
      });
      return vector;
    }
    if (kind === 'values') {
      const vector = valueVector(source.length);
      source.forEach((row, r) => (vector.values[r] = row[c]!));
      return vector;
    }
    if (kind === 'bytes') {
      const vector = bytesVector(source.length, 16);
      source.forEach((row, r) => {
        const v = row[c]!;
        if (v === null) vector.flags[r] = NULL_FLAG;
        else vector.bytes.set(v as Uint8Array, r * 16);
      });
      return vector;
    }
    const vector = numberVector(source.length);
    source.forEach((row, r) => {
      const v = row[c]!;
      if (v === null) vector.flags[r] = NULL_FLAG;
      else if (typeof v === 'number') vector.numbers[r] = v;
      else {
        vector.flags[r] = OTHER;
        vector.others[r] = v;
      }
    });
    return vector;
  });
  return { rows: source.length, columns };
}

const KINDS = ['numbers', 'numbers', 'numbers', 'numbers', 'numbers', 'numbers', 'numbers', 'numbers', 'numbers', 'bytes', 'values', 'list'] as const;

async function written(
  forSchema: Schema,
  write: (writer: DataFileWriter) => Promise<void> | void,
  options: Partial<DataFileWriterOptions> = {},
): Promise<{ files: string[]; bytes: Uint8Array[] }> {
  const io = new MemoryFileIO();
  let n = 0;
  const writer = new DataFileWriter({ io, schema: forSchema, newLocation: () => `memory://w/f-${n++}.parquet`, ...options });
  await write(writer);
  const files = await writer.close();
  const show = (_: string, v: unknown): unknown =>
    typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v instanceof Map ? [...v] : v;
  return { files: files.map((f) => JSON.stringify(f, show)), bytes: await Promise.all(files.map((f) => io.read(f.filePath))) };
}

describe('DataFileWriter.writeColumns', () => {
  const data = rows(3000);

  it('writes the bytes and metrics writeBatch writes for the same rows', async () => {
    for (const options of [{}, { rowGroupSizeInBytes: 20_000, pageSizeInBytes: 2_000 }, { targetFileSizeInBytes: 30_000, rowGroupSizeInBytes: 10_000 }]) {
      const expected = await written(schema, (w) => w.writeBatch(data), options);
      const actual = await written(
        schema,
        async (w) => {
          // Batches of uneven sizes, as a reader cuts them.
          for (let from = 0, size = 1; from < data.length; from += size, size = (size * 3) % 701) {
            await w.writeColumns(asBatch(data.slice(from, from + size), KINDS));
          }
        },
        options,
      );
      expect(actual.files).toEqual(expected.files);
      expect(actual.bytes).toEqual(expected.bytes);
    }
    // Every column kind as plain values gives the same file too.
    const values = await written(schema, (w) =>
      w.writeColumns(
        asBatch(
          data,
          KINDS.map(() => 'values' as const),
        ),
      ),
    );
    expect(values.bytes).toEqual((await written(schema, (w) => w.writeBatch(data))).bytes);
  });

  it('bounds a uuid column by the least and greatest uuid written', async () => {
    const io = new MemoryFileIO();
    const writer = new DataFileWriter({ io, schema, newLocation: () => 'memory://w/bounds.parquet' });
    await writer.writeColumns(asBatch(data, KINDS));
    const [file] = await writer.close();
    const uuids = data.map((row) => row[9]).filter((v): v is Uint8Array => v instanceof Uint8Array);
    const sorted = uuids.map((u) => Buffer.from(u).toString('hex')).sort();
    expect(Buffer.from(file!.lowerBounds!.get(10)!).toString('hex')).toBe(sorted[0]);
    expect(Buffer.from(file!.upperBounds!.get(10)!).toString('hex')).toBe(sorted.at(-1));
  });

  it('refuses what rows would be refused for, naming the column', async () => {
    const required = asBatch([[null, ...data[0]!.slice(1)]], KINDS);
    await expect(written(schema, (w) => w.writeColumns(required))).rejects.toThrow(/column i .*null in a required field/);
    const notInt = asBatch([[0.5, ...data[0]!.slice(1)]], KINDS);
    await expect(written(schema, (w) => w.writeColumns(notInt))).rejects.toThrow(/column i .*not an integer in the int32 range: 0.5/);
    const tooWide: Value[] = [...data[1]!];
    tooWide[6] = 1_000_000_000;
    await expect(written(schema, (w) => w.writeColumns(asBatch([tooWide], KINDS)))).rejects.toThrow(/column d9 .*more digits than precision 9/);
    const unsafe: Value[] = [...data[1]!];
    unsafe[1] = 2 ** 53;
    await expect(written(schema, (w) => w.writeColumns(asBatch([unsafe], KINDS)))).rejects.toThrow(/column l .*not a safe integer/);
    const shortUuid = asBatch([data[1]!], KINDS);
    shortUuid.columns[9] = { ...bytesVector(1, 8) };
    await expect(written(schema, (w) => w.writeColumns(shortUuid))).rejects.toThrow(ValidationError);
    const requiredList = createSchema([
      { id: 1, name: 'tags', required: true, type: { type: 'list', 'element-id': 2, element: 'string', 'element-required': true } },
    ]);
    await expect(written(requiredList, (w) => w.writeColumns(asBatch([[null]], ['list'])))).rejects.toThrow(/column tags .*null in a required field/);
    await expect(written(requiredList, (w) => w.writeColumns(asBatch([[['a', null]]], ['list'])))).rejects.toThrow(
      /column tags.element .*null in a required field/,
    );
    await expect(written(schema, (w) => w.writeColumns({ rows: 1, columns: asBatch([data[1]!], KINDS).columns.slice(1) }))).rejects.toThrow(
      /a column batch must have 12 columns/,
    );
  });
});
