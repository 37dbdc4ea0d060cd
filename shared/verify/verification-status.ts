/**
 * The progress report of a verification, built from the orchestration statuses (the run's and each table's):
 * one shape for the HTTP status endpoint and the CLI. Once finished it carries the whole report.
 */
import { type InstanceSnapshot, isFinished } from '../migrate/migration-status';
import type { TableVerification, VerificationProgress, VerificationReport, VerifyLevel, VerifyTableProgress } from './contracts';

/** Progress of one table. */
export interface VerificationTableStatus {
  table: string;
  phase: string;
  ranges: { total: number; done: number };
  status?: TableVerification['status'];
}

/** Progress of a verification, and its report once finished. */
export interface VerificationStatus {
  id: string;
  runtimeStatus: string;
  phase: string;
  level?: VerifyLevel;
  tables: { total: number; done: number; differing: number; errors: number };
  elapsedSeconds: number;
  /** Set once finished: true only when every table verified with no difference. */
  ok?: boolean;
  lastError?: string;
  details: VerificationTableStatus[];
  report?: VerificationReport;
}

/** Combines the run's status with its tables' statuses into one report. */
export function buildVerificationStatus(id: string, run: InstanceSnapshot, tables: Map<string, InstanceSnapshot>, nowMs: number): VerificationStatus {
  const progress = (run.customStatus ?? {}) as Partial<VerificationProgress>;
  const report = run.runtimeStatus === 'Completed' ? (run.output as VerificationReport | undefined) : undefined;
  const details: VerificationTableStatus[] = [];
  for (const [table, instance] of tables) {
    const p = (instance.customStatus ?? {}) as Partial<VerifyTableProgress>;
    const detail: VerificationTableStatus = { table, phase: p.phase ?? 'pending', ranges: p.ranges ?? { total: 0, done: 0 } };
    if (instance.runtimeStatus === 'Completed') detail.status = (instance.output as TableVerification | undefined)?.status ?? 'error';
    else if (isFinished(instance.runtimeStatus)) detail.status = 'error';
    details.push(detail);
  }
  const started = run.createdTime ? new Date(run.createdTime).getTime() : nowMs;
  const ended = isFinished(run.runtimeStatus) && run.lastUpdatedTime ? new Date(run.lastUpdatedTime).getTime() : nowMs;
  const status: VerificationStatus = {
    id,
    runtimeStatus: run.runtimeStatus,
    phase: progress.phase ?? 'pending',
    tables: progress.tables ?? { total: 0, done: 0, differing: 0, errors: 0 },
    elapsedSeconds: Math.round(Math.max(0, ended - started) / 100) / 10,
    details,
  };
  if (progress.level !== undefined) status.level = progress.level;
  if (progress.lastError !== undefined) status.lastError = progress.lastError;
  if (isFinished(run.runtimeStatus)) status.ok = report?.ok ?? false;
  if (run.runtimeStatus === 'Failed' && status.lastError === undefined) status.lastError = failureMessage(run.output);
  if (report) status.report = report;
  return status;
}

/** The reason an orchestration failed, as its status carries it. */
export function failureMessage(output: unknown): string {
  return String((output as { message?: string } | undefined)?.message ?? output ?? 'failed');
}
