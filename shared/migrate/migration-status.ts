/**
 * The progress report of a migration, built from the orchestration statuses (the run's and each table's):
 * one shape for the HTTP status endpoint, the CLI's display and its --json summary.
 */
import type { TableVerification, VerificationProgress, VerificationReport, VerifyLevel } from '../verify/contracts';
import type { MigrationProgress, TableOutcome, TableProgress } from './contracts';

/** What an orchestration status says, as read through a durable client or the local host. */
export interface InstanceSnapshot {
  runtimeStatus: string;
  customStatus?: unknown;
  output?: unknown;
  createdTime?: Date | string;
  lastUpdatedTime?: Date | string;
}

/** Progress of one table. */
export interface TableReport {
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
  phase: string;
  tables: { total: number; done: number; failed: number };
  partitions: { total: number; done: number };
  rows: number;
  rowsPerSecond: number;
  elapsedSeconds: number;
  failures: Array<{ table: string; reason: string }>;
  lastError?: string;
  details: TableReport[];
  verification?: MigrationVerification;
}

/**
 * Combines the run's status with its tables' statuses (and its verification's, once one started) into one
 * report.
 */
export function buildMigrationReport(id: string, run: InstanceSnapshot, tables: Map<string, InstanceSnapshot>, nowMs: number, verification?: InstanceSnapshot): MigrationReport {
  const progress = (run.customStatus ?? {}) as Partial<MigrationProgress>;
  const outcomes = new Map<string, TableOutcome>();
  const output = run.output as { tables?: TableOutcome[]; verification?: VerificationReport; verificationError?: string } | undefined;
  const verifiedTables = new Map((output?.verification?.tables ?? []).map((t) => [t.target, t.status]));
  for (const outcome of output?.tables ?? []) outcomes.set(outcome.table, outcome);
  const details: TableReport[] = [];
  let partitionsDone = 0;
  let rows = 0;
  for (const [name, instance] of tables) {
    const p = (instance.customStatus ?? {}) as Partial<TableProgress>;
    const outcome = outcomes.get(name);
    const report: TableReport = {
      table: name,
      phase: outcome ? outcome.status : p.phase ?? 'pending',
      partitions: { total: p.partitions?.total ?? outcome?.partitions ?? 0, done: p.partitions?.done ?? 0 },
      rows: outcome?.status === 'committed' ? outcome.rows : p.rows ?? 0,
      estimatedRows: p.estimatedRows ?? 0,
    };
    if (outcome) {
      report.status = outcome.status;
      if (outcome.reason !== undefined) report.reason = outcome.reason;
      if (outcome.snapshotId !== undefined) report.snapshotId = outcome.snapshotId;
      if (outcome.sourceRows !== undefined) report.sourceRows = outcome.sourceRows;
      const verified = verifiedTables.get(outcome.target);
      if (verified !== undefined) report.verified = verified;
    }
    partitionsDone += report.partitions.done;
    rows += report.rows;
    details.push(report);
  }
  for (const failure of progress.failures ?? []) {
    if (!tables.has(failure.table)) details.push({ table: failure.table, phase: 'failed', partitions: { total: 0, done: 0 }, rows: 0, estimatedRows: 0, status: 'failed', reason: failure.reason });
  }
  const started = run.createdTime ? new Date(run.createdTime).getTime() : nowMs;
  const ended = isFinished(run.runtimeStatus) && run.lastUpdatedTime ? new Date(run.lastUpdatedTime).getTime() : nowMs;
  const elapsedSeconds = Math.max(0, (ended - started) / 1000);
  const report: MigrationReport = {
    id,
    runtimeStatus: run.runtimeStatus,
    phase: progress.phase ?? 'pending',
    tables: progress.tables ?? { total: 0, done: 0, failed: 0 },
    partitions: { total: progress.partitions?.total ?? 0, done: Math.max(partitionsDone, progress.partitions?.done ?? 0) },
    rows: Math.max(rows, progress.rows ?? 0),
    rowsPerSecond: elapsedSeconds > 0 ? Math.round(Math.max(rows, progress.rows ?? 0) / elapsedSeconds) : 0,
    elapsedSeconds: Math.round(elapsedSeconds * 10) / 10,
    failures: progress.failures ?? [],
    details,
  };
  if (progress.lastError !== undefined) report.lastError = progress.lastError;
  if (progress.verificationId !== undefined) report.verification = verificationOf(progress.verificationId, run, output, verification);
  return report;
}

function verificationOf(
  id: string,
  run: InstanceSnapshot,
  output: { verification?: VerificationReport; verificationError?: string } | undefined,
  instance: InstanceSnapshot | undefined,
): MigrationVerification {
  const progress = (instance?.customStatus ?? {}) as Partial<VerificationProgress>;
  const summary: MigrationVerification = {
    id,
    level: output?.verification?.level ?? progress.level ?? 'quick',
    status: 'running',
    tables: progress.tables ?? { total: 0, done: 0, differing: 0, errors: 0 },
  };
  if (output?.verification) {
    const tables = output.verification.tables;
    summary.tables = {
      total: tables.length,
      done: tables.length,
      differing: tables.filter((t) => t.status === 'differs').length,
      errors: tables.filter((t) => t.status === 'error').length,
    };
    summary.status = output.verification.ok ? 'ok' : summary.tables.errors > 0 && summary.tables.differing === 0 ? 'error' : 'differs';
  } else if (output?.verificationError !== undefined || (isFinished(run.runtimeStatus) && output !== undefined)) {
    summary.status = 'error';
    summary.error = output?.verificationError ?? 'the verification did not finish';
  }
  return summary;
}

/** True for statuses that will not change any more. */
export function isFinished(runtimeStatus: string): boolean {
  return ['Completed', 'Failed', 'Terminated', 'Canceled'].includes(runtimeStatus);
}
