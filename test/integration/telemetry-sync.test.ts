/**
 * The sync's metrics, read from in-memory exporters: a batch of the syncBatch activity counts every row change it
 * applied to its table, and reports the lag it measured in bytes and seconds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { syncBatch } from '../../functions/activities/sync-activities';
import { SyncTableCache } from '../../functions/activities/sync-table-cache';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { connectPostgres } from '../../shared/postgres/connection';
import type { RunEnvironment } from '../../shared/run/environment';
import { MetricNames as M } from '../../shared/telemetry/names';
import { type TelemetryCapture, captureTelemetry } from '../telemetry/support/telemetry-capture';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

describe('telemetry of a sync', () => {
  let pg: PostgresInstance;
  let url: string;
  let dir: string;
  let capture: TelemetryCapture;

  beforeAll(async () => {
    pg = await startPostgres({ logical: true });
    url = await pg.createDatabase('syncmetrics');
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-telemetry-sync-'));
    await withClient(url, (client) =>
      client.query(`CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL); INSERT INTO items SELECT g, g FROM generate_series(1, 100) g`),
    );
  }, 300_000);
  afterAll(async () => {
    await capture?.stop();
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('counts the changes a batch applied and records the lag', async () => {
    const warehouse = path.join(dir, 'warehouse');
    const report = await runMigration({
      input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, verify: 'none', cdc: true },
      sourceUrl: url,
      warehouse,
      stateDir: path.join(dir, 'state'),
    });
    expect(report.cdc).toBeDefined();
    capture = captureTelemetry();
    await withClient(url, async (client) => {
      await client.query('INSERT INTO items SELECT g, g FROM generate_series(101, 140) g');
      await client.query('UPDATE items SET v = v + 1 WHERE id <= 10');
      await client.query('DELETE FROM items WHERE id > 135');
    });
    const env: RunEnvironment = { catalog: new HadoopCatalog(new LocalFileIO(), warehouse), connectSource: () => connectPostgres(url), sourceUrl: url };
    const result = await syncBatch(env, { syncId: 'sync-metrics', runId: report.id, flushIntervalMs: 200, batchSeconds: 120 }, new SyncTableCache());
    expect(result.outcome).toBe('caught-up');
    expect(result.changesApplied).toBe(55);
    expect(await capture.sum(M.changesApplied, { 'icebridge.table': 'public.items' })).toBe(55);
    const lagBytes = await capture.points(M.syncLagBytes);
    expect(lagBytes).toHaveLength(1);
    expect(lagBytes[0]!.value).toBe(result.lagBytes);
    expect((await capture.points(M.syncLagSeconds))[0]?.value).toBeGreaterThanOrEqual(0);
  }, 300_000);
});
