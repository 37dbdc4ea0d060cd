/**
 * The progress report of a migration, built from the orchestration statuses (the run's and each table's):
 * one shape for the HTTP status endpoint, the CLI's display and its --json summary.
 */
import type { TableVerification, VerificationOutcome, VerificationProgress, VerificationReport, VerifyLevel } from '../verify/contracts';
import type { CdcHandover, MigrationProgress, TableFailure, TableOutcome, TableProgress } from './contracts';
import { dropCommand } from './handover-names';
import {
  type InstanceSnapshot,
  type TableInstanceRead,
  type TablePage,
  type UnreadableTable,
  failureMessage,
  isCancelled,
  isFinished,
  shortReason,
  tablesStarted,
} from '../run/instance-status';

/** Progress of one table. */
export interface TableReport {
  /** Its place in the run; absent for a table that failed in planning and so never started. */
  index?: number;
  /** Its name; empty while its instance has not started. */
  table: string;
  phase: string;
  partitions: { total: number; done: number };
  rows: number;
  estimatedRows: number;
  status?: 'committed' | 'failed';
  reason?: string;
  snapshotId?: string;
  sourceRows?: number;
  /** Outcome of the table's verification once it ran. */
  verified?: TableVerification['status'];
}

/** The verification that ran after the copy. */
export interface MigrationVerification {
  /** Its id: GET /api/verifications/{id} has the whole report. */
  id: string;
  level: VerifyLevel;
  status: 'running' | 'ok' | 'differs' | 'error';
  tables: { total: number; done: number; differing: number; errors: number };
  error?: string;
}

/** Progress of a whole run. */
export interface MigrationReport {
  id: string;
  runtimeStatus: string;
  /** planning, copying, verifying, done, or cancelled. */
  phase: string;
  tables: { total: number; started: number; done: number; failed: number };
  partitions: { total: number; done: number };
  rows: number;
  rowsPerSecond: number;
  elapsedSeconds: number;
  /** The most recent failures (tables.failed counts them all). */
  failures: TableFailure[];
  lastError?: string;
  /** The tables of `page`. */
  details: TableReport[];
  /** Tables of `page` whose status could not be read. */
  unreadable: UnreadableTable[];
  page: TablePage;
  /** The plan's warnings (the first few, shortened) and how many there were in all. */
  warnings?: { shown: string[]; total: number };
  /** Committed tables whose row count differs from the source's (read without one snapshot): not a plain success. */
  countsDiffering?: number;
  verification?: MigrationVerification;
  /** The hand-over to change capture (migrate --cdc), and the command that removes its slot and publication. */
  cdc?: CdcHandover & { dropCommand: string };
}

/** Failures the custom status keeps; the rest are only counted (custom status is limited to 16 KB). */
export const RECENT_FAILURES = 5;
/** Records a failure in bounded progress: the last error, and the few most recent failures. */
export function noteFailure(progress: { recentFailures: TableFailure[]; lastError?: string }, failure: TableFailure): void {
  const reason = shortReason(failure.reason);
  progress.recentFailures = [...progress.recentFailures, { table: failure.table, reason }].slice(-RECENT_FAILURES);
  progress.lastError = reason;
}

/** What migrateDatabase's output says of its verification: the id and figures, never the tables' reports. */
export interface MigrationVerificationOutcome {
  id: string;
  level: VerifyLevel;
  ok: boolean;
  /** The folder of the table reports (absent when the verification was planned before they were stored). */
  reports?: string;
  tables: { total: number; differing: number; errors: number };
}

/** Shape of migrateDatabase's output the report reads (runs made before the change carry the whole report). */
interface RunOutput {
  tables?: TableOutcome[];
  verification?: MigrationVerificationOutcome | VerificationReport;
  verificationError?: string;
}

/** The per-table statuses of a finished verification, by target: from its own output, or a former run's whole report. */
function verifiedStatuses(output: RunOutput | undefined, instance: InstanceSnapshot | undefined): Map<string, TableVerification['status']> {
  const own = instance?.runtimeStatus === 'Completed' ? (instance.output as Partial<VerificationOutcome> | undefined) : undefined;
  const former = output?.verification !== undefined && Array.isArray(output.verification.tables) ? output.verification.tables : [];
  return new Map((Array.isArray(own?.tables) ? own.tables : former).map((t) => [t.target, t.status]));
}

/**
 * Combines the run's status with the statuses of one page of its tables (and its verification's, once one
 * started) into one report.
 */
