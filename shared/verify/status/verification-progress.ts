/**
 * The bookkeeping of the verification orchestrators, pure so they can call it: their custom status as tables
 * finish, and what a table that could not be verified comes back as. Every change lands on the status object in
 * the same order as it always did, so its JSON (and so the instance's recorded status) stays the same.
 */
import { taskFailureReason } from '../../errors';
import { formatIdentifier } from '../../iceberg/catalog/table-identifier';
import { displayQualified } from '../../postgres/identifiers';
import { shortReason } from '../../run/instance-status';
import type { TableVerification, TableVerificationSummary, VerificationProgress, VerifyLevel, VerifyTablePlan } from '../contracts';
import { summaryError } from '../reports/table-summary';

/** verifyDatabase's custom status before its plan. */
export function planningProgress(level: VerifyLevel): VerificationProgress {
  return { phase: 'planning', level, tables: { total: 0, started: 0, done: 0, differing: 0, errors: 0 } };
}

/** Counts a finished table in the run's status: a difference or an error, the error kept as the last one. */
export function finishTable(progress: VerificationProgress, result: TableVerificationSummary): void {
  progress.tables.done++;
  if (result.status === 'differs') progress.tables.differing++;
  if (result.status === 'error') {
    progress.tables.errors++;
    progress.lastError = shortReason(`${result.table}: ${result.error ?? 'error'}`);
  }
}

/** A table that could not be verified, for `reason`: nothing checked. Its target is named as a verified table's. */
export function failedTableVerification(plan: Pick<VerifyTablePlan, 'source' | 'target'>, level: VerifyLevel, reason: string): TableVerification {
  return {
    table: displayQualified(plan.source.schema, plan.source.name),
    target: formatIdentifier(plan.target),
    level,
    status: 'error',
    error: reason,
    schema: [],
    aggregates: [],
    samples: [],
    durationMs: 0,
  };
}

/** The summary of a table that could not be verified, for `reason` (shortened as summaries keep errors). */
export function failedTableSummary(plan: Pick<VerifyTablePlan, 'source' | 'target'>, level: VerifyLevel, reason: string): TableVerificationSummary {
  const { schema: _schema, aggregates: _aggregates, samples: _samples, ...summary } = failedTableVerification(plan, level, summaryError(reason));
  return summary;
}

/** Why a verification stopped when an activity of it failed even after its retries. */
export function failedAfterRetries(error: unknown): string {
  return `verification failed after retries: ${taskFailureReason(error)}`;
}
