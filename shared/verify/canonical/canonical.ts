/**
 * The canonical text of a value, a row and a key: defined once, computed twice. PostgreSQL computes it in SQL
 * from the live table (so the copy's own decoder never checks itself) and the verifier computes it in JS from
 * the values our Parquet reader returns. Equal values give byte-identical texts; anything else differs.
 *
 * Canonical text of one non-null value, by Iceberg type:
 *
 * | Iceberg type            | canonical text                                                            |
 * |-------------------------|---------------------------------------------------------------------------|
 * | boolean                 | `t` or `f`                                                                |
 * | int, long               | decimal integer (`-42`)                                                   |
 * | float, double           | `NaN`, else the IEEE 754 big-endian bytes in lowercase hex (float4send /  |
 * |                         | float8send): exact, and -0.0 (`80000000…`) differs from 0.0               |
 * | decimal(P, S)           | exact decimal text without trailing fractional zeros (`trim_scale`):      |
 * |                         | 12.30 -> `12.3`, 0.00 -> `0`                                              |
 * | date                    | days from 1970-01-01 (`-1` is 1969-12-31)                                 |
 * | time                    | microseconds from midnight                                                |
 * | timestamp, timestamptz  | microseconds from 1970-01-01T00:00:00 (UTC for timestamptz)               |
 * | string                  | the string itself: PostgreSQL's output text (char(n) keeps its padding;   |
 * |                         | jsonb, interval and other text-mapped types as the copy selects them)     |
 * | uuid                    | lowercase 8-4-4-4-12 hex                                                  |
 * | binary, fixed           | lowercase hex of the bytes                                                |
 * | list                    | JSON array of the elements' canonical texts as JSON strings, `null` for a |
 * |                         | null element: `["1","2",null]`                                            |
 * | struct                  | JSON array of the fields' canonical texts in field order, like a list     |
 * | map                     | JSON array of its entries, each the JSON array [key text, value text]     |
 * |                         | like a struct of two fields, ordered by the key's canonical text (code    |
 * |                         | point order), so the order a file stores entries in does not matter:      |
 * |                         | `[["a","1"],["b",null]]`                                                  |
 *
 * Maps have a canonical form on the Iceberg side only: no PostgreSQL type is mapped to an Iceberg map
 * (shared/postgres/type-mapping.ts; hstore and the like are migrated as their text), so no SQL computes one.
 *
 * A row's canonical text is the JSON array of its compared columns' canonical texts in column order, each a
 * JSON string, NULL as the bare JSON `null` (so NULL, the empty string and the text "null" all differ). A
 * key's canonical text is the same array over the key columns. JSON strings are written as PostgreSQL's
 * `to_json(text)` and JavaScript's `JSON.stringify` both write them (`"`, `\` and control characters escaped,
 * nothing else).
 *
 * Row hash: PostgreSQL's `hashtextextended` (Bob Jenkins' lookup3 over the UTF-8 bytes, 64 bits) chained over
 * the row's columns: each column's canonical text is hashed with the previous column's hash as the seed (0
 * before the first); an int or date column is hashed by its 32-bit value instead (`hashint4extended`, lookup3
 * over the same number's four bytes); a NULL column hashes '' (or 0) with the previous hash xor
 * 0x9e3779b97f4a7c15 (row-hasher.ts). It
 * is taken as an unsigned 64-bit value; a range's hash is the sum of its rows' hashes modulo 2^64 (order-
 * independent, and unlike xor a duplicate does not cancel itself). The check needs a well-mixed 64-bit value
 * per row, not resistance to a forger: a changed row escapes only if its range's sum comes out equal modulo
 * 2^64, as unlikely as with the first 8 bytes of md5, which this replaced because md5 (and turning its hex
 * into an int8) cost PostgreSQL more than a fifth of the row query and JS twice what lookup3 costs. The
 * function is PostgreSQL's hash-partitioning hash, stable across versions; its value depends on the server's
 * byte order, and JS computes the little-endian one (x86-64, ARM64): on a big-endian server every range would
 * differ and verification would fail, never pass.
 * Bucket of a row, when a range's hashes differ and its rows are split to find which: the top 28 bits of
 * `hashtextextended(key text, 1)`, modulo the bucket count (the row text stands in for the key of a keyless
 * table); for a key of one int or long column, the key value itself modulo the bucket count (non-negative).
 *
 * Both sides are hot loops (every row of a table, once per side), so each is written for speed without
 * changing a byte of the definition. JS resolves a formatter per column once (CanonicalRows, RowHasher)
 * instead of a type switch per value, and hashes values from canonical bytes written straight into one
 * buffer. SQL reads timestamps' microseconds from their binary form with integer arithmetic instead of
 * numeric EXTRACT(EPOCH ...), and leaves out NULL tests where the expression is NULL for NULL anyway.
 */
