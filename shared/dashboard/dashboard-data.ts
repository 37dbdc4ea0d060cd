/**
 * What the operations dashboard shows, as one JSON document (`GET /api/dashboard/data`), and the figures it
 * derives from the product's own reports: rates and ETAs of runs and tables. Every section is read on its own, so
 * one source that cannot be read (the flag store, a listing) says why in its place instead of blanking the page.
 * Pure.
 */
import type { FlagAuditEntry } from '../flags/audit-trail';
import type { StoredFlag } from '../flags/flag-store';
import type { MigrationReport, TableReport } from '../migrate/migration-status';
import type { JobResult } from '../run/job-results';
import { type InstanceSnapshot, isFinished } from '../run/instance-status';
import type { SyncStatus } from '../run/sync-run';
import type { VerificationProgress } from '../verify/contracts';
import type { RetryState } from './table-retry';

/** A section's content, or why it could not be read. */
export type Section<T> = { ok: true; value: T } | { ok: false; error: string };

/** One table of a migration as the dashboard shows it. */
export interface DashboardTable extends TableReport {
  /** Rows per second of this table since its instance started (running tables only). */
  rowsPerSecond?: number;
  /** Seconds left by its estimated rows at its rate (running tables with a rate only). */
  etaSeconds?: number;
  /** A failed table's retry: its run id and where it stands. */
  retry?: { id: string; state: RetryState };
}

/** One migration run. */
export interface DashboardMigration extends Omit<MigrationReport, 'details'> {
  /** Seconds left by the partitions still to copy at the run's partition rate; absent when it cannot be told. */
  etaSeconds?: number;
  details: DashboardTable[];
  /** Whether its verification finished with a report to open. */
  reportReady: boolean;
}

/** One verification run (standalone or a migration's). */
export interface DashboardVerification {
  id: string;
  runtimeStatus: string;
  phase: string;
  level: string;
  tables: { total: number; done: number; differing: number; errors: number };
  createdTime?: string;
  lastError?: string;
  reportReady: boolean;
}

/** One sync: its lag and stopped tables. */
export interface DashboardSync extends Partial<SyncStatus> {
  id: string;
  runtimeStatus: string;
  error?: string;
}

/** The flags and their latest changes. */
export interface DashboardFlags {
  /** Where the flags are kept (never a secret). */
  store: string;
  flags: StoredFlag[];
  /** The most recent changes, newest first. */
  history: FlagAuditEntry[];
}

/** Who may press the page's buttons. */
export type OperatorAuthMode = 'local-token' | 'signed-in';

/** The whole dashboard. */
export interface DashboardData {
  generatedAt: string;
  /** Runs created within this many days are listed. */
  windowDays: number;
  operatorAuth: OperatorAuthMode;
  migrations: Section<DashboardMigration[]>;
  verifications: Section<DashboardVerification[]>;
  syncs: Section<DashboardSync[]>;
  flags: Section<DashboardFlags>;
  jobs: Section<JobResult[]>;
}

/** Runs of each kind listed, newest first. */
export const RUNS_SHOWN = 10;
/** Flag changes listed. */
export const FLAG_CHANGES_SHOWN = 20;
/** Results listed per job. */
export const JOB_RESULTS_SHOWN = 5;

function timeOf(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The run's ETA: partitions still to copy at the rate partitions were copied so far. Undefined while nothing is
 * copied (no rate yet), once copying is over (committing and verifying have no measure), or for a finished run.
 */
export function runEtaSeconds(report: MigrationReport): number | undefined {
  if (isFinished(report.runtimeStatus) || report.phase !== 'copying') return undefined;
  const { total, done } = report.partitions;
  if (done <= 0 || report.elapsedSeconds <= 0 || total <= done) return undefined;
  return Math.round(((total - done) * report.elapsedSeconds) / done);
}

/** A table's rate and ETA from its own instance's start, while it runs; nothing for a finished or waiting table. */
export function tableFigures(table: TableReport, instance: InstanceSnapshot | undefined, nowMs: number): Pick<DashboardTable, 'rowsPerSecond' | 'etaSeconds'> {
  if (instance === undefined || isFinished(instance.runtimeStatus) || table.status !== undefined) return {};
  const started = timeOf(instance.createdTime);
  if (started === undefined || nowMs <= started || table.rows <= 0) return {};
  const rate = table.rows / ((nowMs - started) / 1000);
  const figures: Pick<DashboardTable, 'rowsPerSecond' | 'etaSeconds'> = { rowsPerSecond: Math.round(rate) };
  if (table.estimatedRows > table.rows) figures.etaSeconds = Math.round((table.estimatedRows - table.rows) / rate);
  return figures;
}

/** A verification's row from its root instance. */
export function verificationRow(id: string, run: InstanceSnapshot): DashboardVerification {
  const progress = (run.customStatus ?? {}) as Partial<VerificationProgress>;
  const tables = progress.tables ?? { total: 0, done: 0, differing: 0, errors: 0 };
  const row: DashboardVerification = {
    id,
    runtimeStatus: run.runtimeStatus,
    phase: progress.phase ?? 'pending',
    level: progress.level ?? 'quick',
    tables: { total: tables.total, done: tables.done, differing: tables.differing, errors: tables.errors },
    reportReady: run.runtimeStatus === 'Completed',
  };
  const created = timeOf(run.createdTime);
  if (created !== undefined) row.createdTime = new Date(created).toISOString();
  if (progress.lastError !== undefined) row.lastError = progress.lastError;
  return row;
}

/** A section read by `read`, or its error's message (already redacted by `describe`). */
export async function readSection<T>(read: () => Promise<T>, describe: (error: unknown) => string): Promise<Section<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (error) {
    return { ok: false, error: describe(error) };
  }
}
