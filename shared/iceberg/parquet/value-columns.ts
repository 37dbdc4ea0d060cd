/**
 * Typed column writers: each validates values of one Iceberg type exactly (no coercion), writes their PLAIN bytes
 * straight into the page buffer and keeps min/max inline. Safe-integer numbers given for 64-bit columns are
 * written as two 32-bit halves so the hot path never allocates a BigInt.
 */
import { decimalParams, fixedLength, primitiveKind } from '../spec/types';
import { type Value, uuidFromBytes } from '../spec/values';
import type { ByteBuffer } from './byte-buffer';
import { ColumnWriter, type PageContext, putInt64, putSafeInt64, updateNumeric } from './column-writer';
import type { LeafColumn } from './parquet-schema';
import { Decimal32Column, Decimal64Column, DecimalFixedColumn } from './decimal-columns';
import { packBooleans } from './rle-hybrid';
import { StringColumn } from './string-column';

const MICROS_PER_DAY = 86_400_000_000;

/** Creates the column writer for a leaf's Iceberg type. */
export function createColumnWriter(leaf: LeafColumn, context: PageContext, pageSizeInBytes: number): ColumnWriter {
  const type = leaf.type;
  switch (primitiveKind(type)) {
    case 'boolean':
      return new BooleanColumn(leaf, context, pageSizeInBytes);
    case 'int':
    case 'date':
      return new Int32Column(leaf, context, pageSizeInBytes);
    case 'long':
    case 'timestamp':
    case 'timestamptz':
      return new Int64Column(leaf, context, pageSizeInBytes);
    case 'time':
      return new TimeColumn(leaf, context, pageSizeInBytes);
    case 'float':
      return new FloatColumn(leaf, context, pageSizeInBytes);
    case 'double':
      return new DoubleColumn(leaf, context, pageSizeInBytes);
    case 'string':
      return new StringColumn(leaf, context, pageSizeInBytes);
    case 'binary':
      return new BinaryColumn(leaf, context, pageSizeInBytes);
    case 'fixed':
      return new FixedColumn(leaf, context, pageSizeInBytes, fixedLength(type)!);
    case 'uuid':
      return new UuidColumn(leaf, context, pageSizeInBytes);
    case 'decimal': {
      const { precision } = decimalParams(type)!;
      if (precision <= 9) return new Decimal32Column(leaf, context, pageSizeInBytes, precision);
      if (precision <= 18) return new Decimal64Column(leaf, context, pageSizeInBytes, precision);
      return new DecimalFixedColumn(leaf, context, pageSizeInBytes, precision, leaf.typeLength!);
    }
  }
}

class BooleanColumn extends ColumnWriter {
  protected override valueBytesScale(): number {
    return 8;
  }

  put(v: Value): void {
    if (typeof v !== 'boolean') this.fail('expected a boolean', v);
    this.ensure(1);
    this.data[this.pos++] = v ? 1 : 0;
    if (!this.hasBounds) {
      this.min = v;
      this.max = v;
      this.hasBounds = true;
    } else if (v) this.max = true;
    else this.min = false;
  }

  protected override encodeValues(out: ByteBuffer): void {
    packBooleans(this.data, this.pos, out);
  }
}

class Int32Column extends ColumnWriter {
  put(v: Value): void {
    if (typeof v !== 'number') this.fail('expected a number', v);
    this.putNumber(v);
  }

  protected override putNumber(v: number): void {
    if ((v | 0) !== v) this.fail('not an integer in the int32 range', v);
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
    updateNumeric(this, v);
  }
}

class Int64Column extends ColumnWriter {
  put(v: Value): void {
    putInt64(this, v);
    updateNumeric(this, v as number | bigint);
  }

  protected override putNumber(v: number): void {
    putSafeInt64(this, v);
    updateNumeric(this, v);
  }
}

class TimeColumn extends ColumnWriter {
  put(v: Value): void {
    if ((typeof v === 'number' || typeof v === 'bigint') && (v < 0 || v >= MICROS_PER_DAY)) {
      this.fail('time of day must be 0 <= micros < 86400000000', v);
    }
    putInt64(this, v);
    updateNumeric(this, v as number | bigint);
  }
}

function updateFloat(column: ColumnWriter, v: number): void {
  if (v !== v) {
    column.nanCount++;
    return;
  }
  if (!column.hasBounds) {
    column.min = v;
    column.max = v;
    column.hasBounds = true;
    return;
  }
  const min = column.min as number;
  const max = column.max as number;
  // Iceberg and Parquet both order -0.0 below 0.0.
  if (v < min || (v === 0 && min === 0 && Object.is(v, -0))) column.min = v;
  if (v > max || (v === 0 && max === 0 && !Object.is(v, -0))) column.max = v;
}

class FloatColumn extends ColumnWriter {
  put(v: Value): void {
    if (typeof v !== 'number') this.fail('expected a number', v);
    this.putNumber(v);
  }

  protected override putNumber(v: number): void {
    if (Math.fround(v) !== v && v === v) this.fail('not exactly representable as a 32-bit float (round with Math.fround first)', v);
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
    updateFloat(this, v);
  }
}

class DoubleColumn extends ColumnWriter {
  put(v: Value): void {
    if (typeof v !== 'number') this.fail('expected a number', v);
    this.putNumber(v);
  }

  protected override putNumber(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
    updateFloat(this, v);
  }
}