import type { DecodePlan } from '../../postgres/decode-plan';
import { HASHED, hashText, scratch } from './row-hash';
import { quoteIdent } from '../../postgres/identifiers';
import { compareStrings } from '../../iceberg/spec/compare';
import { type IcebergType, type PrimitiveType, decimalParams } from '../../iceberg/spec/types';
import { type Row, type Value, decimalToString, uuidFromBytes } from '../../iceberg/spec/values';

/** Session settings under which PostgreSQL's text output matches what the copy stored. */
export const CANONICAL_SESSION_SETTINGS: ReadonlyArray<readonly [string, string]> = [
  ['TimeZone', 'UTC'], ['DateStyle', 'ISO, YMD'], ['IntervalStyle', 'iso_8601'], ['extra_float_digits', '3'], ['bytea_output', 'hex'],
];

const TWO_64 = 1n << 64n;

/** The canonical text of a value of one type, null for null; resolved once per column by canonicalFormatter. */
export type CanonicalFormatter = (value: Value) => string | null;

/** Canonical text of a value of `type` as our reader returns it; null for null. */
export function canonicalValue(type: IcebergType, value: Value): string | null {
  return canonicalFormatter(type)(value);
}

const PRIMITIVE_FORMATTERS = new Map<PrimitiveType, CanonicalFormatter>();

/** The formatter of `type`: every type decision made here, none per value. */
export function canonicalFormatter(type: IcebergType): CanonicalFormatter {
  if (typeof type !== 'string') return nestedFormatter(type);
  let format = PRIMITIVE_FORMATTERS.get(type);
  if (format === undefined) {
    format = primitiveFormatter(type);
    PRIMITIVE_FORMATTERS.set(type, format);
  }
  return format;
}

function nestedFormatter(type: Exclude<IcebergType, string>): CanonicalFormatter {
  const expectArray = (value: Value): Value[] => {
    if (!Array.isArray(value)) throw new TypeError(`expected an array for ${type.type}, got ${typeof value}`);
    return value;
  };
  switch (type.type) {
    case 'list': {
      const element = canonicalFormatter(type.element);
      const strings = type.element === 'string';
      return (value) => {
        if (value === null) return null;
        const items = expectArray(value);
        // A list of strings is its own array of canonical texts.
        return jsonArray(strings && items.every(isStringOrNull) ? (items as Array<string | null>) : items.map((v) => element(v ?? null)));
      };
    }
    case 'struct': {
      const fields = type.fields.map((f) => canonicalFormatter(f.type));
      return (value) => {
        if (value === null) return null;
        const items = expectArray(value);
        return jsonArray(fields.map((format, i) => format(items[i] ?? null)));
      };
    }
    case 'map': {
      const key = canonicalFormatter(type.key);
      const val = canonicalFormatter(type.value);
      return (value) => {
        if (value === null) return null;
        const entries: Array<readonly [string, string | null]> = [];
        const add = (k: Value, v: Value): void => {
          const keyText = key(k);
          if (keyText === null) throw new TypeError('a map key is never null');
          entries.push([keyText, val(v)]);
        };
        if (!(value instanceof Map)) throw new TypeError(`expected a Map for map, got ${typeof value}`);
        for (const [k, v] of value) add(k, v);
        // Keys are unique in a valid map; two with one text (distinct byte arrays, say) still order the same way.
        entries.sort((a, b) => compareStrings(a[0], b[0]) || compareStrings(a[1] ?? '', b[1] ?? '') || Number(a[1] === null) - Number(b[1] === null));
        return JSON.stringify(entries);
      };
    }
  }
}

