/**
 * The metrics the control plane and the scheduled jobs record, read back from an in-memory exporter: flag changes
 * and rollbacks through the real flag operations, job results, and verification differences.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlagAuditTrail } from '../../shared/flags/audit-trail';
import { ICEBRIDGE_FLAGS } from '../../shared/flags/feature-flag';
import { flagFromValue, rollbackToPostgres, setFlag } from '../../shared/flags/flag-changes';
import { LocalFlagStore } from '../../shared/flags/local-flag-store';
import { createFileIO } from '../../shared/iceberg/io';
import type { JobResult } from '../../shared/run/job-results';
import { MetricNames as M } from '../../shared/telemetry/names';
import { recordJobResult, recordPartitionCopied, recordSyncLag, recordVerification } from '../../shared/telemetry/metrics';
import type { TableVerification } from '../../shared/verify/contracts';
import { type TelemetryCapture, captureTelemetry } from './support/telemetry-capture';

let capture: TelemetryCapture;
let dir: string;
beforeEach(() => {
  capture = captureTelemetry();
  dir = mkdtempSync(path.join(tmpdir(), 'icebridge-telemetry-'));
});
afterEach(async () => {
  await capture.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('flag metrics', () => {
  it('count a flag change only when the stored flag changed, and each emergency rollback with the flags it flipped', async () => {
    const root = path.join(dir, 'audit');
    const store = new LocalFlagStore(path.join(dir, 'flags.json'));
    const audit = new FlagAuditTrail(createFileIO(root), root);
    const name = ICEBRIDGE_FLAGS.icebergReadPercentage;
    const author = { actor: 'alice', reason: 'ramp up' };
    await setFlag(store, audit, { name, flag: flagFromValue(name, '10') }, author);
    await setFlag(store, audit, { name, flag: flagFromValue(name, '10') }, author);
    await setFlag(store, audit, { name, flag: flagFromValue(name, '50') }, author);
    expect(await capture.sum(M.flagChanges, { 'icebridge.flag': name })).toBe(2);
    await rollbackToPostgres(store, audit, { actor: 'bob', reason: 'errors' }, () => undefined);
    expect(await capture.sum(M.flagChanges, { 'icebridge.flag': name })).toBe(3);
    expect(await capture.sum(M.rollbacks, { 'icebridge.rollback': 'postgres' })).toBe(1);
  });
});

describe('recordJobResult', () => {
  it('counts runs by job and status and records their duration', async () => {
    const result: JobResult = {
      job: 'consistency',
      slot: '2026-12-06',
      instanceId: 'consistency-2026-12-06',
      startedAt: '2026-12-06T02:00:00.000Z',
      finishedAt: '2026-12-06T02:01:30.000Z',
      status: 'findings',
      summary: '1 table differs',
      figures: { tables: 4, differing: 1 },
    };
    recordJobResult(result);
    recordJobResult({ ...result, slot: '2026-12-07', status: 'ok' });
    expect(await capture.sum(M.jobResults, { 'icebridge.job': 'consistency', 'icebridge.status': 'findings' })).toBe(1);
    expect(await capture.sum(M.jobResults, { 'icebridge.job': 'consistency' })).toBe(2);
    expect(await capture.histogram(M.jobDuration, { 'icebridge.status': 'findings' })).toEqual({ count: 1, sum: 90 });
  });
});

describe('recordVerification', () => {
  it('counts the differences of each kind a table verification found', async () => {
    const verification: TableVerification = {
      table: 'public.orders',
      target: 'public.orders',
      level: 'full',
      status: 'differs',
      schema: [{ kind: 'MISSING_FIELD', field: 'note' }],
      counts: { source: '10', targetManifest: '9', ok: false },
      aggregates: [
        { column: 'id', aggregate: 'sum', source: '55', target: '45', ok: false },
        { column: 'id', aggregate: 'count', source: '10', target: '10', ok: true },
      ],
      rows: { compared: '10', differing: '3', differences: [] },
      samples: [],
      durationMs: 5,
    };
    recordVerification(verification);
    const kinds: Record<string, unknown> = {};
    for (const p of await capture.points(M.verificationDifferences)) kinds[String(p.attributes['icebridge.verify.difference'])] = p.value;
    expect(kinds).toEqual({ schema: 1, count: 1, aggregate: 1, rows: 3 });
    expect(await capture.sum(M.tablesVerified, { 'icebridge.status': 'differs' })).toBe(1);
  });
});

describe('copy and sync figures', () => {
  it('record rows, bytes, duration and throughput of a partition, and the last sync lag', async () => {
    recordPartitionCopied({ table: 'orders', rows: 1000, bytes: 4096, durationMs: 500 });
    recordPartitionCopied({ table: 'orders', rows: 500, bytes: 2048, durationMs: 250 });
    expect(await capture.sum(M.rowsCopied, { 'icebridge.table': 'orders' })).toBe(1500);
    expect(await capture.sum(M.bytesCopied)).toBe(6144);
    expect(await capture.histogram(M.partitionDuration)).toEqual({ count: 2, sum: 0.75 });
    expect(await capture.histogram(M.rowsPerSecond)).toEqual({ count: 2, sum: 4000 });
    recordSyncLag({ lagBytes: 100, lagSeconds: undefined });
    recordSyncLag({ lagBytes: 40, lagSeconds: 2.5 });
    expect((await capture.points(M.syncLagBytes)).map((p) => p.value)).toEqual([40]);
    expect((await capture.points(M.syncLagSeconds)).map((p) => p.value)).toEqual([2.5]);
  });
});
