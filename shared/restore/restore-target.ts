/**
 * The PostgreSQL side of a restore: the table rows go into, made or emptied. Every name reaching SQL here is the
 * catalog's own (from describeTable) or one this module built and checked against pg_class, and it is quoted.
 */
import type { Client } from 'pg';
import { ValidationError } from '../errors';
import { displayQualified, quoteIdent, quoteQualified } from '../postgres/identifiers';
import type { SourceTable } from '../postgres/source-table';
import { fromSql } from '../verify/checks/count-check';

/** PostgreSQL's longest identifier in bytes; a longer one is silently cut, so names are cut here instead. */
const MAX_IDENTIFIER_BYTES = 63;

/** Whether `schema.name` is taken by any relation (table, view, index, sequence…). */
export async function relationExists(client: Client, schema: string, name: string): Promise<boolean> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace
      WHERE s.nspname = $1 AND c.relname = $2`,
    [schema, name],
  );
  return rows[0]!.n !== '0';
}

/** A table name PostgreSQL keeps as given: not empty, no NUL, at most 63 bytes. */
export function checkNewTableName(name: string): void {
  if (name.length === 0 || name.includes('\u0000')) throw new ValidationError('the new table needs a name without NUL characters');
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new ValidationError(`table name ${JSON.stringify(name)} is longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES} bytes`);
  }
}

/**
 * `<table>_icebridge_backup_<yyyymmddhhmmss>` (UTC); the table's part is shortened, on a character boundary, so
 * the whole stays within 63 bytes and PostgreSQL does not cut the stamp off.
 */
export function backupTableName(table: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const suffix = `_icebridge_backup_${stamp}`;
  let head = table;
  while (Buffer.byteLength(head + suffix, 'utf8') > MAX_IDENTIFIER_BYTES) head = Array.from(head).slice(0, -1).join('');
  return head + suffix;
}

/**
 * Creates `schema.name` shaped like the source: columns, defaults, NOT NULL and CHECK constraints, indexes (so
 * its primary key too), generated columns, identity columns (with a sequence of their own), comments and storage.
 * Foreign keys are not copied (LIKE never does): no table references the new one and it references none, so it can
 * be compared, read from or swapped in by hand. A partitioned source gives an ordinary table.
 */
export async function createLikeTable(client: Client, source: SourceTable, name: string): Promise<void> {
  await client.query(
    `CREATE TABLE ${quoteQualified(source.schema, name)} (LIKE ${quoteQualified(source.schema, source.name)}
       INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES INCLUDING GENERATED INCLUDING IDENTITY
       INCLUDING COMMENTS INCLUDING STORAGE)`,
  );
}

/** Copies the table's rows as they are now into a new table `schema.backup` (plain columns, no constraints). */
export async function createBackup(client: Client, source: SourceTable, backup: string): Promise<void> {
  await client.query(`CREATE TABLE ${quoteQualified(source.schema, backup)} AS SELECT * FROM ${fromSql(source)}`);
}

/**
 * Other tables' foreign keys onto `table`. TRUNCATE refuses such a table (CASCADE would empty the others) and a
 * DELETE would fire their ON DELETE actions, so a table replaced in place must have none.
 */
export async function referencingTables(client: Client, table: SourceTable): Promise<string[]> {
  const { rows } = await client.query<{ schema: string; name: string; constraint: string }>(
    `SELECT s.nspname AS schema, c.relname AS name, k.conname AS constraint
       FROM pg_catalog.pg_constraint k
       JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
       JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace
      WHERE k.contype = 'f' AND k.confrelid = $1::oid AND k.conrelid <> $1::oid
      ORDER BY 1, 2, 3`,
    [table.oid],
  );
  return rows.map((r) => `${displayQualified(r.schema, r.name)} (${r.constraint})`);
}

/** Locks the table against every other reader and writer until the transaction ends. */
export async function lockExclusively(client: Client, table: SourceTable): Promise<void> {
  await client.query(`LOCK TABLE ${fromSql(table)} IN ACCESS EXCLUSIVE MODE`);
}

/** Empties the table (not its inheritance children), within the caller's transaction. */
export async function truncate(client: Client, table: SourceTable): Promise<void> {
  await client.query(`TRUNCATE ${fromSql(table)}`);
}

/**
 * Moves each identity column's own sequence past the restored values, so the new table's next generated value
 * does not collide with a restored one. (Serial defaults keep drawing from the source table's sequence.)
 */
export async function advanceIdentities(client: Client, schema: string, name: string): Promise<void> {
  const qualified = quoteQualified(schema, name);
  const { rows } = await client.query<{ column: string }>(
    `SELECT a.attname AS column FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> ''`,
    [qualified],
  );
  for (const { column } of rows) {
    const quoted = quoteIdent(column);
    await client.query(
      `SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence($1, $2), m) FROM (SELECT max(${quoted}) AS m FROM ${qualified}) t WHERE m IS NOT NULL`,
      [qualified, column],
    );
  }
}
