/**
 * restoreDatabase: the tables in foreign-key order (planRestore), then one restoreTable activity per table, one
 * after the other: a child restored before its parent could reference rows that are not there yet. The first table
 * that fails or differs stops the run; the output lists it and the tables not attempted. Progress is the custom
 * status. An activity is retried only for a transient failure; a `replace` that committed before its process was
 * lost is done again from the same snapshot (the same rows, and one more backup table), an `into` finds its table
 * taken and fails, naming it.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { taskFailureReason } from '../shared/errors';
import type { RestoreDatabaseInput, RestoreOutcome, RestoreProgress } from '../shared/restore/restore-run';
import { tableMode } from '../shared/restore/restore-run';
import { shortReason } from '../shared/run/instance-status';
import { callActivity } from './activity-table';
import { failedPlan } from './failed-plan';
import { Orchestrations } from './names';

/** The orchestration generator. */
export const restoreDatabase: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<RestoreDatabaseInput>();
  const progress: RestoreProgress = { phase: 'planning', tables: { total: 0, done: 0 } };
  context.df.setCustomStatus(progress);
  const planned = yield* callActivity(context, 'planRestore', input);
  if (!planned.ok) failedPlan(context, progress, planned.reason);
  const { order } = planned.value;
  progress.phase = 'restoring';
  progress.tables.total = order.length;
  const outcome: RestoreOutcome = { order, restored: [], notAttempted: [], ok: true };
  for (const [i, table] of order.entries()) {
    progress.current = table;
    context.df.setCustomStatus(progress);
    let reason: string | undefined;
    try {
      const answer = yield* callActivity(context, 'restoreTable', {
        schema: input.schema,
        namespace: input.namespace,
        table,
        asOf: input.asOf,
        mode: tableMode(input.mode, table),
        ...(input.batchRows === undefined ? {} : { batchRows: input.batchRows }),
      });
      if (!answer.ok) reason = answer.reason;
      else {
        outcome.restored.push(answer.value);
        if (!answer.value.ok) reason = `the restored table differs from snapshot ${answer.value.snapshotId} (verification ${answer.value.verification.status})`;
      }
    } catch (error) {
      // Transient failures retried to the end: the activity's last reason.
      reason = taskFailureReason(error);
    }
    progress.tables.done = i + 1;
    if (reason !== undefined) {
      outcome.failed = { table, reason };
      outcome.notAttempted = order.slice(i + 1);
      outcome.ok = false;
      progress.lastError = shortReason(`${table}: ${reason}`);
      break;
    }
  }
  delete progress.current;
  progress.phase = 'done';
  context.df.setCustomStatus(progress);
  return outcome;
};

df.app.orchestration(Orchestrations.restoreDatabase, restoreDatabase);
