/**
 * verifyDatabase: plan, then one verifyTable sub-orchestration per table with bounded parallelism; the output
 * is a compact outcome: figures per table and where each table's whole report is kept (report-store.ts).
 * Progress is the custom status. A migration runs it as its last step.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { taskFailureReason } from '../shared/errors';
import type {
  TableVerification,
  TableVerificationSummary,
  VerificationOutcome,
  VerificationReport,
  VerifiedTableSummary,
  VerifyDatabaseInput,
  VerifyTableInput,
} from '../shared/verify/contracts';
import { summarizeTableVerification, tableReportLocation } from '../shared/verify/reports/table-summary';
import { failedTableSummary, finishTable, planningProgress } from '../shared/verify/status/verification-progress';
import { failedPlan } from './failed-plan';
import { callActivity } from './activity-table';
import { Orchestrations, tableInstanceId } from './names';
import { settleBatch } from './settle-batch';

/** The orchestration generator. */
export const verifyDatabase: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<VerifyDatabaseInput>();
  const startedAt = context.df.currentUtcDateTime.toISOString();
  const progress = planningProgress(input.level);
  context.df.setCustomStatus(progress);
  const planned = yield* callActivity(context, 'planVerification', input);
  if (!planned.ok) failedPlan(context, progress, planned.reason);
  const plan = planned.value;
  progress.phase = 'verifying';
  progress.tables.total = plan.tables.length;
  const tables: VerifiedTableSummary[] = [];
  // A plan made before reports were stored names no folder: its tables come back whole and the output stays the
  // whole report, as it was then.
  const wholeTables: TableVerification[] = [];
  // A fresh Task.all per batch; verifyTable does not fail, but an instance still can (terminated, a host error),
  // and then only that table is reported as an error.
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
        ...(plan.reports !== undefined ? { reportLocation: tableReportLocation(plan.reports, start + i) } : {}),
      };
      return context.df.callSubOrchestrator(Orchestrations.verifyTable, tableInput, tableInstanceId(context.df.instanceId, start + i));
    });
    progress.tables.started = start + batch.length;
    context.df.setCustomStatus(progress);
    yield* settleBatch(context, tasks);
    tasks.forEach((task, i) => {
      const table = batch[i]!;
      // A table verified before reports were stored returns its whole verification: only its figures are kept.
      const returned = task.result as TableVerificationSummary | TableVerification;
      const summary: TableVerificationSummary =
        task.isCompleted && !task.isFaulted
          ? 'schema' in returned
            ? summarizeTableVerification(returned)
            : returned
          : failedTableSummary(table, input.level, taskFailureReason(task.result));
      const result: VerifiedTableSummary = { index: start + i, ...summary };
      tables.push(result);
      if (plan.reports === undefined)
        wholeTables.push('schema' in returned && task.isCompleted && !task.isFaulted ? returned : { ...summary, schema: [], aggregates: [], samples: [] });
      finishTable(progress, result);
    });
  }
  progress.phase = 'done';
  context.df.setCustomStatus(progress);
  if (plan.reports === undefined) {
    return {
      level: input.level,
      source: plan.source,
      warehouse: plan.warehouse,
      startedAt,
      tables: wholeTables,
      ok: wholeTables.every((t) => t.status === 'ok'),
    } satisfies VerificationReport;
  }
  const outcome: VerificationOutcome = {
    verificationId: input.verificationId,
    level: input.level,
    source: plan.source,
    warehouse: plan.warehouse,
    startedAt,
    ok: tables.every((t) => t.status === 'ok'),
    reports: plan.reports,
    tables,
  };
  return outcome;
};

df.app.orchestration(Orchestrations.verifyDatabase, verifyDatabase);
