/**
 * The dashboard's sync section against a real sync (the app's functions on the local host, an embedded PostgreSQL
 * with logical replication): a migrate --cdc run, its sync started over HTTP, one table stopped by a dropped column
 * while the other goes on; once the sync is stopped (its figures final), the dashboard's JSON and page show the lag
 * in bytes and seconds and the stopped table with its reason exactly as `GET /api/syncs/{id}` reports them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import { appHostJson, loadFunctionModules } from '../../cli/support/local-run';
import { runMigration } from '../../cli/support/run-migration';
import type { DashboardData, DashboardSync } from '../../shared/dashboard/dashboard-data';
import { formatBytes } from '../../shared/dashboard/dashboard-html';
import { escapeHtml } from '../../shared/verify/reports/report-html';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

/** Generous: a few hundred changes apply in seconds; the limit only stops a hang. */
const WAIT_IN_MS = 180_000;

let pg: PostgresInstance;
let url: string;
let workDir: string;
let base: string;
let host: LocalHost;
let runId: string;

async function call(method: 'GET' | 'POST', route: string, body?: unknown): Promise<{ status: number; text: string; json: unknown }> {
  const response = await fetch(`${base}/api/${route}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

async function pollSync(id: string, what: string, done: (report: DashboardSync, status: number) => boolean): Promise<DashboardSync> {
  const deadline = Date.now() + WAIT_IN_MS;
  for (;;) {
    const answer = await call('GET', `syncs/${id}`);
    const report = answer.json as DashboardSync;
    if (done(report, answer.status)) return report;
    if (Date.now() > deadline) throw new Error(`${what}: still not there after ${WAIT_IN_MS} ms: ${answer.text}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('dashsync');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-dashboard-sync-'));
  const warehouse = path.join(workDir, 'warehouse');
  await withClient(url, async (client) => {
    for (const table of ['items', 'notes']) {
      await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int NOT NULL, note text)`);
      await client.query(`INSERT INTO ${table} SELECT g, g, 'row ' || g FROM generate_series(1, 500) g`);
    }
  });
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['items', 'notes'], verify: 'none', cdc: true },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(workDir, 'state-migrate'),
  });
  if (report.runtimeStatus !== 'Completed' || report.cdc === undefined) throw new Error(`the migration failed: ${report.lastError ?? ''}`);
  runId = report.id;
  // The app reads its source and warehouse from settings, as on Azure.
  process.env.ICEBRIDGE_SOURCE_URL = url;
  process.env.ICEBRIDGE_WAREHOUSE = warehouse;
  process.env.ICEBRIDGE_FLAGS_FILE = path.join(workDir, 'flags.json');
  host = await LocalHost.load(loadFunctionModules, { stateDir: path.join(workDir, 'state-serve'), hostJson: appHostJson(), log: silentHostLog });
  base = (await host.listen(0)).url;
}, 300_000);

afterAll(async () => {
  await host?.close();
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the dashboard with a sync', () => {
  it(
    'shows lag and a stopped table exactly as the sync reports them',
    async () => {
      const started = await call('POST', 'syncs', { runId, flushIntervalMs: 200, batchSeconds: 5 });
      expect(started.status, started.text).toBe(202);
      const { id } = started.json as { id: string };
      await withClient(url, async (client) => {
        await client.query(`INSERT INTO items SELECT g, g, 'new' FROM generate_series(1001, 1100) g`);
        // A dropped column is a change the sync cannot carry: this table stops, the other goes on.
        await client.query('ALTER TABLE notes DROP COLUMN note');
        await client.query(`INSERT INTO notes SELECT g, g FROM generate_series(1001, 1010) g`);
        await client.query(`UPDATE items SET v = v + 1 WHERE id <= 50`);
      });
      await pollSync(id, 'the notes table stopped', (report) => (report.stoppedTables ?? []).length === 1 && report.lagBytes !== undefined);
      expect((await call('POST', `syncs/${id}/stop`)).status).toBeLessThan(300);
      const final = await pollSync(id, 'stopped', (_, status) => status === 200);
      expect(final.stoppedTables?.map((t) => t.table)).toEqual(['public.notes']);

      const answer = await call('GET', 'dashboard/data');
      expect(answer.status, answer.text).toBe(200);
      const data = answer.json as DashboardData;
      expect(data.syncs.ok, JSON.stringify(data.syncs)).toBe(true);
      const shown = data.syncs.ok ? data.syncs.value.find((s) => s.id === id) : undefined;
      expect(shown).toEqual(final);
      // The migration was run by the CLI in another state directory: this host lists only its own runs.
      expect(data.migrations).toEqual({ ok: true, value: [] });

      const sections = await call('GET', 'dashboard/sections');
      const row = new RegExp(`<tr data-sync="${id}">[\\s\\S]*?</tr>`).exec(sections.text)?.[0] ?? '';
      expect(row).toContain(`>${formatBytes(final.lagBytes!)}<`);
      expect(row).toContain(`public.notes: <span class="reason">${escapeHtml(final.stoppedTables![0]!.reason)}</span>`);
      expect(final.stoppedTables![0]!.reason).toContain('public.notes');
    },
    WAIT_IN_MS * 2,
  );
});
