/**
 * Partition transforms (spec "Partition Transforms", "Bucket Transform Details", "Truncate Transform Details"):
 * parsing, result types, application to values, and the text Java prints for partition values.
 */
import { ValidationError } from '../../errors';
import { decimalToBytes } from './conversions';
import { base64, javaBigDecimalToString, javaDoubleToString, javaFloatToString } from './java-text';
import { hashBytes, hashLong } from './murmur3';
import {
  daysToMonths,
  daysToYears,
  formatDay,
  formatHour,
  formatLocalTime,
  formatMonth,
  formatTimestamp,
  formatTimestamptz,
  formatYear,
  microsToDays,
  microsToHours,
} from './temporal';
import { type IcebergType, type PrimitiveKind, type PrimitiveType, decimalParams, isPrimitive, primitiveKind } from './types';
import { type PrimitiveValue, type Value, uuidToBytes } from './values';

/** A parsed transform. Unknown names are kept so readers can ignore such fields, as the spec asks. */
export type Transform =
  | { kind: 'identity' }
  | { kind: 'bucket'; numBuckets: number }
  | { kind: 'truncate'; width: number }
  | { kind: 'year' }
  | { kind: 'month' }
  | { kind: 'day' }
  | { kind: 'hour' }
  | { kind: 'void' }
  | { kind: 'unknown'; name: string };

/** A transform function bound to one source type. */
export type TransformFunction = (value: Value) => Value;

const INT_MAX = 2 ** 31 - 1;
const PARAMETERISED = /^(bucket|truncate)\[\s*(\d+)\s*\]$/;
const SIMPLE = new Set(['identity', 'year', 'month', 'day', 'hour', 'void']);

/** Parses a transform string from a partition spec or sort order; unknown names become `{ kind: 'unknown' }`. */
export function parseTransform(text: string): Transform {
  const name = text.trim();
  if (SIMPLE.has(name)) return { kind: name } as Transform;
  const m = PARAMETERISED.exec(name);
  if (m) {
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n) || n < 1 || n > INT_MAX) {
      throw new ValidationError(`invalid transform ${JSON.stringify(text)}: the parameter must be 1..${INT_MAX}`);
    }
    return m[1] === 'bucket' ? { kind: 'bucket', numBuckets: n } : { kind: 'truncate', width: n };
  }
  if (/^(bucket|truncate)\b/.test(name) || name === '') {
    throw new ValidationError(`invalid transform ${JSON.stringify(text)}: expected bucket[N] or truncate[W] with N, W >= 1`);
  }
  return { kind: 'unknown', name };
}

/** The spec's string form of a transform (`bucket[16]`, `day`, ...). */
export function transformToString(transform: Transform): string {
  switch (transform.kind) {
    case 'bucket':
      return `bucket[${transform.numBuckets}]`;
    case 'truncate':
      return `truncate[${transform.width}]`;
    case 'unknown':
      return transform.name;
    default:
      return transform.kind;
  }
}

const SOURCE_KINDS: Record<Exclude<Transform['kind'], 'identity' | 'void' | 'unknown'>, ReadonlySet<PrimitiveKind>> = {
  bucket: new Set<PrimitiveKind>(['int', 'long', 'decimal', 'date', 'time', 'timestamp', 'timestamptz', 'string', 'uuid', 'fixed', 'binary']),
  truncate: new Set<PrimitiveKind>(['int', 'long', 'decimal', 'string', 'binary']),
  year: new Set<PrimitiveKind>(['date', 'timestamp', 'timestamptz']),
  month: new Set<PrimitiveKind>(['date', 'timestamp', 'timestamptz']),
  day: new Set<PrimitiveKind>(['date', 'timestamp', 'timestamptz']),
  hour: new Set<PrimitiveKind>(['timestamp', 'timestamptz']),
};

