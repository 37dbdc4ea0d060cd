/**
 * Rows held column by column: what the COPY reader hands the Parquet writer on the copy's main path
 * (`readColumns` in shared/postgres/copy-reader.ts, `TableWriter.writeColumns`). No array is made per row (nor per
 * list), and numbers and 16-byte values are held in typed arrays, with no object per value. A column's values mean what they
 * mean in a Row (values.ts), in row order; `null` is the null.
 */
import type { Row, Value } from './values';

/** A NumberVector or BytesVector flag: the row's value is in `numbers` (or `bytes`). */
export const IN_ARRAY = 0;
/** The row's value is null. */
export const NULL_FLAG = 1;
/** The row's value is `others[row]` (a value the typed array cannot hold, such as a bigint). */
export const OTHER = 2;

/** Any values, one per row. */
export interface ValueVector {
  readonly kind: 'values';
  readonly values: Value[];
}

/** Numbers (safe integers for integer types), with the rare other value (a bigint) beside them. */
export interface NumberVector {
  readonly kind: 'numbers';
  readonly flags: Uint8Array;
  readonly numbers: Float64Array;
  readonly others: Value[];
}

/** Byte strings of one width (a uuid's 16 bytes): row r's are `bytes[r * width, (r + 1) * width)`. */
export interface BytesVector {
  readonly kind: 'bytes';
  readonly width: number;
  readonly flags: Uint8Array;
  readonly bytes: Uint8Array;
}

/** Lists: row r's elements are `elements[starts[r], ends[r])`, all the batch's elements in one array. */
export interface ListVector {
  readonly kind: 'list';
  readonly flags: Uint8Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly elements: Value[];
}

/** One column of a ColumnBatch. */
export type ColumnVector = ValueVector | NumberVector | BytesVector | ListVector;

/** `rows` rows, one vector per top-level field in the schema's order. */
export interface ColumnBatch {
  rows: number;
  readonly columns: ColumnVector[];
}

/** A vector for `capacity` rows. */
export function valueVector(capacity: number): ValueVector {
  return { kind: 'values', values: new Array<Value>(capacity) };
}

export function numberVector(capacity: number): NumberVector {
  return { kind: 'numbers', flags: new Uint8Array(capacity), numbers: new Float64Array(capacity), others: [] };
}

export function bytesVector(capacity: number, width: number): BytesVector {
  return { kind: 'bytes', width, flags: new Uint8Array(capacity), bytes: new Uint8Array(capacity * width) };
}

export function listVector(capacity: number): ListVector {
  return { kind: 'list', flags: new Uint8Array(capacity), starts: new Int32Array(capacity), ends: new Int32Array(capacity), elements: [] };
}

/** Row `row`'s value as a Row holds it (a BytesVector's as a copy of its bytes, a ListVector's as an array). */
export function valueAt(vector: ColumnVector, row: number): Value {
  switch (vector.kind) {
    case 'values':
      return vector.values[row]!;
    case 'numbers': {
      const flag = vector.flags[row];
      return flag === IN_ARRAY ? vector.numbers[row]! : flag === NULL_FLAG ? null : vector.others[row]!;
    }
    case 'bytes':
      return vector.flags[row] === NULL_FLAG ? null : vector.bytes.slice(row * vector.width, (row + 1) * vector.width);
    case 'list':
      return vector.flags[row] === NULL_FLAG ? null : vector.elements.slice(vector.starts[row], vector.ends[row]);
  }
}

/** The batch as rows. */
export function batchRows(batch: ColumnBatch): Row[] {
  const rows: Row[] = [];
  for (let r = 0; r < batch.rows; r++) rows.push(batch.columns.map((vector) => valueAt(vector, r)));
  return rows;
}

/**
 * The batch with no rows, ready to be filled again: a vector's rows are all written anew (flags included), so only
 * what is appended (values beside the arrays, list elements) is dropped.
 */
export function emptied(batch: ColumnBatch): ColumnBatch {
  batch.rows = 0;
  for (const vector of batch.columns) {
    if (vector.kind === 'numbers') vector.others.length = 0;
    else if (vector.kind === 'list') vector.elements.length = 0;
  }
  return batch;
}

/** A vector of `rows` nulls. */
export function nullVector(rows: number): ValueVector {
  return { kind: 'values', values: new Array<Value>(rows).fill(null) };
}
