/**
 * Decoders of PostgreSQL's binary send formats into the shared value representation. They read straight from
 * the COPY buffer (no copies except for bytea) and allocate nothing but the value itself.
 *
 * 64-bit kinds (int8, timestamp(tz), time, decimal unscaled values) come back as a `number` when they are safe
 * integers and as a `bigint` otherwise: the writers accept both (values.ts), and numbers avoid a BigInt per value on
 * the hot path. `exactBigInt` makes them always bigint, as the readers return them.
 */
import type { Value } from '../iceberg/spec/values';
import type { DecodePlan } from './decode-plan';
import { TextInterner } from './text-interner';
import { formatInterval, renderNumericText, renderTimestampMicros } from './text-rendering';

/** Decodes the `len` bytes of one non-null field starting at `pos`. */
export type FieldDecoder = (buf: Buffer, pos: number, len: number) => Value;

/** Options of `compileDecoder`. */
export interface CompileDecoderOptions {
  /** Always return bigint for 64-bit kinds (see the module comment). */
  exactBigInt?: boolean;
  /**
   * uuid values as their 16 bytes (a Uint8Array) instead of text: no text to build here and none to parse in
   * the Parquet writer, which takes both. Only for rows that go straight to that writer; everything else
   * (partition transforms, comparisons, rendering) expects the text form of values.ts.
   */
  uuidAsBytes?: boolean;
  /**
   * Repeated text and jsonb values as an InternedText (their UTF-8 bytes and text, one object per distinct text of
   * a column), which the Parquet writer's string column finds in its dictionary without hashing; texts the column
   * does not keep stay strings. Only for rows that go straight to that writer, like `uuidAsBytes`.
   */
  textAsBytes?: boolean;
}

/** A value the target type cannot hold; copy-reader.ts adds table, column and row key. */
export class UnrepresentableValue extends Error {
  /** Where inside the column the value sits: `[3]` for an array element, `.city` for a composite field. */
  readonly path: string[] = [];

  constructor(
    /** The value as PostgreSQL would print it (or a description of it). */
    readonly valueText: string,
    /** Why it cannot be stored. */
    readonly reason: string,
  ) {
    super(`${valueText}: ${reason}`);
  }
}

/** Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01. */
const PG_EPOCH_MICROS = 946_684_800_000_000;
/** Days between 1970-01-01 and 2000-01-01. */
const PG_EPOCH_DAYS = 10_957;
const MICROS_PER_DAY = 86_400_000_000;
const INT64_MAX = 0x7fffffffffffffffn;
const TWO_32 = 4294967296;
const MAX_SAFE_ACC = 900_719_925_473; // acc * 10000 + 9999 stays a safe integer below this
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, i) => {
  const text = i.toString(16).padStart(2, '0');
  return text.charCodeAt(0) | (text.charCodeAt(1) << 8);
});
const UUID_OFFSETS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const UUID_SCRATCH = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');

