import { describe, expect, it } from 'vitest';
import { incidentKey } from '../../shared/alerts/alert';
import { DEFAULT_THRESHOLDS, alertSettingsFromEnv } from '../../shared/alerts/alert-settings';
import {
  emergencyRollbackAlert,
  jobAlert,
  lowThroughput,
  migrationErrorRate,
  migrationStalled,
  syncLag,
  type RunFigures,
} from '../../shared/alerts/conditions';
import { webhookPayload } from '../../shared/alerts/webhook-payload';
import type { MigrationProgress } from '../../shared/migrate/contracts';
import type { JobResult } from '../../shared/run/job-results';
import type { SyncStatus } from '../../shared/run/sync-run';

const progress: MigrationProgress = {
  phase: 'copying',
  tables: { total: 10, started: 10, done: 4, failed: 0 },
  partitions: { total: 100, done: 40 },
  rows: 1_000_000,
  recentFailures: [],
};
const run: RunFigures = {
  runId: 'run-1',
  runtimeStatus: 'Running',
  progress,
  lastUpdatedAt: '2026-12-06T09:00:00.000Z',
  startedAt: '2026-12-06T08:00:00.000Z',
};
const at = (iso: string): Date => new Date(iso);

describe('alert conditions', () => {
  it('stalled: only a running, unfinished run whose status has not moved for the threshold; one incident per stall', () => {
    expect(migrationStalled(run, { stallMinutes: 30 }, at('2026-12-06T09:29:59Z'))).toBeUndefined();
    const alert = migrationStalled(run, { stallMinutes: 30 }, at('2026-12-06T09:30:00Z'));
    expect(alert).toMatchObject({ condition: 'migration-stalled', subject: 'run-1', slot: run.lastUpdatedAt });
    expect(incidentKey(alert!)).toBe(incidentKey(migrationStalled(run, { stallMinutes: 30 }, at('2026-12-06T11:00:00Z'))!));
    expect(migrationStalled({ ...run, runtimeStatus: 'Completed' }, { stallMinutes: 30 }, at('2026-12-07T00:00:00Z'))).toBeUndefined();
    expect(migrationStalled({ ...run, progress: { ...progress, phase: 'done' } }, { stallMinutes: 30 }, at('2026-12-07T00:00:00Z'))).toBeUndefined();
  });

  it('error rate: failed over finished tables above the threshold', () => {
    const failing = (failed: number): RunFigures => ({ ...run, progress: { ...progress, tables: { ...progress.tables, done: 10, failed } } });
    expect(migrationErrorRate(failing(1), { errorRate: 0.1 })).toBeUndefined();
    expect(migrationErrorRate(failing(2), { errorRate: 0.1 })).toMatchObject({ condition: 'error-rate', title: 'Migration run-1: 2 of 10 tables failed' });
    expect(migrationErrorRate({ ...run, progress: { ...progress, tables: { ...progress.tables, done: 0 } } }, { errorRate: 0 })).toBeUndefined();
  });

  it('throughput: below the fraction of the baseline after the first minutes, off without a baseline', () => {
    // 1,000,000 rows in 3,600 s: 278 rows/s.
    const now = at('2026-12-06T09:00:00Z');
    expect(lowThroughput(run, { throughputFraction: 0.5 }, now)).toBeUndefined();
    expect(lowThroughput(run, { throughputFraction: 0.5, baselineRowsPerSecond: 500 }, now)).toBeUndefined();
    expect(lowThroughput(run, { throughputFraction: 0.5, baselineRowsPerSecond: 600 }, now)).toMatchObject({
      condition: 'low-throughput',
      severity: 'warning',
    });
    expect(
      lowThroughput({ ...run, progress: { ...progress, rows: 0 } }, { throughputFraction: 0.5, baselineRowsPerSecond: 600 }, at('2026-12-06T08:04:00Z')),
    ).toBeUndefined();
  });

  it('sync lag: over the threshold, one incident per sync and hour', () => {
    const status = { phase: 'syncing', runId: 'run-9', lagSeconds: 301, lagBytes: 5, stoppedTables: [], stoppedTablesOmitted: 0 } as unknown as SyncStatus;
    expect(syncLag({ ...status, lagSeconds: 300 }, { syncLagSeconds: 300 }, at('2026-12-06T09:10:00Z'))).toBeUndefined();
    expect(syncLag({ ...status, lagSeconds: undefined } as SyncStatus, { syncLagSeconds: 300 }, at('2026-12-06T09:10:00Z'))).toBeUndefined();
    const first = syncLag(status, { syncLagSeconds: 300 }, at('2026-12-06T09:10:00Z'))!;
    expect(incidentKey(first)).toBe('sync-lag:run-9:2026-12-06T09');
    expect(incidentKey(syncLag(status, { syncLagSeconds: 300 }, at('2026-12-06T09:59:00Z'))!)).toBe(incidentKey(first));
  });

  it('jobs: drift found, consistency difference, a failed job; nothing for ok', () => {
    const result: JobResult = {
      job: 'drift',
      slot: '2026-12-06',
      instanceId: 'i',
      startedAt: '',
      finishedAt: '',
      status: 'findings',
      summary: '2 tables drifted',
      figures: { drifted: 2 },
    };
    expect(jobAlert(result)).toMatchObject({ condition: 'drift-found', subject: 'drift', slot: '2026-12-06', text: '2 tables drifted' });
    expect(jobAlert({ ...result, job: 'consistency' })).toMatchObject({ condition: 'consistency-difference', severity: 'critical' });
    expect(jobAlert({ ...result, job: 'maintenance', status: 'failed', error: 'storage down' })).toMatchObject({
      condition: 'job-failed',
      text: 'storage down',
    });
    expect(jobAlert({ ...result, status: 'ok' })).toBeUndefined();
  });

  it('emergency rollback: always, one incident per rollback, in a card Slack and Teams both read', () => {
    const alert = emergencyRollbackAlert({
      event: 'icebridge.emergency-rollback',
      at: '2026-12-06T09:00:00Z',
      actor: 'oncall',
      reason: 'wrong reads',
      changed: ['use-iceberg-storage'],
    });
    expect(incidentKey(alert)).toBe('emergency-rollback:flags:2026-12-06T09:00:00Z');
    const payload = webhookPayload(alert);
    expect(payload.text).toBe('[icebridge CRITICAL] Emergency rollback to PostgreSQL by oncall\nReason: wrong reads. Flags changed: use-iceberg-storage.');
    expect(payload).toMatchObject({ '@type': 'MessageCard', '@context': 'https://schema.org/extensions', themeColor: 'D13438' });
  });
});

describe('alert settings', () => {
  it('defaults, validates, and never shows the webhook URL', () => {
    expect(alertSettingsFromEnv({})).toEqual({ thresholds: DEFAULT_THRESHOLDS });
    expect(alertSettingsFromEnv({ ICEBRIDGE_ALERT_STALL_MINUTES: '15', ICEBRIDGE_ALERT_BASELINE_ROWS_PER_SECOND: '20000' }).thresholds).toMatchObject({
      stallMinutes: 15,
      baselineRowsPerSecond: 20000,
    });
    expect(() => alertSettingsFromEnv({ ICEBRIDGE_ALERT_ERROR_RATE: '2' })).toThrow(/ICEBRIDGE_ALERT_ERROR_RATE/);
    let message = '';
    try {
      alertSettingsFromEnv({ ICEBRIDGE_ALERT_WEBHOOK_URL: 'ftp://hooks/s3cret' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^ICEBRIDGE_ALERT_WEBHOOK_URL must be/);
    expect(message).not.toContain('s3cret');
  });
});
