/**
 * migrateDatabase: plan, then one migrateTable sub-orchestration per table in foreign-key order with bounded
 * parallelism. A table that fails is reported and the others go on. Progress is the custom status.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { taskFailureReason } from '../shared/errors';
import type { MigrateDatabaseInput, TableOutcome } from '../shared/migrate/contracts';
import type { VerificationOutcome, VerificationReport, VerifyDatabaseInput } from '../shared/verify/contracts';
import type { MigrationVerificationOutcome } from '../shared/migrate/migration-status';
import { failedPlan } from './failed-plan';
import { failedTableOutcome, finishTable, planningProgress, startCopying } from '../shared/migrate/migration-progress';
import { shortReason } from '../shared/run/instance-status';
import { callActivity } from './activity-table';
import { Orchestrations, tableInstanceId, verificationInstanceId } from './names';
import { settleBatch } from './settle-batch';

/** Output of migrateDatabase. */
export interface MigrateDatabaseOutput {
  runId: string;
  tables: TableOutcome[];
  cycles: string[][];
  /**
   * Verification of the committed tables, when asked for and it ran to the end: its id and figures only (its
   * per-table outcome is the verification's own output, its whole report is in storage).
   */
  verification?: MigrationVerificationOutcome;
  /** Why the verification could not run to the end. */
  verificationError?: string;
}

/** A table's plan as its copies and commit need it: its warnings are for people, not for every activity input. */
function withoutWarnings<T extends { warnings?: string[] }>(table: T): Omit<T, 'warnings'> {
  const { warnings: _shown, ...rest } = table;
  return rest;
}

/** The orchestration generator. */
export const migrateDatabase: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<MigrateDatabaseInput>();
  const progress = planningProgress();
  context.df.setCustomStatus(progress);
  const planned = yield* callActivity(context, 'planMigration', input);
  if (!planned.ok) {
    // A --cdc planning that failed after its retries may leave its slot behind, holding the source's WAL for ever.
    if (input.cdc) yield* callActivity(context, 'releaseSnapshot', { runId: input.runId, dropHandover: true });
    failedPlan(context, progress, planned.reason);
  }
  const plan = planned.value;
  const outcomes = startCopying(progress, plan);

  // Tables go in foreign-key order, `concurrency` at a time, each batch a fresh Task.all. migrateTable returns
  // failed outcomes rather than failing, but an instance can still fail (terminated, a host error).
  const width = Math.max(1, input.concurrency);
  for (let start = 0; start < plan.tables.length; start += width) {
    const batch = plan.tables.slice(start, start + width);
    const tasks = batch.map((table, i) =>
      context.df.callSubOrchestrator(
        Orchestrations.migrateTable,
        { runId: input.runId, table: withoutWarnings(table) },
        tableInstanceId(context.df.instanceId, start + i),
      ),
    );
    progress.tables.started = start + batch.length;
    context.df.setCustomStatus(progress);
    const failure = yield* settleBatch(context, tasks);
    const results = tasks.map((task, i): TableOutcome =>
      task.isCompleted && !task.isFaulted
        ? (task.result as TableOutcome)
        : failedTableOutcome(batch[i]!, 0, taskFailureReason(task.isFaulted ? task.result : failure)),
    );
    for (const result of results) outcomes.push(finishTable(progress, result));
  }
  // Copies and counts are done: the snapshot (and the locks that make DDL wait) go now, before the verification,
  // whichever way the tables ended.
  if (plan.snapshot !== undefined) {
    try {
      yield* callActivity(context, 'releaseSnapshot', { runId: input.runId });
    } catch (error) {
      progress.lastError = shortReason(`the source snapshot could not be released: ${taskFailureReason(error)}`);
    }
  }
  const output: MigrateDatabaseOutput = { runId: input.runId, tables: outcomes, cycles: plan.cycles };
  const committed = outcomes.filter((o) => o.status === 'committed' && o.snapshotId !== undefined);
  const level = input.verify ?? 'none';
  if (level !== 'none' && committed.length > 0) {
    // The snapshots this run committed are verified, whatever has been committed to the tables since.
    const verificationId = verificationInstanceId(context.df.instanceId);
    const verifyInput: VerifyDatabaseInput = {
      verificationId,
      sourceSchema: input.sourceSchema,
      namespace: input.namespace,
      tables: committed.map((o) => o.table),
      level,
      concurrency: input.concurrency,
      snapshots: Object.fromEntries(committed.map((o) => [o.table, o.snapshotId!])),
      ...(input.tableConfig ? { tableConfig: verifyConfig(input.tableConfig) } : {}),
    };
    progress.phase = 'verifying';
    progress.verificationId = verificationId;
    context.df.setCustomStatus(progress);
    try {
      // The whole report when the verification was planned before reports were stored.
      const outcome = (yield context.df.callSubOrchestrator(Orchestrations.verifyDatabase, verifyInput, verificationId)) as
        VerificationOutcome | VerificationReport;
      output.verification = {
        id: verificationId,
        level: outcome.level,
        ok: outcome.ok,
        ...('reports' in outcome ? { reports: outcome.reports } : {}),
        tables: {
          total: outcome.tables.length,
          differing: outcome.tables.filter((t) => t.status === 'differs').length,
          errors: outcome.tables.filter((t) => t.status === 'error').length,
        },
      };
    } catch (error) {
      output.verificationError = taskFailureReason(error);
      progress.lastError = shortReason(`verification failed: ${output.verificationError}`);
    }
  }
  progress.phase = 'done';
  context.df.setCustomStatus(progress);
  return output;
};

/** The parts of the tables' configuration a verification honours. */
function verifyConfig(config: NonNullable<MigrateDatabaseInput['tableConfig']>): NonNullable<VerifyDatabaseInput['tableConfig']> {
  return Object.fromEntries(
    Object.entries(config).map(([table, c]) => [
      table,
      {
        ...(c.targetName !== undefined ? { targetName: c.targetName } : {}),
        ...(c.key !== undefined ? { key: c.key } : {}),
        ...(c.excludeColumns !== undefined ? { excludeColumns: c.excludeColumns } : {}),
      },
    ]),
  );
}

df.app.orchestration(Orchestrations.migrateDatabase, migrateDatabase);
