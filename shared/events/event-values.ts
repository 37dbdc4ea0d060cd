/**
 * The JSON form of every value a domain event carries, by Iceberg type, and its decoder. Lossless: decoding the
 * JSON (as `parseJson` reads it, integers past 2^53 as bigint) gives back the exact value, also after a trip
 * through jsonb, which stores numbers as `numeric` and keeps their digits.
 *
 * | Iceberg type           | JSON                                                                              |
 * |------------------------|-----------------------------------------------------------------------------------|
 * | null (any type)        | null                                                                              |
 * | boolean                | true / false                                                                      |
 * | int                    | number                                                                            |
 * | long                   | number, every digit (-9223372036854775808 .. 9223372036854775807 exactly)         |
 * | float, double          | number (shortest text that reads back to the same double); "NaN", "Infinity",     |
 * |                        | "-Infinity" and "-0" as strings (JSON has no such numbers; numeric has no -0)     |
 * | decimal(P, S)          | string, exact with S fraction digits: "12.30", "-0.001"                           |
 * | date                   | string "YYYY-MM-DD" ("+10000-01-01" past 9999, "-0001-12-31" before year 1)       |
 * | time                   | string "HH:MM:SS.ffffff" (always six fraction digits)                             |
 * | timestamp              | string "YYYY-MM-DDTHH:MM:SS.ffffff"                                               |
 * | timestamptz            | string "YYYY-MM-DDTHH:MM:SS.ffffff+00:00" (UTC)                                   |
 * | string                 | string (any Unicode text PostgreSQL holds; NUL and lone surrogates refused)       |
 * | uuid                   | string, lowercase 8-4-4-4-12                                                      |
 * | fixed[L], binary       | string, standard base64 with padding                                              |
 * | struct                 | object by field name                                                              |
 * | list                   | array                                                                             |
 * | map                    | {"keys": [...], "values": [...]} in the same order (Iceberg's single-value form)  |
 *
 * A value that does not fit its type is never written changed: encoding throws an error naming the system, table,
 * column, key and the value (bounded).
 */
import { ValidationError } from '../errors';
import type { JsonObject, JsonValue } from '../iceberg/spec/json';
import { type IcebergType, decimalParams, fixedLength, primitiveKind } from '../iceberg/spec/types';
import { civilFromDays, daysFromCivil, floorDiv, isoDate, MICROS_PER_DAY } from '../iceberg/spec/temporal';
import { type Value, decimalDigits, decimalToString, parseDecimal, uuidFromBytes, uuidToBytes } from '../iceberg/spec/values';
import { boundedHex, boundedText, quotedText } from '../text/bounded-text';

/** Where a value sits, for the error that refuses it. */
export interface ValuePlace {
  /** `schema.name` of the source table. */
  table: string;
  /** Column name (a nested place appended: `tags[2]`, `address.city`). */
  column: string;
  /** The row's aggregate id. */
  key: string;
}

