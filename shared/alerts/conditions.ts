/**
 * The alert conditions, as pure functions over figures the product already keeps: a migration's status (its
 * custom status and when it last changed), a sync's status, a scheduled job's result, an emergency rollback.
 * Each answers an alert or undefined; none reads a clock, so the caller's `now` decides.
 */
import type { RollbackAlert } from '../flags/flag-changes';
import type { MigrationProgress } from '../migrate/contracts';
import type { JobResult } from '../run/job-results';
import type { SyncStatus } from '../run/sync-run';
import type { Alert } from './alert';
import type { AlertThresholds } from './alert-settings';

/** A migration run as its status shows it. */
export interface RunFigures {
  runId: string;
  /** Durable's runtime status (`Running`, `Completed`, …). */
  runtimeStatus: string;
  progress: MigrationProgress;
  /** When the run's status last changed (Durable's lastUpdatedTime): every partition copied moves it. */
  lastUpdatedAt: string;
  /** When the run started. */
  startedAt?: string;
}

const ACTIVE = new Set(['Running', 'Pending', 'ContinuedAsNew']);

/** A running migration whose status has not moved for `stallMinutes`. One incident per stall (the slot is when progress stopped). */
export function migrationStalled(run: RunFigures, thresholds: Pick<AlertThresholds, 'stallMinutes'>, now: Date): Alert | undefined {
  if (!ACTIVE.has(run.runtimeStatus) || run.progress.phase === 'done') return undefined;
  const idleMinutes = (now.getTime() - Date.parse(run.lastUpdatedAt)) / 60_000;
  if (!(idleMinutes >= thresholds.stallMinutes)) return undefined;
  return {
    condition: 'migration-stalled',
    severity: 'critical',
    subject: run.runId,
    slot: run.lastUpdatedAt,
    title: `Migration ${run.runId} has made no progress for ${Math.floor(idleMinutes)} minutes`,
    text: `Run ${run.runId} is ${run.progress.phase} and its status has not changed since ${run.lastUpdatedAt} (threshold ${thresholds.stallMinutes} minutes). Look at the source's locks and the host's logs.`,
    facts: [
      { name: 'phase', value: run.progress.phase },
      { name: 'partitions', value: `${run.progress.partitions.done}/${run.progress.partitions.total}` },
      { name: 'rows', value: String(run.progress.rows) },
      { name: 'last progress', value: run.lastUpdatedAt },
    ],
  };
}

/** Failed tables over finished tables above the threshold. One incident per run. */
export function migrationErrorRate(run: RunFigures, thresholds: Pick<AlertThresholds, 'errorRate'>): Alert | undefined {
  const { done, failed } = run.progress.tables;
  if (done === 0 || failed === 0) return undefined;
  const rate = failed / done;
  if (!(rate > thresholds.errorRate)) return undefined;
  return {
    condition: 'error-rate',
    severity: 'critical',
    subject: run.runId,
    slot: run.runId,
    title: `Migration ${run.runId}: ${failed} of ${done} tables failed`,
    text: `${percent(rate)} of the finished tables failed (threshold ${percent(thresholds.errorRate)}).${run.progress.lastError ? ` Last error: ${run.progress.lastError}` : ''}`,
    facts: [
      { name: 'failed', value: String(failed) },
      { name: 'finished', value: String(done) },
      ...run.progress.recentFailures.map((f) => ({ name: f.table, value: f.reason })),
    ],
  };
}

