/**
 * Scheduled jobs on the local host, as `icebridge serve` loads the app: each job's timer fired twice for one slot,
 * one after the other and at the same moment, starts one orchestration and records one result; the consistency
 * job's result and its reports (JSON, self-contained HTML) are in the warehouse, and a source row changed behind
 * the copy's back is a finding. Over HTTP: run-now needs the operator token, answers with the result's URL, does
 * not run a slot twice, and `GET /api/jobs` lists the latest results.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobsCommand } from '../../cli/commands/jobs';
import { maintainCommand } from '../../cli/commands/maintain';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import { appHostJson, loadFunctionModules } from '../../cli/support/local-run';
import { runMigration } from '../../cli/support/run-migration';
import { LocalFileIO } from '../../shared/iceberg/io';
import { type JobResult, listJobResults } from '../../shared/run/job-results';
import { nextOccurrence, parseNcrontab } from '../../shared/ops/ncrontab';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const TOKEN = 'jobs-test-token';
const WAIT_IN_MS = 180_000;

let pg: PostgresInstance;
let url: string;
let workDir: string;
let warehouse: string;
let host: LocalHost;
let base: string;
const saved = { ...process.env };

async function waitDone(instanceId: string): Promise<void> {
  const status = await host.waitForCompletion(instanceId, { timeoutInMs: WAIT_IN_MS });
  expect(status.runtimeStatus, JSON.stringify(status.output)).toBe('Completed');
}

async function results(job: string): Promise<JobResult[]> {
  return listJobResults(new LocalFileIO(), warehouse, { job });
}

/** Today's slot, read on both sides of `fn` so a run across midnight UTC is told apart, not misread. */
async function inOneDay<T>(fn: () => Promise<T>): Promise<{ value: T; slot: string }> {
  const before = new Date().toISOString().slice(0, 10);
  const value = await fn();
  const after = new Date().toISOString().slice(0, 10);
  if (before !== after) throw new Error('the test ran across midnight UTC: run it again');
  return { value, slot: before };
}

async function call(
  method: 'GET' | 'POST',
  route: string,
  options: { body?: unknown; token?: string } = {},
): Promise<{ status: number; json: unknown; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${base}/api${route}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('jobs');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-jobs-'));
  warehouse = path.join(workDir, 'warehouse');
  await withClient(url, async (client) => {
    await client.query('CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL, note text)');
    await client.query(`INSERT INTO items SELECT g, g, 'row ' || g FROM generate_series(1, 2000) g`);
  });
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['items'], verify: 'none' },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(workDir, 'state-migrate'),
  });
  if (report.runtimeStatus !== 'Completed') throw new Error(`the migration failed: ${report.lastError ?? ''}`);
  process.env.ICEBRIDGE_SOURCE_URL = url;
  process.env.ICEBRIDGE_WAREHOUSE = warehouse;
  process.env.ICEBRIDGE_LOCAL_TOKEN = TOKEN;
  host = await LocalHost.load(loadFunctionModules, { stateDir: path.join(workDir, 'state-serve'), hostJson: appHostJson(), log: silentHostLog });
  base = (await host.listen(0)).url;
}, 300_000);

