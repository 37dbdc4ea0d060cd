/**
 * Iceberg column types as ClickHouse 18.16 columns, losslessly:
 *
 * | Iceberg                  | ClickHouse column                     | for people (ALIAS)                          |
 * |--------------------------|---------------------------------------|---------------------------------------------|
 * | boolean                  | UInt8 (0, 1)                          |                                             |
 * | int / long               | Int32 / Int64                         |                                             |
 * | float / double           | Float32 / Float64 (NaN, ±inf, -0 kept)|                                             |
 * | decimal(P, S)            | Decimal(P, S)                         |                                             |
 * | date                     | Int32 days from 1970-01-01            | `<c>__date` Date (clamped to 1970..2149)    |
 * | time                     | Int64 microseconds from midnight      |                                             |
 * | timestamp, timestamptz   | Int64 microseconds from 1970 (UTC)    | `<c>__datetime` DateTime (clamped 1970..2106)|
 * | string                   | String (UTF-8)                        |                                             |
 * | uuid                     | UUID                                  |                                             |
 * | fixed[L] / binary        | FixedString(L) / String (the bytes)   |                                             |
 * | list<T>                  | Array(T), Array(Nullable(T))          |                                             |
 *
 * 18.16 has no DateTime64 (its DateTime is unsigned seconds), hence integers with a clamped alias; no Nullable
 * Array, so a nullable list gets a companion `<c>__is_null UInt8` column; no Nullable in the sort key, so key
 * columns are never Nullable. Struct, map and a list of nullable lists have no exact form: preparing such a table
 * is an error naming it and the column.
 */
import { ValidationError } from '../errors';
import type { FanoutColumn, FanoutTable } from '../fanout/fanout-types';
import { qualifiedName } from '../fanout/identity';
import { type IcebergType, decimalParams, fixedLength, isPrimitive } from '../iceberg/spec/types';
import { quoteIdentifier } from './clickhouse-sql';

/** Bookkeeping columns every analytics table has after the source columns. */
export const VERSION_COLUMN = '_version';
export const DELETED_COLUMN = '_deleted';
export const SOURCE_TIME_COLUMN = '_source_time';

/** One source column in ClickHouse. */
export interface ColumnPlan {
  source: FanoutColumn;
  /** The ClickHouse type of the column (Nullable(...) included). */
  type: string;
  /** A nullable list's companion column: 1 where the list is NULL. */
  nullFlag?: string;
  /** Part of the key (never Nullable). */
  key: boolean;
}

/** An ALIAS column shown to people, computed from a stored one. */
export interface AliasColumn {
  name: string;
  type: string;
  expression: string;
}

/** A source table's columns in ClickHouse, in source order. */
export interface TablePlan {
  table: FanoutTable;
  columns: ColumnPlan[];
  aliases: AliasColumn[];
}

/** Why a column cannot be kept exactly. */
export class UnmappableColumnError extends ValidationError {}

/** Plans a table's columns; throws UnmappableColumnError naming table and column when one has no exact form. */
export function planTable(table: FanoutTable): TablePlan {
  const where = (column: string): string => `ClickHouse: table ${qualifiedName(table)} column ${JSON.stringify(column)}`;
  const columns: ColumnPlan[] = [];
  const aliases: AliasColumn[] = [];
  const names = new Set<string>([VERSION_COLUMN, DELETED_COLUMN, SOURCE_TIME_COLUMN]);
  const claim = (name: string, column: string): void => {
    if (names.has(name))
      throw new UnmappableColumnError(`${where(column)}: the name ${JSON.stringify(name)} is taken (by a bookkeeping, alias or flag column)`);
    names.add(name);
  };
  for (const column of table.columns) claim(column.name, column.name);
  for (const key of table.key) {
    if (!table.columns.some((c) => c.name === key)) throw new UnmappableColumnError(`${where(key)}: a key column that is not a column`);
  }
  for (const column of table.columns) {
    const key = table.key.includes(column.name);
    const base = baseType(column.type, (problem) => new UnmappableColumnError(`${where(column.name)}: ${problem}`));
    const isList = !isPrimitive(column.type);
    if (key && isList) throw new UnmappableColumnError(`${where(column.name)}: a list cannot be a key column`);
    const plan: ColumnPlan = { source: column, type: column.nullable && !key && !isList ? `Nullable(${base})` : base, key };
    if (column.nullable && !key && isList) {
      plan.nullFlag = `${column.name}__is_null`;
      claim(plan.nullFlag, column.name);
    }
    columns.push(plan);
    const nullable = plan.type.startsWith('Nullable(');
    if (column.type === 'timestamp' || column.type === 'timestamptz') {
      const name = `${column.name}__datetime`;
      claim(name, column.name);
      aliases.push({
        name,
        type: nullable ? 'Nullable(DateTime)' : 'DateTime',
        expression: `toDateTime(least(greatest(intDiv(${quoteIdentifier(column.name)}, 1000000), 0), 4294967295))`,
      });
    } else if (column.type === 'date') {
      const name = `${column.name}__date`;
      claim(name, column.name);
      aliases.push({
        name,
        type: nullable ? 'Nullable(Date)' : 'Date',
        expression: `toDate(toUInt16(least(greatest(${quoteIdentifier(column.name)}, 0), 65535)))`,
      });
    }
  }
  return { table, columns, aliases };
}

/** The ClickHouse type of an Iceberg type, without Nullable at the top. */
function baseType(type: IcebergType, fail: (problem: string) => Error): string {
  if (isPrimitive(type)) {
    const decimal = decimalParams(type);
    if (decimal) return `Decimal(${decimal.precision}, ${decimal.scale})`;
    const fixed = fixedLength(type);
    if (fixed !== undefined) return `FixedString(${fixed})`;
    const simple = SIMPLE[type];
    if (simple === undefined) throw fail(`the type ${type} has no exact ClickHouse form`);
    return simple;
  }
  if (type.type === 'list') {
    const element = baseType(type.element, fail);
    if (!isPrimitive(type.element) && !type['element-required'])
      throw fail('a list of nullable lists has no exact ClickHouse form (18.16 has no Nullable(Array))');
    return `Array(${type['element-required'] || !isPrimitive(type.element) ? element : `Nullable(${element})`})`;
  }
  throw fail(`a ${type.type} has no exact ClickHouse form`);
}

const SIMPLE: Record<string, string> = {
  boolean: 'UInt8',
  int: 'Int32',
  long: 'Int64',
  float: 'Float32',
  double: 'Float64',
  date: 'Int32',
  time: 'Int64',
  timestamp: 'Int64',
  timestamptz: 'Int64',
  string: 'String',
  uuid: 'UUID',
  binary: 'String',
};