function primitiveFormatter(type: PrimitiveType): CanonicalFormatter {
  switch (type) {
    case 'boolean':
      return (value) => (value === null ? null : value === true ? 't' : 'f');
    case 'int':
    case 'long':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return (value) => (value === null ? null : integerText(value as number | bigint));
    case 'float':
      return (value) => (value === null ? null : floatHex(value as number));
    case 'double':
      return (value) => (value === null ? null : doubleHex(value as number));
    case 'string':
      return (value) => (value === null ? null : (value as string));
    case 'uuid':
      // toLowerCase copies even a lowercase string, and the reader's are lowercase.
      return (value) => (value === null ? null : typeof value !== 'string' ? uuidFromBytes(value as Uint8Array) : UPPERCASE.test(value) ? value.toLowerCase() : value);
    case 'binary':
      return (value) => (value === null ? null : bytesHex(value as Uint8Array));
    default: {
      const decimal = decimalParams(type);
      if (decimal) return (value) => (value === null ? null : decimalText(value as bigint | number, decimal.scale));
      if (type.startsWith('fixed')) return (value) => (value === null ? null : bytesHex(value as Uint8Array));
      throw new TypeError(`no canonical form for ${type}`);
    }
  }
}

const UPPERCASE = /[A-Z]/;

/**
 * The decimal text of an integer: a bigint within the safe range goes through a number, which prints faster
 * (safe integers never take an exponent, and Number() of a bigint beyond them is not safe).
 */
function integerText(value: number | bigint): string {
  if (typeof value === 'number') return String(value);
  const n = Number(value);
  return Number.isSafeInteger(n) ? String(n) : value.toString();
}

// One scratch buffer for every float: no allocation per value.
const FLOAT_BITS = new DataView(new ArrayBuffer(8));

function hex32(word: number): string {
  return word.toString(16).padStart(8, '0');
}

function floatHex(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  FLOAT_BITS.setFloat32(0, n);
  return hex32(FLOAT_BITS.getUint32(0));
}

function doubleHex(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  FLOAT_BITS.setFloat64(0, n);
  return hex32(FLOAT_BITS.getUint32(0)) + hex32(FLOAT_BITS.getUint32(4));
}

