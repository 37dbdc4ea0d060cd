/**
 * Key values as ClickHouse SQL literals, for `(key) IN (…)` lookups: 18.16 has no query parameters, so values are
 * written as literals we build from the typed value (never from text a user gave), matching the column's type.
 */
import { decimalParams } from '../iceberg/spec/types';
import { type Value, decimalToString } from '../iceberg/spec/values';
import type { ColumnPlan } from './column-types';
import { quoteIdentifier, stringLiteral } from './clickhouse-sql';

/** The literal of one key value of `column`. */
export function keyLiteral(value: Value, column: ColumnPlan): string {
  const type = column.source.type;
  if (value instanceof Uint8Array) return bytesLiteral(value);
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  const decimal = decimalParams(type);
  if (typeof value === 'bigint' && decimal) {
    // Decimal IN needs the column's exact Decimal type: a Decimal128 literal is a type mismatch in 18.16.
    return `CAST(${stringLiteral(decimalToString(value, decimal.scale))} AS ${column.type})`;
  }
  if (typeof value === 'number') {
    // -0 equals 0 in a comparison; NaN equals nothing, so a NaN key is never found again (nor in PostgreSQL's sense).
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (typeof value === 'bigint') return String(value);
  throw new TypeError('a key value is a primitive value');
}

/**
 * `(k1, k2) IN ((…), (…))` (or `k IN (…)` for one column) conditions covering `keys`, each at most about
 * `maxBytes` of UTF-8 long (a single key longer than that gets a condition of its own): 18.16 refuses a query over
 * `max_query_size` (256 KiB by default).
 */
export function keyConditions(columns: readonly ColumnPlan[], keys: readonly (readonly Value[])[], maxBytes: number): string[] {
  const names = columns.map((c) => quoteIdentifier(c.source.name));
  const left = names.length === 1 ? names[0]! : `(${names.join(', ')})`;
  const conditions: string[] = [];
  let tuples: string[] = [];
  let length = 0;
  const flush = (): void => {
    if (tuples.length > 0) conditions.push(`${left} IN (${tuples.join(', ')})`);
    tuples = [];
    length = 0;
  };
  for (const key of keys) {
    const parts = key.map((v, i) => keyLiteral(v, columns[i]!));
    const tuple = parts.length === 1 ? parts[0]! : `(${parts.join(', ')})`;
    const size = Buffer.byteLength(tuple, 'utf8');
    if (length + size > maxBytes) flush();
    tuples.push(tuple);
    length += size + 2;
  }
  flush();
  return conditions;
}

function bytesLiteral(bytes: Uint8Array): string {
  let out = "'";
  for (const b of bytes) out += `\\x${b.toString(16).padStart(2, '0')}`;
  return `${out}'`;
}
