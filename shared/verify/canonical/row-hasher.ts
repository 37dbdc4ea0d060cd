/**
 * The canonical form's row hash (README.md), computed in JS from the values our Parquet reader returns (RowHasher) and
 * in SQL by PostgreSQL from the live table (rowHashSql). A row hash chains PostgreSQL's hash functions over the row's
 * columns, each column hashed with the previous column's hash as the seed (0 before the first column), by the column's
 * hash form (hashFormOf): an int, date or boolean column its 32-bit value (hashint4extended: the days from 1970-01-01
 * for a date, 1 or 0 for true or false); a long column its value by hashint8extended, which hashes the low 32 bits xor
 * the high ones (inverted for a negative value), with the seed's high word xor the high 32 bits, so both halves reach
 * the hash and no two values meet; a time, timestamp or timestamptz column the lowercase hex of its 8-byte binary send
 * form (hashtextextended: the int64 microseconds from 2000-01-01 UTC, a time's from midnight, big-endian); a decimal
 * column from a numeric(P, S) its text at that scale (every fractional digit, as PostgreSQL prints the value: its
 * typmod gives every value that scale); a list of strings the empty text with the seed xor the list's own hash
 * (hashList: PostgreSQL's hash_array_extended of its texts); every other column its canonical text (hashtextextended).
 * All are lookup3 over bytes that spell the value exactly (the value's four little-endian bytes, or a text's UTF-8), so
 * nothing is lost; the first three spare PostgreSQL printing the value in decimal, the list's form a JSON text of the
 * list. A NULL column hashes the empty text (or the value 0) with the previous hash xor NULL_SEED_MASK, so NULL differs
 * from the empty string and from 0. The last hash is the row's.
 *
 * Hashing each column's own text, instead of one JSON text of the row, spares both sides the row text: PostgreSQL's
 * array_to_json of a row's texts cost more than the texts themselves, and the JS side writes each value's canonical
 * UTF-8 bytes straight into one buffer, with no string made for numbers, timestamps, decimals, floats, uuids or bytes.
 * Column texts need no delimiter: every column is hashed on its own, so ('ab','c') and ('a','bc') start the second step
 * from different seeds.
 */
import type { DecodePlan } from '../../postgres/decode-plan';
import { type IcebergType, decimalParams } from '../../iceberg/spec/types';
import { type Row, type Value, decimalToString } from '../../iceberg/spec/values';
import { POSTGRES_EPOCH_MICROS } from './canonical-sql';
import { type CanonicalFormatter, canonicalFormatter, trimScale } from './canonical-text';
import { type HashForm, hashFormOf, hashFormsOf } from './row-hash-sql';
import { HASHED as HASHED_EXPORT, hashScratch as hashScratchExport, scratch as scratchExport, writeWord as writeWordExport } from './row-hash';

// Module-local bindings for the hot loop: a transpiler's CommonJS output can read every imported name through
// a getter on each use, which measured at more than a second per 2,000,000 rows.
const HASHED = HASHED_EXPORT;
const hashScratch = hashScratchExport;
const scratch = scratchExport;
/** A 32-bit value as its four little-endian bytes (hashint4extended's input), written into the scratch buffer's first word. */
const writeInt32 = writeWordExport;

/** The xor mask of the seed of a NULL column's step: the 64-bit golden ratio, 0x9e3779b97f4a7c15. */
const NULL_MASK_HI = 0x9e3779b9;
const NULL_MASK_LO = 0x7f4a7c15;

/** POSTGRES_EPOCH_MICROS as a number: a timestamp's send form counts from 2000-01-01. */
const EPOCH_SHIFT = Number(POSTGRES_EPOCH_MICROS);

/** Writes the canonical text of a non-null value as UTF-8 at the start of the scratch buffer; returns its length. */
type ValueWriter = (value: Value) => number;

/** Row hashes of rows of fixed column types, each column's writer resolved once. */
export class RowHasher {
  private readonly writers: ValueWriter[];
  /** Per column: the bytes a NULL hashes, all zero (4 for a column hashed by its int4 value, else none). */
  private readonly nullLengths: number[];
  /** Per column: what its canonical text is hashed as (hashCanonical). */
  private readonly textWriters: Array<(text: string) => number>;
  /** Each row's hash so far in addRows: high and low words. */
  private his = new Uint32Array(1024);
  private los = new Uint32Array(1024);

