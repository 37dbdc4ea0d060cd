/**
 * migrateDatabase: plan, then one migrateTable sub-orchestration per table in foreign-key order with bounded
 * parallelism. A table that fails is reported and the others go on. Progress is the custom status.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import { errorMessage } from '../shared/errors';
import type { ActivityOutcome, MigrateDatabaseInput, MigrationPlan, MigrationProgress, TableOutcome } from '../shared/migrate/contracts';
import { Activities, Orchestrations } from './names';
import { activityRetry } from './retry-policy';

/** Output of migrateDatabase. */
export interface MigrateDatabaseOutput {
  runId: string;
  tables: TableOutcome[];
  cycles: string[][];
}

/** The orchestration generator. */
export const migrateDatabase: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<MigrateDatabaseInput>();
  const progress: MigrationProgress = {
    phase: 'planning',
    tables: { total: 0, done: 0, failed: 0 },
    partitions: { total: 0, done: 0 },
    rows: 0,
    failures: [],
    tableInstances: {},
  };
  context.df.setCustomStatus(progress);
  const planned = (yield context.df.callActivityWithRetry(Activities.planMigration, activityRetry(), input)) as ActivityOutcome<MigrationPlan>;
  if (!planned.ok) {
    progress.phase = 'done';
    progress.lastError = planned.reason;
    context.df.setCustomStatus(progress);
    throw new Error(planned.reason);
  }
  const plan = planned.value;
  const outcomes: TableOutcome[] = plan.failures.map((f) => ({ table: f.table, target: f.table, status: 'failed', rows: 0, files: 0, partitions: 0, reason: f.reason }));
  progress.phase = 'copying';
  progress.tables.total = plan.tables.length + plan.failures.length;
  progress.tables.failed = plan.failures.length;
  progress.failures = [...plan.failures];
  progress.partitions.total = plan.tables.reduce((n, t) => n + t.partitions.length, 0);
  if (plan.failures.length > 0) progress.lastError = plan.failures.at(-1)!.reason;

  const queue = [...plan.tables];
  const running = new Map<Task, string>();
  let started = 0;
  while (queue.length > 0 || running.size > 0) {
    while (running.size < Math.max(1, input.concurrency) && queue.length > 0) {
      const table = queue.shift()!;
      const instanceId = `${context.df.instanceId}:table:${started++}`;
      progress.tableInstances[table.source.name] = instanceId;
      running.set(context.df.callSubOrchestrator(Orchestrations.migrateTable, { runId: input.runId, table }, instanceId), table.source.name);
    }
    context.df.setCustomStatus(progress);
    const finished = (yield context.df.Task.any([...running.keys()])) as Task;
    const name = running.get(finished)!;
    running.delete(finished);
    const outcome: TableOutcome = finished.isFaulted
      ? { table: name, target: name, status: 'failed', rows: 0, files: 0, partitions: 0, reason: errorMessage(finished.result) }
      : (finished.result as TableOutcome);
    outcomes.push(outcome);
    progress.tables.done++;
    progress.rows += outcome.rows;
    progress.partitions.done += outcome.partitions;
    if (outcome.status === 'failed') {
      progress.tables.failed++;
      progress.failures.push({ table: name, reason: outcome.reason ?? 'failed' });
      progress.lastError = outcome.reason;
    }
  }
  progress.phase = 'done';
  context.df.setCustomStatus(progress);
  const output: MigrateDatabaseOutput = { runId: input.runId, tables: outcomes, cycles: plan.cycles };
  return output;
};

df.app.orchestration(Orchestrations.migrateDatabase, migrateDatabase);