/** True when the transform may be applied to a column of this type (never for unknown transforms). */
export function canTransform(transform: Transform, sourceType: IcebergType): boolean {
  if (!isPrimitive(sourceType)) return false;
  switch (transform.kind) {
    case 'identity':
    case 'void':
      return true;
    case 'unknown':
      return false;
    default:
      return SOURCE_KINDS[transform.kind].has(primitiveKind(sourceType));
  }
}

/** Throws a ValidationError naming the transform, the type and what the transform accepts, unless it applies. */
export function checkTransform(transform: Transform, sourceType: IcebergType, column = 'the source column'): void {
  if (canTransform(transform, sourceType)) return;
  const name = transformToString(transform);
  const type = typeof sourceType === 'string' ? sourceType : sourceType.type;
  if (transform.kind === 'unknown') throw new ValidationError(`unknown transform ${JSON.stringify(name)} on ${column}`);
  if (!isPrimitive(sourceType)) {
    throw new ValidationError(`transform ${name} cannot be applied to ${column}: it is a ${type}, not a primitive`);
  }
  const accepted = [...SOURCE_KINDS[transform.kind as keyof typeof SOURCE_KINDS]].join(', ');
  throw new ValidationError(`transform ${name} cannot be applied to ${column} of type ${type}; it accepts ${accepted}`);
}

/** The type of the transform's result (day gives `date`, as the Java and Python implementations do). */
export function transformResultType(transform: Transform, sourceType: IcebergType): PrimitiveType {
  // What Java reports for transforms it cannot interpret; such fields are carried, never computed.
  if (transform.kind === 'unknown') return 'string';
  checkTransform(transform, sourceType);
  switch (transform.kind) {
    case 'bucket':
    case 'year':
    case 'month':
    case 'hour':
      return 'int';
    case 'day':
      return 'date';
    default:
      return sourceType as PrimitiveType;
  }
}

function toBig(value: Value): bigint {
  return typeof value === 'bigint' ? value : BigInt(value as number);
}

/** The bytes the spec hashes for a value of this type (Appendix B). */
export function bucketHash(sourceType: PrimitiveType, value: Value): number {
  switch (primitiveKind(sourceType)) {
    case 'int':
    case 'date':
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return hashLong(value as bigint | number);
    case 'decimal':
      return hashBytes(decimalToBytes(toBig(value)));
    case 'string':
      return hashBytes(Buffer.from(value as string, 'utf8'));
    case 'uuid':
      return hashBytes(uuidToBytes(value as string));
    case 'fixed':
    case 'binary':
      return hashBytes(value as Uint8Array);
    default:
      throw new ValidationError(`bucket cannot hash a value of type ${sourceType}`);
  }
}

/** First `width` code points of a string; surrogate pairs count once so a pair is never split. */
export function truncateString(value: string, width: number): string {
  if (value.length <= width) return value;
  let units = 0;
  for (let points = 0; points < width && units < value.length; points++) {
    const code = value.charCodeAt(units);
    const next = value.charCodeAt(units + 1);
    units += code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
  }
  return value.slice(0, units);
}

// v - (((v % W) + W) % W): the remainder is made non-negative so negative values round down.
function truncateBig(v: bigint, width: bigint): bigint {
  return v - (((v % width) + width) % width);
}

/**
 * Binds a transform to a source type once and returns the per-value function (null in, null out). Throws a
 * ValidationError when the transform does not apply to the type.
 */