  /** Per column: whether it is hashed in the `list` form (hashList). */
  private readonly lists: boolean[];
  /** Per column: whether it is hashed in the `int8` form (hashLong). */
  private readonly longs: boolean[];

  /** The hasher of compared columns: each hashed in the form their PostgreSQL decoding gives (hashFormsOf). */
  static forColumns(columns: ReadonlyArray<{ type: IcebergType; plan: DecodePlan }>): RowHasher {
    return new RowHasher(
      columns.map((c) => c.type),
      hashFormsOf(columns),
    );
  }

  /** `forms`: each column's hash form (hashFormsOf), by default its type's alone. */
  constructor(types: readonly IcebergType[], forms: readonly HashForm[] = types.map((type) => hashFormOf(type))) {
    this.writers = types.map((type, i) => valueWriter(type, forms[i]!));
    this.textWriters = types.map((type, i) => canonicalTextWriter(type, forms[i]!));
    this.lists = forms.map((form) => form === 'list');
    this.longs = forms.map((form) => form === 'int8');
    this.nullLengths = forms.map((form) => (form === 'int4' || form === 'int8' ? 4 : 0));
  }

  /**
   * Adds the row hash of each of `rows` (reader values) to `sum` (0 for a row without columns, as in SQL), column by
   * column: each column's writer runs over the whole batch before the next column's, so a loop meets values of one
   * type and one writer (a loop over a row's columns meets them all). Loops written out per type measured no faster.
   */
  addRows(rows: readonly Row[], sum: HashSum): void {
    const n = rows.length;
    if (this.his.length < n) {
      this.his = new Uint32Array(n);
      this.los = new Uint32Array(n);
    }
    const his = this.his;
    const los = this.los;
    his.fill(0, 0, n);
    los.fill(0, 0, n);
    for (let i = 0; i < this.writers.length; i++) {
      const writer = this.writers[i]!;
      const nullLength = this.nullLengths[i]!;
      if (this.lists[i]) {
        for (let r = 0; r < n; r++) {
          const value = rows[r]![i] ?? null;
          if (value === null) hashNull(0, his[r]!, los[r]!);
          else hashList(listItems(value, writer), i, his[r]!, los[r]!);
          his[r] = HASHED[0]!;
          los[r] = HASHED[1]!;
        }
        continue;
      }
      if (this.longs[i]) {
        for (let r = 0; r < n; r++) {
          const value = rows[r]![i] ?? null;
          if (value === null) hashNull(4, his[r]!, los[r]!);
          else hashLong(value as number | bigint, his[r]!, los[r]!);
          his[r] = HASHED[0]!;
          los[r] = HASHED[1]!;
        }
        continue;
      }
      for (let r = 0; r < n; r++) {
        const value = rows[r]![i] ?? null;
        if (value === null) hashNull(nullLength, his[r]!, los[r]!);
        else hashScratch(writer(value), his[r]!, los[r]!);
        his[r] = HASHED[0]!;
        los[r] = HASHED[1]!;
      }
    }
    for (let r = 0; r < n; r++) sum.add(his[r]!, los[r]!);
  }

  /** The row hash of a row's canonical texts (null for NULL), left in HASHED. */
  hashCanonical(canonical: ReadonlyArray<string | null>): void {
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < canonical.length; i++) {
      const text = canonical[i] ?? null;
      if (text === null) hashNull(this.nullLengths[i] ?? 0, hi, lo);
      else if (this.lists[i]) hashList(JSON.parse(text) as Array<string | null>, i, hi, lo);
      else if (this.longs[i]) hashLong(integerOf(text), hi, lo);
      else hashScratch(this.textWriters[i]!(text), hi, lo);
      hi = HASHED[0]!;
      lo = HASHED[1]!;
    }
    HASHED[0] = hi;
    HASHED[1] = lo;
  }
}

/** A NULL's step: `length` zero bytes (the empty text, or the value 0) with the seed xor the NULL mask. */
function hashNull(length: number, hi: number, lo: number): void {
  scratch(FIXED).fill(0, 0, length);
  hashScratch(length, (hi ^ NULL_MASK_HI) >>> 0, (lo ^ NULL_MASK_LO) >>> 0);
}

