/**
 * migrateTable: fan copyPartition out over the table's partitions, then commit them all in one snapshot and
 * check the committed row count. Any partition that fails for good fails the table, and nothing of it is
 * committed. It never throws: its caller gets a failed outcome with the reason instead.
 *
 * Its history stays small at any table size: each copy's references go to a receipt in storage (commitTable
 * reads them) and only counts come back, and after PARTITIONS_PER_EXECUTION partitions the orchestration
 * continues as new with a compact cursor, so no execution replays more than a few hundred activities.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { taskFailureReason } from '../shared/errors';
import type { ActivityOutcome, CommitTableInput, CopyPartitionInput, CopyPartitionSummary, TablePlan, TableProgress } from '../shared/migrate/contracts';
import { failedTableOutcome, failedWith, partitionFailureReason } from '../shared/migrate/migration-progress';
import { partitionsBetween } from '../shared/postgres/partition-ranges';
import { activityTask, allActivities, callActivity } from './activity-table';
import { Orchestrations } from './names';

/** Input of migrateTable. */
export interface MigrateTableInput {
  runId: string;
  table: TablePlan;
  /** Where the previous execution left off; only set by the orchestration itself when it continues as new. */
  resume?: TableCursor;
}

/** What one execution of migrateTable hands the next: figures, never results. */
export interface TableCursor {
  /** Token of this table's migration, the same in every execution: scopes file names, receipts and the commit. */
  execution: string;
  /** Partitions copied so far (0 .. next - 1). */
  next: number;
  rows: number;
}

/** Partitions scheduled per Task.all: progress is reported between batches. */
const PARTITION_BATCH = 8;

/**
 * Partitions copied per orchestration execution before it continues as new: 258 actions and about 650 history
 * events, which every episode replays, far below the 100,000 actions an execution may schedule.
 */
export const PARTITIONS_PER_EXECUTION = 256;

/** A replay-safe GUID as the 16 hex digits file names carry. */
function executionToken(guid: string): string {
  return guid.replace(/-/g, '').toLowerCase().slice(0, 16);
}

/** The orchestration generator. */
export const migrateTable: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { runId, table: plan, resume } = context.df.getInput<MigrateTableInput>();
  const { partitions, ...table } = plan;
  // newGuid is derived from the instance id and the first episode's time, so a run id started again after its
  // history was purged gets another token, and a replay gets the same one.
  const cursor: TableCursor = resume ?? { execution: executionToken(context.df.newGuid(context.df.instanceId)), next: 0, rows: 0 };
  const outcome = failedTableOutcome(table, partitions.length);
  const progress: TableProgress = {
    table: table.source.name,
    phase: 'copying',
    partitions: { total: partitions.length, done: cursor.next },
    rows: cursor.rows,
    estimatedRows: table.estimatedRows,
  };
  context.df.setCustomStatus(progress);
  try {
    const failures: string[] = [];
    const stop = Math.min(partitions.length, cursor.next + PARTITIONS_PER_EXECUTION);
    while (cursor.next < stop) {
      const tasks = partitionsBetween(partitions, cursor.next, Math.min(stop, cursor.next + PARTITION_BATCH)).map((partition) => {
        const input: CopyPartitionInput = { runId, execution: cursor.execution, table, partition };
        return activityTask(context, 'copyPartition', input);
      });
      let answers: Array<ActivityOutcome<CopyPartitionSummary>>;
      try {
        answers = yield* allActivities(context, tasks);
      } catch (error) {
        // A partition failed even after its retries; the table fails, and nothing of it is committed.
        return failedWith(outcome, `copying failed after retries: ${taskFailureReason(error)}`);
      }
      for (const answer of answers) {
        if (!answer.ok) failures.push(answer.reason);
        else {
          cursor.next++;
          cursor.rows += answer.value.rows;
        }
      }
      progress.partitions.done = cursor.next;
      progress.rows = cursor.rows;
      context.df.setCustomStatus(progress);
      if (failures.length > 0) break;
    }
    if (failures.length > 0) return failedWith(outcome, partitionFailureReason(failures));
    if (cursor.next < partitions.length) {
      const next: MigrateTableInput = { runId, table: plan, resume: cursor };
      context.df.continueAsNew(next);
      return undefined;
    }

    progress.phase = 'committing';
    context.df.setCustomStatus(progress);
    const commit: CommitTableInput = { runId, execution: cursor.execution, table, partitions: partitions.length };
    const committed = yield* callActivity(context, 'commitTable', commit);
    if (!committed.ok) return failedWith(outcome, committed.reason);
    outcome.snapshotId = committed.value.snapshotId;
    outcome.rows = committed.value.rows;
    outcome.files = committed.value.files;

    progress.phase = 'counting';
    context.df.setCustomStatus(progress);
    const counted = yield* callActivity(context, 'countRows', { table, snapshotId: committed.value.snapshotId });
    if (!counted.ok) return failedWith(outcome, counted.reason);
    outcome.sourceRows = counted.value.sourceRows;
    if (counted.value.targetRows !== cursor.rows) {
      return failedWith(outcome, `row count check failed: ${cursor.rows} rows copied but the snapshot holds ${counted.value.targetRows}`);
    }
    outcome.status = 'committed';
    progress.phase = 'done';
    context.df.setCustomStatus(progress);
    return outcome;
  } catch (error) {
    return failedWith(outcome, taskFailureReason(error));
  }
};

df.app.orchestration(Orchestrations.migrateTable, migrateTable);