/** Builds the decoder of a plan; nested plans are compiled once, here. */
export function compileDecoder(plan: DecodePlan, options: CompileDecoderOptions = {}): FieldDecoder {
  const exact = options.exactBigInt === true;
  switch (plan.kind) {
    case 'boolean':
      return (buf, pos) => buf[pos] !== 0;
    case 'int2':
      return (buf, pos) => ((buf[pos]! << 24) >> 16) | buf[pos + 1]!;
    case 'int4':
      return (buf, pos) => (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
    case 'oid':
      return exact ? (buf, pos) => BigInt(buf.readUInt32BE(pos)) : (buf, pos) => buf.readUInt32BE(pos);
    case 'int8':
      return exact ? (buf, pos) => buf.readBigInt64BE(pos) : readInt64;
    case 'float4':
      return (buf, pos) => buf.readFloatBE(pos);
    case 'float8':
      return (buf, pos) => buf.readDoubleBE(pos);
    case 'decimal': {
      const { precision, scale, checked } = plan;
      return (buf, pos) => decodeDecimal(buf, pos, precision, scale, checked, exact);
    }
    case 'numeric-text':
      return (buf, pos) => decodeNumericText(buf, pos);
    case 'text':
      return textDecoder(options.textAsBytes === true);
    case 'jsonb': {
      const text = textDecoder(options.textAsBytes === true);
      return (buf, pos, len) => {
        if (buf[pos] !== 1) throw new UnrepresentableValue(`jsonb version ${buf[pos]}`, 'unknown jsonb binary version');
        return text(buf, pos + 1, len - 1);
      };
    }
    case 'uuid':
      return options.uuidAsBytes === true ? decodeUuidBytes : decodeUuid;
    case 'bytea':
      return (buf, pos, len) => {
        const out = new Uint8Array(len);
        buf.copy(out, 0, pos, pos + len);
        return out;
      };
    case 'date': {
      const infinity = plan.infinity;
      return (buf, pos) => decodeDate(buf.readInt32BE(pos), infinity);
    }
    case 'time':
      return (buf, pos) => {
        const micros = buf.readUInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
        if (micros >= MICROS_PER_DAY) throw new UnrepresentableValue('24:00:00', 'Iceberg time holds 00:00:00 to 23:59:59.999999');
        return exact ? BigInt(micros) : micros;
      };
    case 'timestamp':
    case 'timestamptz': {
      const infinity = plan.infinity;
      const zone = plan.kind === 'timestamptz';
      return (buf, pos) => decodeTimestamp(buf, pos, infinity, zone, exact);
    }
    case 'interval':
      return (buf, pos) => formatInterval(buf.readBigInt64BE(pos), buf.readInt32BE(pos + 8), buf.readInt32BE(pos + 12));
    case 'array':
      return arrayDecoder(compileDecoder(plan.element, options));
    case 'composite':
      return compositeDecoder(plan.fields.map((f) => ({ name: f.name, decode: compileDecoder(f.plan, options) })));
  }
}

/** int8: a number when safe, a bigint otherwise. */
export function readInt64(buf: Buffer, pos: number): number | bigint {
  const hi = buf.readInt32BE(pos);
  const lo = buf.readUInt32BE(pos + 4);
  // |hi| < 2^21 keeps |value| < 2^53.
  if (hi > -0x200000 && hi < 0x200000) return hi * TWO_32 + lo;
  return buf.readBigInt64BE(pos);
}

/**
 * UTF-8 text through the column's table of texts seen (text-interner.ts): a repeat returns the string, or with
 * `asBytes` the entry, made the first time.
 */
function textDecoder(asBytes: boolean): FieldDecoder {
  const texts = new TextInterner();
  return (buf, pos, len) => {
    const entry = texts.lookup(buf, pos, pos + len);
    if (entry === undefined) return buf.toString('utf8', pos, pos + len);
    return asBytes ? entry : entry.text;
  };
}

/** 16 bytes -> lowercase 8-4-4-4-12 text. */
function decodeUuid(buf: Buffer, pos: number): string {
  // Hex digits go into one reused 36-byte buffer and leave as a single flat string: no per-byte strings.
  const out = UUID_SCRATCH;
  for (let i = 0; i < 16; i++) {
    const pair = HEX_PAIRS[buf[pos + i]!]!;
    const at = UUID_OFFSETS[i]!;
    out[at] = pair & 0xff;
    out[at + 1] = pair >> 8;
  }
  return out.toString('latin1', 0, 36);
}

/** 16 bytes -> a copy of them: rows outlive the buffer they are decoded from (the parser reuses its own). */
function decodeUuidBytes(buf: Buffer, pos: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = buf[pos + i]!;
  return out;
}

/** date (int32 days from 2000-01-01) -> days from 1970. */
export function decodeDate(days2000: number, infinity?: { positive: number; negative: number }): number {
  if (days2000 === 0x7fffffff || days2000 === -0x80000000) {
    const positive = days2000 > 0;
    if (infinity !== undefined) return positive ? infinity.positive : infinity.negative;
    throw new UnrepresentableValue(positive ? 'infinity' : '-infinity', 'Iceberg date has no infinity (map it with the dateInfinity option)');
  }
  return days2000 + PG_EPOCH_DAYS;
}

/** timestamp(tz) (int64 µs from 2000-01-01) -> µs from 1970. */
export function decodeTimestamp(
  buf: Buffer,
  pos: number,
  infinity: { positive: bigint; negative: bigint } | undefined,
  zone: boolean,
  exact: boolean,
): number | bigint {
  const hi = buf.readInt32BE(pos);
  if (!exact && hi > -0x100000 && hi < 0x100000) return hi * TWO_32 + buf.readUInt32BE(pos + 4) + PG_EPOCH_MICROS;
  const raw = buf.readBigInt64BE(pos);
  if (raw === INT64_MAX || raw === -INT64_MAX - 1n) {
    const positive = raw > 0n;
    if (infinity !== undefined) return positive ? infinity.positive : infinity.negative;
    throw new UnrepresentableValue(positive ? 'infinity' : '-infinity', 'Iceberg timestamps have no infinity (map it with the timestampInfinity option)');
  }
  const micros = raw + BigInt(PG_EPOCH_MICROS);
  if (micros > INT64_MAX) {
    throw new UnrepresentableValue(renderTimestampMicros(micros, zone), 'beyond the range of Iceberg timestamps (int64 microseconds from 1970)');
  }
  if (exact) return micros;
  return micros >= BigInt(Number.MIN_SAFE_INTEGER) && micros <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(micros) : micros;
}

/**
 * numeric -> unscaled value at `scale`. The base-10000 digits are accumulated in a double while that is exact
 * and in a bigint beyond. `checked` verifies digits and scale (values of wide or unconstrained numerics).
 */
export function decodeDecimal(buf: Buffer, pos: number, precision: number, scale: number, checked: boolean, exact: boolean): number | bigint {
  const ndigits = buf.readInt16BE(pos);
  const weight = buf.readInt16BE(pos + 2);
  const sign = buf.readUInt16BE(pos + 4);
  if (sign === NUMERIC_NAN || sign === NUMERIC_PINF || sign === NUMERIC_NINF) {
    throw new UnrepresentableValue(decodeNumericText(buf, pos), `decimal(${precision}, ${scale}) cannot hold NaN or infinity`);
  }
  let p = pos + 8;
  let acc = 0;
  let big: bigint | undefined;
  for (let i = 0; i < ndigits; i++, p += 2) {
    const digit = (buf[p]! << 8) | buf[p + 1]!;
    if (big === undefined) {
      if (acc < MAX_SAFE_ACC) acc = acc * 10000 + digit;
      else big = BigInt(acc) * 10000n + BigInt(digit);
    } else big = big * 10000n + BigInt(digit);
  }
  const shift = 4 * (weight - ndigits + 1) + scale;
  if (big === undefined && shift >= 0 && shift < 16 && acc <= Number.MAX_SAFE_INTEGER / POW10[shift]!) {
    acc *= POW10[shift]!;
  } else if (big === undefined && shift < 0 && shift > -16) {
    // Math.floor of the quotient is exact on safe integers and, unlike a double's %, no library call.
    const divisor = POW10[-shift]!;
    const quotient = Math.floor(acc / divisor);
    if (quotient * divisor !== acc) throw tooManyDecimals(buf, pos, scale);
    acc = quotient;
  } else {
    big ??= BigInt(acc);
    if (shift >= 0) big *= 10n ** BigInt(shift);
    else {
      const divisor = 10n ** BigInt(-shift);
      if (big % divisor !== 0n) throw tooManyDecimals(buf, pos, scale);
      big /= divisor;
    }
  }
  const negative = sign === NUMERIC_NEG;
  if (checked) {
    const digits = big === undefined ? String(acc).length : (big < 0n ? -big : big).toString().length;
    if (digits > precision) {
      throw new UnrepresentableValue(decodeNumericText(buf, pos), `more than ${precision} digits do not fit decimal(${precision}, ${scale})`);
    }
  }
  if (big === undefined) {
    const value = negative && acc !== 0 ? -acc : acc;
    return exact ? BigInt(value) : value;
  }
  const value = negative ? -big : big;
  if (!exact && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  return value;
}

function tooManyDecimals(buf: Buffer, pos: number, scale: number): UnrepresentableValue {
  return new UnrepresentableValue(decodeNumericText(buf, pos), `more than ${scale} decimal places do not fit scale ${scale}`);
}

/** numeric -> PostgreSQL's text (numeric_out), 'NaN' and '±Infinity' included. */
function decodeNumericText(buf: Buffer, pos: number): string {
  const ndigits = buf.readInt16BE(pos);
  const digits: number[] = new Array<number>(ndigits);
  for (let i = 0; i < ndigits; i++) digits[i] = buf.readUInt16BE(pos + 8 + 2 * i);
  return renderNumericText(digits, buf.readInt16BE(pos + 2), buf.readUInt16BE(pos + 4), buf.readInt16BE(pos + 6));
}

function arrayDecoder(element: FieldDecoder): FieldDecoder {
  return (buf, pos) => {
    const out: Value[] = [];
    readArrayElements(buf, pos, element, out);
    return out;
  };
}

/**
 * Appends the elements of the one-dimensional array at `pos` (lower bound 1) to `out`, each decoded by `element`;
 * any other shape is an UnrepresentableValue, as is an element that is one (its position added to the path).
 */
export function readArrayElements(buf: Buffer, pos: number, element: FieldDecoder, out: Value[]): void {
  const ndim = readInt32(buf, pos);
  if (ndim === 0) return;
  if (ndim !== 1 || readInt32(buf, pos + 16) !== 1) throw arrayShapeFailure(buf, pos, ndim);
  const count = readInt32(buf, pos + 12);
  let p = pos + 20;
  for (let i = 0; i < count; i++) {
    const len = readInt32(buf, p);
    p += 4;
    if (len < 0) {
      out.push(null);
      continue;
    }
    try {
      out.push(element(buf, p, len));
    } catch (error) {
      if (error instanceof UnrepresentableValue) error.path.unshift(`[${i + 1}]`);
      throw error;
    }
    p += len;
  }
}

function arrayShapeFailure(buf: Buffer, pos: number, ndim: number): UnrepresentableValue {
  const bounds: string[] = [];
  for (let d = 0; d < ndim; d++) {
    const size = readInt32(buf, pos + 12 + 8 * d);
    const lower = readInt32(buf, pos + 16 + 8 * d);
    bounds.push(`[${lower}:${lower + size - 1}]`);
  }
  if (ndim > 1) {
    return new UnrepresentableValue(
      `an array with dimensions ${bounds.join('')}`,
      'multi-dimensional arrays are not migrated (Iceberg list<T> is one-dimensional)',
    );
  }
  return new UnrepresentableValue(`an array with bounds ${bounds[0]}`, 'a list cannot keep a lower bound other than 1');
}

/** Big-endian int32 without Buffer's argument checks (offsets are already bounds-checked by the parser). */
function readInt32(buf: Buffer, pos: number): number {
  return (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
}

function compositeDecoder(fields: Array<{ name: string; decode: FieldDecoder }>): FieldDecoder {
  return (buf, pos) => {
    const count = buf.readInt32BE(pos);
    if (count !== fields.length) {
      throw new UnrepresentableValue(`a row of ${count} attributes`, `the composite type had ${fields.length} attributes when the table was described`);
    }
    const out: Value[] = [];
    let p = pos + 4;
    for (let i = 0; i < count; i++) {
      const len = buf.readInt32BE(p + 4);
      p += 8;
      if (len < 0) {
        out.push(null);
        continue;
      }
      const field = fields[i]!;
      try {
        out.push(field.decode(buf, p, len));
      } catch (error) {
        if (error instanceof UnrepresentableValue) error.path.unshift(`.${field.name}`);
        throw error;
      }
      p += len;
    }
    return out;
  };
}