/**
 * A long's step, PostgreSQL's hashint8extended(v, seed # (v & 0xffffffff00000000)): the low 32 bits xor the high
 * ones (their complement for a negative value), hashed as a 32-bit value (hashint4extended's lookup3 of four
 * bytes) with the seed's high word xor the high 32 bits. The folded word and the high word together spell the value.
 */
function hashLong(value: number | bigint, hi: number, lo: number): void {
  let high: number;
  let low: number;
  if (typeof value === 'number') {
    // Exact on safe integers: a division by 2^32 and its floor, then the remainder.
    high = Math.floor(value / 0x1_0000_0000);
    low = value - high * 0x1_0000_0000;
  } else {
    high = Number(BigInt.asIntN(32, value >> 32n));
    low = Number(BigInt.asUintN(32, value));
  }
  writeInt32((low ^ (high >= 0 ? high : ~high)) >>> 0);
  hashScratch(4, (hi ^ high) >>> 0, lo);
}

/** An integer's canonical text as a number, or a bigint beyond the safe integers. */
function integerOf(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/**
 * A list's step: the empty text hashed with the seed xor the list's hash, which is PostgreSQL's
 * hash_array_extended of the text[] of its elements with the column's position as the seed: starting from 1,
 * each element in order multiplies the hash by 31 and adds its own hash (hashtextextended of its UTF-8 with that
 * seed, 0 for a null element), modulo 2^64. A list hashes its texts without a JSON text of them being made on
 * either side; the step's lookup3 mixes the list's hash into the row's, so the empty list, whose hash is 1
 * whatever the seed, still depends on the columns before it.
 */
function hashList(items: ReadonlyArray<string | null>, position: number, hi: number, lo: number): void {
  let listHi = 0;
  let listLo = 1;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] ?? null;
    let itemHi = 0;
    let itemLo = 0;
    if (item !== null) {
      hashScratch(writeString(item), 0, position);
      itemHi = HASHED[0]!;
      itemLo = HASHED[1]!;
    }
    // hash * 31 + item, on two 32-bit words: every intermediate stays below 2^38, exact in a double.
    const low = listLo * 31;
    const carry = Math.floor(low / 0x1_0000_0000);
    const sum = (low >>> 0) + itemLo;
    listHi = (listHi * 31 + carry + itemHi + (sum >= 0x1_0000_0000 ? 1 : 0)) >>> 0;
    listLo = sum >>> 0;
  }
  hashScratch(0, (hi ^ listHi) >>> 0, (lo ^ listLo) >>> 0);
}

/** A list of strings' items as texts: the reader's array itself, else its canonical text's items. */
function listItems(value: Value, format: ValueWriter): ReadonlyArray<string | null> {
  if (isStrings(value)) return value;
  const length = format(value);
  return JSON.parse(scratch(length).toString('utf8', 0, length)) as Array<string | null>;
}

/** A running sum of row hashes modulo 2^64 and a row count, without a BigInt per row. */
export class HashSum {
  rows = 0;
  private hi = 0;
  private lo = 0;

  /** Adds the hash in HASHED. */
  addHashed(): void {
    this.add(HASHED[0]!, HASHED[1]!);
  }

  /** Adds the hash of high word `hi` and low word `lo`. */
  add(hi: number, lo: number): void {
    const low = this.lo + lo;
    this.hi = (this.hi + hi + (low >= 0x1_0000_0000 ? 1 : 0)) >>> 0;
    this.lo = low >>> 0;
    this.rows++;
  }

  /** The sum as an unsigned 64-bit value. */
  get sum(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
}

/** Room for any fixed-size text: a decimal's digits, a float's hex, a uuid. */
const FIXED = 40;

function valueWriter(type: IcebergType, form: HashForm): ValueWriter {
  if (typeof type !== 'string') return formattedWriter(canonicalFormatter(type));
  switch (type) {
    case 'boolean':
      return (value) => writeInt32(value === true ? 1 : 0);
    case 'int':
    case 'date':
      return (value) => writeInt32(value as number);
    case 'time':
      return (value) => writeSent(value as number | bigint, 0);
    case 'timestamp':
    case 'timestamptz':
      return (value) => writeSent(value as number | bigint, EPOCH_SHIFT);
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
      if (decimal) {
        const trimmed = form !== 'scaled';
        return (value) => writeDecimal(value as bigint | number, decimal.scale, trimmed);
      }
      if (type.startsWith('fixed')) return (value) => writeHex(value as Uint8Array);
      return formattedWriter(canonicalFormatter(type));
    }
  }
}

