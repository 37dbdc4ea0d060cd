/**
 * The row hash of canonical.ts, computed in JS from the values our Parquet reader returns (RowHasher) and in
 * SQL by PostgreSQL from the live table (rowHashSql). A row hash chains PostgreSQL's hashtextextended over the
 * row's columns: each column's canonical text is hashed with the previous column's hash as the seed (0 before
 * the first column); a NULL column hashes the empty text with the previous hash xor NULL_SEED_MASK, so NULL
 * and the empty string differ. The last hash is the row's.
 *
 * Hashing each column's own text, instead of one JSON text of the row, spares both sides the row text:
 * PostgreSQL's array_to_json of a row's texts cost more than the texts themselves, and the JS side writes
 * each value's canonical UTF-8 bytes straight into one buffer, with no string made for numbers, timestamps,
 * decimals, floats, uuids or bytes. Column texts need no delimiter: every column is hashed on its own, so
 * ('ab','c') and ('a','bc') start the second step from different seeds.
 */
import { type IcebergType, decimalParams } from '../iceberg/spec/types';
import { type Row, type Value, decimalToString } from '../iceberg/spec/values';
import { type CanonicalFormatter, canonicalFormatter, trimScale } from './canonical';
import { HASHED, hashBytes } from './row-hash';

/** The xor mask of the seed of a NULL column's step: the 64-bit golden ratio, 0x9e3779b97f4a7c15. */
const NULL_MASK_HI = 0x9e3779b9;
const NULL_MASK_LO = 0x7f4a7c15;
/** The same mask as a signed int8 literal. */
const NULL_MASK_SQL = '-7046029254386353131';

/** One column of rowHashSql. */
export interface HashedColumnSql {
  /** SQL of the canonical text (a column of a subquery, or an expression cheap enough to name twice). */
  canonical: string;
  /** SQL that is true when the value is NULL; absent for a column that cannot be NULL. */
  nullTest?: string;
}

/** SQL for the row hash (signed int8) of the canonical texts of `columns`, in column order. */
export function rowHashSql(columns: readonly HashedColumnSql[]): string {
  let hash = '0::int8';
  for (const c of columns) {
    // COLLATE "C": hashtextextended hashes the bytes only under a deterministic collation.
    hash = c.nullTest === undefined
      ? `pg_catalog.hashtextextended((${c.canonical}) COLLATE "C", ${hash})`
      : `pg_catalog.hashtextextended(COALESCE(${c.canonical}, '') COLLATE "C", (${hash}) # (CASE WHEN ${c.nullTest} THEN ${NULL_MASK_SQL}::int8 ELSE 0::int8 END))`;
  }
  return hash;
}

/** Writes the canonical text of a non-null value as UTF-8 at the start of BYTES; returns its length. */
type ValueWriter = (value: Value) => number;

/** Row hashes of rows of fixed column types, each column's writer resolved once. */
export class RowHasher {
  private readonly writers: ValueWriter[];

  constructor(types: readonly IcebergType[]) {
    this.writers = types.map(valueWriter);
  }

  /** The row hash of a row of reader values, left in HASHED (high word, low word). */
  hashValues(row: Row): void {
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < this.writers.length; i++) {
      const value = row[i] ?? null;
      if (value === null) hashBytes(BYTES, 0, (hi ^ NULL_MASK_HI) >>> 0, (lo ^ NULL_MASK_LO) >>> 0);
      else hashBytes(BYTES, this.writers[i]!(value), hi, lo);
      hi = HASHED[0]!;
      lo = HASHED[1]!;
    }
  }

  /** The row hash of a row's canonical texts (null for NULL), left in HASHED. */
  static hashCanonical(canonical: ReadonlyArray<string | null>): void {
    let hi = 0;
    let lo = 0;
    for (const text of canonical) {
      if (text === null) hashBytes(BYTES, 0, (hi ^ NULL_MASK_HI) >>> 0, (lo ^ NULL_MASK_LO) >>> 0);
      else hashBytes(BYTES, writeString(text), hi, lo);
      hi = HASHED[0]!;
      lo = HASHED[1]!;
    }
  }
}

/** A running sum of row hashes modulo 2^64 and a row count, without a BigInt per row. */
export class HashSum {
  rows = 0;
  private hi = 0;
  private lo = 0;

  /** Adds the hash in HASHED. */
  addHashed(): void {
    const lo = this.lo + HASHED[1]!;
    this.hi = (this.hi + HASHED[0]! + (lo >= 0x1_0000_0000 ? 1 : 0)) >>> 0;
    this.lo = lo >>> 0;
    this.rows++;
  }

  /** The sum as an unsigned 64-bit value. */
  get sum(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
}

let BYTES = Buffer.allocUnsafe(4096);

function ensure(bytes: number): void {
  if (bytes > BYTES.length) BYTES = Buffer.allocUnsafe(bytes + 1024);
}

function valueWriter(type: IcebergType): ValueWriter {
  if (typeof type !== 'string') return formattedWriter(canonicalFormatter(type));
  switch (type) {
    case 'boolean':
      return (value) => {
        BYTES[0] = value === true ? 0x74 : 0x66;
        return 1;
      };
    case 'int':
    case 'long':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return (value) => writeInteger(value as number | bigint, 0);
    case 'float':
      return (value) => writeFloat(value as number, true);
    case 'double':
      return (value) => writeFloat(value as number, false);
    case 'string':
      return (value) => writeString(value as string);
    case 'uuid':
      return (value) => (typeof value === 'string' ? writeLowercase(value) : writeUuidBytes(value as Uint8Array));
    case 'binary':
      return (value) => writeHex(value as Uint8Array);
    default: {
      const decimal = decimalParams(type);
      if (decimal) return (value) => writeDecimal(value as bigint | number, decimal.scale);
      if (type.startsWith('fixed')) return (value) => writeHex(value as Uint8Array);
      return formattedWriter(canonicalFormatter(type));
    }
  }
}

/** Lists, structs and maps: their canonical text (a JSON array) made by the formatter, then written. */
function formattedWriter(format: CanonicalFormatter): ValueWriter {
  return (value) => writeString(format(value)!);
}

/** Writes `text` as UTF-8; ASCII byte by byte, anything else by the encoder (no per-call cost for short ASCII). */
function writeString(text: string): number {
  ensure(text.length * 3);
  const out = BYTES;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return out.write(text, 0, 'utf8');
    out[i] = c;
  }
  return text.length;
}

