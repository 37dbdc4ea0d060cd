/**
 * The ClickHouse tables of one source table (ClickHouse 18.16 syntax throughout):
 *
 * - `<schema>__<name>`: `ReplacingMergeTree(_version)` ordered by the key, `_version UInt64` = the change's source
 *   position (a later change wins, a re-load of the same rows is idempotent), `_deleted UInt8`, `_source_time
 *   Int64` = commit time in ms (18.16 has no DateTime64), partitioned by `toYYYYMM` of a day: the configured time
 *   column, else the first date or timestamp column, else `_source_time` (days before 1970 fall in 197001; a
 *   newer server with signed Date32 would not need the clamp). Read it with `FINAL WHERE _deleted = 0`: 18.16's
 *   FINAL merges across partitions, so a row whose time column moved it to another month is still one row.
 * - `<…>__daily`: a SummingMergeTree by day of live rows and of the sums of the configured numeric columns, fed
 *   by the materialized view `<…>__daily_mv`. It stays exact because the sink writes each replaced or deleted row
 *   again as a `_deleted = 1` copy that counts -1 (see clickhouse-sink.ts); a restore rebuilds the restored
 *   months, since replacing partitions does not run views. Read it with `sum(rows) … GROUP BY day`.
 */
import { ValidationError } from '../errors';
import type { FanoutTable } from '../fanout/fanout-types';
import { qualifiedName } from '../fanout/identity';
import { decimalParams } from '../iceberg/spec/types';
import { type AnalyticsNames, CHECKPOINT_TABLE, TABLES_TABLE, analyticsNames, qualified, quoteIdentifier, stringLiteral } from './clickhouse-sql';
import { DELETED_COLUMN, SOURCE_TIME_COLUMN, type TablePlan, VERSION_COLUMN, planTable } from './column-types';

/** Per-table choices of the analytics tables. */
export interface AnalyticsTableOptions {
  /** The date or timestamp column that partitions the table and its daily figures. */
  timeColumn?: string;
  /** Numeric columns summed per day in the daily figures. */
  sumColumns?: string[];
}

/** Everything the sink, inventory and restore need to know about one table's ClickHouse form. */
export interface TableLayout {
  plan: TablePlan;
  names: AnalyticsNames;
  /** A Date expression over the table's columns: the day a row counts for; its toYYYYMM is the partition. */
  dayExpression: string;
  /** Daily sum columns: name in the daily table, its type, and the summed expression (without the sign). */
  sums: { name: string; type: string; expression: string }[];
}

/** The layout of a table; throws a ValidationError naming table and column for a column that cannot be kept. */
export function tableLayout(table: FanoutTable, options: AnalyticsTableOptions = {}): TableLayout {
  const plan = planTable(table);
  const named = (name: string) => {
    const column = plan.columns.find((c) => c.source.name === name);
    if (!column) throw new ValidationError(`ClickHouse: table ${qualifiedName(table)} has no column ${JSON.stringify(name)}`);
    return column;
  };
  const timeColumn = options.timeColumn !== undefined ? named(options.timeColumn) : plan.columns.find((c) => isTime(c.source.type));
  if (timeColumn && !isTime(timeColumn.source.type)) {
    throw new ValidationError(`ClickHouse: table ${qualifiedName(table)} column ${JSON.stringify(timeColumn.source.name)} is not a date or timestamp`);
  }
  let days: string;
  if (!timeColumn) days = `intDiv(${SOURCE_TIME_COLUMN}, 86400000)`;
  else {
    const value = timeColumn.type.startsWith('Nullable(') ? `ifNull(${quoteIdentifier(timeColumn.source.name)}, 0)` : quoteIdentifier(timeColumn.source.name);
    days = timeColumn.source.type === 'date' ? value : `intDiv(${value}, 86400000000)`;
  }
  // Date is unsigned days up to 2149 in 18.16: clamp instead of wrapping around.
  const dayExpression = `toDate(toUInt16(least(greatest(${days}, 0), 65535)))`;
  const sums = (options.sumColumns ?? []).map((name) => {
    const column = named(name);
    const type = column.source.type;
    const decimal = decimalParams(type);
    const sumType = decimal
      ? `Decimal(38, ${decimal.scale})`
      : type === 'int' || type === 'long'
        ? 'Int64'
        : type === 'float' || type === 'double'
          ? 'Float64'
          : undefined;
    if (sumType === undefined)
      throw new ValidationError(`ClickHouse: table ${qualifiedName(table)} column ${JSON.stringify(name)} is not numeric and cannot be summed`);
    const ident = quoteIdentifier(name);
    return { name: `${name}_sum`, type: sumType, expression: column.type.startsWith('Nullable(') ? `assumeNotNull(${ident})` : ident };
  });
  return { plan, names: analyticsNames(table), dayExpression, sums };
}