export function buildMigrationReport(
  id: string,
  run: InstanceSnapshot,
  tables: TableInstanceRead[],
  page: Omit<TablePage, 'of'>,
  nowMs: number,
  verification?: InstanceSnapshot,
): MigrationReport {
  const progress = (run.customStatus ?? {}) as Partial<MigrationProgress>;
  const counts = { total: 0, done: 0, failed: 0, ...progress.tables, started: tablesStarted(run.customStatus) };
  const output = run.output as RunOutput | undefined;
  const verifiedTables = verifiedStatuses(output, verification);
  const details: TableReport[] = [];
  const unreadable: UnreadableTable[] = [];
  // Rows and partitions of tables still running; finished tables are already in the run's own figures.
  let partitionsRunning = 0;
  let rowsRunning = 0;
  for (const read of tables) {
    if (read.unreadable !== undefined) {
      unreadable.push({ index: read.index, instanceId: read.instanceId, reason: read.unreadable });
      continue;
    }
    const report = tableReport(read, verifiedTables);
    if (read.status && !isFinished(read.status.runtimeStatus)) {
      partitionsRunning += report.partitions.done;
      rowsRunning += report.rows;
    }
    details.push(report);
  }
  // Tables that failed in planning come first in the output and never had an instance: shown with the last page.
  const planFailures = (output?.tables ?? []).slice(0, Math.max(0, (output?.tables?.length ?? 0) - counts.started)).filter((o) => o.status === 'failed');
  if (page.offset + page.limit >= counts.started) {
    for (const failure of planFailures) {
      details.push({
        table: failure.table,
        phase: 'failed',
        partitions: { total: 0, done: 0 },
        rows: 0,
        estimatedRows: 0,
        status: 'failed',
        reason: failure.reason ?? 'failed',
      });
    }
  }
  const started = run.createdTime ? new Date(run.createdTime).getTime() : nowMs;
  const ended = isFinished(run.runtimeStatus) && run.lastUpdatedTime ? new Date(run.lastUpdatedTime).getTime() : nowMs;
  const elapsedSeconds = Math.max(0, (ended - started) / 1000);
  const finished = isFinished(run.runtimeStatus);
  const rows = (progress.rows ?? 0) + (finished ? 0 : rowsRunning);
  const report: MigrationReport = {
    id,
    runtimeStatus: run.runtimeStatus,
    phase: isCancelled(run.runtimeStatus) ? 'cancelled' : (progress.phase ?? 'pending'),
    tables: counts,
    partitions: { total: progress.partitions?.total ?? 0, done: (progress.partitions?.done ?? 0) + (finished ? 0 : partitionsRunning) },
    rows,
    rowsPerSecond: elapsedSeconds > 0 ? Math.round(rows / elapsedSeconds) : 0,
    elapsedSeconds: Math.round(elapsedSeconds * 10) / 10,
    // Runs recorded before recent failures were bounded kept them all under `failures`.
    failures: progress.recentFailures ?? (progress as { failures?: TableFailure[] }).failures?.slice(-RECENT_FAILURES) ?? [],
    details,
    unreadable,
    page: { ...page, of: counts.started },
  };
  if (progress.lastError !== undefined) report.lastError = progress.lastError;
  if (progress.warnings !== undefined) report.warnings = { shown: progress.warnings, total: progress.warningsTotal ?? progress.warnings.length };
  if (progress.countsDiffering !== undefined && progress.countsDiffering > 0) report.countsDiffering = progress.countsDiffering;
  if (progress.cdc !== undefined) report.cdc = { ...progress.cdc, dropCommand: dropCommand(id) };
  if (progress.verificationId !== undefined) report.verification = verificationOf(progress.verificationId, run, output, verification);
  return report;
}

/** One table's report from its own instance: progress from its custom status, the outcome from its output. */
function tableReport(read: TableInstanceRead, verifiedTables: Map<string, TableVerification['status']>): TableReport {
  const status = read.status;
  const p = (status?.customStatus ?? {}) as Partial<TableProgress>;
  const outcome = status?.runtimeStatus === 'Completed' ? (status.output as TableOutcome | undefined) : undefined;
  const input = status?.input as { table?: { source?: { name?: string } } } | undefined;
  const report: TableReport = {
    index: read.index,
    table: p.table ?? outcome?.table ?? input?.table?.source?.name ?? '',
    phase: outcome ? outcome.status : (p.phase ?? 'pending'),
    partitions: { total: p.partitions?.total ?? outcome?.partitions ?? 0, done: p.partitions?.done ?? 0 },
    rows: outcome?.status === 'committed' ? outcome.rows : (p.rows ?? 0),
    estimatedRows: p.estimatedRows ?? 0,
  };
  if (outcome) {
    report.status = outcome.status;
    if (outcome.reason !== undefined) report.reason = outcome.reason;
    if (outcome.snapshotId !== undefined) report.snapshotId = outcome.snapshotId;
    if (outcome.sourceRows !== undefined) report.sourceRows = outcome.sourceRows;
    const verified = verifiedTables.get(outcome.target);
    if (verified !== undefined) report.verified = verified;
  } else if (status && isFinished(status.runtimeStatus)) {
    // Terminated (cancelled) or failed as an instance: nothing of it was committed by it.
    report.status = 'failed';
    report.phase = isCancelled(status.runtimeStatus) ? 'cancelled' : 'failed';
    report.reason = isCancelled(status.runtimeStatus) ? 'cancelled' : failureMessage(status.output);
  }
  return report;
}

function verificationOf(id: string, run: InstanceSnapshot, output: RunOutput | undefined, instance: InstanceSnapshot | undefined): MigrationVerification {
  const progress = (instance?.customStatus ?? {}) as Partial<VerificationProgress>;
  const figures = progress.tables ?? { total: 0, done: 0, differing: 0, errors: 0 };
  const summary: MigrationVerification = {
    id,
    level: output?.verification?.level ?? progress.level ?? 'quick',
    status: 'running',
    tables: { total: figures.total, done: figures.done, differing: figures.differing, errors: figures.errors },
  };
  if (output?.verification) {
    const verification = output.verification;
    const figures = Array.isArray(verification.tables)
      ? {
          total: verification.tables.length,
          differing: verification.tables.filter((t) => t.status === 'differs').length,
          errors: verification.tables.filter((t) => t.status === 'error').length,
        }
      : verification.tables;
    summary.tables = { total: figures.total, done: figures.total, differing: figures.differing, errors: figures.errors };
    summary.status = verification.ok ? 'ok' : summary.tables.errors > 0 && summary.tables.differing === 0 ? 'error' : 'differs';
  } else if (output?.verificationError !== undefined || isFinished(run.runtimeStatus)) {
    summary.status = 'error';
    summary.error = output?.verificationError ?? (isCancelled(run.runtimeStatus) ? 'cancelled' : 'the verification did not finish');
  }
  return summary;
}
