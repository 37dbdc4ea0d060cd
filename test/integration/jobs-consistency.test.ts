/**
 * The consistency job on a table under change capture (embedded PostgreSQL with logical replication, a migrate
 * --cdc run, `icebridge sync`): caught up it is `ok` and reports the slot, the applied position and the lag; with
 * changes the sync has not applied, lag over the thresholds and the differing table are findings; a table stopped
 * for the run's slot is a finding naming why. Each run's result and reports are in the warehouse.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCommand } from '../../cli/commands/sync';
import { runMigration } from '../../cli/support/run-migration';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { setProperties } from '../../shared/iceberg/transaction/table-evolution';
import { handoverName } from '../../shared/migrate/handover-names';
import type { ConsistencyReport } from '../../shared/ops/consistency-job';
import { readJobResult } from '../../shared/run/job-results';
import { runJob } from '../../shared/ops/run-job';
import { connectPostgres } from '../../shared/postgres/connection';
import type { RunEnvironment } from '../../shared/run/environment';
import { stoppedProperty } from '../../shared/sync/table-stop';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const TABLE = 'items';

let pg: PostgresInstance;
let url: string;
let workDir: string;
let warehouse: string;
let runId: string;

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('consistency');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-consistency-'));
  warehouse = path.join(workDir, 'warehouse');
  await withClient(url, async (client) => {
    await client.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, v int NOT NULL, note text)`);
    await client.query(`INSERT INTO ${TABLE} SELECT g, g, 'row ' || g FROM generate_series(1, 2000) g`);
  });
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: [TABLE], verify: 'none', cdc: true },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(workDir, 'state'),
  });
  if (report.runtimeStatus !== 'Completed' || report.cdc === undefined) throw new Error(`migration failed: ${report.lastError ?? ''}`);
  runId = report.id;
}, 300_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const env = (): RunEnvironment => ({ connectSource: () => connectPostgres(url), catalog: new HadoopCatalog(new LocalFileIO(), warehouse), sourceUrl: url });

async function syncCaughtUp(): Promise<void> {
  const err: string[] = [];
  const argv = ['--run', runId, '--source', url, '--warehouse', warehouse, '--json', '--flush-interval-ms', '200', '--until-caught-up'];
  expect(await syncCommand(argv, { write: () => undefined }, { write: (t: string) => void err.push(t) }, {}), err.join('')).toBe(0);
}

async function check(slot: string, settings: NodeJS.ProcessEnv = {}): Promise<{ status: string; report: ConsistencyReport; summary: string }> {
  const result = await runJob(env(), warehouse, { job: 'consistency', slot }, settings);
  expect(await readJobResult(new LocalFileIO(), warehouse, 'consistency', slot)).toEqual(result);
  const report = JSON.parse(await readFile(path.join(result.reports!, 'report.json'), 'utf8')) as ConsistencyReport;
  return { status: result.status, report, summary: result.summary };
}

describe('the consistency job under change capture', () => {
  it('is ok when caught up, and reports lag, a differing table and a stopped table as findings', async () => {
    await withClient(url, (client) => client.query(`UPDATE ${TABLE} SET note = 'changed' WHERE id <= 10`));
    await syncCaughtUp();
    const caughtUp = await check('caught-up');
    expect(caughtUp.status, caughtUp.summary).toBe('ok');
    expect(caughtUp.report.syncs).toHaveLength(1);
    expect(caughtUp.report.syncs[0]).toMatchObject({ table: 'public.items', runId, slot: handoverName(runId), slotExists: true });
    expect(caughtUp.report.syncs[0]!.appliedLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(caughtUp.report.syncs[0]!.lagBytes).toBeGreaterThanOrEqual(0);

    // Over 1 MiB of WAL the sync has not applied: behind in bytes, in time, and in rows.
    await withClient(url, (client) => client.query(`INSERT INTO ${TABLE} SELECT g, g, repeat('x', 200) FROM generate_series(10001, 20000) g`));
    const behind = await check('behind', { ICEBRIDGE_CONSISTENCY_MAX_LAG_BYTES: '1000', ICEBRIDGE_CONSISTENCY_MAX_LAG_SECONDS: '0' });
    expect(behind.status).toBe('findings');
    expect(behind.report.findings).toEqual([
      'public.items: differs',
      expect.stringMatching(/^public\.items: replication lag \d+ bytes is over 1000$/),
      expect.stringMatching(/^public\.items: nothing applied for \d+ s while WAL waits \(over 0 s\)$/),
    ]);
    // The same state under the default thresholds: only the rows differ.
    expect((await check('behind-defaults')).report.findings).toEqual(['public.items: differs']);

    await syncCaughtUp();
    const catalog = env().catalog;
    const stop = { reason: 'a test stopped it', lsn: '0/1', at: new Date().toISOString() };
    await setProperties(catalog, { namespace: ['public'], name: TABLE }, { [stoppedProperty(handoverName(runId))]: JSON.stringify(stop) });
    const stopped = await check('stopped');
    expect(stopped.report.findings).toEqual(['public.items: change capture stopped at 0/1 (a test stopped it)']);
    const html = await readFile(path.join(warehouse, '.icebridge', 'reports', 'consistency', 'stopped', 'report.html'), 'utf8');
    expect(html).toContain('a test stopped it');
  }, 600_000);
});
