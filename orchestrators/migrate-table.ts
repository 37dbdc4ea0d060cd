/**
 * migrateTable: fan copyPartition out over the table's partitions, collect every result, then commit them all
 * in one snapshot and check the committed row count. Any partition that fails for good fails the table, and
 * nothing of it is committed. It never throws: its caller gets a failed outcome with the reason instead.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import { taskFailureReason } from '../shared/errors';
import type {
  ActivityOutcome,
  CommitTableResult,
  CopyPartitionResult,
  CountRowsResult,
  TableOutcome,
  TablePlan,
  TableProgress,
} from '../shared/migrate/contracts';
import { Activities, Orchestrations } from './names';
import { activityRetry } from './retry-policy';

/** Input of migrateTable. */
export interface MigrateTableInput {
  runId: string;
  table: TablePlan;
}

/** Partitions scheduled per Task.all: progress is reported between batches. */
const PARTITION_BATCH = 8;

/** The orchestration generator. */
export const migrateTable: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { runId, table: plan } = context.df.getInput<MigrateTableInput>();
  const { partitions, ...table } = plan;
  const outcome: TableOutcome = {
    table: table.source.name,
    target: [...table.target.namespace, table.target.name].join('.'),
    status: 'failed',
    rows: 0,
    files: 0,
    partitions: partitions.length,
  };
  const progress: TableProgress = { table: table.source.name, phase: 'copying', partitions: { total: partitions.length, done: 0 }, rows: 0, estimatedRows: table.estimatedRows };
  context.df.setCustomStatus(progress);
  try {
    const results: CopyPartitionResult[] = [];
    const failures: string[] = [];
    for (let start = 0; start < partitions.length; start += PARTITION_BATCH) {
      const tasks: Task[] = partitions
        .slice(start, start + PARTITION_BATCH)
        .map((partition) => context.df.callActivityWithRetry(Activities.copyPartition, activityRetry(), { runId, table, partition }));
      let answers: Array<ActivityOutcome<CopyPartitionResult>>;
      try {
        answers = (yield context.df.Task.all(tasks)) as Array<ActivityOutcome<CopyPartitionResult>>;
      } catch (error) {
        // A partition failed even after its retries; the table fails, and nothing of it is committed.
        outcome.reason = `copying failed after retries: ${taskFailureReason(error)}`;
        return outcome;
      }
      for (const answer of answers) {
        if (!answer.ok) failures.push(answer.reason);
        else {
          results.push(answer.value);
          progress.rows += answer.value.rows;
        }
      }
      progress.partitions.done = results.length;
      context.df.setCustomStatus(progress);
      if (failures.length > 0) break;
    }
    if (failures.length > 0) {
      outcome.reason = failures.length === 1 ? failures[0] : `${failures.length} partitions failed; first: ${failures[0]}`;
      return outcome;
    }

    progress.phase = 'committing';
    context.df.setCustomStatus(progress);
    const committed = (yield context.df.callActivityWithRetry(Activities.commitTable, activityRetry(), { runId, table, results })) as ActivityOutcome<CommitTableResult>;
    if (!committed.ok) {
      outcome.reason = committed.reason;
      return outcome;
    }
    outcome.snapshotId = committed.value.snapshotId;
    outcome.rows = committed.value.rows;
    outcome.files = committed.value.files;

    progress.phase = 'counting';
    context.df.setCustomStatus(progress);
    const counted = (yield context.df.callActivityWithRetry(Activities.countRows, activityRetry(), { table, snapshotId: committed.value.snapshotId })) as ActivityOutcome<CountRowsResult>;
    if (!counted.ok) {
      outcome.reason = counted.reason;
      return outcome;
    }
    outcome.sourceRows = counted.value.sourceRows;
    const copied = results.reduce((n, r) => n + r.rows, 0);
    if (counted.value.targetRows !== copied) {
      outcome.reason = `row count check failed: ${copied} rows copied but the snapshot holds ${counted.value.targetRows}`;
      return outcome;
    }
    outcome.status = 'committed';
    progress.phase = 'done';
    context.df.setCustomStatus(progress);
    return outcome;
  } catch (error) {
    outcome.reason = taskFailureReason(error);
    return outcome;
  }
};

df.app.orchestration(Orchestrations.migrateTable, migrateTable);
