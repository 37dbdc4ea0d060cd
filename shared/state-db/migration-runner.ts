/**
 * Applies the numbered SQL files to a state database. Every runner takes one advisory lock per schema first, so
 * two instances starting together apply each file once and both succeed; each file runs in its own transaction
 * with `search_path` set to the schema and is recorded (version, name, checksum, applied_at) in
 * `<schema>.schema_migrations` in that same transaction. A recorded file whose checksum differs from the file on
 * disk is refused, naming the file, before anything is applied.
 */
import type { ClientBase } from 'pg';
import { IcebridgeError, errorMessage } from '../errors';
import { type MigrationFile, readMigrationFiles } from './migration-files';
import { DEFAULT_STATE_SCHEMA, quotedStateSchema } from './state-schema';

/** Options of `migrateStateDatabase` and `stateDatabaseStatus`. */
export interface StateMigrationOptions {
  /** The schema (default `icebridge`). */
  schema?: string;
  /** The files to apply (default: the package's `migrations/`). */
  files?: readonly MigrationFile[];
}

/** One file as the database sees it. */
export interface MigrationState {
  version: number;
  name: string;
  checksum: string;
  /** applied: recorded and unchanged; pending: not yet applied; changed: applied, then edited; unknown: recorded, no such file here. */
  state: 'applied' | 'pending' | 'changed' | 'unknown';
  /** When it was applied (ISO 8601). */
  appliedAt?: string;
}

/** What a migrate call did. */
export interface StateMigrationResult {
  schema: string;
  /** Files this call applied, in order (empty when the schema was up to date). */
  applied: string[];
  migrations: MigrationState[];
}

/** A migration that cannot be applied: its file changed after it was applied, or its SQL failed. */
export class StateMigrationError extends IcebridgeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('STATE_MIGRATION_FAILED', message, options);
  }
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

/** The text whose `hashtextextended(…, 0)` is the advisory lock key of a schema's migrations. */
export function migrationLockName(schema: string): string {
  return `icebridge.migrations:${schema}`;
}

/** Applies the pending files under the schema's advisory lock; returns what it applied and the resulting state. */
export async function migrateStateDatabase(client: ClientBase, options: StateMigrationOptions = {}): Promise<StateMigrationResult> {
  const schema = options.schema ?? DEFAULT_STATE_SCHEMA;
  const quoted = quotedStateSchema(schema);
  const files = options.files ?? (await readMigrationFiles());
  // A session lock (not a transaction one): it spans the per-file transactions; the key is derived from the schema
  // so two state schemas in one database migrate independently.
  await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [migrationLockName(schema)]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const before = compare(files, await appliedRows(client, quoted));
    const changed = before.filter((m) => m.state === 'changed');
    if (changed.length > 0) throw changedError(changed);
    const applied: string[] = [];
    for (const file of files) {
      if (before.find((m) => m.version === file.version)?.state !== 'pending') continue;
      await applyFile(client, quoted, file);
      applied.push(file.name);
    }
    return { schema, applied, migrations: compare(files, await appliedRows(client, quoted)) };
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [migrationLockName(schema)]).catch(() => undefined);
  }
}

/** The state of every file against the database, without changing anything (all pending when nothing was applied). */
export async function stateDatabaseStatus(client: ClientBase, options: StateMigrationOptions = {}): Promise<MigrationState[]> {
  const schema = options.schema ?? DEFAULT_STATE_SCHEMA;
  const quoted = quotedStateSchema(schema);
  const files = options.files ?? (await readMigrationFiles());
  const { rows } = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [`${quoted}.schema_migrations`]);
  return compare(files, rows[0]?.present ? await appliedRows(client, quoted) : []);
}

/** Refuses when any applied file changed since; the message names every such file. */
export function assertUnchanged(migrations: readonly MigrationState[]): void {
  const changed = migrations.filter((m) => m.state === 'changed');
  if (changed.length > 0) throw changedError(changed);
}

async function applyFile(client: ClientBase, quoted: string, file: MigrationFile): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL search_path TO ${quoted}`);
    await client.query(file.sql);
    await client.query(`INSERT INTO ${quoted}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [file.version, file.name, file.checksum]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new StateMigrationError(`migration ${file.name} failed and was rolled back: ${errorMessage(error)}`, { cause: error });
  }
}

async function appliedRows(client: ClientBase, quoted: string): Promise<AppliedRow[]> {
  const { rows } = await client.query<AppliedRow>(`SELECT version, name, checksum, applied_at FROM ${quoted}.schema_migrations ORDER BY version`);
  return rows;
}

function compare(files: readonly MigrationFile[], rows: readonly AppliedRow[]): MigrationState[] {
  const states: MigrationState[] = files.map((file) => {
    const row = rows.find((r) => r.version === file.version);
    if (row === undefined) return { version: file.version, name: file.name, checksum: file.checksum, state: 'pending' };
    return {
      version: file.version,
      name: file.name,
      checksum: row.checksum,
      state: row.checksum === file.checksum ? 'applied' : 'changed',
      appliedAt: row.applied_at.toISOString(),
    };
  });
  for (const row of rows) {
    if (!files.some((f) => f.version === row.version)) {
      states.push({ version: row.version, name: row.name, checksum: row.checksum, state: 'unknown', appliedAt: row.applied_at.toISOString() });
    }
  }
  return states.sort((a, b) => a.version - b.version);
}

function changedError(changed: readonly MigrationState[]): StateMigrationError {
  return new StateMigrationError(
    `migration ${changed.map((m) => m.name).join(', ')} changed after it was applied (its checksum differs from the one recorded): ` +
      'applied migrations must never be edited; restore the file and put the change in a new numbered file',
  );
}
