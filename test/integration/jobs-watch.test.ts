/**
 * The watch job on the local host, as `icebridge serve` runs it, over real migrations of a real PostgreSQL: a
 * healthy run raises nothing, even with a stall threshold of a second; a run whose table fails raises the error
 * rate, and a run whose planning waits on a lock raises the stall, each received by the webhook once however many
 * times the job evaluates the same incident. The job's timer is registered on its schedule, two firings in one
 * minute run it once, and it runs from the command line through the same orchestration.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobsCommand } from '../../cli/commands/jobs';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import { appHostJson, loadFunctionModules } from '../../cli/support/local-run';
import { LocalFileIO } from '../../shared/iceberg/io';
import type { MigrateDatabaseInput } from '../../shared/migrate/contracts';
import { Orchestrations } from '../../orchestrators/names';
import { type JobResult, readJobResult } from '../../shared/run/job-results';
import { Receiver } from '../alerts/support/webhook-receiver';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const TOKEN = 'watch-test-token';
const WAIT_IN_MS = 180_000;

let pg: PostgresInstance;
let url: string;
let workDir: string;
let warehouse: string;
let host: LocalHost;
let base: string;
const receiver = new Receiver('watch-hook-secret');
const saved = { ...process.env };

async function post(route: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}/api${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function migrate(id: string, tables: string[]): Promise<void> {
  const started = await post('/migrations', { schema: 'public', tables, idempotencyKey: id, verify: 'none' });
  expect(started.status, JSON.stringify(started.json)).toBe(202);
}

/** Runs the watch job for `slot` over HTTP, as an operator would, and answers its recorded result. */
async function watch(slot: string): Promise<JobResult> {
  const started = await post('/jobs/watch/run', { slot });
  expect(started.status, JSON.stringify(started.json)).toBe(202);
  const status = await host.waitForCompletion(`watch:${slot}`, { timeoutInMs: WAIT_IN_MS });
  expect(status.runtimeStatus, JSON.stringify(status.output)).toBe('Completed');
  return (await readJobResult(new LocalFileIO(), warehouse, 'watch', slot))!;
}

function conditions(): string[] {
  return receiver.received.map((r) => {
    const body = r.body as { text: string };
    return body.text.split('\n')[0]!;
  });
}

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + WAIT_IN_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('watch');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-watch-'));
  warehouse = path.join(workDir, 'warehouse');
  await withClient(url, async (client) => {
    await client.query('CREATE TABLE items (id int PRIMARY KEY, note text)');
    await client.query(`INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 500) g`);
    await client.query('CREATE TABLE prices (id int PRIMARY KEY, amount numeric(10, 2))');
    await client.query(`INSERT INTO prices VALUES (1, 1.5), (2, 'NaN')`);
    await client.query('CREATE TABLE held (id int PRIMARY KEY)');
    await client.query('INSERT INTO held SELECT generate_series(1, 10)');
  });
  await receiver.start();
  process.env.ICEBRIDGE_SOURCE_URL = url;
  process.env.ICEBRIDGE_WAREHOUSE = warehouse;
  process.env.ICEBRIDGE_LOCAL_TOKEN = TOKEN;
  process.env.ICEBRIDGE_ALERT_WEBHOOK_URL = receiver.url;
  host = await LocalHost.load(loadFunctionModules, { stateDir: path.join(workDir, 'state'), hostJson: appHostJson(), log: silentHostLog });
  base = (await host.listen(0)).url;
}, 300_000);

