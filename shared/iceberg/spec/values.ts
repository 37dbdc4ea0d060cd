/**
 * The in-memory value of each Iceberg type, shared by the Parquet writer and reader, the PostgreSQL decoder and
 * the verifier. Every representation is exact: 64-bit integers are `bigint`, decimals are unscaled `bigint`,
 * timestamps are microseconds, never a JS `Date`.
 *
 * | Iceberg type             | value                                                     |
 * |--------------------------|-----------------------------------------------------------|
 * | boolean                  | boolean                                                   |
 * | int, date                | number (date: days from 1970-01-01, negative before)      |
 * | long, time               | bigint (time: microseconds from midnight)                 |
 * | timestamp, timestamptz   | bigint microseconds from 1970-01-01T00:00:00 (UTC for tz) |
 * | float, double            | number (NaN, ±Infinity and -0 kept)                       |
 * | decimal(P, S)            | bigint unscaled value (12.30 in decimal(4,2) is 1230n)    |
 * | string                   | string                                                    |
 * | uuid                     | string, lowercase 8-4-4-4-12 hex                          |
 * | fixed[L], binary         | Uint8Array                                                |
 * | struct                   | Value[] in field order                                    |
 * | list                     | Value[]                                                   |
 * | map                      | Map<Value, Value>                                         |
 *
 * Writers also accept a safe-integer `number` where a `bigint` is listed; readers always return `bigint`.
 * `null` is the null of every type.
 */

/** One value of some Iceberg type (see the table above). */
export type Value = null | boolean | number | bigint | string | Uint8Array | Value[] | Map<Value, Value>;

/** A value of a primitive type: what partition values and filter literals are. */
export type PrimitiveValue = null | boolean | number | bigint | string | Uint8Array;

/** A row: values in the order of the schema's top-level fields. */
export type Row = Value[];

/** Renders an unscaled decimal as its exact decimal text (1230n, scale 2 -> "12.30"). */
export function decimalToString(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString();
  if (scale === 0) return (negative ? '-' : '') + digits;
  const padded = digits.padStart(scale + 1, '0');
  const point = padded.length - scale;
  return `${negative ? '-' : ''}${padded.slice(0, point)}.${padded.slice(point)}`;
}

/**
 * Parses exact decimal text into an unscaled value at `scale`; returns undefined when the text has more
 * fractional digits than `scale` (other than trailing zeros) or is not a plain decimal number.
 */
export function parseDecimal(text: string, scale: number): bigint | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return undefined;
  let fraction = m[3] ?? '';
  if (fraction.length > scale) {
    if (!/^0*$/.test(fraction.slice(scale))) return undefined;
    fraction = fraction.slice(0, scale);
  }
  const unscaled = BigInt((m[2] || '0') + fraction.padEnd(scale, '0'));
  return m[1] === '-' ? -unscaled : unscaled;
}

/** Number of decimal digits of an unscaled value (0n has 1). */
export function decimalDigits(unscaled: bigint): number {
  return (unscaled < 0n ? -unscaled : unscaled).toString().length;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The 16 bytes of a UUID string (big-endian, as written in the string). */
export function uuidToBytes(uuid: string): Uint8Array {
  if (!UUID_PATTERN.test(uuid)) throw new TypeError(`not a UUID: ${JSON.stringify(uuid)}`);
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** The canonical lowercase string of 16 UUID bytes. */
export function uuidFromBytes(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new TypeError(`a UUID has 16 bytes, got ${bytes.length}`);
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
