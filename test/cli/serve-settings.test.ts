/**
 * `icebridge serve` with the sample settings file, as a new user starts it: the sample's relative warehouse
 * lands under the app's folder (it used to fail every table with "Unsupported location"), and settings that
 * would break every durable function stop the start-up with the setting's name.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationReport } from '../../shared/migrate/migration-status';
import { type PostgresInstance, startPostgres } from '../integration/support/postgres';

const ROOT = path.resolve(__dirname, '../..');
const SAMPLE = path.join(ROOT, 'local.settings.sample.json');
// An absolute URL: `--import tsx` would be resolved from the app folder, which has no node_modules.
const TSX_LOADER = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const children: ChildProcess[] = [];

/** The runner's environment without any setting the sample file should provide. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('ICEBRIDGE_') && !['WEBSITE_HOSTNAME', 'WEBSITE_INSTANCE_ID', 'FUNCTIONS_WORKER_RUNTIME', 'AzureWebJobsScriptRoot'].includes(name))
      env[name] = value;
  }
  return { ...env, ...extra };
}

/** Starts serve in `appDir`; resolves with the API base URL, or with the exit code and output when it stops first. */
function serve(appDir: string, settings: string, env: NodeJS.ProcessEnv): Promise<{ base?: string; code?: number | null; output: string }> {
  // tsx's loader in this very process (its CLI would put a second process between the test and serve).
  const child = spawn(process.execPath, ['--import', TSX_LOADER, path.join(ROOT, 'cli/main.ts'), 'serve', '--port', '0', '--settings', settings], {
    cwd: appDir,
    env: cleanEnv(env),
  });
  children.push(child);
  let output = '';
  return new Promise((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /icebridge is serving (http:\/\/\S+\/api) /.exec(output);
      if (match) resolve({ base: match[1]!, output });
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('icebridge serve with the sample settings', () => {
  let pg: PostgresInstance;
  let appDir: string;
  let sourceUrl: string;

  beforeAll(async () => {
    pg = await startPostgres();
    sourceUrl = await pg.createDatabase('served');
    const client = new Client({ connectionString: sourceUrl });
    await client.connect();
    await client.query('CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 500) g;');
    await client.end();
    appDir = await mkdtemp(path.join(tmpdir(), 'icebridge-serve-app-'));
  });
  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await pg?.stop();
    if (appDir) await rm(appDir, { recursive: true, force: true });
  });

  it('migrates into the sample warehouse, .icebridge/warehouse under the app folder', async () => {
    const started = await serve(appDir, SAMPLE, { ICEBRIDGE_SOURCE_URL: sourceUrl });
    expect(started.base, started.output).toBeDefined();
    expect(started.output).not.toContain(pg.password);
    const accepted = await fetch(`${started.base}/migrations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ schema: 'public', tables: ['items'], idempotencyKey: 'sample-settings' }),
    });
    expect(accepted.status, await accepted.clone().text()).toBe(202);
    const { statusUrl } = (await accepted.json()) as { statusUrl: string };
    let report: MigrationReport;
    for (;;) {
      report = (await (await fetch(statusUrl)).json()) as MigrationReport;
      if (['Completed', 'Failed', 'Terminated'].includes(report.runtimeStatus)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(report.tables, JSON.stringify(report)).toMatchObject({ total: 1, failed: 0 });
    expect(report.details[0]).toMatchObject({ table: 'items', status: 'committed', rows: 500 });
    expect(existsSync(path.join(appDir, '.icebridge', 'warehouse', 'public', 'items', 'metadata', 'version-hint.text'))).toBe(true);
  });

  it('refuses to start without the task hub setting that host.json reads, naming it', async () => {
    const sample = JSON.parse(await readFile(SAMPLE, 'utf8')) as { Values: Record<string, string> };
    delete sample.Values.ICEBRIDGE_TASK_HUB;
    const settings = path.join(appDir, 'no-hub.settings.json');
    await writeFile(settings, JSON.stringify(sample));
    const { base, code, output } = await serve(appDir, settings, { ICEBRIDGE_SOURCE_URL: sourceUrl });
    expect(base).toBeUndefined();
    expect(code).toBe(1);
    expect(output).toMatch(/ICEBRIDGE_TASK_HUB is not set/);
  });

  it('refuses a local warehouse on Azure at start-up', async () => {
    const { base, code, output } = await serve(appDir, SAMPLE, { ICEBRIDGE_SOURCE_URL: sourceUrl, WEBSITE_INSTANCE_ID: 'instance-1' });
    expect(base).toBeUndefined();
    expect(code).toBe(1);
    expect(output).toMatch(/ICEBRIDGE_WAREHOUSE must be an abfss:\/\//);
    expect(output).not.toContain(pg.password);
  });
});