/** A uuid string in lowercase (the reader's are already; PostgreSQL prints lowercase). */
function writeLowercase(text: string): number {
  ensure(text.length * 3);
  const out = BYTES;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return out.write(text.toLowerCase(), 0, 'utf8');
    out[i] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
  }
  return text.length;
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');

function writeHex(bytes: Uint8Array): number {
  ensure(bytes.length * 2);
  const out = BYTES;
  for (let i = 0; i < bytes.length; i++) {
    out[2 * i] = HEX[bytes[i]! >> 4]!;
    out[2 * i + 1] = HEX[bytes[i]! & 15]!;
  }
  return bytes.length * 2;
}

/** 16 bytes as 8-4-4-4-12 lowercase hex. */
function writeUuidBytes(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) BYTES[n++] = 0x2d;
    BYTES[n++] = HEX[bytes[i]! >> 4]!;
    BYTES[n++] = HEX[bytes[i]! & 15]!;
  }
  return n;
}

const WORDS = new DataView(new ArrayBuffer(8));

/** `NaN`, else the IEEE 754 big-endian bytes in hex (float4send / float8send). */
function writeFloat(value: number, single: boolean): number {
  if (Number.isNaN(value)) {
    BYTES[0] = 0x4e; BYTES[1] = 0x61; BYTES[2] = 0x4e;
    return 3;
  }
  if (single) {
    WORDS.setFloat32(0, value);
    writeWordHex(WORDS.getUint32(0), 0);
    return 8;
  }
  WORDS.setFloat64(0, value);
  writeWordHex(WORDS.getUint32(0), 0);
  writeWordHex(WORDS.getUint32(4), 8);
  return 16;
}

function writeWordHex(word: number, at: number): void {
  for (let i = 7; i >= 0; i--) {
    BYTES[at + i] = HEX[word & 15]!;
    word >>>= 4;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The decimal text of an integer at `at`; returns the end. */
function writeInteger(value: number | bigint, at: number): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (value >= -MAX_SAFE && value <= MAX_SAFE) n = Number(value);
  else return at + BYTES.write(value.toString(), at, 'latin1');
  let p = at;
  if (n < 0) {
    BYTES[p++] = 0x2d;
    n = -n;
  }
  return writeDigits(n, p, digitCount(n));
}

/**
 * Writes the `count` lowest decimal digits of the non-negative safe integer `n` at `at` (leading zeros when it
 * has fewer); returns the end. `n % d` and `(n - n % d) / d` are exact on safe integers, unlike `n / d` floored.
 */
function writeDigits(n: number, at: number, count: number): number {
  let p = at + count - 1;
  // Above 2^31 the low eight digits are split off once, so the rest of the loop runs on int32 arithmetic.
  while (n > 0x7fffffff) {
    let low = n % 100_000_000;
    n = (n - low) / 100_000_000;
    for (let i = 0; i < 8; i++) {
      BYTES[p--] = 0x30 + (low % 10);
      low = (low / 10) | 0;
    }
  }
  while (p >= at) {
    BYTES[p--] = 0x30 + (n % 10);
    n = (n / 10) | 0;
  }
  return at + count;
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_v, i) => 10 ** (i + 1));

/** Decimal digits of a non-negative safe integer. */
function digitCount(n: number): number {
  let count = 1;
  while (count < 16 && n >= POWERS_OF_TEN[count - 1]!) count++;
  return count;
}

/** The decimal canonical text of an unscaled value (trailing fractional zeros trimmed) at 0; returns the end. */
function writeDecimal(unscaled: bigint | number, scale: number): number {
  let n: number;
  if (typeof unscaled === 'number') n = unscaled;
  else if (unscaled >= -MAX_SAFE && unscaled <= MAX_SAFE) n = Number(unscaled);
  else return writeString(trimScale(decimalToString(unscaled, scale)));
  if (!Number.isSafeInteger(n) || scale < 0) return writeString(trimScale(decimalToString(BigInt(n), scale)));
  let s = scale;
  while (s > 0 && n % 10 === 0) {
    n /= 10;
    s--;
  }
  let p = 0;
  if (n < 0) {
    BYTES[p++] = 0x2d;
    n = -n;
  }
  if (s === 0) return writeDigits(n, p, digitCount(n));
  // Digits right to left: the s fractional ones (zero-padded), the point, then at least one integer digit.
  const integerDigits = Math.max(1, digitCount(n) - s);
  const end = p + integerDigits + 1 + s;
  for (let i = end - 1; i > end - 1 - s; i--) {
    const digit = n % 10;
    BYTES[i] = 0x30 + digit;
    n = (n - digit) / 10;
  }
  BYTES[p + integerDigits] = 0x2e;
  writeDigits(n, p, integerDigits);
  return end;
}
