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
 *
 * A row's canonical text is the JSON array of its compared columns' canonical texts in column order, each a
 * JSON string, NULL as the bare JSON `null` (so NULL, the empty string and the text "null" all differ). A
 * key's canonical text is the same array over the key columns. JSON strings are written as PostgreSQL's
 * `to_json(text)` and JavaScript's `JSON.stringify` both write them (`"`, `\` and control characters escaped,
 * nothing else).
 *
 * Row hash: the first 8 bytes of md5(row text, UTF-8) as a signed 64-bit integer; a range's hash is the sum of
 * its rows' hashes modulo 2^64 (order-independent, and unlike xor a duplicate does not cancel itself).
 * Bucket of a row: the first 7 hex digits of md5(key text) as an integer, modulo the bucket count (the row
 * text stands in for the key of a keyless table); for a key of one int or long column, the key value itself
 * modulo the bucket count (non-negative), which saves a hash per row on both sides.
 */
import { hash } from 'node:crypto';
import type { DecodePlan } from '../postgres/decode-plan';
import { quoteIdent } from '../postgres/identifiers';
import { type IcebergType, decimalParams } from '../iceberg/spec/types';
import { type Value, decimalToString, uuidFromBytes } from '../iceberg/spec/values';

/** Session settings under which PostgreSQL's text output matches what the copy stored. */
export const CANONICAL_SESSION_SETTINGS: ReadonlyArray<readonly [string, string]> = [
  ['TimeZone', 'UTC'], ['DateStyle', 'ISO, YMD'], ['IntervalStyle', 'iso_8601'], ['extra_float_digits', '3'], ['bytea_output', 'hex'],
];

const TWO_64 = 1n << 64n;

/** Canonical text of a value of `type` as our reader returns it; null for null. */
export function canonicalValue(type: IcebergType, value: Value): string | null {
  if (value === null) return null;
  if (typeof type !== 'string') {
    if (!Array.isArray(value)) throw new TypeError(`expected an array for ${type.type}, got ${typeof value}`);
    if (type.type === 'list') return jsonArray(value.map((v) => canonicalValue(type.element, v)));
    if (type.type === 'struct') return jsonArray(type.fields.map((f, i) => canonicalValue(f.type, value[i] ?? null)));
    throw new TypeError('map columns have no canonical form yet');
  }
  switch (type) {
    case 'boolean':
      return value === true ? 't' : 'f';
    case 'int':
    case 'long':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return typeof value === 'bigint' ? value.toString() : String(value as number);
    case 'float':
    case 'double': {
      const n = value as number;
      if (Number.isNaN(n)) return 'NaN';
      const buf = Buffer.alloc(type === 'float' ? 4 : 8);
      if (type === 'float') buf.writeFloatBE(n);
      else buf.writeDoubleBE(n);
      return buf.toString('hex');
    }
    case 'string':
      return value as string;
    case 'uuid':
      return typeof value === 'string' ? value.toLowerCase() : uuidFromBytes(value as Uint8Array);
    case 'binary':
      return Buffer.from(value as Uint8Array).toString('hex');
    default: {
      const decimal = decimalParams(type);
      if (decimal) return trimScale(decimalToString(BigInt(value as bigint | number), decimal.scale));
      if (type.startsWith('fixed')) return Buffer.from(value as Uint8Array).toString('hex');
      throw new TypeError(`no canonical form for ${type}`);
    }
  }
}

/** Exact decimal text without trailing fractional zeros ("12.30" -> "12.3", "0.00" -> "0"). */
export function trimScale(text: string): string {
  if (!text.includes('.')) return text;
  const trimmed = text.replace(/0+$/, '').replace(/\.$/, '');
  return trimmed === '-0' ? '0' : trimmed;
}

/** The JSON array of canonical texts used for rows, keys, lists and structs. */
export function jsonArray(items: ReadonlyArray<string | null>): string {
  return `[${items.map((t) => (t === null ? 'null' : JSON.stringify(t))).join(',')}]`;
}

/** Row hash (see the module comment) as an unsigned 64-bit value. */
export function rowHash(text: string): bigint {
  return hash('md5', text, 'buffer').readBigUInt64BE(0);
}

/** Bucket of a key (or keyless row) text among `buckets`. */
export function bucketOf(keyText: string, buckets: number): number {
  return (hash('md5', keyText, 'buffer').readUInt32BE(0) >>> 4) % buckets;
}

/** Bucket of an integer key's canonical text among `buckets` (see bucketOf). */
export function integerBucketOf(keyValue: string, buckets: number): number {
  const b = BigInt(buckets);
  return Number(((BigInt(keyValue) % b) + b) % b);
}

/** Sum of row hashes modulo 2^64 (the order-independent range hash). */
export function addHash(sum: bigint, hash: bigint): bigint {
  return (sum + hash) % TWO_64;
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
  return `(CASE WHEN ${nullTestSql(plan, expr)} THEN NULL ELSE ${nonNullSql(plan, expr, depth)} END)`;
}

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
 * element as to_json would, NULL as null, no spaces: in one call, without a chain of concatenations.
 */
export function canonicalArraySql(canonicals: readonly string[]): string {
  if (canonicals.length === 0) return `'[]'`;
  return `pg_catalog.array_to_json(ARRAY[${canonicals.join(', ')}]::text[])::text`;
}

/** SQL for the row hash of a canonical text (signed int8; sums are reduced modulo 2^64 by the caller). */
export function rowHashSql(text: string): string {
  return `(('x' || substr(md5(${text}), 1, 16))::bit(64)::int8)`;
}

/** SQL for the bucket of an integer key's canonical text among `buckets` (see integerBucketOf). */
export function integerBucketSql(keyValue: string, buckets: number): string {
  return `((((${keyValue})::int8 % ${buckets}) + ${buckets}) % ${buckets})::int4`;
}

/** SQL for the bucket of a canonical key text among `buckets` (see bucketOf). */
export function bucketSql(text: string, buckets: number): string {
  return `((('x0' || substr(md5(${text}), 1, 7))::bit(32)::int4) % ${buckets})`;
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
    case 'timestamp':
    case 'timestamptz':
      // EXTRACT(EPOCH ...) is an exact numeric (PostgreSQL 14+): no float rounding of microseconds.
      return `((EXTRACT(EPOCH FROM ${e}) * 1000000)::int8)::text`;
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