/** Writes what a column's step hashes from its canonical text: the text itself, or the value it spells (hashFormOf). */
function canonicalTextWriter(type: IcebergType, form: HashForm): (text: string) => number {
  switch (form) {
    case 'int4':
      return type === 'boolean' ? (text) => writeInt32(text === 't' ? 1 : 0) : (text) => writeInt32(Number(text));
    case 'sent': {
      const shift = type === 'time' ? 0 : EPOCH_SHIFT;
      return (text) => writeSent(integerOf(text), shift);
    }
    case 'scaled': {
      const { scale } = decimalParams(type)!;
      return (text) => writeString(atScale(text, scale));
    }
    case 'text':
    case 'int8':
    case 'list':
      // A long's or a list's canonical text is parsed into its value instead (hashCanonical).
      return writeString;
  }
}

/** A decimal's canonical text (trailing fractional zeros trimmed) with `scale` fractional digits again. */
function atScale(text: string, scale: number): string {
  if (scale === 0) return text;
  const point = text.indexOf('.');
  return point < 0 ? `${text}.${'0'.repeat(scale)}` : text.padEnd(point + 1 + scale, '0');
}

/** Lists, structs and maps: their canonical text (a JSON array) made by the formatter, then written. */
function formattedWriter(format: CanonicalFormatter): ValueWriter {
  return (value) => writeString(format(value)!);
}

function isStrings(value: Value): value is Array<string | null> {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (item !== null && typeof item !== 'string') return false;
  return true;
}

/** Texts from this length on are written by the encoder, whose per-call cost a byte loop exceeds (measured). */
const ENCODER_FROM = 32;

/** Writes `text` as UTF-8: short ASCII byte by byte, anything else by the encoder. */
function writeString(text: string): number {
  const out = scratch(text.length * 3);
  if (text.length >= ENCODER_FROM) return out.write(text, 0, 'utf8');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return out.write(text, 0, 'utf8');
    out[i] = c;
  }
  return text.length;
}

/** Characters a uuid string is written differently for: capitals, and anything beyond ASCII. */
const NOT_LOWERCASE_ASCII = /[A-Z\u0080-\uffff]/;

/** A uuid string in lowercase (the reader's are already, PostgreSQL prints lowercase): ASCII copied natively. */
function writeLowercase(text: string): number {
  const out = scratch(text.length * 3);
  if (NOT_LOWERCASE_ASCII.test(text)) return out.write(text.toLowerCase(), 0, 'utf8');
  return out.write(text, 0, 'latin1');
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');

function writeHex(bytes: Uint8Array): number {
  const out = scratch(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    out[2 * i] = HEX[bytes[i]! >> 4]!;
    out[2 * i + 1] = HEX[bytes[i]! & 15]!;
  }
  return bytes.length * 2;
}

/** 16 bytes as 8-4-4-4-12 lowercase hex. */
function writeUuidBytes(bytes: Uint8Array): number {
  const out = scratch(FIXED);
  let n = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out[n++] = 0x2d;
    out[n++] = HEX[bytes[i]! >> 4]!;
    out[n++] = HEX[bytes[i]! & 15]!;
  }
  return n;
}

const FLOAT_WORDS = new DataView(new ArrayBuffer(8));

/** `NaN`, else the IEEE 754 big-endian bytes in hex (float4send / float8send). */
function writeFloat(value: number, single: boolean): number {
  const out = scratch(FIXED);
  if (Number.isNaN(value)) {
    out[0] = 0x4e;
    out[1] = 0x61;
    out[2] = 0x4e;
    return 3;
  }
  if (single) {
    FLOAT_WORDS.setFloat32(0, value);
    writeWordHex(out, FLOAT_WORDS.getUint32(0), 0);
    return 8;
  }
  FLOAT_WORDS.setFloat64(0, value);
  writeWordHex(out, FLOAT_WORDS.getUint32(0), 0);
  writeWordHex(out, FLOAT_WORDS.getUint32(4), 8);
  return 16;
}

function writeWordHex(out: Buffer, word: number, at: number): void {
  for (let i = 7; i >= 0; i--) {
    out[at + i] = HEX[word & 15]!;
    word >>>= 4;
  }
}

