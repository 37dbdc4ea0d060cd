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
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import { taskFailureReason } from '../shared/errors';
import type {
  ActivityOutcome,
  CommitTableInput,
  CopyPartitionInput,
  CopyPartitionSummary,
  TableOutcome,
  TablePlan,
  TableProgress,
} from '../shared/migrate/contracts';
import { dropCommand } from '../shared/migrate/handover-names';
import { failedTableOutcome, failedWith, partitionFailureReason } from '../shared/migrate/migration-progress';
import { partitionsBetween } from '../shared/postgres/partition-ranges';
import { activityTask, allActivities, callActivity } from './activity-table';
import { Orchestrations } from './names';

/** The code of a copy or count that found the run's snapshot gone (SnapshotLostError's). */
const SNAPSHOT_LOST = 'SNAPSHOT_LOST';

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
  /** Executions given up because the table's snapshot was lost: the commit removes what they wrote. */
  abandoned?: string[];
}

/**
 * Times a table is copied again from its first partition after its snapshot was lost (a restart, a scale-in);
 * one more loss fails it, so a source whose snapshots keep vanishing cannot loop.
 */
export const SNAPSHOT_RENEWALS = 2;

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
      const lost = answers.find((a) => !a.ok && a.code === SNAPSHOT_LOST);
      if (lost && !lost.ok) return yield* copyAgain(context, { runId, table: plan, resume: cursor }, outcome, lost.reason);
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
    const commit: CommitTableInput = {
      runId,
      execution: cursor.execution,
      table,
      partitions: partitions.length,
      ...(cursor.abandoned ? { abandoned: cursor.abandoned } : {}),
    };
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
    const { targetRows, sourceRows } = counted.value;
    if (counted.value.inSnapshot === true && sourceRows !== targetRows) {
      return failedWith(outcome, `row count check failed: the source holds ${sourceRows} rows in the migration's snapshot but ${targetRows} were committed`);
    }
    if (sourceRows !== targetRows) {
      // Counted now, not in the copy's snapshot: the source may have changed since, or rows were missed or read twice.
      outcome.countDiffers = true;
      const why =
        table.sourceSnapshot === undefined
          ? 'it was not read in one snapshot, so rows written during the copy may be missing or copied twice'
          : 'its snapshot ended before the table could be counted in it, so writes since may explain the difference';
      outcome.warning = `${table.source.name}: ${targetRows} rows committed but the source holds ${sourceRows} now; ${why}: verify it`;
    } else if (table.sourceSnapshot !== undefined && table.sourceSnapshot.generation > 0) {
      outcome.warning = `${table.source.name}: not one snapshot: the run's snapshot was lost, so the table was copied again from its first partition in a snapshot of its own (consistent in itself, not with the tables copied before)`;
    }
    outcome.status = 'committed';
    progress.phase = 'done';
    context.df.setCustomStatus(progress);
    return outcome;
  } catch (error) {
    return failedWith(outcome, taskFailureReason(error));
  }
};

/**
 * The table's snapshot is gone (its holder's process ended): the partitions copied so far must not be mixed with
 * partitions read in another snapshot, so the table starts again from its first partition, in a new execution
 * (receipts and files are per execution) under a new snapshot; it fails when that cannot be had.
 */
function* copyAgain(
  context: OrchestrationContext,
  input: MigrateTableInput & { resume: TableCursor },
  outcome: TableOutcome,
  lostReason: string,
): Generator<Task, TableOutcome | undefined, unknown> {
  const { runId, table, resume } = input;
  const renewals = table.sourceSnapshot?.generation ?? 0;
  if (table.sourceSnapshot === undefined || renewals >= SNAPSHOT_RENEWALS) {
    return failedWith(outcome, `${lostReason}; the table is not copied in more than one snapshot`);
  }
  if (table.sourceSnapshot.cdc !== undefined) {
    // Another snapshot would not meet the slot's stream at its consistent point: the hand-over could not be proven.
    return failedWith(
      outcome,
      `${lostReason}; under change capture the table can only be read in the slot's snapshot: migrate it again in a new run, after ${dropCommand(runId)}`,
    );
  }
  const renewed = yield* callActivity(context, 'renewSnapshot', { runId, generation: renewals + 1, table: table.source });
  if (!renewed.ok) return failedWith(outcome, renewed.reason);
  const next: MigrateTableInput = {
    runId,
    table: { ...table, sourceSnapshot: renewed.value },
    resume: {
      execution: executionToken(context.df.newGuid(`${context.df.instanceId}:snapshot:${renewed.value.generation}`)),
      next: 0,
      rows: 0,
      abandoned: [...(resume.abandoned ?? []), resume.execution],
    },
  };
  context.df.continueAsNew(next);
  return undefined;
}

df.app.orchestration(Orchestrations.migrateTable, migrateTable);
