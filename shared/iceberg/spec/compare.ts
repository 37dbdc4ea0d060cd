/**
 * Ordering of values as Iceberg defines it for bounds: strings by Unicode code point (= UTF-8 byte order),
 * binary/fixed/uuid as unsigned bytes, floats with -0.0 < 0.0 (NaN never becomes a bound).
 */
import { type PrimitiveType, primitiveKind } from './types';
import type { Value } from './values';
import { uuidToBytes } from './values';

/** Compares two non-null values of one primitive type; negative, zero or positive. */
export function compareValues(type: PrimitiveType, a: Value, b: Value): number {
  switch (primitiveKind(type)) {
    case 'boolean':
      return Number(a) - Number(b);
    case 'int':
    case 'date':
      return (a as number) - (b as number);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'decimal': {
      const x = BigInt(a as bigint | number);
      const y = BigInt(b as bigint | number);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'float':
    case 'double':
      return compareFloats(a as number, b as number);
    case 'string':
      return compareStrings(a as string, b as string);
    case 'uuid':
      return compareBytes(uuidToBytes(a as string), uuidToBytes(b as string));
    case 'fixed':
    case 'binary':
      return compareBytes(a as Uint8Array, b as Uint8Array);
  }
}

/** Total order on doubles: -NaN < -Infinity < ... < -0 < 0 < ... < Infinity < NaN (sign of NaN ignored). */
export function compareFloats(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === 0 && b === 0) return Number(!Object.is(a, -0)) - Number(!Object.is(b, -0));
  return 0;
}

/** Code point order, which equals the order of the strings' UTF-8 bytes. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF, so they sort after 0xE000-0xFFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Unsigned lexicographic byte order. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Default bound truncation length (Iceberg's `write.metadata.metrics.default` = truncate(16)). */
export const DEFAULT_BOUND_LENGTH = 16;

/** A lower bound for strings: the first `length` code points (a prefix is never greater). */
export function truncateStringLower(value: string, length = DEFAULT_BOUND_LENGTH): string {
  const points = Array.from(value);
  return points.length <= length ? value : points.slice(0, length).join('');
}

/**
 * An upper bound for strings: the first `length` code points with the last one incremented, so every string
 * with that prefix sorts below it; undefined when no such bound exists (all code points at the maximum).
 */
export function truncateStringUpper(value: string, length = DEFAULT_BOUND_LENGTH): string | undefined {
  const points = Array.from(value);
  if (points.length <= length) return value;
  const prefix = points.slice(0, length).map((p) => p.codePointAt(0)!);
  for (let i = prefix.length - 1; i >= 0; i--) {
    let next = prefix[i]! + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return String.fromCodePoint(...prefix.slice(0, i), next);
  }
  return undefined;
}

/** A lower bound for binary: the first `length` bytes. */
export function truncateBinaryLower(value: Uint8Array, length = DEFAULT_BOUND_LENGTH): Uint8Array {
  return value.length <= length ? value : value.subarray(0, length);
}

/** An upper bound for binary: the first `length` bytes with the last non-0xFF byte incremented; undefined if none. */
export function truncateBinaryUpper(value: Uint8Array, length = DEFAULT_BOUND_LENGTH): Uint8Array | undefined {
  if (value.length <= length) return value;
  const out = Uint8Array.from(value.subarray(0, length));
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i]! += 1;
      return out.subarray(0, i + 1);
    }
  }
  return undefined;
}