/** A copying run whose average rate is under the fraction of the baseline, once it has copied for `minimumMinutes`. One incident per run. */
export function lowThroughput(
  run: RunFigures,
  thresholds: Pick<AlertThresholds, 'throughputFraction' | 'baselineRowsPerSecond'>,
  now: Date,
  minimumMinutes = 5,
): Alert | undefined {
  if (thresholds.baselineRowsPerSecond === undefined || run.startedAt === undefined) return undefined;
  if (!ACTIVE.has(run.runtimeStatus) || run.progress.phase !== 'copying') return undefined;
  const seconds = (now.getTime() - Date.parse(run.startedAt)) / 1000;
  if (!(seconds >= minimumMinutes * 60)) return undefined;
  const rate = run.progress.rows / seconds;
  const floor = thresholds.baselineRowsPerSecond * thresholds.throughputFraction;
  if (rate >= floor) return undefined;
  return {
    condition: 'low-throughput',
    severity: 'warning',
    subject: run.runId,
    slot: run.runId,
    title: `Migration ${run.runId} copies ${Math.round(rate)} rows/s, under ${Math.round(floor)}`,
    text: `The run averages ${Math.round(rate)} rows per second, below ${percent(thresholds.throughputFraction)} of the baseline ${thresholds.baselineRowsPerSecond} rows per second.`,
    facts: [
      { name: 'rows', value: String(run.progress.rows) },
      { name: 'rows per second', value: String(Math.round(rate)) },
      { name: 'baseline', value: String(thresholds.baselineRowsPerSecond) },
    ],
  };
}

/** A sync whose lag is over the threshold. One incident per sync per hour in which it was seen (UTC). */
export function syncLag(status: SyncStatus, thresholds: Pick<AlertThresholds, 'syncLagSeconds'>, now: Date): Alert | undefined {
  if (status.lagSeconds === undefined || !(status.lagSeconds > thresholds.syncLagSeconds)) return undefined;
  return {
    condition: 'sync-lag',
    severity: 'warning',
    subject: status.runId,
    slot: now.toISOString().slice(0, 13),
    title: `Sync of ${status.runId} is ${Math.round(status.lagSeconds)} s behind the source`,
    text: `The sync applies changes ${Math.round(status.lagSeconds)} seconds after they were made (threshold ${thresholds.syncLagSeconds}); phase ${status.phase}.`,
    facts: [
      { name: 'lag seconds', value: String(Math.round(status.lagSeconds)) },
      ...(status.lagBytes === undefined ? [] : [{ name: 'lag bytes', value: String(status.lagBytes) }]),
      { name: 'stopped tables', value: String(status.stoppedTables.length + status.stoppedTablesOmitted) },
    ],
  };
}

/** A scheduled job's result: drift found, a consistency difference, or a job that failed. One incident per job and slot. */
export function jobAlert(result: JobResult): Alert | undefined {
  const facts = [
    { name: 'slot', value: result.slot },
    ...Object.entries(result.figures).map(([name, value]) => ({ name, value: String(value) })),
    ...(result.reports ? [{ name: 'reports', value: result.reports }] : []),
  ];
  const base = { subject: result.job, slot: result.slot, facts };
  if (result.status === 'failed') {
    return { ...base, condition: 'job-failed', severity: 'warning', title: `Job ${result.job} failed (${result.slot})`, text: result.error ?? result.summary };
  }
  if (result.status !== 'findings') return undefined;
  if (result.job === 'drift')
    return { ...base, condition: 'drift-found', severity: 'warning', title: `Schema drift found (${result.slot})`, text: result.summary };
  if (result.job === 'consistency') {
    return {
      ...base,
      condition: 'consistency-difference',
      severity: 'critical',
      title: `Iceberg differs from PostgreSQL (${result.slot})`,
      text: result.summary,
    };
  }
  return undefined;
}

/** The emergency rollback: always an alert. One incident per rollback (its time). */
export function emergencyRollbackAlert(event: RollbackAlert): Alert {
  return {
    condition: 'emergency-rollback',
    severity: 'critical',
    subject: 'flags',
    slot: event.at,
    title: `Emergency rollback to PostgreSQL by ${event.actor}`,
    text: `Reason: ${event.reason}. ${event.changed.length === 0 ? 'Every flag was already on PostgreSQL.' : `Flags changed: ${event.changed.join(', ')}.`}${event.auditError ? ` ${event.auditError}` : ''}`,
    facts: [
      { name: 'actor', value: event.actor },
      { name: 'at', value: event.at },
      { name: 'flags changed', value: String(event.changed.length) },
    ],
  };
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}