/** Unsigned lexicographic order of two byte arrays. */
export function compareByteArrays(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function updateBytes(column: ColumnWriter, v: Uint8Array): void {
  if (!column.hasBounds) {
    column.min = new Uint8Array(v);
    column.max = column.min;
    column.hasBounds = true;
  } else if (compareByteArrays(v, column.min as Uint8Array) < 0) column.min = new Uint8Array(v);
  else if (compareByteArrays(v, column.max as Uint8Array) > 0) column.max = new Uint8Array(v);
}

class BinaryColumn extends ColumnWriter {
  put(v: Value): void {
    if (!(v instanceof Uint8Array)) {
      this.fail(typeof v === 'string' ? 'a string in a binary column (pass a Uint8Array)' : 'expected a Uint8Array', v);
    }
    this.ensure(4 + v.length);
    this.view.setUint32(this.pos, v.length, true);
    this.data.set(v, this.pos + 4);
    this.pos += 4 + v.length;
    updateBytes(this, v);
  }
}

class FixedColumn extends ColumnWriter {
  constructor(
    leaf: LeafColumn,
    context: PageContext,
    pageSize: number,
    private readonly length: number,
  ) {
    super(leaf, context, pageSize);
  }

  put(v: Value): void {
    if (!(v instanceof Uint8Array)) this.fail('expected a Uint8Array', v);
    if (v.length !== this.length) this.fail(`expected exactly ${this.length} bytes`, v);
    this.ensure(this.length);
    this.data.set(v, this.pos);
    this.pos += this.length;
    updateBytes(this, v);
  }
}

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[97 + i] = 10 + i;
  HEX[65 + i] = 10 + i;
}

const SEGMENT_STARTS = [0, 9, 14, 19, 24];
const SEGMENT_ENDS = [8, 13, 18, 23, 36];

function hexDigit(code: number): number {
  return code < 128 ? HEX[code]! : -1;
}

/**
 * uuid as FIXED_LEN_BYTE_ARRAY(16). Takes the text form of values.ts, or the 16 bytes themselves (what the COPY
 * reader's uuidAsBytes gives: nothing to format there and nothing to parse here). Bounds stay text either way.
 */
class UuidColumn extends ColumnWriter {
  private readonly minBytes = new Uint8Array(16);
  private readonly maxBytes = new Uint8Array(16);

  put(v: Value): void {
    if (v instanceof Uint8Array) {
      this.putBytes(v);
      return;
    }
    if (typeof v !== 'string') this.fail('expected a UUID string or its 16 bytes', v);
    if (v.length !== 36 || v.charCodeAt(8) !== 45 || v.charCodeAt(13) !== 45 || v.charCodeAt(18) !== 45 || v.charCodeAt(23) !== 45) {
      this.fail('not a UUID in 8-4-4-4-12 form', v);
    }
    this.ensure(16);
    const data = this.data;
    const at = this.pos;
    // Any invalid digit makes HEX give -1, so OR-ing all digits leaves the sign bit set.
    let bad = 0;
    let out = at;
    for (let segment = 0; segment < 5; segment++) {
      const end = SEGMENT_ENDS[segment]!;
      for (let i = SEGMENT_STARTS[segment]!; i < end; i += 2) {
        const hi = hexDigit(v.charCodeAt(i));
        const lo = hexDigit(v.charCodeAt(i + 1));
        bad |= hi | lo;
        data[out++] = (hi << 4) | lo;
      }
    }
    if (bad < 0) this.fail('not a UUID (bad hex digit)', v);
    this.pos = at + 16;
    if (!this.hasBounds) {
      this.minBytes.set(data.subarray(at, at + 16));
      this.maxBytes.set(this.minBytes);
      this.min = this.max = v.toLowerCase();
      this.hasBounds = true;
    } else if (compareAt(data, at, this.minBytes) < 0) {
      this.minBytes.set(data.subarray(at, at + 16));
      this.min = v.toLowerCase();
    } else if (compareAt(data, at, this.maxBytes) > 0) {
      this.maxBytes.set(data.subarray(at, at + 16));
      this.max = v.toLowerCase();
    }
  }

  private putBytes(v: Uint8Array): void {
    if (v.length !== 16) this.fail('expected a UUID of exactly 16 bytes', v);
    this.putBytesAt(v, 0, 16);
  }

  /** The 16 bytes at `bytes[from]`, copied where they lie; the bounds' texts are made only when a bound moves. */
  protected override putBytesAt(bytes: Uint8Array, from: number, width: number): void {
    if (width !== 16) this.fail('expected a UUID of exactly 16 bytes', bytes.subarray(from, from + width));
    this.ensure(16);
    const data = this.data;
    const at = this.pos;
    for (let i = 0; i < 16; i++) data[at + i] = bytes[from + i]!;
    this.pos = at + 16;
    if (!this.hasBounds) {
      this.minBytes.set(data.subarray(at, at + 16));
      this.maxBytes.set(this.minBytes);
      this.min = this.max = uuidFromBytes(this.minBytes);
      this.hasBounds = true;
    } else if (compareAt(data, at, this.minBytes) < 0) {
      this.minBytes.set(data.subarray(at, at + 16));
      this.min = uuidFromBytes(this.minBytes);
    } else if (compareAt(data, at, this.maxBytes) > 0) {
      this.maxBytes.set(data.subarray(at, at + 16));
      this.max = uuidFromBytes(this.maxBytes);
    }
  }
}

/** Compares 16 bytes of `data` at `at` with `bound`, without creating a view. */
function compareAt(data: Uint8Array, at: number, bound: Uint8Array): number {
  for (let i = 0; i < 16; i++) {
    const d = data[at + i]! - bound[i]!;
    if (d !== 0) return d;
  }
  return 0;
}
