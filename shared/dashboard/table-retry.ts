/**
 * Retrying one failed table of a finished migration: a new migrateDatabase run of that table alone, with the
 * original request's settings, under an id derived from the run and the table. The same id every time makes the
 * retry idempotent (a retry in flight or committed is not started twice) and lets the dashboard find it without
 * storing anything. A run of its own re-plans the table (the original plan's snapshot and page ranges are gone),
 * takes a fresh snapshot, commits by overwrite and verifies at the original level, all through the machinery
 * every migration uses. Pure.
 */
import { createHash } from 'node:crypto';
import type { MigrateDatabaseInput, TableOutcome } from '../migrate/contracts';
import { type InstanceSnapshot, isFinished } from '../run/instance-status';

/** The answer to a retry request that cannot start: the HTTP status and the reason. */
export interface RetryRefusal {
  status: 400 | 404 | 409;
  reason: string;
}

/** A retry that may start: its run id and input. */
export interface RetryStart {
  retryId: string;
  input: MigrateDatabaseInput;
}

const RUN_ID_MAX = 64;

function digest(text: string, length: number): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, length);
}

/**
 * The run id of the retry of `table` from the run `runId`: `<runId>-retry-<8 hex of the table>`, a valid run id
 * (a too long `runId` is replaced by a digest of it). A retry run's own retry of the same table is the same id.
 */
export function retryRunId(runId: string, table: string): string {
  const suffix = `-retry-${digest(table, 8)}`;
  const base = runId.endsWith(suffix) ? runId.slice(0, -suffix.length) : runId;
  return base.length + suffix.length <= RUN_ID_MAX ? `${base}${suffix}` : `r${digest(base, 24)}${suffix}`;
}

/** What migrateDatabase's output says of its tables (the part a retry reads). */
interface RunOutput {
  tables?: TableOutcome[];
}

/**
 * The retry of `table` from the migration `runId` whose status (read with its input) is `run`, or why it cannot
 * be retried: the run must have finished, the table must have failed in it, and the run must not hand over to
 * change capture (a second slot would not meet the first one's stream).
 */
export function planTableRetry(runId: string, run: InstanceSnapshot, table: string): RetryStart | RetryRefusal {
  if (!isFinished(run.runtimeStatus)) return { status: 409, reason: `the migration ${runId} is still running; retry its tables once it has finished` };
  const input = run.input as Partial<MigrateDatabaseInput> | undefined;
  if (input?.sourceSchema === undefined || input.namespace === undefined) {
    return { status: 409, reason: `the request of the migration ${runId} is no longer recorded; start a new migration of ${table}` };
  }
  if (input.cdc === true) {
    return {
      status: 409,
      reason: `the migration ${runId} hands over to change capture: a table of it cannot be copied again alone; start a new migration with cdc`,
    };
  }
  const outcome = ((run.output ?? {}) as RunOutput).tables?.find((t) => t.table === table);
  // A run that failed or was cancelled as a whole may not name the table in an output: it then failed too.
  const failed = outcome === undefined ? run.runtimeStatus !== 'Completed' && tableRequested(input, table) : outcome.status === 'failed';
  if (outcome === undefined && !failed) return { status: 404, reason: `the migration ${runId} has no table ${table}` };
  if (!failed) return { status: 409, reason: `the table ${table} was committed by the migration ${runId}; there is nothing to retry` };
  const config = input.tableConfig?.[table];
  const retry: MigrateDatabaseInput = {
    runId: retryRunId(runId, table),
    sourceSchema: input.sourceSchema,
    namespace: input.namespace,
    tables: [table],
    concurrency: 1,
    ...(config ? { tableConfig: { [table]: config } } : {}),
    ...(input.partitionSizeInBytes !== undefined ? { partitionSizeInBytes: input.partitionSizeInBytes } : {}),
    ...(input.verify !== undefined ? { verify: input.verify } : {}),
  };
  return { retryId: retry.runId, input: retry };
}

function tableRequested(input: Partial<MigrateDatabaseInput>, table: string): boolean {
  return input.tables === undefined || input.tables.includes(table);
}

/** Where an earlier retry of the table stands. */
export type RetryState = 'none' | 'running' | 'committed' | 'failed';

/** The state of the retry run `retry` (undefined: there is none) for `table`. */
export function retryState(retry: InstanceSnapshot | undefined, table: string): RetryState {
  if (retry === undefined) return 'none';
  if (!isFinished(retry.runtimeStatus)) return 'running';
  const outcome = ((retry.output ?? {}) as RunOutput).tables?.find((t) => t.table === table);
  return retry.runtimeStatus === 'Completed' && outcome?.status === 'committed' ? 'committed' : 'failed';
}
