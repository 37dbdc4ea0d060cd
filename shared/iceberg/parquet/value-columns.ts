/**
 * Typed column writers: each validates values of one Iceberg type exactly (no coercion), writes their PLAIN bytes
 * straight into the page buffer and keeps min/max inline. Safe-integer numbers given for 64-bit columns are
 * written as two 32-bit halves so the hot path never allocates a BigInt.
 */
import { compareStrings } from '../spec/compare';
import { decimalParams, fixedLength, primitiveKind } from '../spec/types';
import type { Value } from '../spec/values';
import type { ByteBuffer } from './byte-buffer';
import { ColumnWriter, type PageContext } from './column-writer';
import type { LeafColumn } from './parquet-schema';
import { packBooleans } from './rle-hybrid';

const TWO_32 = 4294967296;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
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
    if ((v | 0) !== v) this.fail('not an integer in the int32 range', v);
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
    updateNumeric(this, v);
  }
}

function updateNumeric(column: ColumnWriter, v: number | bigint): void {
  if (!column.hasBounds) {
    column.min = v;
    column.max = v;
    column.hasBounds = true;
  } else if (v < (column.min as number)) column.min = v;
  else if (v > (column.max as number)) column.max = v;
}

/** Writes a 64-bit value; numbers must be safe integers, bigints within int64. */
function putInt64(column: ColumnWriter, v: Value): void {
  column.ensure(8);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) column.fail('not a safe integer (pass a bigint for values beyond 2^53)', v);
    const hi = Math.floor(v / TWO_32);
    column.view.setUint32(column.pos, v - hi * TWO_32, true);
    column.view.setInt32(column.pos + 4, hi, true);
  } else if (typeof v === 'bigint') {
    if (v < INT64_MIN || v > INT64_MAX) column.fail('outside the int64 range', v);
    column.view.setBigInt64(column.pos, v, true);
  } else {
    column.fail('expected a bigint (or a safe-integer number)', v);
  }
  column.pos += 8;
}

class Int64Column extends ColumnWriter {
  put(v: Value): void {
    putInt64(this, v);
    updateNumeric(this, v as number | bigint);
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
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
    updateFloat(this, v);
  }
}

type WellFormed = string & { isWellFormed(): boolean };

class StringColumn extends ColumnWriter {
  /** Set once a non-ASCII string is seen; until then native comparison equals code point order. */
  private nonAscii = false;

  put(v: Value): void {
    if (typeof v !== 'string') this.fail('expected a string', v);
    const length = v.length;
    this.ensure(4 + length * 3);
    const start = this.pos + 4;
    let written = 0;
    if (length <= 24) {
      // Short ASCII strings are cheaper to copy here than to hand to the native encoder.
      const data = this.data;
      for (; written < length; written++) {
        const c = v.charCodeAt(written);
        if (c >= 0x80) break;
        data[start + written] = c;
      }
    }
    if (written < length) {
      written = this.data.write(v, start, 'utf8');
      if (written !== length) {
        // Only non-ASCII text can hold a lone surrogate, which UTF-8 would silently turn into U+FFFD.
        if (!(v as WellFormed).isWellFormed()) this.fail('contains an unpaired surrogate, which has no UTF-8 form', v);
        this.nonAscii = true;
      }
    }
    this.view.setUint32(this.pos, written, true);
    this.pos = start + written;
    if (!this.hasBounds) {
      this.min = v;
      this.max = v;
      this.hasBounds = true;
    } else if (this.nonAscii) {
      if (v !== this.min && compareStrings(v, this.min as string) < 0) this.min = v;
      else if (v !== this.max && compareStrings(v, this.max as string) > 0) this.max = v;
    } else if (v < (this.min as string)) this.min = v;
    else if (v > (this.max as string)) this.max = v;
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
  constructor(leaf: LeafColumn, context: PageContext, pageSize: number, private readonly length: number) {
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

class UuidColumn extends ColumnWriter {
  private readonly minBytes = new Uint8Array(16);
  private readonly maxBytes = new Uint8Array(16);

  put(v: Value): void {
    if (typeof v !== 'string') this.fail('expected a UUID string', v);
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
}

/** Compares 16 bytes of `data` at `at` with `bound`, without creating a view. */
function compareAt(data: Uint8Array, at: number, bound: Uint8Array): number {
  for (let i = 0; i < 16; i++) {
    const d = data[at + i]! - bound[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

abstract class DecimalColumn extends ColumnWriter {
  protected readonly maxUnscaled: bigint;
  protected readonly maxNumber: number;

  constructor(leaf: LeafColumn, context: PageContext, pageSize: number, protected readonly precision: number) {
    super(leaf, context, pageSize);
    this.maxUnscaled = 10n ** BigInt(precision) - 1n;
    // Above 15 digits every safe integer fits, so the (inexact) double bound never rejects one wrongly.
    this.maxNumber = precision <= 15 ? 10 ** precision - 1 : Number.MAX_SAFE_INTEGER;
  }

  /** Checks an unscaled value against the precision; returns it unchanged. */
  protected check(v: Value): number | bigint {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) this.fail('unscaled decimal must be a bigint or a safe integer', v);
      if (v > this.maxNumber || v < -this.maxNumber) this.tooWide(v);
      return v;
    }
    if (typeof v !== 'bigint') this.fail('expected an unscaled decimal bigint', v);
    if (v > this.maxUnscaled || v < -this.maxUnscaled) this.tooWide(v);
    return v;
  }

  private tooWide(v: Value): never {
    this.fail(`unscaled value has more digits than precision ${this.precision}`, v);
  }
}

class Decimal32Column extends DecimalColumn {
  put(v: Value): void {
    const n = Number(this.check(v));
    this.ensure(4);
    this.view.setInt32(this.pos, n, true);
    this.pos += 4;
    updateNumeric(this, n);
  }
}

class Decimal64Column extends DecimalColumn {
  put(v: Value): void {
    putInt64(this, this.check(v));
    updateNumeric(this, v as number | bigint);
  }
}

class DecimalFixedColumn extends DecimalColumn {
  private readonly scratch = new DataView(new ArrayBuffer(8));

  constructor(leaf: LeafColumn, context: PageContext, pageSize: number, precision: number, private readonly width: number) {
    super(leaf, context, pageSize, precision);
  }

  put(v: Value): void {
    const n = this.check(v);
    const width = this.width;
    this.ensure(width);
    const at = this.pos;
    const low = at + width - 8;
    if (typeof n === 'number') {
      // Sign-extend a safe integer: high bytes all 0x00 or 0xFF, low 8 bytes big-endian.
      this.data.fill(n < 0 ? 0xff : 0, at, low);
      const hi = Math.floor(n / TWO_32);
      this.view.setInt32(low, hi, false);
      this.view.setUint32(low + 4, n - hi * TWO_32, false);
    } else {
      this.view.setBigUint64(low, BigInt.asUintN(64, n), false);
      const high = n >> 64n;
      const highBytes = width - 8;
      if (highBytes <= 6) this.data.writeIntBE(Number(high), at, highBytes);
      else {
        this.scratch.setBigInt64(0, high, false);
        for (let i = 0; i < highBytes; i++) this.data[at + i] = this.scratch.getUint8(8 - highBytes + i);
      }
    }
    this.pos = at + width;
    updateNumeric(this, n);
  }
}
