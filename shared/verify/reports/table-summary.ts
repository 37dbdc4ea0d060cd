/**
 * A table's verification in figures, as verifyTable returns it and verifyDatabase's output lists it, and where
 * its whole report is kept. Pure, so the orchestrators use it; report-store.ts does the storage.
 */
import { shortReason } from '../../run/instance-status';
import type { TableVerification, TableVerificationSummary } from '../contracts';

/**
 * Longest error a table's summary keeps (the whole error is in its report file): 1,000 failing tables with long
 * names stay near 500 KB of output, half of Durable's 1 MiB message limit.
 */
export const MAX_SUMMARY_ERROR_LENGTH = 200;

/** An error as a table's summary keeps it. */
export function summaryError(error: string): string {
  return shortReason(error, MAX_SUMMARY_ERROR_LENGTH);
}

/** Where the report of the table at `index` of a verification is kept, under its reports folder. */
export function tableReportLocation(reports: string, index: number): string {
  return `${reports}/tables/${index}.json`;
}

/** The figures of one table's verification, as verifyTable returns them. */
export function summarizeTableVerification(verification: TableVerification): TableVerificationSummary {
  const summary: TableVerificationSummary = {
    table: verification.table,
    target: verification.target,
    level: verification.level,
    status: verification.status,
    durationMs: verification.durationMs,
  };
  if (verification.error !== undefined) summary.error = summaryError(verification.error);
  if (verification.counts !== undefined) summary.countsOk = verification.counts.ok;
  if (verification.rows !== undefined) summary.differingRows = verification.rows.differing;
  return summary;
}
