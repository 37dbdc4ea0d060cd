/**
 * `/api/syncs` end to end on the local host (the app's own functions, as `icebridge serve` loads them) against an
 * embedded PostgreSQL with logical replication: a migrate --cdc run, then POST /api/syncs while a writer changes
 * rows; GET reports lag, positions and rate until the sync has caught up; both Iceberg tables then hold exactly the
 * source's rows; the orchestration continued as new (its history stays small); a stop ends it cleanly and keeps the
 * slot; a second post answers with the same sync, a post after the stop resumes it. Bad bodies are 400s, unknown
 * ids 404s, and no response carries the source password.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import { appHostJson, loadFunctionModules } from '../../cli/support/local-run';
import { runMigration } from '../../cli/support/run-migration';
import { SyncTableCache } from '../../functions/activities/sync-table-cache';
import { parseLsn } from '../../shared/cdc/lsn';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { handoverName } from '../../shared/migrate/handover-names';
import { connectPostgres } from '../../shared/postgres/connection';
import type { RunEnvironment } from '../../shared/run/environment';
import type { SyncStatus } from '../../shared/run/sync-run';
import { verifyTable } from '../../shared/verify/steps/verify-table';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const TABLES = ['items', 'orders'];
const ROWS = 3_000;
const WAIT_IN_MS = 180_000;

let pg: PostgresInstance;
let url: string;
let workDir: string;
let warehouse: string;
let runId: string;
let host: LocalHost;
let base: string;
const responses: string[] = [];

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

async function call(method: 'GET' | 'POST', route: string, body?: unknown): Promise<Answer> {
  const response = await fetch(route.startsWith('http') ? route : `${base}/api${route}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  responses.push(`${response.status} ${JSON.stringify([...response.headers])}\n${text}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

type Report = SyncStatus & { id: string; runtimeStatus: string; error?: string };

async function pollUntil(statusUrl: string, what: string, done: (report: Report, answer: Answer) => boolean): Promise<Report> {
  const deadline = Date.now() + WAIT_IN_MS;
  for (;;) {
    const answer = await call('GET', statusUrl);
    const report = answer.json as Report;
    if (done(report, answer)) return report;
    if (Date.now() > deadline) throw new Error(`${what}: still not there after ${WAIT_IN_MS} ms: ${answer.text}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function walInsertLsn(): Promise<bigint> {
  return withClient(url, async (client) => parseLsn((await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn));
}

let round = 0;
/** Inserts, updates and deletes in both tables, each statement its own transaction. */
async function change(): Promise<void> {
  round++;
  const first = 1_000_000 + round * 1_000;
  await withClient(url, async (client) => {
    for (const table of TABLES) {
      await client.query(`INSERT INTO ${table} SELECT g, g, 'new ${round}' FROM generate_series(${first}, ${first + 49}) g`);
      await client.query(`UPDATE ${table} SET note = 'updated ${round}' WHERE id % 53 = ${round % 53}`);
      await client.query(`DELETE FROM ${table} WHERE id % 61 = ${round % 61} AND id <= ${ROWS}`);
      for (let i = 0; i < 10; i++) await client.query(`UPDATE ${table} SET v = v + 1 WHERE id = $1`, [first + i]);
    }
  });
}

