/**
 * Values in ClickHouse's TabSeparated format, both ways, exactly: integers and decimals as decimal text, floats as
 * shortest round-trip text (nan, inf, -inf, -0), strings as their UTF-8 bytes and binary as its own bytes with
 * only backslash, tab, newline, carriage return and NUL escaped; NULL is `\N`; lists in ClickHouse's quoted array
 * syntax. A value that cannot be written exactly (a lone UTF-16 surrogate, a number out of its column's range, a
 * fixed of the wrong length) is an error naming system, table, column, key and value.
 */
import { IcebridgeError } from '../errors';
import type { FanoutTable } from '../fanout/fanout-types';
import { aggregateId, qualifiedName } from '../fanout/identity';
import { type IcebergType, decimalParams, fixedLength, isPrimitive } from '../iceberg/spec/types';
import { type Value, decimalDigits, decimalToString, parseDecimal } from '../iceberg/spec/values';
import { boundedHex, boundedText } from '../text/bounded-text';

/** A value the sink cannot write exactly. */
export class UnwritableValueError extends IcebridgeError {
  constructor(message: string) {
    super('VALUE_NOT_WRITABLE', message);
  }
}

/** One TabSeparated line part: text (written as UTF-8) or raw bytes. */
export type LinePart = string | Uint8Array;

/** Where a value goes, for error messages. */
export interface ValueContext {
  table: FanoutTable;
  column: string;
  key: readonly Value[];
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Appends the TabSeparated form of `value` (of Iceberg `type`; NULL only where `nullable`) to `out`. */
export function encodeField(value: Value, type: IcebergType, nullable: boolean, context: ValueContext, out: LinePart[]): void {
  if (value === null) {
    // A key column is never Nullable in ClickHouse: its default value would stand in for the NULL.
    if (!nullable) throw unwritable(context, value, 'a NULL in a column that cannot hold one (a key column)');
    out.push('\\N');
    return;
  }
  if (isPrimitive(type) && (type === 'string' || type === 'binary' || fixedLength(type) !== undefined)) {
    const bytes = textBytes(value, type, context);
    out.push(escapeBytes(bytes, false));
    return;
  }
  if (isPrimitive(type)) {
    out.push(scalarText(value, type, context));
    return;
  }
  if (type.type === 'list' && Array.isArray(value)) {
    // The quoted array text goes into the field as it is: its strings escape tab, newline and backslash themselves.
    quotedList(value, type.element, context, out);
    return;
  }
  throw unwritable(context, value, `a ${describe(type)} value of the wrong shape`);
}

function quotedList(values: Value[], element: IcebergType, context: ValueContext, out: LinePart[]): void {
  out.push('[');
  values.forEach((item, i) => {
    if (i > 0) out.push(',');
    if (item === null) out.push('NULL');
    else if (!isPrimitive(element)) {
      if (!Array.isArray(item) || element.type !== 'list') throw unwritable(context, item, 'a list element of the wrong shape');
      quotedList(item, element.element, context, out);
    } else if (element === 'string' || element === 'binary' || element === 'uuid' || fixedLength(element) !== undefined) {
      const bytes = element === 'uuid' ? Buffer.from(scalarText(item, element, context)) : textBytes(item, element, context);
      out.push("'", escapeBytes(bytes, true), "'");
    } else out.push(scalarText(item, element, context));
  });
  out.push(']');
}

function textBytes(value: Value, type: IcebergType, context: ValueContext): Uint8Array {
  if (type === 'string') {
    if (typeof value !== 'string') throw unwritable(context, value, 'a string value that is not a string');
    // A lone surrogate would become U+FFFD in UTF-8: a silent change, refused instead.
    if (LONE_SURROGATE.test(value)) throw unwritable(context, value, 'a string with a lone UTF-16 surrogate has no UTF-8 form');
    return Buffer.from(value, 'utf8');
  }
  if (!(value instanceof Uint8Array)) throw unwritable(context, value, 'a binary value that is not bytes');
  const fixed = fixedLength(type);
  // FixedString pads a shorter value with NUL bytes: a different value, refused.
  if (fixed !== undefined && value.length !== fixed) throw unwritable(context, value, `${value.length} bytes in a fixed[${fixed}] column`);
  return value;
}

function scalarText(value: Value, type: IcebergType & string, context: ValueContext): string {
  switch (type) {
    case 'boolean':
      if (typeof value !== 'boolean') break;
      return value ? '1' : '0';
    case 'int':
    case 'date':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) break;
      return String(value);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const big = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : undefined;
      if (big === undefined || big < INT64_MIN || big > INT64_MAX) break;
      return big.toString();
    }
    case 'float':
    case 'double':
      if (typeof value !== 'number') break;
      if (Number.isNaN(value)) return 'nan';
      if (value === Infinity) return 'inf';
      if (value === -Infinity) return '-inf';
      return Object.is(value, -0) ? '-0' : String(value);
    case 'uuid':
      if (typeof value !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)) break;
      return value;
    default: {
      const decimal = decimalParams(type);
      if (decimal && typeof value === 'bigint' && decimalDigits(value) <= decimal.precision) return decimalToString(value, decimal.scale);
    }
  }
  throw unwritable(context, value, `not a ${type} value ClickHouse can hold exactly`);
}

