/**
 * verifyTable: one table's checks (schema, counts, aggregates, samples; every row too when the table is not
 * split) and, at the full level for a table split into key ranges, one verifyRowRange per range, fanned out
 * and merged: then the ranges read the Iceberg side for the table's aggregates, rows read and samples too, so
 * it is read once. A large table not split by key is read in scan ranges after its checks (verify-scan-ranges.ts). It never throws: a table that cannot be verified comes back with status 'error' and the reason.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import { taskFailureReason } from '../shared/errors';
import { verifyScanRanges } from './verify-scan-ranges';
import type { ActivityOutcome } from '../shared/migrate/contracts';
import type { RowRangeResult, TableVerification, VerifyTableInput, VerifyTableProgress } from '../shared/verify/contracts';
import type { VerifyRowRangeInput, VerifyTableChecksInput } from '../shared/verify/steps/plan-verification';
import { DEFAULT_SAMPLES, mergeRowRanges, sampleShare } from '../shared/verify/status/table-status';
import { summarizeTableVerification } from '../shared/verify/reports/table-summary';
import { failedAfterRetries, failedTableVerification } from '../shared/verify/status/verification-progress';
import { type ActivityTask, activityTask, allActivities, callActivity } from './activity-table';
import { Orchestrations } from './names';

/** Ranges scheduled per Task.all when the plan does not say (progress is reported between batches). */
const RANGE_BATCH = 8;

/** The table's checks and ranges, merged into its whole verification. */
function* checkTable(context: OrchestrationContext): Generator<Task, TableVerification, unknown> {
  const input = context.df.getInput<VerifyTableInput>();
  const { plan } = input;
  // Each activity gets the table's request and at most its own range: the plan's ranges grow with the table.
  const { table: _table, ranges: _ranges, scanRanges: _scanRanges, ...request } = plan;
  const options = {
    level: input.level,
    ...(input.maxDifferences !== undefined ? { maxDifferences: input.maxDifferences } : {}),
    ...(input.samples !== undefined ? { samples: input.samples } : {}),
  };
  const byRange = input.level === 'full' && plan.ranges.length > 0;
  // A large table not compared per key range is read in scan ranges once its checks have picked the samples.
  const scanRanges = byRange ? undefined : plan.scanRanges;
  const progress: VerifyTableProgress = {
    table: plan.table,
    phase: 'checking',
    ranges: { total: byRange ? plan.ranges.length : (scanRanges?.pages.length ?? 0), done: 0 },
  };
  context.df.setCustomStatus(progress);
  const failed = (reason: string): TableVerification => failedTableVerification(plan, input.level, reason);
  try {
    // The checks go out with the first batch of ranges, so they overlap rather than wait for each other.
    const checksInput: VerifyTableChecksInput = {
      request,
      options: { ...options, rowsByRange: byRange, ...(scanRanges !== undefined ? { scanRanges: true } : {}) },
    };
    const checks = activityTask(context, 'verifyTableChecks', checksInput);
    const ranges: RowRangeResult[] = [];
    const pending = byRange ? plan.ranges : [];
    let checked: ActivityOutcome<TableVerification> | undefined;
    const batch = Math.max(1, input.rangesAtOnce ?? RANGE_BATCH);
    for (let start = 0; start === 0 || start < pending.length; start += batch) {
      const tasks: Array<ActivityTask<RowRangeResult>> = pending.slice(start, start + batch).map((range) => {
        const rangeInput: VerifyRowRangeInput = {
          request,
          range,
          options: { ...options, samples: sampleShare(input.samples ?? DEFAULT_SAMPLES, pending.length, range.index) },
        };
        return activityTask(context, 'verifyRowRange', rangeInput);
      });
      let answers: Array<ActivityOutcome<RowRangeResult>>;
      try {
        // The first batch carries the checks, ahead of its ranges.
        if (start === 0) [checked, ...answers] = yield* allActivities(context, [checks, ...tasks]);
        else answers = yield* allActivities(context, tasks);
      } catch (error) {
        return failed(failedAfterRetries(error));
      }
      for (const answer of answers) {
        if (!answer.ok) return failed(answer.reason);
        ranges.push(answer.value);
      }
      progress.ranges.done = ranges.length;
      context.df.setCustomStatus(progress);
    }
    if (!checked!.ok) return failed(checked!.reason);
    let scanned: TableVerification | undefined;
    if (scanRanges !== undefined) {
      const outcome = yield* verifyScanRanges(context, {
        checks: checked!.value,
        request,
        level: input.level,
        ranges: scanRanges,
        batch,
        progress,
        ...(input.maxDifferences !== undefined ? { maxDifferences: input.maxDifferences } : {}),
      });
      if (!outcome.ok) return failed(outcome.reason);
      scanned = outcome.value;
    }
    progress.phase = 'done';
    context.df.setCustomStatus(progress);
    return byRange ? mergeRowRanges(checked!.value, ranges, input.maxDifferences) : (scanned ?? checked!.value);
  } catch (error) {
    return failed(taskFailureReason(error));
  }
}

/**
 * The orchestration generator: the whole verification is saved where the report is assembled from, and only its
 * figures are returned, so the parent's output stays small whatever the table count.
 */
export const verifyTable: OrchestrationHandler = function* (context: OrchestrationContext) {
  const verification = yield* checkTable(context);
  const location = context.df.getInput<VerifyTableInput>().reportLocation;
  // A plan made before reports were stored names no location: the verification then travels whole, as it did.
  if (location === undefined) return verification;
  let unsaved: string | undefined;
  try {
    const saved = yield* callActivity(context, 'saveTableVerification', { location, verification });
    if (!saved.ok) unsaved = saved.reason;
  } catch (error) {
    unsaved = taskFailureReason(error);
  }
  if (unsaved === undefined) return summarizeTableVerification(verification);
  return summarizeTableVerification({ ...verification, status: 'error', error: `its report could not be saved: ${unsaved}` });
};

df.app.orchestration(Orchestrations.verifyTable, verifyTable);