export function transformFunction(transform: Transform, sourceType: PrimitiveType): TransformFunction {
  checkTransform(transform, sourceType);
  const kind = primitiveKind(sourceType);
  const nullSafe =
    (f: (v: Value) => Value): TransformFunction =>
    (v) =>
      v === null ? null : f(v);
  switch (transform.kind) {
    case 'identity':
      return nullSafe((v) => normalizeValue(kind, v));
    case 'void':
      return () => null;
    case 'bucket': {
      const n = transform.numBuckets;
      return nullSafe((v) => (bucketHash(sourceType, v) & INT_MAX) % n);
    }
    case 'truncate':
      return truncateFunction(kind, transform.width);
    case 'year':
      return nullSafe(kind === 'date' ? (v) => daysToYears(v as number) : (v) => daysToYears(microsToDays(toBig(v))));
    case 'month':
      return nullSafe(kind === 'date' ? (v) => daysToMonths(v as number) : (v) => daysToMonths(microsToDays(toBig(v))));
    case 'day':
      return nullSafe(kind === 'date' ? (v) => v : (v) => microsToDays(toBig(v)));
    case 'hour':
      return nullSafe((v) => microsToHours(toBig(v)));
    case 'unknown':
      throw new ValidationError(`unknown transform ${JSON.stringify(transform.name)} cannot be applied`);
  }
}

function truncateFunction(kind: PrimitiveKind, width: number): TransformFunction {
  const w = BigInt(width);
  switch (kind) {
    case 'int':
      // `| 0` wraps like Java's int arithmetic at Integer.MIN_VALUE, so both compute the same partition.
      return (v) => (v === null ? null : ((v as number) - ((((v as number) % width) + width) % width)) | 0);
    case 'long':
      return (v) => (v === null ? null : BigInt.asIntN(64, truncateBig(toBig(v), w)));
    case 'decimal':
      // The width applies to the unscaled value: W=50 at scale 2 truncates to multiples of 0.50.
      return (v) => (v === null ? null : truncateBig(toBig(v), w));
    case 'string':
      return (v) => (v === null ? null : truncateString(v as string, width));
    default:
      // A copy, so a partition tuple kept in a manifest does not pin the whole row buffer.
      return (v) => (v === null ? null : (v as Uint8Array).slice(0, width));
  }
}

// Partition tuples hold the reader representation: bigint for 64-bit kinds, lowercase uuids.
function normalizeValue(kind: PrimitiveKind, value: Value): Value {
  switch (kind) {
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'decimal':
      return toBig(value);
    case 'uuid':
      return (value as string).toLowerCase();
    default:
      return value;
  }
}

/** Applies a transform to one value of the source type; see transformFunction for the per-row form. */
export function applyTransform(transform: Transform, sourceType: PrimitiveType, value: Value): Value {
  return transformFunction(transform, sourceType)(value);
}

/**
 * The text Java's `Transform.toHumanString` gives a transformed value (used in partition paths): "null" for null,
 * `2017-11-16` for day, `2017-11-16-22` for hour, `2017-11` for month, `2017` for year, ISO text for identity
 * timestamps, base64 for binary.
 */
export function humanString(transform: Transform, sourceType: PrimitiveType, value: Value): string {
  if (value === null || transform.kind === 'void') return 'null';
  switch (transform.kind) {
    case 'year':
      return formatYear(1970 + (value as number));
    case 'month':
      return formatMonth(value as number);
    case 'day':
      return formatDay(value as number);
    case 'hour':
      return formatHour(value as number);
    case 'bucket':
      return String(value as number);
    case 'unknown':
      return String(value as PrimitiveValue);
    default:
      return humanValue(sourceType, value);
  }
}

/** Java's text for an untransformed value of a primitive type (what identity and truncate print). */
export function humanValue(type: PrimitiveType, value: Value): string {
  if (value === null) return 'null';
  switch (primitiveKind(type)) {
    case 'date':
      return formatDay(value as number);
    case 'time':
      return formatLocalTime(toBig(value));
    case 'timestamp':
      return formatTimestamp(toBig(value));
    case 'timestamptz':
      return formatTimestamptz(toBig(value));
    case 'fixed':
    case 'binary':
      return base64(value as Uint8Array);
    case 'decimal':
      return javaBigDecimalToString(toBig(value), decimalParams(type)!.scale);
    case 'float':
      return javaFloatToString(value as number);
    case 'double':
      return javaDoubleToString(value as number);
    case 'uuid':
      return (value as string).toLowerCase();
    default:
      return String(value as PrimitiveValue);
  }
}