const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const SPECIAL_FLOATS: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };
// eslint-disable-next-line no-control-regex -- NUL is exactly what is looked for
const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const DATE_TEXT = /^([+-]?\d{4,})-(\d{2})-(\d{2})$/;
const TIME_TEXT = /^(\d{2}):(\d{2}):(\d{2})\.(\d{6})$/;
const TIMESTAMP_TEXT = /^([+-]?\d{4,}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}\.\d{6})(\+00:00)?$/;
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The JSON form of `value` of `type` (see the module table); throws a ValidationError naming the place when it does not fit. */
export function encodeEventValue(type: IcebergType, value: Value, place: ValuePlace): JsonValue {
  if (value === null) return null;
  const refuse = (problem: string): never => {
    throw new ValidationError(
      `event-store: table ${place.table}, column ${place.column}, key ${quotedText(place.key)}: ${problem} (value ${shownValue(value)})`,
    );
  };
  if (typeof type !== 'string') {
    if (type.type === 'list') {
      if (!Array.isArray(value)) return refuse('a list column holds a value that is not a list');
      return value.map((element, i) => encodeEventValue(type.element, element, { ...place, column: `${place.column}[${i}]` }));
    }
    if (type.type === 'map') {
      if (!(value instanceof Map)) return refuse('a map column holds a value that is not a map');
      const keys: JsonValue[] = [];
      const values: JsonValue[] = [];
      for (const [k, v] of value) {
        keys.push(encodeEventValue(type.key, k, { ...place, column: `${place.column}.key` }));
        values.push(encodeEventValue(type.value, v, { ...place, column: `${place.column}.value` }));
      }
      return { keys, values };
    }
    if (!Array.isArray(value) || value.length !== type.fields.length) return refuse(`a struct of ${type.fields.length} fields was expected`);
    const out = Object.create(null) as JsonObject;
    type.fields.forEach((field, i) => {
      out[field.name] = encodeEventValue(field.type, value[i]!, { ...place, column: `${place.column}.${field.name}` });
    });
    return out;
  }
  const kind = primitiveKind(type);
  switch (kind) {
    case 'boolean':
      return typeof value === 'boolean' ? value : refuse('not a boolean');
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < INT_MIN || value > INT_MAX) return refuse('not a 32-bit integer');
      return value === 0 ? 0 : value;
    case 'date': {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return refuse('not a day count');
      return isoDate(value);
    }
    case 'long': {
      const long = integerOf(value);
      if (long === undefined || long < LONG_MIN || long > LONG_MAX) return refuse('not a 64-bit integer');
      return long;
    }
    case 'time': {
      const micros = integerOf(value);
      if (micros === undefined || micros < 0n || micros > MICROS_PER_DAY) return refuse('not a time of day in microseconds');
      return formatTime(micros);
    }
    case 'timestamp':
    case 'timestamptz': {
      const micros = integerOf(value);
      if (micros === undefined) return refuse('not a timestamp in microseconds');
      return formatMicros(micros) + (kind === 'timestamptz' ? '+00:00' : '');
    }
    case 'float':
    case 'double': {
      if (typeof value !== 'number') return refuse('not a floating-point number');
      if (kind === 'float' && !Number.isNaN(value) && Math.fround(value) !== value) return refuse('not a 32-bit float');
      if (Number.isNaN(value)) return 'NaN';
      if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
      return Object.is(value, -0) ? '-0' : value;
    }
    case 'decimal': {
      const { precision, scale } = decimalParams(type)!;
      const unscaled = integerOf(value);
      if (unscaled === undefined) return refuse('not an unscaled decimal');
      if (decimalDigits(unscaled) > precision) return refuse(`more than ${precision} digits`);
      return decimalToString(unscaled, scale);
    }
    case 'string':
      if (typeof value !== 'string') return refuse('not a text');
      if (UNSTORABLE_TEXT.test(value)) return refuse('text with NUL or a lone surrogate, which jsonb cannot hold');
      return value;
    case 'uuid':
      if (typeof value !== 'string') return refuse('not a UUID');
      try {
        return uuidFromBytes(uuidToBytes(value));
      } catch {
        return refuse('not a UUID');
      }
    case 'fixed':
    case 'binary': {
      if (!(value instanceof Uint8Array)) return refuse('not bytes');
      const length = fixedLength(type);
      if (length !== undefined && value.length !== length) return refuse(`not ${length} bytes`);
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    }
  }
}

