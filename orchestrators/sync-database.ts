/**
 * syncDatabase: the eternal orchestration of a migrate --cdc run's change capture. Each execution runs one
 * syncBatch activity (a bounded stretch of the sync loop), folds its figures into the status, pauses on a durable
 * timer when the batch found nothing to apply, and continues as new with the small cursor, so its history never
 * grows however long the sync runs. It ends when a stop was asked (the batch found the sync's stop marker), when
 * every table has stopped, or when a batch fails after its retries.
 *
 * A stop is a marker in the warehouse rather than an external event: the batch running when it is asked sees it
 * (an event would wait for the batch to end), and it cannot be lost in continueAsNew, which drops events the
 * execution did not handle.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { taskFailureReason } from '../shared/errors';
import {
  type SyncBatchInput,
  type SyncCursor,
  type SyncDatabaseInput,
  type SyncPhase,
  afterBatch,
  allTablesStopped,
  firstCursor,
  idlePauseEnd,
  syncStatusOf,
} from '../shared/run/sync-run';
import { callActivity } from './activity-table';
import { Orchestrations } from './names';

/** What syncDatabase returns once it ends. */
export interface SyncDatabaseOutput {
  outcome: Extract<SyncPhase, 'stopped' | 'all-tables-stopped'>;
  batches: number;
  changesApplied: number;
  executions: number;
}

/** The orchestration generator. */
export const syncDatabase: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<SyncDatabaseInput>();
  const previous = input.carried;
  let cursor: SyncCursor = previous ? { ...previous, execution: previous.execution + 1 } : firstCursor(context.df.currentUtcDateTime.toISOString());
  context.df.setCustomStatus(syncStatusOf(input.runId, cursor, cursor.batches === 0 ? 'starting' : 'syncing'));
  const batch: SyncBatchInput = {
    syncId: context.df.instanceId,
    runId: input.runId,
    ...(input.namespace === undefined ? {} : { namespace: input.namespace }),
    flushIntervalMs: input.flushIntervalMs,
    batchSeconds: input.batchSeconds,
  };
  let answer;
  try {
    answer = yield* callActivity(context, 'syncBatch', batch);
  } catch (error) {
    // Failed after its retries (the source or the warehouse out of reach for half a minute): the sync fails with
    // its figures kept; posting it again resumes from what the tables hold.
    return fail(context, input.runId, cursor, taskFailureReason(error));
  }
  if (!answer.ok) return fail(context, input.runId, cursor, answer.reason);
  const result = answer.value;
  cursor = afterBatch(cursor, result, context.df.currentUtcDateTime.toISOString());
  if (result.stopRequested) return finish(context, input.runId, cursor, 'stopped');
  // failed: no table is running any more (each one stopped for its own reason, kept in the status).
  if (allTablesStopped(cursor) || result.outcome === 'failed') return finish(context, input.runId, cursor, 'all-tables-stopped');
  const idle = result.outcome === 'caught-up' && result.changesApplied === 0;
  context.df.setCustomStatus(syncStatusOf(input.runId, cursor, idle ? 'idle' : 'syncing'));
  // Only an idle sync waits: one that applied something looks again at once, so a busy source is followed closely.
  if (idle) yield context.df.createTimer(idlePauseEnd(context.df.currentUtcDateTime));
  const next: SyncDatabaseInput = { ...input, carried: cursor };
  context.df.continueAsNew(next);
  return undefined;
};

function finish(context: OrchestrationContext, runId: string, cursor: SyncCursor, outcome: SyncDatabaseOutput['outcome']): SyncDatabaseOutput {
  context.df.setCustomStatus(syncStatusOf(runId, cursor, outcome));
  return { outcome, batches: cursor.batches, changesApplied: cursor.changesApplied, executions: cursor.execution };
}

function fail(context: OrchestrationContext, runId: string, cursor: SyncCursor, reason: string): never {
  context.df.setCustomStatus(syncStatusOf(runId, cursor, 'failed', reason));
  throw new Error(reason);
}

df.app.orchestration(Orchestrations.syncDatabase, syncDatabase);
