/**
 * SQL text for ClickHouse: quoted identifiers and literals (18.16 has no query parameters, so every literal is
 * quoted here, from values we produced or validated), and the names of the tables the fan-out keeps.
 *
 * Naming: the source table `schema.name` becomes `<database>.<schema>__<name>`; its daily figures
 * `<schema>__<name>__daily` (filled by the view `<schema>__<name>__daily_mv`), its partition backups
 * `<schema>__<name>__backup`, a re-load's staging table `<schema>__<name>__reload`. Two source tables that would get
 * one name (`a__b.c` and `a.b__c`) are refused when prepared.
 */
import type { FanoutTable } from '../fanout/fanout-types';

/** An identifier in backquotes, with backquote and backslash escaped. */
export function quoteIdentifier(name: string): string {
  return '`' + name.replace(/[\\`]/g, (c) => `\\${c}`) + '`';
}

/** A string literal in single quotes; backslash, quote and the control characters escaped. */
export function stringLiteral(text: string): string {
  return `'${text.replace(/[\\'\n\r\t\0]/g, (c) => ESCAPES[c]!)}'`;
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };

/** The analytics table's name (without database) of a source table. */
export function analyticsTableName(table: Pick<FanoutTable, 'schema' | 'name'>): string {
  return `${table.schema}__${table.name}`;
}

/** The names of everything kept for one source table, without database. */
export interface AnalyticsNames {
  table: string;
  daily: string;
  dailyView: string;
  backup: string;
  reload: string;
}

/** The names kept for a source table (see the module comment). */
export function analyticsNames(table: Pick<FanoutTable, 'schema' | 'name'>): AnalyticsNames {
  const base = analyticsTableName(table);
  return { table: base, daily: `${base}__daily`, dailyView: `${base}__daily_mv`, backup: `${base}__backup`, reload: `${base}__reload` };
}

/** `database`.`name`, both quoted. */
export function qualified(database: string, name: string): string {
  return `${quoteIdentifier(database)}.${quoteIdentifier(name)}`;
}

/** The table of the sinks' checkpoints (one row per sink name and position; the highest position counts). */
export const CHECKPOINT_TABLE = 'icebridge_checkpoints';
/** What `prepare` recorded per analytics table (its day expression and figures), for restores that know only a name. */
export const TABLES_TABLE = 'icebridge_tables';
