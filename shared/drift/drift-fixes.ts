/**
 * The statements a drift finding offers: PostgreSQL DDL with every identifier quoted (for people to review; icebridge
 * never runs it), and Iceberg schema updates written as the update operation (`add-column`, `update-column`,
 * `rename-column`, `make-optional`). Column types come from the catalog's own format_type text; a type or default
 * read from a registry file that does not look like catalog output is never echoed into SQL.
 */
import { typeText } from '../verify/schema-registry/schema-registry';
import { postgresType } from '../verify/schema-registry/schema-registry-diff';
import { quoteIdent, quoteQualified } from '../postgres/identifiers';
import type { DriftColumn, DriftTable, ReplicaIdentity } from './drift-model';

/** The PostgreSQL type to declare `column` with, or undefined when none is known that is safe to write. */
export function sqlType(column: DriftColumn): string | undefined {
  return postgresType(column.pgType ?? column.mappedFrom ?? null, typeText(column.icebergType));
}

/** `"schema"."table"` of a side's table. */
export function tableSql(table: DriftTable): string {
  return quoteQualified(table.schema, table.name);
}

/** `ALTER TABLE … ADD COLUMN …` declaring `column` as the reference has it, or undefined. */
export function addColumnSql(table: DriftTable, column: DriftColumn): string | undefined {
  const type = sqlType(column);
  if (type === undefined) return undefined;
  const dflt = column.default !== undefined && column.default !== null && safeExpression(column.default) ? ` DEFAULT ${column.default}` : '';
  return `ALTER TABLE ${tableSql(table)} ADD COLUMN ${quoteIdent(column.name)} ${type}${dflt}${column.notNull ? ' NOT NULL' : ''}`;
}

/** `ALTER TABLE … ALTER COLUMN … TYPE …` back to the reference's type, or undefined. */
export function retypeSql(table: DriftTable, column: string, reference: DriftColumn): string | undefined {
  const type = sqlType(reference);
  if (type === undefined) return undefined;
  const name = quoteIdent(column);
  return `ALTER TABLE ${tableSql(table)} ALTER COLUMN ${name} TYPE ${type} USING ${name}::${type}`;
}

/** `ALTER TABLE … ALTER COLUMN … SET|DROP NOT NULL`. */
export function nullabilitySql(table: DriftTable, column: string, notNull: boolean): string {
  return `ALTER TABLE ${tableSql(table)} ALTER COLUMN ${quoteIdent(column)} ${notNull ? 'SET' : 'DROP'} NOT NULL`;
}

/** `ALTER TABLE … ALTER COLUMN … SET DEFAULT …|DROP DEFAULT`, or undefined for an expression not safe to echo. */
export function defaultSql(table: DriftTable, column: string, expression: string | null): string | undefined {
  const target = `ALTER TABLE ${tableSql(table)} ALTER COLUMN ${quoteIdent(column)}`;
  if (expression === null) return `${target} DROP DEFAULT`;
  return safeExpression(expression) ? `${target} SET DEFAULT ${expression}` : undefined;
}

/** `ALTER TABLE … RENAME COLUMN … TO …`. */
export function renameColumnSql(table: DriftTable, from: string, to: string): string {
  return `ALTER TABLE ${tableSql(table)} RENAME COLUMN ${quoteIdent(from)} TO ${quoteIdent(to)}`;
}

/** `ALTER TABLE … RENAME TO …`. */
export function renameTableSql(table: DriftTable, to: string): string {
  return `ALTER TABLE ${tableSql(table)} RENAME TO ${quoteIdent(to)}`;
}

/** `CREATE TABLE` with the reference's columns and primary key, in `schema`, or undefined when a type is unknown. */
export function createTableSql(schema: string, table: DriftTable): string | undefined {
  const lines: string[] = [];
  for (const column of table.columns) {
    const type = sqlType(column);
    if (type === undefined) return undefined;
    const dflt = column.default !== undefined && column.default !== null && safeExpression(column.default) ? ` DEFAULT ${column.default}` : '';
    lines.push(`  ${quoteIdent(column.name)} ${type}${dflt}${column.notNull ? ' NOT NULL' : ''}`);
  }
  if (table.primaryKey) lines.push(`  PRIMARY KEY (${table.primaryKey.map(quoteIdent).join(', ')})`);
  return `CREATE TABLE ${quoteQualified(schema, table.name)} (\n${lines.join(',\n')}\n)`;
}

/** `ALTER TABLE … ADD PRIMARY KEY (…)`. */
export function addPrimaryKeySql(table: DriftTable, columns: readonly string[]): string {
  return `ALTER TABLE ${tableSql(table)} ADD PRIMARY KEY (${columns.map(quoteIdent).join(', ')})`;
}

/** `ALTER TABLE … REPLICA IDENTITY DEFAULT|FULL|NOTHING`; undefined for USING INDEX (the index is not recorded). */
export function replicaIdentitySql(table: DriftTable, identity: ReplicaIdentity): string | undefined {
  if (identity.mode === 'index') return undefined;
  return `ALTER TABLE ${tableSql(table)} REPLICA IDENTITY ${identity.mode.toUpperCase()}`;
}

/** The Iceberg update operation naming a column: `id=7 weight`, or just the name when the field id is unknown. */
function fieldRef(name: string, fieldId: number | undefined): string {
  return `${fieldId === undefined ? '' : `id=${fieldId} `}${JSON.stringify(name)}`;
}

/** `add-column "name" type` (an added Iceberg column is always optional). */
export function icebergAddColumn(column: DriftColumn): string {
  return `add-column ${JSON.stringify(column.name)} ${typeText(column.icebergType)} optional`;
}

/** `update-column id=N "name" from -> to`. */
export function icebergUpdateColumn(column: DriftColumn, to: DriftColumn): string {
  return `update-column ${fieldRef(column.name, column.fieldId)} ${typeText(column.icebergType)} -> ${typeText(to.icebergType)}`;
}

/** `rename-column id=N "old" -> "new"`. */
export function icebergRenameColumn(column: DriftColumn, to: string): string {
  return `rename-column ${fieldRef(column.name, column.fieldId)} -> ${JSON.stringify(to)}`;
}

/** `make-optional id=N "name"`. */
export function icebergMakeOptional(column: DriftColumn): string {
  return `make-optional ${fieldRef(column.name, column.fieldId)}`;
}

/** A default expression that cannot end the statement or hide text in a comment (pg_get_expr output never does). */
function safeExpression(expression: string): boolean {
  return !/;|--|\/\*/.test(expression) && expression.length <= 1000;
}
