/**
 * The transaction log: one row in `<schema>.transaction_log` for every action that changes what icebridge or its
 * users see (a migration's start and end, a flag flip, an emergency rollback, a table rollback, a restore, drift
 * found, a scheduled job's result), with actor, reason, before and after, time and a correlation id.
 *
 * Recording never fails the action it records: without a configured state database it does nothing, and when the
 * write fails the failure is logged (without secrets) and counted (`transactionLogFigures`), and the action goes on.
 */
import type { Client } from 'pg';
import { ValidationError, errorMessage } from '../errors';
import type { JobResult } from '../run/job-results';
import { migrateOnce } from './start-up';
import { withStateDatabase } from './state-connection';
import { quotedStateSchema } from './state-schema';
import { type StateDatabaseSettings, stateDatabaseFromEnv } from './state-settings';

/** What kind of action a log row records. */
export type ActionKind =
  | 'migration.start'
  | 'migration.end'
  | 'flag.set'
  | 'flag.rollback'
  | 'table.rollback'
  | 'restore'
  | 'drift.found'
  | 'job'
  | 'clickhouse.backup'
  | 'clickhouse.restore'
  | 'weaviate.resync'
  | 'kafka.offsets.reset';

/** Every kind, for validating filters. */
export const ACTION_KINDS: readonly ActionKind[] = [
  'migration.start',
  'migration.end',
  'flag.set',
  'flag.rollback',
  'table.rollback',
  'restore',
  'drift.found',
  'job',
  'weaviate.resync',
  'clickhouse.backup',
  'clickhouse.restore',
  'kafka.offsets.reset',
];

/** One action to record. */
export interface Action {
  kind: ActionKind;
  /** Who: an operator's principal or user name, or the part of icebridge that acted (`migration`, `timer`). */
  actor: string;
  reason?: string;
  /** What it acted on: a table (`schema.name`), a flag, a job. */
  subject?: string;
  /** State before and after, as JSON (null: nothing). */
  before?: unknown;
  after?: unknown;
  /** Ties the rows of one operation together: a run id, an instance id. */
  correlationId?: string;
  /** When it happened (ISO 8601); default: when it is written. */
  at?: string;
}

/** A recorded action, as `listActions` answers it. */
export interface RecordedAction extends Action {
  /** Its row id (a decimal string: the column is 64-bit). */
  id: string;
  at: string;
}

/** Where to record; default: the state database of `process.env`. */
export interface TransactionLogOptions {
  /** The state database; null records nothing. */
  database?: StateDatabaseSettings | null;
  /** Where a failure to record is reported (default: a warning on the console). */
  warn?: (message: string) => void;
}

const figures = { recorded: 0, failed: 0 };
const REASON_LENGTH = 2_000;
const SUBJECT_LENGTH = 500;

/** How many state writes (actions, checkpoints) this process made, and how many failed. */
export function transactionLogFigures(): Readonly<typeof figures> {
  return { ...figures };
}

/** Records an action; answers whether a row was written. Never throws. */
export function recordAction(action: Action, options: TransactionLogOptions = {}): Promise<boolean> {
  return recordActions([action], options);
}