async function expectSame(table: string): Promise<void> {
  const env = { connectSource: () => connectPostgres(url), catalog: new HadoopCatalog(new LocalFileIO(), warehouse) } as RunEnvironment;
  const result = await verifyTable(env, { source: { schema: 'public', name: table }, target: { namespace: ['public'], name: table } }, { level: 'full' });
  expect({ table, status: result.status, error: result.error, rows: result.rows?.differences }).toEqual({ table, status: 'ok', error: undefined, rows: [] });
}

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('httpsync');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-http-syncs-'));
  warehouse = path.join(workDir, 'warehouse');
  await withClient(url, async (client) => {
    for (const table of TABLES) {
      await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int NOT NULL, note text)`);
      await client.query(`INSERT INTO ${table} SELECT g, g, 'row ' || g FROM generate_series(1, ${ROWS}) g`);
    }
  });
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: TABLES, verify: 'none', cdc: true },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(workDir, 'state-migrate'),
  });
  if (report.runtimeStatus !== 'Completed' || report.cdc === undefined) throw new Error(`the migration failed: ${report.lastError ?? ''}`);
  runId = report.id;
  // The app reads its source and warehouse from settings, as on Azure.
  process.env.ICEBRIDGE_SOURCE_URL = url;
  process.env.ICEBRIDGE_WAREHOUSE = warehouse;
  host = await LocalHost.load(loadFunctionModules, { stateDir: path.join(workDir, 'state-serve'), hostJson: appHostJson(), log: silentHostLog });
  base = (await host.listen(0)).url;
}, 300_000);

afterAll(async () => {
  await host?.close();
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('/api/syncs', () => {
  it('refuses bad bodies with 400 and a reason, and unknown ids with 404', async () => {
    const refusals: Array<[unknown, RegExp]> = [
      ['{"runId":', /not valid JSON/],
      [{}, /runId must be/],
      [{ runId: runId, colour: 'blue' }, /unknown field "colour"/],
      [{ runId: runId, batchSeconds: 0 }, /batchSeconds must be an integer/],
      [{ runId: 'no-such-run' }, /no publication icebridge_no_such_run/],
      [{ runId: runId, tables: ['items'] }, /leaves out public\.orders/],
      [{ runId: runId, tables: ['items', 'orders', 'nope'] }, /not in the run's publication: nope/],
      [{ runId: runId, warehouse: path.join(workDir, 'elsewhere') }, /not this app's warehouse/],
    ];
    for (const [body, reason] of refusals) {
      const answer = await call('POST', '/syncs', body);
      expect(answer.status, answer.text).toBe(400);
      expect((answer.json as { reason: string }).reason).toMatch(reason);
    }
    expect((await call('GET', '/syncs/sync-unknown')).status).toBe(404);
    expect((await call('POST', '/syncs/sync-unknown/stop')).status).toBe(404);
    expect((await call('GET', '/syncs/not%20an%20id')).status).toBe(400);
    // The migration's own instance is no sync.
    expect((await call('GET', `/syncs/${runId}`)).status).toBe(400);
    expect((await call('GET', `/syncs/sync-${runId}`)).status).toBe(404);
  }, 120_000);

  it('syncs while a writer changes rows, reports its progress, continues as new, stops cleanly and starts again', async () => {
    const body = { runId, warehouse, flushIntervalMs: 200, batchSeconds: 5 };
    const started = await call('POST', '/syncs', body);
    expect(started.status, started.text).toBe(202);
    const { id, statusUrl, alreadyStarted } = started.json as { id: string; statusUrl: string; alreadyStarted: boolean };
    expect({ id, alreadyStarted }).toEqual({ id: `sync-${runId}`, alreadyStarted: false });
    expect(started.headers.get('location')).toBe(statusUrl);
    const again = await call('POST', '/syncs', body);
    expect(again.status, again.text).toBe(202);
    expect(again.json).toMatchObject({ id, alreadyStarted: true });
    const other = await call('POST', '/syncs', { ...body, batchSeconds: 6 });
    expect(other.status, other.text).toBe(409);

    for (let i = 0; i < 4; i++) await change();
    const target = await walInsertLsn();
    const caughtUp = await pollUntil(statusUrl, 'caught up', (report, answer) => {
      expect(answer.status, answer.text).toBe(202);
      expect(report.runtimeStatus).not.toMatch(/Failed|Terminated|Completed/);
      return report.confirmedLsn !== undefined && parseLsn(report.confirmedLsn) >= target;
    });
    expect(caughtUp.changesApplied).toBeGreaterThan(0);
    expect(caughtUp.lagBytes).toBeGreaterThanOrEqual(0);
    expect(typeof caughtUp.changesPerSecond).toBe('number');
    expect(caughtUp.tables.map((t) => t.table).sort()).toEqual(['public.items', 'public.orders']);
    for (const t of caughtUp.tables) expect(parseLsn(t.appliedLsn!)).toBeGreaterThan(0n);
    expect(caughtUp.stoppedTables).toEqual([]);
    for (const table of TABLES) await expectSame(table);

    // More batches than one execution holds: the history is that of the current execution only.
    // (A batch that opened no table in its time, as on a loaded machine, adds an execution but no batch.)
    const later = await pollUntil(statusUrl, 'three batches', (report) => report.batches >= 3);
    expect(later.execution).toBeGreaterThanOrEqual(3);
    await host.loadInstance(id);
    const { history } = host.getHistory(id)!;
    expect(history.length).toBeLessThanOrEqual(12);

    const stop = await call('POST', `/syncs/${id}/stop`);
    expect(stop.status, stop.text).toBe(202);
    expect((await call('POST', `/syncs/${id}/stop`)).status).toBeLessThan(300);
    const stopped = await pollUntil(statusUrl, 'stopped', (_, answer) => answer.status === 200);
    expect(stopped).toMatchObject({ runtimeStatus: 'Completed', phase: 'stopped' });
    const stopAgain = await call('POST', `/syncs/${id}/stop`);
    expect(stopAgain.status).toBe(200);
    expect(stopAgain.json).toMatchObject({ stopping: false, runtimeStatus: 'Completed' });
    const slots = await withClient(url, (client) => client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [handoverName(runId)]));
    expect(slots.rowCount).toBe(1);

    // A post after the stop resumes from what the tables hold (the old stop marker does not stop it at once).
    await change();
    const resumed = await call('POST', '/syncs', body);
    expect(resumed.status, resumed.text).toBe(202);
    expect(resumed.json).toMatchObject({ id, alreadyStarted: false });
    const target2 = await walInsertLsn();
    await pollUntil(statusUrl, 'caught up again', (report, answer) => {
      expect(answer.status, answer.text).toBe(202);
      return report.confirmedLsn !== undefined && parseLsn(report.confirmedLsn) >= target2;
    });
    for (const table of TABLES) await expectSame(table);
    expect((await call('POST', `/syncs/${id}/stop`)).status).toBe(202);
    expect(await pollUntil(statusUrl, 'stopped again', (_, answer) => answer.status === 200)).toMatchObject({ runtimeStatus: 'Completed', phase: 'stopped' });
  }, 600_000);

  it('reuses the tables a batch left open in the process, and rebuilds one another process has changed since', async () => {
    const env = { connectSource: () => connectPostgres(url), catalog: new HadoopCatalog(new LocalFileIO(), warehouse), sourceUrl: url } as RunEnvironment;
    const input = { syncId: 'sync-cache-check', runId, flushIntervalMs: 200, batchSeconds: 30 };
    // Imported only now: loaded before the host, the module's registration would not reach it.
    const { syncBatch } = await import('../../functions/activities/sync-activities.js');
    const cache = new SyncTableCache();
    await change();
    const cold = await syncBatch(env, input, cache);
    expect(cold).toMatchObject({ outcome: 'caught-up', tablesReused: 0 });
    expect(cache.size).toBe(2);
    await change();
    const warm = await syncBatch(env, input, cache);
    expect(warm).toMatchObject({ outcome: 'caught-up', tablesReused: 2 });
    expect(warm.changesApplied).toBeGreaterThan(0);
    for (const table of TABLES) await expectSame(table);
    // Another process applies the next changes: this process's indexes no longer follow the tables.
    await change();
    const elsewhere = await syncBatch(env, input, new SyncTableCache());
    expect(elsewhere.changesApplied).toBeGreaterThan(0);
    await change();
    const after = await syncBatch(env, input, cache);
    expect(after).toMatchObject({ outcome: 'caught-up', tablesReused: 0 });
    expect(after.changesApplied).toBeGreaterThan(0);
    for (const table of TABLES) await expectSame(table);
  }, 300_000);

  it('never shows the source password', () => {
    expect(responses.length).toBeGreaterThan(10);
    for (const response of responses) expect(response).not.toContain(pg.password);
  });
});