function isTime(type: unknown): boolean {
  return type === 'date' || type === 'timestamp' || type === 'timestamptz';
}

/** The statements that create a table's analytics tables and view, each idempotent, in order. */
export function tableStatements(database: string, layout: TableLayout): string[] {
  const { plan, names } = layout;
  const columns: string[] = [];
  for (const column of plan.columns) {
    columns.push(`${quoteIdentifier(column.source.name)} ${column.type}`);
    if (column.nullFlag) columns.push(`${quoteIdentifier(column.nullFlag)} UInt8`);
  }
  columns.push(`${VERSION_COLUMN} UInt64`, `${DELETED_COLUMN} UInt8`, `${SOURCE_TIME_COLUMN} Int64`);
  for (const alias of plan.aliases) columns.push(`${quoteIdentifier(alias.name)} ${alias.type} ALIAS ${alias.expression}`);
  const key = plan.table.key.map(quoteIdentifier).join(', ');
  const daily = [`day Date`, `rows Int64`, ...layout.sums.map((s) => `${quoteIdentifier(s.name)} ${s.type}`)];
  return [
    `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)}`,
    `CREATE TABLE IF NOT EXISTS ${qualified(database, names.table)} (${columns.join(', ')}) ENGINE = ReplacingMergeTree(${VERSION_COLUMN}) PARTITION BY toYYYYMM(${layout.dayExpression}) ORDER BY (${key})`,
    `CREATE TABLE IF NOT EXISTS ${qualified(database, names.daily)} (${daily.join(', ')}) ENGINE = SummingMergeTree PARTITION BY toYYYYMM(day) ORDER BY day`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${qualified(database, names.dailyView)} TO ${qualified(database, names.daily)} AS ${dailySelect(database, layout, true, '')}`,
  ];
}

/**
 * The daily figures of a table as a SELECT: `signed` over written rows (a `_deleted` copy counts -1: the view), or
 * over live rows after FINAL (a rebuild), restricted by `where` (an SQL condition, or '' for all).
 */
export function dailySelect(database: string, layout: TableLayout, signed: boolean, where: string): string {
  const weight = signed ? `if(${DELETED_COLUMN} = 1, -1, 1)` : '1';
  const figures = [
    `${layout.dayExpression} AS day`,
    `sum(${weight}) AS rows`,
    ...layout.sums.map((s) => `sum(${weight} * ${s.expression}) AS ${quoteIdentifier(s.name)}`),
  ];
  const source = signed ? qualified(database, layout.names.table) : `${qualified(database, layout.names.table)} FINAL`;
  const conditions = [...(signed ? [] : [`${DELETED_COLUMN} = 0`]), ...(where ? [where] : [])];
  return `SELECT ${figures.join(', ')} FROM ${source}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} GROUP BY day`;
}

/** The stored columns of the table in insert order: source columns (and null flags), then the bookkeeping ones. */
export function storedColumns(layout: TableLayout): string[] {
  const names: string[] = [];
  for (const column of layout.plan.columns) {
    names.push(column.source.name);
    if (column.nullFlag) names.push(column.nullFlag);
  }
  return [...names, VERSION_COLUMN, DELETED_COLUMN, SOURCE_TIME_COLUMN];
}

/** The statements creating the tables every sink shares: checkpoints and the record of prepared tables. */
export function sharedStatements(database: string): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)}`,
    `CREATE TABLE IF NOT EXISTS ${qualified(database, CHECKPOINT_TABLE)} (name String, position UInt64, updated_at DateTime) ENGINE = ReplacingMergeTree(position) ORDER BY name`,
    `CREATE TABLE IF NOT EXISTS ${qualified(database, TABLES_TABLE)} (table String, day_expression String, daily_figures String, prepared_at DateTime) ENGINE = ReplacingMergeTree(prepared_at) ORDER BY table`,
  ];
}

/** The row recording a prepared table's day expression and daily figures, for a restore that knows only its name. */
export function preparedTableRow(database: string, layout: TableLayout): string {
  const figures = dailyFiguresText(layout);
  return `INSERT INTO ${qualified(database, TABLES_TABLE)} (table, day_expression, daily_figures, prepared_at) VALUES (${stringLiteral(layout.names.table)}, ${stringLiteral(layout.dayExpression)}, ${stringLiteral(figures)}, now())`;
}

/** The daily figures of a layout as recorded in `icebridge_tables` (JSON of name and summed expression). */
export function dailyFiguresText(layout: TableLayout): string {
  return JSON.stringify(layout.sums.map((s) => ({ name: s.name, expression: s.expression })));
}

/** Whether a ClickHouse type text (as system.columns spells it) is the planned one. */
export function sameType(actual: string, planned: string): boolean {
  return actual.replace(/\s+/g, '') === planned.replace(/\s+/g, '');
}
