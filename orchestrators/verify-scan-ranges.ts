/**
 * The scan ranges of one table (scan-ranges.ts), run for the verifyTable orchestration: one verifyScanRange
 * activity per range, in batches of a fresh Task.all each (a task already yielded, put in a new Task.all,
 * is scheduled again by the extension), then merged with the table's checks.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ActivityOutcome } from '../shared/migrate/contracts';
import type { TableVerification, VerifyLevel, VerifyTableProgress } from '../shared/verify/contracts';
import type { SearchTableRowsInput, VerifyScanRangeInput } from '../shared/verify/steps/plan-verification';
import { type ScanRangeResult, scanRangesBetween } from '../shared/verify/ranges/scan-ranges';
import { type ScanRangePlan } from '../shared/verify/contracts';
import { mergeScanRanges, statusOf } from '../shared/verify/status/table-status';
import { failedAfterRetries } from '../shared/verify/status/verification-progress';
import type { VerifyTableRequest } from '../shared/verify/steps/verify-table';
import { activityTask, allActivities, callActivity } from './activity-table';

/** What the scan ranges of a table need: its checks (with the samples picked), its request and its ranges. */
export interface ScanRangesWork {
  checks: TableVerification;
  request: VerifyTableRequest;
  level: VerifyLevel;
  ranges: ScanRangePlan;
  maxDifferences?: number;
  /** Ranges per Task.all. */
  batch: number;
  /** The table's custom status, updated after each batch. */
  progress: VerifyTableProgress;
}

/** Runs the ranges batch by batch and merges them; the first failure ends it with its reason. */
export function* verifyScanRanges(context: OrchestrationContext, work: ScanRangesWork): Generator<Task, ActivityOutcome<TableVerification>, unknown> {
  const results: ScanRangeResult[] = [];
  // Each range gets its own range and the samples' source side only (at most the table's few samples).
  const samples = work.checks.samples;
  for (let start = 0; start < work.ranges.pages.length; start += work.batch) {
    // Each batch's inputs are computed from the compact plan: the orchestration never holds every range.
    const tasks = scanRangesBetween(work.ranges, start, start + work.batch).map((range) => {
      const input: VerifyScanRangeInput = { request: work.request, range, options: { level: work.level, samples } };
      return activityTask(context, 'verifyScanRange', input);
    });
    let answers: Array<ActivityOutcome<ScanRangeResult>>;
    try {
      answers = yield* allActivities(context, tasks);
    } catch (error) {
      return { ok: false, code: 'VERIFICATION_FAILED', reason: failedAfterRetries(error) };
    }
    for (const answer of answers) {
      if (!answer.ok) return answer;
      results.push(answer.value);
    }
    work.progress.ranges.done = results.length;
    context.df.setCustomStatus(work.progress);
  }
  const merged = mergeScanRanges(work.checks, results);
  if (merged.rows?.rangesNotExamined === undefined) return { ok: true, value: merged };
  // The figures differ at the full level: one bounded pass lists the rows when the table is small enough for it.
  const search: SearchTableRowsInput = { request: work.request, options: work.maxDifferences !== undefined ? { maxDifferences: work.maxDifferences } : {} };
  let rows: ActivityOutcome<TableVerification['rows'] | null>;
  try {
    rows = yield* callActivity(context, 'searchTableRows', search);
  } catch (error) {
    return { ok: false, code: 'VERIFICATION_FAILED', reason: failedAfterRetries(error) };
  }
  if (!rows.ok) return rows;
  if (rows.value === null || rows.value === undefined) return { ok: true, value: merged };
  const searched: TableVerification = { ...merged, rows: rows.value };
  searched.status = statusOf(searched);
  return { ok: true, value: searched };
}
