/**
 * The canonical text of a value, a row and a key on our side: computed in JS from the values our Parquet reader
 * returns, byte for byte what canonical-sql.ts makes PostgreSQL print (the definition is in README.md). Each
 * column's formatter is resolved once (canonicalFormatter, CanonicalRows), so no type is switched on per value.
 */
import { scratch } from './row-hash';
import { writeJsonArray as writeJsonArrayExport } from './json-bytes';
import { compareStrings } from '../../iceberg/spec/compare';
import { type IcebergType, type PrimitiveType, decimalParams } from '../../iceberg/spec/types';
import { type Row, type Value, decimalToString, uuidFromBytes } from '../../iceberg/spec/values';

// A module-local binding for the row text, a per-row path: a transpiler's CommonJS output can read an imported
// name through a getter on each use (see row-hasher.ts).
const writeJsonArray = writeJsonArrayExport;

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
      return (value) =>
        value === null ? null : typeof value !== 'string' ? uuidFromBytes(value as Uint8Array) : UPPERCASE.test(value) ? value.toLowerCase() : value;
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
// eslint-disable-next-line no-control-regex -- the control characters JSON.stringify escapes
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