/** TabSeparated escaping of bytes; `quoted` adds the single quote (inside an array's quoted strings). */
function escapeBytes(bytes: Uint8Array, quoted: boolean): Uint8Array {
  let extra = 0;
  for (const b of bytes) if (needsEscape(b, quoted)) extra++;
  if (extra === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + extra);
  let j = 0;
  for (const b of bytes) {
    if (needsEscape(b, quoted)) {
      out[j++] = 0x5c;
      out[j++] = ESCAPE_LETTER[b]!;
    } else out[j++] = b;
  }
  return out;
}

function needsEscape(b: number, quoted: boolean): boolean {
  return b === 0x5c || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x00 || (quoted && b === 0x27);
}

const ESCAPE_LETTER: Record<number, number> = { 0x5c: 0x5c, 0x09: 0x74, 0x0a: 0x6e, 0x0d: 0x72, 0x00: 0x30, 0x27: 0x27 };

function unwritable(context: ValueContext, value: Value, problem: string): UnwritableValueError {
  return new UnwritableValueError(
    `clickhouse: table ${qualifiedName(context.table)} column ${JSON.stringify(context.column)} key ${boundedText(aggregateId(context.key))}: ${problem}: ${shown(value)}`,
  );
}

function shown(value: Value): string {
  if (value instanceof Uint8Array) return boundedHex(value);
  if (typeof value === 'string') return JSON.stringify(boundedText(value));
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value instanceof Map) return `a map of ${value.size}`;
  return String(value);
}

function describe(type: IcebergType): string {
  return isPrimitive(type) ? type : type.type;
}

/** Removes TabSeparated escapes from one field's bytes. */
export function unescapeField(field: Uint8Array): Buffer {
  if (!field.includes(0x5c)) return Buffer.from(field.buffer, field.byteOffset, field.byteLength);
  const out = Buffer.allocUnsafe(field.length);
  let j = 0;
  for (let i = 0; i < field.length; i++) {
    const b = field[i]!;
    if (b !== 0x5c || i + 1 >= field.length) {
      out[j++] = b;
      continue;
    }
    const next = field[++i]!;
    if (next === 0x78 && i + 2 < field.length) {
      out[j++] = parseInt(Buffer.from(field.subarray(i + 1, i + 3)).toString('latin1'), 16);
      i += 2;
    } else out[j++] = UNESCAPE[next] ?? next;
  }
  return out.subarray(0, j);
}

const UNESCAPE: Record<number, number> = { 0x62: 0x08, 0x66: 0x0c, 0x72: 0x0d, 0x6e: 0x0a, 0x74: 0x09, 0x30: 0x00, 0x61: 0x07, 0x76: 0x0b };

