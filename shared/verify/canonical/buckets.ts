/**
 * How the row hashes of a range are summed, and which bucket a row falls in when a differing range is split to
 * find its rows: each function in JS and, where PostgreSQL computes it too, in SQL (definitions in README.md).
 */
import { HASHED, hashText } from './row-hash';

/** 2^64: sums of 64-bit row hashes are kept modulo it. */
export const TWO_64 = 1n << 64n;

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

/** SQL for the bucket of an integer key's canonical text among `buckets` (see integerBucketOf). */
export function integerBucketSql(keyValue: string, buckets: number): string {
  return `((((${keyValue})::int8 % ${buckets}) + ${buckets}) % ${buckets})::int4`;
}

/** SQL for the bucket of a canonical key text among `buckets` (see bucketOf). */
export function bucketSql(text: string, buckets: number): string {
  return `(((pg_catalog.hashtextextended((${text}) COLLATE "C", 1) >> 36) & 268435455)::int4 % ${buckets})`;
}
