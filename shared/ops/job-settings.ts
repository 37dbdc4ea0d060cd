/**
 * Settings of the scheduled jobs, read from the environment (App Settings on Azure, local.settings.json locally)
 * when a job runs, so a changed threshold applies to the next run without a deployment. Each one has a safe
 * default; a wrong value is a ValidationError naming the setting, never a silent fallback.
 */
import { ValidationError } from '../errors';

/** Environment variable names of the jobs' settings (schedules are `ICEBRIDGE_<JOB>_SCHEDULE`, see job-registry.ts). */
export const JOB_SETTING_NAMES = {
  namespaces: 'ICEBRIDGE_JOB_NAMESPACES',
  maxLagBytes: 'ICEBRIDGE_CONSISTENCY_MAX_LAG_BYTES',
  maxLagSeconds: 'ICEBRIDGE_CONSISTENCY_MAX_LAG_SECONDS',
  retentionDays: 'ICEBRIDGE_MAINTENANCE_RETENTION_DAYS',
  retainLast: 'ICEBRIDGE_MAINTENANCE_RETAIN_LAST',
  orphanDays: 'ICEBRIDGE_MAINTENANCE_ORPHAN_DAYS',
  historyDays: 'ICEBRIDGE_MAINTENANCE_HISTORY_DAYS',
} as const;

/** What the jobs read from settings. */
export interface JobSettings {
  /** Iceberg namespaces the jobs look at (default `public`). */
  namespaces: string[];
  /** Replication lag over which the consistency job reports a finding (default 1 GiB). */
  maxLagBytes: number;
  /** Seconds a sync may go without writing while WAL waits for it before that is a finding (default 3600). */
  maxLagSeconds: number;
  /** Snapshots older than this many days may be expired (default 7). */
  retentionDays: number;
  /** The newest snapshots of a table's history always kept, whatever their age (default 5). */
  retainLast: number;
  /** Files no metadata references are removed only once older than this many days (default 3, at least 1). */
  orphanDays: number;
  /** Durable history of finished instances created more than this many days ago is purged (default 30; 0: all). */
  historyDays: number;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, integer: boolean): number {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value)))
    throw new ValidationError(`${name} must be ${integer ? 'an integer' : 'a number'} of ${min} or more`);
  return value;
}

/** The jobs' settings from `env`; throws ValidationError naming a wrong setting. */
export function loadJobSettings(env: NodeJS.ProcessEnv = process.env): JobSettings {
  const namespaces = (env[JOB_SETTING_NAMES.namespaces] ?? 'public')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (namespaces.length === 0) throw new ValidationError(`${JOB_SETTING_NAMES.namespaces} names no namespace`);
  return {
    namespaces,
    maxLagBytes: number(env, JOB_SETTING_NAMES.maxLagBytes, 1024 ** 3, 0, true),
    maxLagSeconds: number(env, JOB_SETTING_NAMES.maxLagSeconds, 3600, 0, false),
    retentionDays: number(env, JOB_SETTING_NAMES.retentionDays, 7, 0, false),
    retainLast: number(env, JOB_SETTING_NAMES.retainLast, 5, 1, true),
    // Younger files may belong to a commit in flight: a day is the least the job accepts.
    orphanDays: number(env, JOB_SETTING_NAMES.orphanDays, 3, 1, false),
    historyDays: number(env, JOB_SETTING_NAMES.historyDays, 30, 0, false),
  };
}