/** Decodes one TabSeparated field (as ClickHouse writes it) into the value of Iceberg `type`. */
export function decodeField(field: Uint8Array, type: IcebergType): Value {
  if (field.length === 2 && field[0] === 0x5c && field[1] === 0x4e) return null;
  if (!isPrimitive(type)) {
    if (type.type !== 'list') throw new IcebridgeError('CLICKHOUSE_VALUE', `a ${type.type} column cannot be read`);
    return parseList({ text: Buffer.from(field.buffer, field.byteOffset, field.byteLength), at: 0 }, type.element);
  }
  return decodeScalar(unescapeField(field), type);
}

function decodeScalar(bytes: Buffer, type: IcebergType & string): Value {
  if (type === 'binary' || fixedLength(type) !== undefined) return new Uint8Array(bytes);
  const text = bytes.toString('utf8');
  switch (type) {
    case 'string':
    case 'uuid':
      return text;
    case 'boolean':
      return text === '1';
    case 'int':
    case 'date':
      return Number(text);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return BigInt(text);
    case 'float':
    case 'double': {
      const n = text === 'nan' || text === '-nan' ? NaN : text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text);
      return type === 'float' ? Math.fround(n) : n;
    }
  }
  const decimal = decimalParams(type);
  const unscaled = decimal ? parseDecimal(text, decimal.scale) : undefined;
  if (unscaled === undefined) throw new IcebridgeError('CLICKHOUSE_VALUE', `ClickHouse answered ${boundedText(text)} for a ${type} column`);
  return unscaled;
}

interface ListParser {
  text: Buffer;
  at: number;
}

function parseList(p: ListParser, element: IcebergType): Value[] {
  expect(p, 0x5b);
  const out: Value[] = [];
  if (p.text[p.at] === 0x5d) {
    p.at++;
    return out;
  }
  for (;;) {
    out.push(parseElement(p, element));
    const c = p.text[p.at++];
    if (c === 0x5d) return out;
    if (c !== 0x2c) throw new IcebridgeError('CLICKHOUSE_VALUE', 'ClickHouse answered a malformed array');
  }
}

function parseElement(p: ListParser, element: IcebergType): Value {
  if (p.text.subarray(p.at, p.at + 4).toString('latin1') === 'NULL') {
    p.at += 4;
    return null;
  }
  if (!isPrimitive(element)) {
    if (element.type !== 'list') throw new IcebridgeError('CLICKHOUSE_VALUE', `a list of ${element.type} cannot be read`);
    return parseList(p, element.element);
  }
  if (p.text[p.at] === 0x27) {
    p.at++;
    const start = p.at;
    while (p.at < p.text.length && p.text[p.at] !== 0x27) p.at += p.text[p.at] === 0x5c ? 2 : 1;
    const raw = p.text.subarray(start, p.at);
    p.at++;
    return decodeScalar(unescapeField(raw), element);
  }
  const start = p.at;
  while (p.at < p.text.length && p.text[p.at] !== 0x2c && p.text[p.at] !== 0x5d) p.at++;
  return decodeScalar(p.text.subarray(start, p.at), element);
}

function expect(p: ListParser, byte: number): void {
  if (p.text[p.at++] !== byte) throw new IcebridgeError('CLICKHOUSE_VALUE', 'ClickHouse answered a malformed array');
}

/** Joins line parts into the bytes of one TabSeparated line (tab-separated, newline-ended). */
export function lineBytes(fields: readonly LinePart[][]): Buffer {
  const parts: Uint8Array[] = [];
  let text = '';
  const flush = (): void => {
    if (text.length > 0) parts.push(Buffer.from(text, 'utf8'));
    text = '';
  };
  fields.forEach((field, i) => {
    if (i > 0) text += '\t';
    for (const part of field) {
      if (typeof part === 'string') text += part;
      else {
        flush();
        parts.push(part);
      }
    }
  });
  text += '\n';
  flush();
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/** Splits a TabSeparated line into its fields' raw bytes (tabs inside values are always escaped). */
export function splitFields(line: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  let start = 0;
  for (let end = line.indexOf(0x09); end >= 0; end = line.indexOf(0x09, start)) {
    fields.push(line.subarray(start, end));
    start = end + 1;
  }
  fields.push(line.subarray(start));
  return fields;
}