function bytesHex(bytes: Uint8Array): string {
  // A view, not a copy, of the reader's bytes.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The decimal canonical text of an unscaled value: trimScale(decimalToString(...)), by number arithmetic where exact. */
function decimalText(unscaled: bigint | number, scale: number): string {
  let n: number;
  if (typeof unscaled === 'number') n = unscaled;
  else if (unscaled >= -MAX_SAFE && unscaled <= MAX_SAFE) n = Number(unscaled);
  else return trimScale(decimalToString(unscaled, scale));
  if (!Number.isSafeInteger(n) || scale < 0) return trimScale(decimalToString(BigInt(n), scale));
  let s = scale;
  while (s > 0 && n % 10 === 0) {
    n /= 10;
    s--;
  }
  // n / 10 of a multiple of 10 is exact; -0 cannot arise from an integer other than 0, and 0 prints as "0".
  if (s === 0) return String(n === 0 ? 0 : n);
  const negative = n < 0;
  const digits = String(negative ? -n : n).padStart(s + 1, '0');
  const point = digits.length - s;
  return `${negative ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Exact decimal text without trailing fractional zeros ("12.30" -> "12.3", "0.00" -> "0"). */
export function trimScale(text: string): string {
  if (!text.includes('.')) return text;
  const trimmed = text.replace(/0+$/, '').replace(/\.$/, '');
  return trimmed === '-0' ? '0' : trimmed;
}

// Characters JSON.stringify escapes: `"`, `\`, control characters, and surrogates (a lone one is escaped, a
// pair is not; any surrogate takes the slow path so JSON.stringify decides).
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A canonical text as a JSON array element: a JSON string, or `null`. */
function jsonElement(text: string | null): string {
  if (text === null) return 'null';
  return JSON_ESCAPED.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * The JSON array of canonical texts used for rows, keys, lists and structs: what JSON.stringify writes for an
 * array of strings and nulls, built by concatenation (measured: JSON.stringify of a small array costs more).
 */
export function jsonArray(items: ReadonlyArray<string | null>): string {
  let text = '[';
  for (let i = 0; i < items.length; i++) text += (i === 0 ? '' : ',') + jsonElement(items[i] ?? null);
  return text + ']';
}

function isStringOrNull(value: Value): boolean {
  return value === null || typeof value === 'string';
}

/** Canonical values and row texts of rows of fixed column types, with each column's formatter resolved once. */
export class CanonicalRows {
  private readonly formatters: CanonicalFormatter[];

  constructor(types: readonly IcebergType[]) {
    this.formatters = types.map(canonicalFormatter);
  }

  /** The canonical texts of a row's values (a fresh array: callers may keep it). */
  values(row: Row): Array<string | null> {
    const out = new Array<string | null>(this.formatters.length);
    for (let i = 0; i < out.length; i++) out[i] = this.formatters[i]!(row[i] ?? null);
    return out;
  }

  /**
   * The row text of canonical values from `values` (jsonArray's text), written as UTF-8 into one reused buffer
   * and made a string once (no string per element or rope is made on the way).
   */
  text(canonical: ReadonlyArray<string | null>): string {
    const length = writeJsonArray(canonical);
    return scratch(length).toString('utf8', 0, length);
  }
}

/** Writes jsonArray(items) as UTF-8 at the start of the scratch buffer (row-hash.ts); returns its length in bytes. */
export function writeJsonArray(items: ReadonlyArray<string | null>): number {
  let capacity = 2;
  for (let i = 0; i < items.length; i++) capacity += 3 + 6 * (items[i]?.length ?? 0);
  const out = scratch(capacity);
  let n = 0;
  out[n++] = 0x5b;
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out[n++] = 0x2c;
    const t = items[i] ?? null;
    if (t === null) {
      out[n++] = 0x6e; out[n++] = 0x75; out[n++] = 0x6c; out[n++] = 0x6c;
    } else {
      out[n++] = 0x22;
      n = writeJsonStringBody(t, out, n);
      out[n++] = 0x22;
    }
  }
  out[n++] = 0x5d;
  return n;
}

/**
 * Writes `t` as the inside of a JSON string, UTF-8, escaped exactly as JSON.stringify escapes it (`"`, `\`,
 * control characters, lone surrogates; lowercase hex); returns the new end. `out` has 6 bytes per code unit.
 */
function writeJsonStringBody(t: string, out: Buffer, start: number): number {
  let n = start;
  for (let j = 0; j < t.length; j++) {
    const c = t.charCodeAt(j);
    if (c >= 0x20 && c < 0x80 && c !== 0x22 && c !== 0x5c) {
      out[n++] = c;
    } else if (c < 0x80) {
      out[n++] = 0x5c;
      const short = JSON_SHORT_ESCAPES[c];
      if (short !== undefined) out[n++] = short;
      else n = writeUnicodeEscape(c, out, n);
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      const low = j + 1 < t.length ? t.charCodeAt(j + 1) : 0;
      if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        out[n++] = 0xf0 | (cp >> 18);
        out[n++] = 0x80 | ((cp >> 12) & 0x3f);
        out[n++] = 0x80 | ((cp >> 6) & 0x3f);
        out[n++] = 0x80 | (cp & 0x3f);
        j++;
      } else {
        out[n++] = 0x5c;
        n = writeUnicodeEscape(c, out, n);
      }
    }
  }
  return n;
}

/** `"` -> `\"`, `\` -> `\\` and the five control characters JSON writes by letter. */
const JSON_SHORT_ESCAPES: Partial<Record<number, number>> = { 0x22: 0x22, 0x5c: 0x5c, 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72 };
const HEX_DIGITS = '0123456789abcdef';

/** Writes `uXXXX` (after the backslash the caller wrote). */
function writeUnicodeEscape(c: number, out: Buffer, start: number): number {
  let n = start;
  out[n++] = 0x75;
  for (let shift = 12; shift >= 0; shift -= 4) out[n++] = HEX_DIGITS.charCodeAt((c >> shift) & 0xf);
  return n;
}

/** Bucket of a key (or keyless row) text among `buckets`. */
export function bucketOf(keyText: string, buckets: number): number {
  hashText(keyText, 1);
  return (HASHED[0]! >>> 4) % buckets;
}

/** Bucket of an integer key's canonical text among `buckets` (see bucketOf). */
export function integerBucketOf(keyValue: string, buckets: number): number {
  // Up to 15 digits the value is a safe integer, and % on numbers truncates like int8 % in SQL.
  if (keyValue.length <= 15) {
    const n = Number(keyValue);
    return ((n % buckets) + buckets) % buckets;
  }
  const b = BigInt(buckets);
  return Number(((BigInt(keyValue) % b) + b) % b);
}

/** A range hash PostgreSQL summed as an exact numeric, reduced modulo 2^64. */
export function reduceHash(text: string | null): bigint {
  if (text === null) return 0n;
  return ((BigInt(text) % TWO_64) + TWO_64) % TWO_64;
}

/** SQL that is true when `expr` (a value of `plan`) is NULL; composites are tested by their text (IS NULL is true for a row of nulls). */
export function nullTestSql(plan: DecodePlan, expr: string): string {
  return plan.kind === 'composite' ? `((${expr})::text IS NULL)` : `((${expr}) IS NULL)`;
}

/** SQL for the canonical text of `expr`, a value of `plan` (NULL for NULL). */
export function canonicalSql(plan: DecodePlan, expr: string, depth = 0): string {
  // Strict expressions are NULL for NULL by themselves: a CASE around them would only cost a test per value.
  if (STRICT_KINDS.has(plan.kind)) return nonNullSql(plan, expr, depth);
  return `(CASE WHEN ${nullTestSql(plan, expr)} THEN NULL ELSE ${nonNullSql(plan, expr, depth)} END)`;
}

/** Kinds whose nonNullSql is built from strict functions and operators only. */
const STRICT_KINDS = new Set<DecodePlan['kind']>([
  'int2', 'int4', 'int8', 'oid', 'uuid', 'jsonb', 'interval', 'numeric-text', 'decimal', 'bytea', 'date', 'time', 'timestamp', 'timestamptz',
]);

/**
 * SQL for one JSON element of a row/list/struct text: the canonical text as a JSON string, or `null`. Texts
 * of `plan` that never hold a character JSON escapes (digits, hex, signs) are quoted directly: cheaper than
 * to_json, and the same text.
 */
export function jsonElementSql(canonical: string, plan?: DecodePlan): string {
  if (plan !== undefined && !NEEDS_ESCAPING.has(plan.kind)) return `COALESCE('"' || ${canonical} || '"', 'null')`;
  return `COALESCE(pg_catalog.to_json(${canonical})::text, 'null')`;
}

const NEEDS_ESCAPING = new Set<DecodePlan['kind']>(['text', 'jsonb', 'interval', 'array', 'composite']);

/**
 * SQL for the canonical array text of canonical texts (NULL allowed): `array_to_json` of a text[] writes each
 * element as to_json would, NULL as null, no spaces: in one call, without a chain of concatenations (measured:
 * a chain of `||` and to_json per element costs more than twice as much).
 */
export function canonicalArraySql(canonicals: readonly string[]): string {
  if (canonicals.length === 0) return `'[]'`;
  return `pg_catalog.array_to_json(ARRAY[${canonicals.join(', ')}]::text[])::text`;
}

/** SQL for the bucket of an integer key's canonical text among `buckets` (see integerBucketOf). */
export function integerBucketSql(keyValue: string, buckets: number): string {
  return `((((${keyValue})::int8 % ${buckets}) + ${buckets}) % ${buckets})::int4`;
}

/** SQL for the bucket of a canonical key text among `buckets` (see bucketOf). */
export function bucketSql(text: string, buckets: number): string {
  return `(((pg_catalog.hashtextextended((${text}) COLLATE "C", 1) >> 36) & 268435455)::int4 % ${buckets})`;
}

/** Microseconds between 1970-01-01 and PostgreSQL's own epoch, 2000-01-01, which its binary forms count from. */
const POSTGRES_EPOCH_MICROS = '946684800000000';

/**
 * SQL for the int8 in a value's 8-byte binary form (the *send functions write a big-endian int64): integer
 * arithmetic on the stored value, where EXTRACT(EPOCH ...) goes through numeric and costs about twice as much.
 */
function sentInt8Sql(send: string, e: string): string {
  return `('x' || encode(${send}(${e}), 'hex'))::bit(64)::int8`;
}

function nonNullSql(plan: DecodePlan, e: string, depth: number): string {
  switch (plan.kind) {
    case 'boolean':
      return `(CASE WHEN ${e} THEN 't' ELSE 'f' END)`;
    case 'int2':
    case 'int4':
    case 'int8':
    case 'oid':
    case 'uuid':
    case 'jsonb':
    case 'interval':
    case 'numeric-text':
      return `(${e})::text`;
    case 'text':
      // concat() prints through the type's output function: char(n) keeps its padding, unlike ::text.
      return `pg_catalog.concat(${e})`;
    case 'float4':
    case 'float8': {
      const send = plan.kind === 'float4' ? 'float4send' : 'float8send';
      return `(CASE WHEN (${e}) = 'NaN' THEN 'NaN' ELSE encode(${send}(${e}), 'hex') END)`;
    }
    case 'decimal':
      return `trim_scale(${e})::text`;
    case 'bytea':
      return `encode(${e}, 'hex')`;
    case 'date':
      return `((${e}) - DATE '1970-01-01')::text`;
    case 'time':
      // time_send: microseconds from midnight.
      return `(${sentInt8Sql('time_send', e)})::text`;
    case 'timestamp':
    case 'timestamptz':
      // Microseconds from 2000-01-01 (UTC for timestamptz, whatever the session's TimeZone) shifted to 1970.
      // Written as a minus of a negation so that both ±infinity (stored as the int64 extremes) overflow int8 and
      // fail the query, as numeric EXTRACT(EPOCH ...)::int8 did, instead of turning into a number.
      return `(${POSTGRES_EPOCH_MICROS} - (-${sentInt8Sql(plan.kind === 'timestamp' ? 'timestamp_send' : 'timestamptz_send', e)}))::text`;
    case 'array': {
      const alias = `icebridge_u${depth}`;
      // Elements by subscript, not unnest: unnest of an array of composites expands each element into columns.
      const element = jsonElementSql(canonicalSql(plan.element, `(${e})[${alias}.o]`, depth + 1), plan.element);
      return `COALESCE((SELECT '[' || string_agg(${element}, ',' ORDER BY ${alias}.o) || ']' FROM generate_subscripts(${e}, 1) AS ${alias}(o)), '[]')`;
    }
    case 'composite':
      return canonicalArraySql(plan.fields.map((f) => canonicalSql(f.plan, `(${e}).${quoteIdent(f.name)}`, depth + 1)));
  }
}
