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

/** `(k1, k2) IN ((…), (…))` (or `k IN (…)` for one column) for `keys`. */
export function keyCondition(columns: readonly ColumnPlan[], keys: readonly (readonly Value[])[]): string {
  const names = columns.map((c) => quoteIdentifier(c.source.name));
  const tuple = (key: readonly Value[]): string => {
    const parts = key.map((v, i) => keyLiteral(v, columns[i]!));
    return parts.length === 1 ? parts[0]! : `(${parts.join(', ')})`;
  };
  const left = names.length === 1 ? names[0]! : `(${names.join(', ')})`;
  return `${left} IN (${keys.map(tuple).join(', ')})`;
}

function bytesLiteral(bytes: Uint8Array): string {
  let out = "'";
  for (const b of bytes) out += `\\x${b.toString(16).padStart(2, '0')}`;
  return `${out}'`;
}
