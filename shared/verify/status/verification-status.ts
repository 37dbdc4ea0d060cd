/**
 * The progress report of a verification, built from the orchestration statuses (the run's and each table's):
 * one shape for the HTTP status endpoint and the CLI. Once finished it carries the report of its page of tables,
 * assembled from the table reports in storage.
 */
import type { FileIO } from '../../iceberg/io';
import {
  type InstanceSnapshot,
  type TableInstanceRead,
  type TablePage,
  type UnreadableTable,
  failureMessage,
  isCancelled,
  isFinished,
  tablesStarted,
} from '../../run/instance-status';
import type { TableVerification, VerificationProgress, VerificationReport, VerifyLevel, VerifyTableProgress } from '../contracts';
import { type ReportPage, assembleVerificationReport, isVerificationOutcome, isWholeReport } from '../reports/report-store';

/** Progress of one table. */
export interface VerificationTableStatus {
  /** Its place in the run (instance `<run>:table:<index>`). */
  index: number;
  /** Its name; empty while its instance has not started. */
  table: string;
  phase: string;
  ranges: { total: number; done: number };
  status?: TableVerification['status'];
}

/** Progress of a verification, and its report once finished. */
export interface VerificationStatus {
  id: string;
  runtimeStatus: string;
  /** planning, verifying, done, or cancelled. */
  phase: string;
  level?: VerifyLevel;
  tables: { total: number; started: number; done: number; differing: number; errors: number };
  elapsedSeconds: number;
  /** Set once finished: true only when every table verified with no difference. */
  ok?: boolean;
  lastError?: string;
  /** The tables of `page`. */
  details: VerificationTableStatus[];
  /** Tables of `page` whose status could not be read. */
  unreadable: UnreadableTable[];
  page: TablePage;
  /** Once completed: the report, with the tables of `page` only. */
  report?: VerificationReport;
}

/**
 * The report of a completed verification with the tables of `page` (every table when absent), read from the
 * table reports its output points to; undefined while it has not completed.
 */
export async function completedReport(io: FileIO, run: InstanceSnapshot, page?: ReportPage): Promise<VerificationReport | undefined> {
  if (run.runtimeStatus !== 'Completed') return undefined;
  return isVerificationOutcome(run.output) || isWholeReport(run.output) ? assembleVerificationReport(io, run.output, page) : undefined;
}

/**
 * Combines the run's status with the statuses of one page of its tables, and its report once completed
 * (completedReport), into one report.
 */
export function buildVerificationStatus(
  id: string,
  run: InstanceSnapshot,
  tables: TableInstanceRead[],
  page: Omit<TablePage, 'of'>,
  nowMs: number,
  report?: VerificationReport,
): VerificationStatus {
  const progress = (run.customStatus ?? {}) as Partial<VerificationProgress>;
  const counts = { total: 0, done: 0, differing: 0, errors: 0, ...progress.tables, started: tablesStarted(run.customStatus) };
  const details: VerificationTableStatus[] = [];
  const unreadable: UnreadableTable[] = [];
  for (const read of tables) {
    if (read.unreadable !== undefined) {
      unreadable.push({ index: read.index, instanceId: read.instanceId, reason: read.unreadable });
      continue;
    }
    const instance = read.status;
    const p = (instance?.customStatus ?? {}) as Partial<VerifyTableProgress>;
    // A table's output is its summary (its whole verification, for runs made before reports were stored).
    const output = instance?.runtimeStatus === 'Completed' ? (instance.output as Pick<TableVerification, 'table' | 'status'> | undefined) : undefined;
    const input = instance?.input as { plan?: { table?: string } } | undefined;
    const detail: VerificationTableStatus = {
      index: read.index,
      table: p.table ?? output?.table ?? input?.plan?.table ?? '',
      phase: p.phase ?? 'pending',
      ranges: p.ranges ?? { total: 0, done: 0 },
    };
    if (instance?.runtimeStatus === 'Completed') detail.status = output?.status ?? 'error';
    else if (instance && isFinished(instance.runtimeStatus)) {
      detail.status = 'error';
      if (isCancelled(instance.runtimeStatus)) detail.phase = 'cancelled';
    }
    details.push(detail);
  }
  const started = run.createdTime ? new Date(run.createdTime).getTime() : nowMs;
  const ended = isFinished(run.runtimeStatus) && run.lastUpdatedTime ? new Date(run.lastUpdatedTime).getTime() : nowMs;
  const status: VerificationStatus = {
    id,
    runtimeStatus: run.runtimeStatus,
    phase: isCancelled(run.runtimeStatus) ? 'cancelled' : (progress.phase ?? 'pending'),
    tables: counts,
    elapsedSeconds: Math.round(Math.max(0, ended - started) / 100) / 10,
    details,
    unreadable,
    page: { ...page, of: counts.started },
  };
  if (progress.level !== undefined) status.level = progress.level;
  if (progress.lastError !== undefined) status.lastError = progress.lastError;
  if (isFinished(run.runtimeStatus)) status.ok = report?.ok ?? false;
  if (run.runtimeStatus === 'Failed' && status.lastError === undefined) status.lastError = failureMessage(run.output);
  if (report) status.report = report;
  return status;
}