/** Records several actions in one session (one connection, one transaction); answers whether they were written. Never throws. */
export async function recordActions(actions: readonly Action[], options: TransactionLogOptions = {}): Promise<boolean> {
  if (actions.length === 0) return true;
  const first = actions[0]!;
  const what = `${first.kind}${first.subject ? ` of ${first.subject}` : ''}${actions.length > 1 ? ` and ${actions.length - 1} more` : ''}`;
  return writeState(what, options, async (client, schema) => {
    await client.query('BEGIN');
    try {
      for (const action of actions) {
        await client.query(
          `INSERT INTO ${schema}.transaction_log (at, kind, actor, reason, subject, before, after, correlation_id)
           VALUES (coalesce($1::timestamptz, now()), $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8)`,
          [
            action.at ?? null,
            action.kind,
            action.actor.slice(0, SUBJECT_LENGTH),
            action.reason?.slice(0, REASON_LENGTH) ?? null,
            action.subject?.slice(0, SUBJECT_LENGTH) ?? null,
            jsonText(action.before),
            jsonText(action.after),
            action.correlationId ?? null,
          ],
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/**
 * One write to the state database that must not fail its caller: nothing without a state database, and a failure
 * logged (naming `what`, never a secret) and counted. Answers whether it was written.
 */
export async function writeState(
  what: string,
  options: TransactionLogOptions,
  work: (client: Client, quotedSchema: string) => Promise<unknown>,
): Promise<boolean> {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  try {
    const database = options.database === undefined ? stateDatabaseFromEnv() : options.database;
    if (!database) return false;
    if (database.migrateOnStart) await migrateOnce(database);
    const schema = quotedStateSchema(database.schema);
    await withStateDatabase(database, (client) => work(client, schema));
    figures.recorded++;
    return true;
  } catch (error) {
    figures.failed++;
    warn(`icebridge: the state database did not record ${what} (${figures.failed} failed so far): ${errorMessage(error)}`);
    return false;
  }
}

/** Filter of `listActions`. */
export interface ActionFilter {
  kind?: ActionKind;
  /** Actions on this table (or other subject). */
  table?: string;
  /** Rows by correlation id (a run id). */
  correlationId?: string;
  /** The newest N (default 50, at most 1,000). */
  limit?: number;
}

/** The newest actions first, as the dashboard's history shows them. */
export async function listActions(filter: ActionFilter, database: StateDatabaseSettings): Promise<RecordedAction[]> {
  const limit = filter.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1_000) throw new ValidationError(`limit must be an integer from 1 to 1000, got ${limit}`);
  if (filter.kind !== undefined && !ACTION_KINDS.includes(filter.kind)) throw new ValidationError(`unknown action kind ${JSON.stringify(filter.kind)}`);
  const schema = quotedStateSchema(database.schema);
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (column: string, value: string | undefined): void => {
    if (value === undefined) return;
    values.push(value);
    where.push(`${column} = $${values.length}`);
  };
  add('kind', filter.kind);
  add('subject', filter.table);
  add('correlation_id', filter.correlationId);
  values.push(limit);
  const { rows } = await withStateDatabase(database, (client) =>
    client.query<{
      id: string;
      at: Date;
      kind: ActionKind;
      actor: string;
      reason: string | null;
      subject: string | null;
      before: unknown;
      after: unknown;
      correlation_id: string | null;
    }>(
      `SELECT id::text AS id, at, kind, actor, reason, subject, before, after, correlation_id FROM ${schema}.transaction_log
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT $${values.length}`,
      values,
    ),
  );
  return rows.map((r) => ({
    id: r.id,
    at: r.at.toISOString(),
    kind: r.kind,
    actor: r.actor,
    ...(r.reason === null ? {} : { reason: r.reason }),
    ...(r.subject === null ? {} : { subject: r.subject }),
    before: r.before,
    after: r.after,
    ...(r.correlation_id === null ? {} : { correlationId: r.correlation_id }),
  }));
}

// The shapes below are the parts of the flags' and tables' audit entries and of a restore's result that the log
// keeps. They are declared here, not imported: those modules call this one, and folders must not import each other.

/** A flag change as its audit entry holds it (shared/flags/audit-trail.ts). */
export interface FlagChangeEntry {
  at: string;
  actor: string;
  action: 'set' | 'rollback';
  reason: string;
  flag: string;
  label?: string;
  before: unknown;
  after: unknown;
  etagAfter: string;
}

/** A change of a table's history as its audit entry holds it (shared/restore/table-audit.ts). */
export interface TableChangeEntry {
  at: string;
  actor: string;
  reason: string;
  table: string;
  before: string | null;
  after: string;
  stoppedSlot?: string;
}

/** What a restore of one table reports (shared/restore/restore-table.ts). */
export interface RestoreOutcome {
  table: string;
  restoredInto: string;
  icebergTable: string;
  snapshotId: string;
  rows: string;
  ok: boolean;
  backupTable?: string;
}

/** Records flag changes from their audit entries (a `set`, or the flags of one emergency rollback, which share a correlation id). */
export function recordFlagChanges(entries: readonly FlagChangeEntry[], options?: TransactionLogOptions): Promise<boolean> {
  return recordActions(
    entries.map((entry) => ({
      kind: entry.action === 'rollback' ? 'flag.rollback' : 'flag.set',
      actor: entry.actor,
      reason: entry.reason,
      subject: entry.label === undefined ? entry.flag : `${entry.flag}@${entry.label}`,
      before: entry.before,
      after: entry.after,
      ...(entry.action === 'rollback' ? { correlationId: `rollback:${entry.at}` } : {}),
      at: entry.at,
    })),
    options,
  );
}

/** Records a change to a table's history (a snapshot rollback) from its audit entry. */
export function recordTableChange(entry: TableChangeEntry, options?: TransactionLogOptions): Promise<boolean> {
  return recordAction(
    {
      kind: 'table.rollback',
      actor: entry.actor,
      reason: entry.reason,
      subject: entry.table,
      before: { snapshotId: entry.before },
      after: { snapshotId: entry.after, ...(entry.stoppedSlot ? { stoppedSlot: entry.stoppedSlot } : {}) },
      at: entry.at,
    },
    options,
  );
}

/** Records a scheduled job's result: `drift.found` for a drift run with findings, `job` for every other. */
export function recordJobAction(result: JobResult, options?: TransactionLogOptions): Promise<boolean> {
  const { job, slot, status, summary, figures: counts, reports, error } = result;
  return recordAction(
    {
      kind: job === 'drift' && status === 'findings' ? 'drift.found' : 'job',
      actor: 'timer',
      reason: summary,
      subject: job,
      after: { slot, status, figures: counts, ...(reports ? { reports } : {}), ...(error ? { error } : {}) },
      correlationId: result.instanceId,
      at: result.finishedAt,
    },
    options,
  );
}

/** Records a table restored from a snapshot; answers `result` unchanged. */
export async function recordRestore<T extends RestoreOutcome>(result: T, options?: TransactionLogOptions): Promise<T> {
  await recordAction(
    {
      kind: 'restore',
      actor: 'restore',
      subject: result.table,
      after: {
        restoredInto: result.restoredInto,
        icebergTable: result.icebergTable,
        snapshotId: result.snapshotId,
        rows: result.rows,
        ok: result.ok,
        ...(result.backupTable ? { backupTable: result.backupTable } : {}),
      },
    },
    options,
  );
  return result;
}

// 64-bit figures travel as decimal strings, as everywhere else in the product.
function jsonText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