afterAll(async () => {
  await host?.close();
  await pg?.stop();
  process.env = saved;
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('scheduled jobs on the local host', () => {
  it('registers one timer per job on its schedule', () => {
    const timers = [...host.functions.values()].filter((f) => f.trigger.type === 'timerTrigger');
    expect(Object.fromEntries(timers.map((f) => [f.name, f.trigger.schedule]))).toEqual({
      consistencyTimer: '0 0 2 * * *',
      maintenanceTimer: '0 30 3 * * *',
      driftTimer: '0 30 1 * * *',
      watchTimer: '0 */5 * * * *',
    });
  });

  it('runs the consistency job once when its timer fires twice, then twice at once, for one slot', async () => {
    const { slot } = await inOneDay(async () => {
      await host.fireTimer('consistencyTimer');
      await waitDone(`consistency:${new Date().toISOString().slice(0, 10)}`);
    });
    const id = `consistency:${slot}`;
    const first = host.getStatus(id)!;
    const [result] = await results('consistency');
    expect(result).toMatchObject({ job: 'consistency', slot, instanceId: id, status: 'ok', figures: { tables: 1, differing: 0, syncedTables: 0 } });

    // Again, one after the other and two at once: the completed run is neither replaced nor run again.
    await host.fireTimer('consistencyTimer');
    await Promise.all([host.fireTimer('consistencyTimer'), host.fireTimer('consistencyTimer')]);
    const after = host.getStatus(id)!;
    expect({ created: after.createdTime, status: after.runtimeStatus }).toEqual({ created: first.createdTime, status: 'Completed' });
    expect(await results('consistency')).toEqual([result]);

    const reports = result!.reports!;
    const json = JSON.parse(await readFile(path.join(reports, 'report.json'), 'utf8')) as { findings: string[]; verification: { tables: unknown[] } };
    expect(json.findings).toEqual([]);
    expect(json.verification.tables).toHaveLength(1);
    const html = await readFile(path.join(reports, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Change capture</h2>');
    expect(html).toContain('No findings.');
    // Self-contained: nothing is fetched from elsewhere.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/i);
  }, 300_000);

  it('starts one orchestration when two firings of a fresh slot race, and purges finished history', async () => {
    const nightly = `consistency:${new Date().toISOString().slice(0, 10)}`;
    expect(host.getStatus(nightly)?.runtimeStatus).toBe('Completed');
    process.env.ICEBRIDGE_MAINTENANCE_HISTORY_DAYS = '0';
    const { slot } = await inOneDay(() => Promise.all([host.fireTimer('maintenanceTimer'), host.fireTimer('maintenanceTimer')]));
    delete process.env.ICEBRIDGE_MAINTENANCE_HISTORY_DAYS;
    const id = `maintenance:${slot}`;
    await waitDone(id);
    await host.loadInstance(id);
    const { history } = host.getHistory(id)!;
    // EventType 4: TaskScheduled. One activity, in one execution.
    expect(history.filter((e) => (e as { EventType: number }).EventType === 4)).toHaveLength(1);
    const recorded = await results('maintenance');
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ job: 'maintenance', slot, instanceId: id, status: 'ok', figures: { tables: 1 } });
    // The finished consistency run's history is gone; its result in the warehouse stays, so its slot does not run again.
    // (Which of the two racing starts purged it, and so which count the run records, is the race's to decide.)
    expect(typeof recorded[0]!.figures.historyPurged).toBe('number');
    expect(host.getStatus(nightly)).toBeUndefined();
    const kept = await results('consistency');
    await host.fireTimer('consistencyTimer');
    await waitDone(nightly);
    expect(await results('consistency')).toEqual(kept);
  }, 300_000);

  it('runs a job now over HTTP for the operator only, finds a changed row, and lists the latest results', async () => {
    expect((await call('POST', '/jobs/consistency/run')).status).toBe(401);
    expect((await call('POST', '/jobs/nope/run', { token: TOKEN })).status).toBe(400);
    expect((await call('POST', '/jobs/consistency/run', { token: TOKEN, body: { slot: '../x' } })).status).toBe(400);
    await withClient(url, (client) => client.query(`UPDATE items SET note = 'changed behind the copy' WHERE id = 7`));

    const started = await call('POST', '/jobs/consistency/run', { token: TOKEN, body: { slot: 'manual-1' } });
    expect(started.status, started.text).toBe(202);
    const { instanceId, resultUrl } = started.json as { instanceId: string; resultUrl: string };
    expect(instanceId).toBe('consistency:manual-1');
    await waitDone(instanceId);
    const answer = await fetch(resultUrl);
    expect(answer.status).toBe(200);
    const result = (await answer.json()) as JobResult;
    expect(result).toMatchObject({ slot: 'manual-1', status: 'findings', figures: { differing: 1 } });
    expect(result.summary).toMatch(/public\.items: differs/);

    const again = await call('POST', '/jobs/consistency/run', { token: TOKEN, body: { slot: 'manual-1' } });
    expect(again.status, again.text).toBe(200);
    expect(again.json).toMatchObject({ started: false, runtimeStatus: 'Completed' });

    const list = await call('GET', '/jobs');
    expect(list.status).toBe(200);
    const jobs = (list.json as { jobs: Array<{ job: string; latest: JobResult | null }> }).jobs;
    expect(jobs.map((j) => j.job)).toEqual(['consistency', 'maintenance', 'drift', 'watch']);
    // Consistency and maintenance ran above; the drift and watch jobs have not run here.
    expect(Object.fromEntries(jobs.map((j) => [j.job, j.latest !== null]))).toEqual({ consistency: true, maintenance: true, drift: false, watch: false });
    const history = await call('GET', '/jobs/consistency');
    expect((history.json as { results: JobResult[] }).results.map((r) => r.slot)).toEqual(['manual-1', expect.stringMatching(/^\d{4}-\d\d-\d\d$/)]);
    expect((await call('GET', '/jobs/consistency?slot=never')).status).toBe(404);
    expect((await call('GET', '/jobs/unknown')).status).toBe(404);
    // The source password never leaves the app.
    expect(JSON.stringify(jobs)).not.toContain(new URL(url).password || '\u0000');
  }, 300_000);

  it('records a failed run, fails its instance, and runs the slot again when asked', async () => {
    process.env.ICEBRIDGE_CONSISTENCY_MAX_LAG_BYTES = 'lots';
    const started = await call('POST', '/jobs/consistency/run', { token: TOKEN, body: { slot: 'broken-1' } });
    expect(started.status, started.text).toBe(202);
    const failed = await host.waitForCompletion('consistency:broken-1', { timeoutInMs: WAIT_IN_MS });
    delete process.env.ICEBRIDGE_CONSISTENCY_MAX_LAG_BYTES;
    expect(failed.runtimeStatus).toBe('Failed');
    const recorded = await call('GET', '/jobs/consistency?slot=broken-1');
    expect(recorded.json).toMatchObject({ status: 'failed', error: expect.stringContaining('ICEBRIDGE_CONSISTENCY_MAX_LAG_BYTES') as unknown });

    const again = await call('POST', '/jobs/consistency/run', { token: TOKEN, body: { slot: 'broken-1' } });
    expect(again.status, again.text).toBe(202);
    await waitDone('consistency:broken-1');
    expect((await call('GET', '/jobs/consistency?slot=broken-1')).json).toMatchObject({ status: 'findings' });
  }, 300_000);

  it('arms every timer at its next occurrence when asked to schedule them', () => {
    const before = new Date();
    const armed = host.startTimers();
    expect(armed.map((t) => t.name).sort()).toEqual(['consistencyTimer', 'driftTimer', 'maintenanceTimer', 'watchTimer']);
    for (const t of armed) {
      const schedule = parseNcrontab(String(host.functions.get(t.name)!.trigger.schedule));
      expect(Date.parse(t.next)).toBe(nextOccurrence(schedule, before)!.getTime());
    }
  });

  it('runs a job from the command line through the same orchestration, and lists and maintains', async () => {
    const capture = (): { write: (t: string) => boolean; text: () => string } => {
      const parts: string[] = [];
      return { write: (t: string) => parts.push(t) > 0, text: () => parts.join('') };
    };
    const out = capture();
    const err = capture();
    const argv = ['--warehouse', warehouse, '--source', url, '--state-dir', path.join(workDir, 'state-cli'), '--json'];
    // The row changed above is still a finding: exit status 1.
    expect(await jobsCommand(['run', 'consistency', '--slot', 'cli-1', ...argv], out, err, process.env), err.text()).toBe(1);
    expect(JSON.parse(out.text())).toMatchObject({ job: 'consistency', slot: 'cli-1', instanceId: 'consistency:cli-1', status: 'findings' });
    expect(await jobsCommand(['run', 'nope', ...argv], capture(), capture(), process.env)).toBe(2);

    const listed = capture();
    expect(await jobsCommand(['list', '--warehouse', warehouse, '--json'], listed, capture(), process.env)).toBe(0);
    expect((JSON.parse(listed.text()) as Array<{ job: string; latest: JobResult }>).find((j) => j.job === 'consistency')!.latest.slot).toBe('manual-1');

    const maintained = capture();
    expect(await maintainCommand(['--warehouse', warehouse, '--dry-run', '--json'], maintained, capture(), {})).toBe(0);
    expect(JSON.parse(maintained.text())).toMatchObject([{ table: 'public.items', orphanFiles: [], expiredSnapshots: [] }]);
    expect(await maintainCommand(['--warehouse', warehouse, '--orphan-days', '0'], capture(), capture(), {})).toBe(2);
  }, 300_000);
});