/**
 * The lowercase hex of the int64 `value - shift` (two's complement, big-endian: PostgreSQL's 8-byte send form of
 * a time type, `value` counting microseconds from 1970 or midnight) at the start of the scratch buffer; returns 16.
 */
function writeSent(value: number | bigint, shift: number): number {
  const out = scratch(FIXED);
  const n = typeof value === 'number' ? value - shift : Number.NaN;
  if (Number.isSafeInteger(n)) {
    // The high word is within ±2^21 here; its two's complement is that of the int64.
    const high = Math.floor(n / 0x1_0000_0000);
    writeWordHex(out, high >>> 0, 0);
    writeWordHex(out, n - high * 0x1_0000_0000, 8);
  } else {
    const word = BigInt.asUintN(64, BigInt(value) - BigInt(shift));
    writeWordHex(out, Number(word >> 32n), 0);
    writeWordHex(out, Number(word & 0xffff_ffffn), 8);
  }
  return 16;
}

/** '00' to '99' as ASCII byte pairs. */
const DIGIT_PAIRS = Buffer.from(Array.from({ length: 100 }, (_v, i) => String(i).padStart(2, '0')).join(''), 'latin1');

/**
 * Writes the `count` lowest decimal digits of the non-negative safe integer `n` at `at` (leading zeros when it
 * has fewer); returns the end. `n % d` and `(n - n % d) / d` are exact on safe integers, unlike `n / d` floored.
 */
function writeDigits(out: Buffer, n: number, at: number, count: number): number {
  let p = at + count;
  // Above 2^31 the low eight digits are split off once, so the rest runs on int32 arithmetic.
  while (n > 0x7fffffff && p - at >= 8) {
    let low = n % 100_000_000;
    n = (n - low) / 100_000_000;
    for (let i = 0; i < 4; i++) {
      const pair = 2 * (low % 100);
      out[--p] = DIGIT_PAIRS[pair + 1]!;
      out[--p] = DIGIT_PAIRS[pair]!;
      low = (low / 100) | 0;
    }
  }
  // Below 2^31 here: int32 division from the first digit on (a double's % is a library call).
  let m = n | 0;
  while (p - at >= 2) {
    const pair = 2 * (m % 100);
    out[--p] = DIGIT_PAIRS[pair + 1]!;
    out[--p] = DIGIT_PAIRS[pair]!;
    m = (m / 100) | 0;
  }
  if (p > at) out[--p] = 0x30 + (m % 10);
  return at + count;
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_v, i) => 10 ** (i + 1));

/** Decimal digits of a non-negative safe integer. */
function digitCount(n: number): number {
  let count = 1;
  while (count < 16 && n >= POWERS_OF_TEN[count - 1]!) count++;
  return count;
}

/**
 * The decimal text of an unscaled value: the canonical text (trailing fractional zeros trimmed) or, not `trimmed`,
 * the text at `scale` (every fractional digit); returns its length.
 */
function writeDecimal(unscaled: bigint | number, scale: number, trimmed: boolean): number {
  let n = typeof unscaled === 'number' ? unscaled : Number(unscaled);
  if (!Number.isSafeInteger(n) || scale < 0 || scale > POWERS_OF_TEN.length) {
    const text = decimalToString(BigInt(unscaled), scale);
    return writeString(trimmed ? trimScale(text) : text);
  }
  const out = scratch(FIXED + scale);
  let p = 0;
  if (n < 0) {
    out[p++] = 0x2d;
    n = -n;
  }
  // Math.floor of a quotient is exact on safe integers and, unlike a double's %, no library call.
  let s = scale;
  for (let q = Math.floor(n / 10); trimmed && s > 0 && q * 10 === n; q = Math.floor(n / 10)) {
    n = q;
    s--;
  }
  if (s === 0) return writeDigits(out, n, p, digitCount(n));
  // The integer digits (at least one), the point, then the s fractional digits zero-padded.
  const unit = POWERS_OF_TEN[s - 1]!;
  const whole = Math.floor(n / unit);
  const integerDigits = digitCount(whole);
  writeDigits(out, whole, p, integerDigits);
  out[p + integerDigits] = 0x2e;
  return writeDigits(out, n - whole * unit, p + integerDigits + 1, s);
}