/** The value the JSON form `json` of `type` stands for (the inverse of encodeEventValue); throws on a form it never writes. */
export function decodeEventValue(type: IcebergType, json: JsonValue, column = 'value'): Value {
  if (json === null) return null;
  const refuse = (problem: string): never => {
    throw new ValidationError(`event-store: ${column}: ${problem} (JSON ${boundedText(typeof json === 'bigint' ? String(json) : JSON.stringify(json))})`);
  };
  if (typeof type !== 'string') {
    if (type.type === 'list') {
      if (!Array.isArray(json)) return refuse('a list is a JSON array');
      return json.map((element, i) => decodeEventValue(type.element, element, `${column}[${i}]`));
    }
    if (type.type === 'map') {
      if (!isObject(json) || !Array.isArray(json.keys) || !Array.isArray(json.values) || json.keys.length !== json.values.length) {
        return refuse('a map is {"keys": [...], "values": [...]} of one length');
      }
      const values = json.values;
      return new Map(json.keys.map((k, i) => [decodeEventValue(type.key, k, `${column}.key`), decodeEventValue(type.value, values[i]!, `${column}.value`)]));
    }
    if (!isObject(json)) return refuse('a struct is a JSON object');
    return type.fields.map((field) => decodeEventValue(field.type, own(json, field.name), `${column}.${field.name}`));
  }
  const kind = primitiveKind(type);
  switch (kind) {
    case 'boolean':
      return typeof json === 'boolean' ? json : refuse('not a boolean');
    case 'int':
      return typeof json === 'number' && Number.isInteger(json) && json >= INT_MIN && json <= INT_MAX ? json : refuse('not a 32-bit integer');
    case 'long': {
      const long = integerOf(json);
      return long !== undefined && long >= LONG_MIN && long <= LONG_MAX ? long : refuse('not a 64-bit integer');
    }
    case 'float':
    case 'double': {
      let number: number;
      if (typeof json === 'string' && json in SPECIAL_FLOATS) number = SPECIAL_FLOATS[json]!;
      else if (typeof json === 'number') number = json;
      // jsonb prints a large integral double (1e+21) as its digits, which parseJson reads as a bigint.
      else if (typeof json === 'bigint') number = Number(json);
      else return refuse('not a number');
      return kind === 'float' ? Math.fround(number) : number;
    }
    case 'decimal': {
      const { precision, scale } = decimalParams(type)!;
      const unscaled = typeof json === 'string' ? parseDecimal(json, scale) : undefined;
      return unscaled !== undefined && decimalDigits(unscaled) <= precision ? unscaled : refuse(`not a decimal(${precision}, ${scale}) text`);
    }
    case 'date':
      return (typeof json === 'string' ? parseDate(json) : undefined) ?? refuse('not a YYYY-MM-DD date');
    case 'time': {
      const micros = typeof json === 'string' ? parseTime(json) : undefined;
      return micros !== undefined && micros <= MICROS_PER_DAY ? micros : refuse('not an HH:MM:SS.ffffff time');
    }
    case 'timestamp':
    case 'timestamptz': {
      const m = typeof json === 'string' ? TIMESTAMP_TEXT.exec(json) : null;
      if (m === null || (m[3] !== undefined) !== (kind === 'timestamptz')) return refuse(`not a ${kind} text`);
      const days = parseDate(m[1]!);
      const micros = parseTime(m[2]!);
      if (days === undefined || micros === undefined || micros >= MICROS_PER_DAY) return refuse(`not a ${kind} text`);
      return BigInt(days) * MICROS_PER_DAY + micros;
    }
    case 'string':
      return typeof json === 'string' ? json : refuse('not a text');
    case 'uuid':
      return typeof json === 'string' && UUID_TEXT.test(json) ? json : refuse('not a lowercase UUID');
    case 'fixed':
    case 'binary': {
      if (typeof json !== 'string') return refuse('not base64 text');
      const bytes = Buffer.from(json, 'base64');
      // Node's decoder skips what is not base64; reading back the same text proves nothing was skipped.
      if (bytes.toString('base64') !== json) return refuse('not canonical base64');
      const length = fixedLength(type);
      if (length !== undefined && bytes.length !== length) return refuse(`not ${length} bytes`);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
  }
}

/** An exact integer given as a bigint or a safe-integer number (the forms writers accept for 64-bit values). */
function integerOf(value: Value | JsonValue): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return undefined;
}

function isObject(json: JsonValue): json is JsonObject {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}

function own(object: JsonObject, name: string): JsonValue {
  return Object.prototype.hasOwnProperty.call(object, name) ? object[name]! : null;
}

function pad(value: bigint | number, width: number): string {
  return String(value).padStart(width, '0');
}

function formatTime(micros: bigint): string {
  const seconds = micros / 1_000_000n;
  return `${pad(seconds / 3600n, 2)}:${pad((seconds / 60n) % 60n, 2)}:${pad(seconds % 60n, 2)}.${pad(micros % 1_000_000n, 6)}`;
}

function formatMicros(micros: bigint): string {
  const days = floorDiv(micros, MICROS_PER_DAY);
  return `${isoDate(Number(days))}T${formatTime(micros - days * MICROS_PER_DAY)}`;
}

function parseDate(text: string): number | undefined {
  const m = DATE_TEXT.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (!Number.isSafeInteger(year) || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const days = daysFromCivil(year, month, day);
  const back = civilFromDays(days);
  // 2023-02-30 would land in March: only a real calendar day reads back as itself, in its one spelling.
  return back.year === year && back.month === month && back.day === day && isoDate(days) === text ? days : undefined;
}

function parseTime(text: string): bigint | undefined {
  const m = TIME_TEXT.exec(text);
  if (m === null) return undefined;
  const [hour, minute, second] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (hour > 24 || minute > 59 || second > 59) return undefined;
  return BigInt(hour * 3600 + minute * 60 + second) * 1_000_000n + BigInt(m[4]!);
}

function shownValue(value: Value): string {
  if (typeof value === 'string') return quotedText(value);
  if (value instanceof Uint8Array) return `bytes ${boundedHex(value)}`;
  if (value instanceof Map) return `a map of ${value.size} entries`;
  if (Array.isArray(value)) return `a list of ${value.length} values`;
  return boundedText(typeof value === 'number' && Object.is(value, -0) ? '-0' : String(value));
}