afterAll(async () => {
  await host?.close();
  await receiver.stop();
  await pg?.stop();
  process.env = saved;
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the watch job', () => {
  it('has a timer every 5 minutes, slotted by the minute', () => {
    expect(host.functions.get('watchTimer')?.trigger.schedule).toBe('0 */5 * * * *');
  });

  it('raises nothing over a healthy run, even with a stall threshold of a second', async () => {
    await migrate('healthy', ['items']);
    const done = await host.waitForCompletion('healthy', { timeoutInMs: WAIT_IN_MS });
    expect(done.runtimeStatus).toBe('Completed');
    process.env.ICEBRIDGE_ALERT_STALL_MINUTES = '0.02';
    // A baseline no copy reaches: the run is finished, so it is not judged slow either.
    process.env.ICEBRIDGE_ALERT_BASELINE_ROWS_PER_SECOND = '1000000000';
    try {
      const result = await watch('healthy-1');
      expect(result).toMatchObject({ status: 'ok', figures: { migrations: 1, syncs: 0, alerts: 0 } });
      expect(receiver.received).toEqual([]);
    } finally {
      delete process.env.ICEBRIDGE_ALERT_STALL_MINUTES;
      delete process.env.ICEBRIDGE_ALERT_BASELINE_ROWS_PER_SECOND;
    }
  }, 300_000);

  it('raises the error rate of a run whose table failed, and sends it once for two evaluations', async () => {
    await migrate('erroring', ['items', 'prices']);
    await host.waitForCompletion('erroring', { timeoutInMs: WAIT_IN_MS });
    const first = await watch('erroring-1');
    expect(first).toMatchObject({ status: 'findings', figures: { migrations: 2, alerts: 1, sent: 1, duplicates: 0 } });
    expect(first.summary).toContain('Migration erroring: 1 of 2 tables failed');
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.body).toMatchObject({ text: expect.stringContaining('Migration erroring: 1 of 2 tables failed') as unknown });

    const second = await watch('erroring-2');
    expect(second).toMatchObject({ status: 'findings', figures: { alerts: 1, sent: 0, duplicates: 1 } });
    expect(receiver.received).toHaveLength(1);
  }, 300_000);

  it('raises the stall of a run whose planning waits on a lock, once, and not once it moves on', async () => {
    receiver.received.length = 0;
    await withClient(url, async (locker: Client) => {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE held IN ACCESS EXCLUSIVE MODE');
      try {
        // Started as the CLI starts a run: the HTTP route would itself wait on the lock to check the table.
        const input: MigrateDatabaseInput = { runId: 'stalled', sourceSchema: 'public', namespace: 'public', tables: ['held'], concurrency: 1, verify: 'none' };
        await host.startOrchestration(Orchestrations.migrateDatabase, input, 'stalled');
        // The run's planning is queued behind the lock: from here its status cannot move.
        await until('the plan to wait on the lock', async () => {
          const waiting = await locker.query(`SELECT 1 FROM pg_catalog.pg_locks WHERE relation = 'public.held'::regclass AND NOT granted`);
          return waiting.rowCount! > 0;
        });
        process.env.ICEBRIDGE_ALERT_STALL_MINUTES = '0.02';
        const idleFor = (): number => Date.now() - Date.parse(String(host.getStatus('stalled')!.lastUpdatedTime));
        // A lower bound only: the run is held, so waiting longer changes nothing.
        await until('the run to be idle past the threshold', () => idleFor() > 3_000);
        const first = await watch('stalled-1');
        expect(first.status).toBe('findings');
        expect(first.summary).toMatch(/Migration stalled has made no progress for \d+ minutes/);
        const second = await watch('stalled-2');
        expect(second.figures).toMatchObject({ sent: 0 });
        const stalls = conditions().filter((text) => text.includes('Migration stalled has made no progress'));
        expect(stalls).toHaveLength(1);
        // Only the stall was sent: the failed run's incident was sent in the test before.
        expect(receiver.received).toHaveLength(1);
      } finally {
        await locker.query('ROLLBACK');
      }
    });
    const done = await host.waitForCompletion('stalled', { timeoutInMs: WAIT_IN_MS });
    expect(done.runtimeStatus).toBe('Completed');
    const after = await watch('stalled-3');
    delete process.env.ICEBRIDGE_ALERT_STALL_MINUTES;
    expect(after.summary).not.toContain('Migration stalled');
    expect(receiver.received).toHaveLength(1);
  }, 300_000);

  it('runs once when its timer fires twice at once in one minute', async () => {
    // The slot is the UTC minute: firings either side of a minute's end are two slots, so that case is tried again.
    let slot: string | undefined;
    for (let attempt = 0; attempt < 3 && slot === undefined; attempt++) {
      const before = new Date().toISOString().slice(0, 16).replace(':', '');
      await Promise.all([host.fireTimer('watchTimer'), host.fireTimer('watchTimer')]);
      if (new Date().toISOString().slice(0, 16).replace(':', '') === before) slot = before;
    }
    expect(slot).toBeDefined();
    const status = await host.waitForCompletion(`watch:${slot!}`, { timeoutInMs: WAIT_IN_MS });
    expect(status.runtimeStatus).toBe('Completed');
    await host.loadInstance(`watch:${slot!}`);
    // EventType 4: TaskScheduled. One activity, in one execution.
    expect(host.getHistory(`watch:${slot!}`)!.history.filter((e) => (e as { EventType: number }).EventType === 4)).toHaveLength(1);
    expect(await readJobResult(new LocalFileIO(), warehouse, 'watch', slot!)).toMatchObject({ instanceId: `watch:${slot!}`, status: 'findings' });
  }, 300_000);

  it('runs from the command line through the same orchestration', async () => {
    const parts: string[] = [];
    const out = { write: (t: string) => parts.push(t) > 0 };
    const errors: string[] = [];
    const err = { write: (t: string) => errors.push(t) > 0 };
    const argv = ['run', 'watch', '--slot', 'cli-1', '--warehouse', warehouse, '--source', url, '--state-dir', path.join(workDir, 'state-cli'), '--json'];
    expect(await jobsCommand(argv, out, err, process.env), errors.join('')).toBe(0);
    expect(JSON.parse(parts.join(''))).toMatchObject({ job: 'watch', slot: 'cli-1', instanceId: 'watch:cli-1', status: 'ok', figures: { migrations: 0 } });
  }, 300_000);
});
