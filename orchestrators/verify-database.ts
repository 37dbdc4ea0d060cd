/**
 * verifyDatabase: plan, then one verifyTable sub-orchestration per table with bounded parallelism; the output
 * is the verification report. Progress is the custom status. A migration runs it as its last step.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { taskFailureReason } from '../shared/errors';
import type { ActivityOutcome } from '../shared/migrate/contracts';
import { displayQualified } from '../shared/postgres/identifiers';
import type { TableVerification, VerificationPlan, VerificationProgress, VerificationReport, VerifyDatabaseInput, VerifyTableInput } from '../shared/verify/contracts';
import { failedPlan } from './failed-plan';
import { shortReason } from '../shared/migrate/migration-status';
import { Activities, Orchestrations, tableInstanceId } from './names';
import { activityRetry } from './retry-policy';

/** The orchestration generator. */
export const verifyDatabase: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<VerifyDatabaseInput>();
  const startedAt = context.df.currentUtcDateTime.toISOString();
  const progress: VerificationProgress = { phase: 'planning', level: input.level, tables: { total: 0, started: 0, done: 0, differing: 0, errors: 0 } };
  context.df.setCustomStatus(progress);
  const planned = (yield context.df.callActivityWithRetry(Activities.planVerification, activityRetry(), input)) as ActivityOutcome<VerificationPlan>;
  if (!planned.ok) failedPlan(context, progress, planned.reason);
  const plan = planned.value;
  progress.phase = 'verifying';
  progress.tables.total = plan.tables.length;
  const tables: TableVerification[] = [];
  // Fresh Task.all per batch, never re-yielded (azure-functions-durable-js#574); verifyTable does not fail, but an
  // instance still can (terminated, a host error), and then only that table is reported as an error.
  const width = Math.max(1, input.concurrency);
  for (let start = 0; start < plan.tables.length; start += width) {
    const batch = plan.tables.slice(start, start + width);
    const tasks = batch.map((table, i) => {
      const tableInput: VerifyTableInput = {
        plan: table,
        level: input.level,
        ...(plan.rangesAtOnce !== undefined ? { rangesAtOnce: plan.rangesAtOnce } : {}),
        ...(input.maxDifferences !== undefined ? { maxDifferences: input.maxDifferences } : {}),
        ...(input.samples !== undefined ? { samples: input.samples } : {}),
      };
      return context.df.callSubOrchestrator(Orchestrations.verifyTable, tableInput, tableInstanceId(context.df.instanceId, start + i));
    });
    progress.tables.started = start + batch.length;
    context.df.setCustomStatus(progress);
    try {
      yield context.df.Task.all(tasks);
    } catch {
      for (const task of tasks) {
        if (task.isCompleted || task.isFaulted) continue;
        try {
          yield task;
        } catch {
          // Its reason is read from the task below.
        }
      }
    }
    tasks.forEach((task, i) => {
      const table = batch[i]!;
      const result: TableVerification = task.isCompleted && !task.isFaulted
        ? (task.result as TableVerification)
        : {
            table: displayQualified(table.source.schema, table.source.name),
            target: [...table.target.namespace, table.target.name].join('.'),
            level: input.level,
            status: 'error',
            error: taskFailureReason(task.result),
            schema: [],
            aggregates: [],
            samples: [],
            durationMs: 0,
          };
      tables.push(result);
      progress.tables.done++;
      if (result.status === 'differs') progress.tables.differing++;
      if (result.status === 'error') {
        progress.tables.errors++;
        progress.lastError = shortReason(`${result.table}: ${result.error ?? 'error'}`);
      }
    });
  }
  progress.phase = 'done';
  context.df.setCustomStatus(progress);
  const report: VerificationReport = { level: input.level, source: plan.source, warehouse: plan.warehouse, startedAt, tables, ok: tables.every((t) => t.status === 'ok') };
  return report;
};

df.app.orchestration(Orchestrations.verifyDatabase, verifyDatabase);
