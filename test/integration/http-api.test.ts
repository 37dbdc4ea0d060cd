/**
 * The HTTP API end to end: `icebridge serve` as a child process against an embedded PostgreSQL with a small shop
 * dataset and a temporary local warehouse, driven with real HTTP requests. Bad requests are refused with a reason
 * and start nothing; a valid one migrates the tables once, however often it is posted; no response carries the
 * source password.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SIZES, demoDatasetSql } from '../../cli/demo/demo-dataset';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { ResolvingFileIO } from '../../shared/iceberg/io';
import { scanToArray } from '../../shared/iceberg/scan/table-scan';
import type { PrimitiveValue } from '../../shared/iceberg/spec/values';
import type { MigrationReport } from '../../shared/migrate/migration-status';
import type { VerificationStatus } from '../../shared/verify/status/verification-status';
import { type PostgresInstance, startPostgres } from './support/postgres';

const REPO = path.resolve(__dirname, '../..');
const SIZES = { users: 500, customers: 400, products: 100, orders: 1000, transactions: 1200 };
const SHOP_TABLES = ['customers', 'orders', 'products', 'transactions', 'users'];
const SERVE_START_TIMEOUT_IN_MS = 60_000;
const MIGRATION_TIMEOUT_IN_MS = 120_000;

let postgres: PostgresInstance | undefined;
let serve: ChildProcessWithoutNullStreams | undefined;
let serveOutput = '';
let workDir: string;
let warehouse: string;
let stateDir: string;
let serveDir: string;
let base: string;
let sourceUrl: string;
/** The database owner's URL, for changing the source behind the app's back. */
let adminUrl: string;
/** A password used nowhere else, so finding it in a response can only mean a leak. */
const sourcePassword = `pw-${randomBytes(12).toString('hex')}`;
const sourceCounts = new Map<string, number>();
/** Every response's status line, headers and body, for the secret check at the end. */
const responses: string[] = [];

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

async function call(
  method: 'GET' | 'POST',
  url: string,
  init: { body?: string | ReadableStream<Uint8Array>; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(url.startsWith('http') ? url : `${base}${url}`, {
    method,
    headers: init.body === undefined ? init.headers : { 'content-type': 'application/json', ...init.headers },
    body: init.body,
    // A stream body is sent chunked, without a content-length; fetch needs this to send one.
    ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
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

const post = (body: string | ReadableStream<Uint8Array>, headers?: Record<string, string>): Promise<Answer> => call('POST', '/migrations', { body, headers });

function reasonOf(answer: Answer): string {
  const body = answer.json as { error?: unknown; reason?: unknown } | undefined;
  expect(typeof body?.error, answer.text).toBe('string');
  expect(typeof body?.reason, answer.text).toBe('string');
  return body!.reason as string;
}

/** Every file under `dir`, relative to it, sorted; empty when it does not exist. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

async function startServe(): Promise<string> {
  const env: NodeJS.ProcessEnv = {};
  // Only this test's settings: none of the runner's ICEBRIDGE_* values, and the local host picks its own hostname.
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('ICEBRIDGE_') && name !== 'WEBSITE_HOSTNAME') env[name] = value;
  env.ICEBRIDGE_SOURCE_URL = sourceUrl;
  env.ICEBRIDGE_WAREHOUSE = warehouse;
  // A folder of its own as the working directory, so a developer's local.settings.json cannot leak in.
  const tsx = pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
  const child = spawn(process.execPath, ['--import', tsx, path.join(REPO, 'cli/main.ts'), 'serve', '--port', '0', '--state-dir', stateDir], {
    cwd: serveDir,
    env,
  });
  serve = child;
  // A test process that dies without afterAll must not leave the server running.
  process.once('exit', () => child.kill('SIGKILL'));
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`icebridge serve did not start within ${SERVE_START_TIMEOUT_IN_MS} ms:\n${serveOutput}`)),
      SERVE_START_TIMEOUT_IN_MS,
    );
    const onData = (chunk: Buffer): void => {
      serveOutput += chunk.toString('utf8');
      const match = /icebridge is serving (http:\/\/\S+\/api) /.exec(serveOutput);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (serveOutput += chunk.toString('utf8')));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`icebridge serve exited (${code ?? signal}) before serving:\n${serveOutput}`));
    });
  });
}

async function stopServe(): Promise<void> {
  const child = serve;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Checks the answer to a status GET: 202 with Location and Retry-After while the run goes on, 200 once it ended. */
function checkStatusAnswer(answer: Answer, statusUrl: string): { runtimeStatus: string } {
  const report = answer.json as { runtimeStatus: string };
  const finished = ['Completed', 'Failed', 'Terminated'].includes(report.runtimeStatus);
  expect(answer.status, answer.text).toBe(finished ? 200 : 202);
  if (!finished) {
    expect(answer.headers.get('location')).toBe(statusUrl);
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  }
  return report;
}

async function waitForRun<T extends { runtimeStatus: string } = MigrationReport>(statusUrl: string): Promise<T> {
  const deadline = Date.now() + MIGRATION_TIMEOUT_IN_MS;
  for (;;) {
    const answer = await call('GET', statusUrl);
    const report = checkStatusAnswer(answer, statusUrl) as T;
    if (answer.status === 200) return report;
    if (Date.now() > deadline) throw new Error(`the run is still ${report.runtimeStatus} after ${MIGRATION_TIMEOUT_IN_MS} ms: ${answer.text}\n${serveOutput}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-http-'));
  warehouse = path.join(workDir, 'warehouse');
  stateDir = path.join(workDir, 'state');
  serveDir = path.join(workDir, 'cwd');
  await mkdir(serveDir);
  postgres = await startPostgres();
  const databaseUrl = await postgres.createDatabase('shop_source');
  adminUrl = databaseUrl;
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    // demoDatasetSql's parameter is typed with DEMO_SIZES' literal counts; the function takes any counts.
    await admin.query(demoDatasetSql(SIZES as unknown as typeof DEMO_SIZES));
    // The app connects as a read-only role of its own, with a password that appears nowhere else.
    await admin.query(`CREATE ROLE icebridge_reader LOGIN PASSWORD '${sourcePassword}'`);
    await admin.query('GRANT pg_read_all_data TO icebridge_reader');
    for (const table of SHOP_TABLES) {
      const { rows } = await admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM shop.${table}`);
      sourceCounts.set(table, Number(rows[0]!.n));
    }
  } finally {
    await admin.end();
  }
  const { host, port } = postgres;
  sourceUrl = `postgresql://icebridge_reader:${sourcePassword}@${host}:${port}/shop_source`;
  base = await startServe();
}, 180_000);

afterAll(async () => {
  await stopServe();
  await postgres?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('refused requests', () => {
  it('answers malformed JSON with 400 and a reason', async () => {
    const answer = await post('{"schema": "shop", "idempotencyKey": "bad-json",');
    expect(answer.status).toBe(400);
    expect(reasonOf(answer)).toBe('the request body is not valid JSON');
    expect((await post('["shop"]')).status).toBe(400);
    expect(reasonOf(await post('"shop"'))).toBe('the request body must be a JSON object');
  });

  it('answers wrong types with 400 naming the field', async () => {
    const concurrency = await post(JSON.stringify({ schema: 'shop', tables: ['orders'], concurrency: '2', idempotencyKey: 'bad-concurrency' }));
    expect(concurrency.status).toBe(400);
    expect(reasonOf(concurrency)).toBe('concurrency must be an integer from 1 to 64');
    const tables = await post(JSON.stringify({ schema: 'shop', tables: 'orders', idempotencyKey: 'bad-tables' }));
    expect(tables.status).toBe(400);
    expect(reasonOf(tables)).toBe('tables must be a non-empty array of names');
    const element = await post(JSON.stringify({ schema: 'shop', tables: ['orders', 7], idempotencyKey: 'bad-element' }));
    expect(element.status).toBe(400);
    expect(reasonOf(element)).toBe('tables[1] must be a non-empty string');
    const size = await post(JSON.stringify({ schema: 'shop', partitionSizeInBytes: 1024, idempotencyKey: 'bad-size-field' }));
    expect(size.status).toBe(400);
    expect(reasonOf(size)).toBe('partitionSizeInBytes must be an integer from 1048576 to 17179869184');
  });

  it('answers an unknown field with 400 naming it', async () => {
    const answer = await post(JSON.stringify({ schema: 'shop', tables: ['orders'], colour: 'blue', idempotencyKey: 'bad-field' }));
    expect(answer.status).toBe(400);
    expect(reasonOf(answer)).toMatch(/^the request body has unknown field "colour"; allowed: schema, namespace, tables/);
  });

  it('answers a body over 64 KiB with 400, with or without a content-length', async () => {
    // The host accepts bodies up to 100 MiB (as the Functions host does), so the function's own limit answers.
    const big = JSON.stringify({ schema: 'shop', tables: ['orders'], idempotencyKey: 'bad-size', namespace: 'n'.repeat(70_000) });
    expect(Buffer.byteLength(big)).toBeGreaterThan(64 * 1024);
    const declared = await post(big);
    expect(declared.status).toBe(400);
    expect(reasonOf(declared)).toBe('the request body is larger than 65536 bytes');
    const bytes = new TextEncoder().encode(big);
    const chunked = await post(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 8_192) controller.enqueue(bytes.subarray(at, at + 8_192));
          controller.close();
        },
      }),
    );
    expect(chunked.status).toBe(400);
    expect(reasonOf(chunked)).toBe('the request body is larger than 65536 bytes');
  });

  it('answers an unknown table with 400 listing the tables that exist, and never runs the name as SQL', async () => {
    const answer = await post(JSON.stringify({ schema: 'shop', tables: ['customers', 'nope'], idempotencyKey: 'bad-table' }));
    expect(answer.status).toBe(400);
    const reason = reasonOf(answer);
    expect(reason).toMatch(/^table "shop\.nope" does not exist; tables in shop: /);
    for (const table of SHOP_TABLES) expect(reason).toContain(table);
    const injection = await post(JSON.stringify({ schema: 'shop', tables: ['users; DROP TABLE shop.users'], idempotencyKey: 'bad-sql' }));
    expect(injection.status).toBe(400);
    expect(reasonOf(injection)).toContain('does not exist');
    const missingSchema = await post(JSON.stringify({ schema: 'no_such_schema', idempotencyKey: 'bad-schema' }));
    expect(missingSchema.status).toBe(400);
    expect(reasonOf(missingSchema)).toContain('no_such_schema');
  });

  it('started nothing for any of them', async () => {
    for (const id of [
      'bad-json',
      'bad-concurrency',
      'bad-tables',
      'bad-element',
      'bad-size-field',
      'bad-field',
      'bad-size',
      'bad-table',
      'bad-sql',
      'bad-schema',
    ]) {
      const answer = await call('GET', `/migrations/${id}`);
      expect(answer.status, id).toBe(404);
      expect(reasonOf(answer)).toBe(`no migration with id ${id}`);
    }
    expect(filesUnder(warehouse)).toEqual([]);
    expect(filesUnder(path.join(stateDir, 'instances'))).toEqual([]);
    // The injected name did nothing.
    const client = new Client({ connectionString: sourceUrl });
    await client.connect();
    try {
      expect((await client.query('SELECT count(*)::int AS n FROM shop.users')).rows[0]).toEqual({ n: sourceCounts.get('users') });
    } finally {
      await client.end();
    }
  });
});

describe('a migration', () => {
  const body = JSON.stringify({ schema: 'shop', tables: ['customers', 'orders'], idempotencyKey: 'run-http-1' });
  const catalog = (): HadoopCatalog => new HadoopCatalog(new ResolvingFileIO({}), warehouse);
  let statusUrl: string;
  let report: MigrationReport;

  it('is accepted with 202, a status URL and a Location header, once however often it is posted', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(body)));
    for (const answer of answers) {
      expect(answer.status, answer.text).toBe(202);
      const accepted = answer.json as { id: string; statusUrl: string };
      expect(accepted.id).toBe('run-http-1');
      expect(accepted.statusUrl).toBe(`${base}/migrations/run-http-1`);
      expect(answer.headers.get('location')).toBe(accepted.statusUrl);
    }
    statusUrl = `${base}/migrations/run-http-1`;
    // Exactly one of the simultaneous posts started the run.
    expect(answers.filter((a) => (a.json as { alreadyStarted: boolean }).alreadyStarted === false)).toHaveLength(1);
  });

  it(
    'reports progress until it completes, with both tables committed and the source row counts',
    async () => {
      report = await waitForRun(statusUrl);
      expect(report.runtimeStatus, JSON.stringify(report)).toBe('Completed');
      expect(report).toMatchObject({
        id: 'run-http-1',
        phase: 'done',
        tables: { total: 2, started: 2, done: 2, failed: 0 },
        failures: [],
        unreadable: [],
        page: { offset: 0, limit: 100, of: 2 },
      });
      expect(report.lastError).toBeUndefined();
      const details = [...report.details].sort((a, b) => a.table.localeCompare(b.table));
      expect(details.map((d) => d.table)).toEqual(['customers', 'orders']);
      for (const detail of details) {
        const count = sourceCounts.get(detail.table)!;
        expect(detail, detail.table).toMatchObject({ status: 'committed', phase: 'committed', rows: count, sourceRows: count });
        expect(detail.partitions.done).toBe(detail.partitions.total);
        expect(detail.snapshotId).toMatch(/^-?\d+$/);
      }
      expect(report.rows).toBe(sourceCounts.get('customers')! + sourceCounts.get('orders')!);
      expect(report.partitions.done).toBe(report.partitions.total);
      // The quick verification ran by itself after the copy; its report is one GET away.
      expect(report.verification).toEqual({ id: 'run-http-1:verify', level: 'quick', status: 'ok', tables: { total: 2, done: 2, differing: 0, errors: 0 } });
      for (const detail of details) expect(detail.verified, detail.table).toBe('ok');
      const verification = await call('GET', '/verifications/run-http-1:verify');
      expect(verification.status, verification.text).toBe(200);
      expect(verification.json).toMatchObject({ runtimeStatus: 'Completed', ok: true, report: { level: 'quick', ok: true } });
      // Ids share one instance space, but a verification is not a migration (and ':' is not in a migration id).
      expect((await call('GET', '/migrations/run-http-1:verify')).status).toBe(400);
      expect((await call('GET', '/migrations/run-http-1%3Averify')).status).toBe(400);
    },
    MIGRATION_TIMEOUT_IN_MS + 10_000,
  );

  it('wrote Iceberg tables with one snapshot of this run holding every source row', async () => {
    const source = new Client({ connectionString: sourceUrl });
    await source.connect();
    try {
      for (const table of ['customers', 'orders']) {
        const { metadata } = await catalog().loadTable({ namespace: ['shop'], name: table });
        expect(metadata.snapshots ?? [], table).toHaveLength(1);
        const snapshot = metadata.snapshots![0]!;
        expect(snapshot.summary['icebridge.run-id']).toBe('run-http-1');
        expect(String(snapshot['snapshot-id'])).toBe(report.details.find((d) => d.table === table)!.snapshotId);
        const rows = await scanToArray(catalog().io, metadata);
        const ids = rows.map((row) => String(row[0] as PrimitiveValue)).sort();
        const expected = (await source.query<{ id: string }>(`SELECT id::text AS id FROM shop.${table}`)).rows.map((r) => r.id).sort();
        expect(ids).toEqual(expected);
      }
    } finally {
      await source.end();
    }
    // Only the requested tables were created.
    expect(readdirSync(path.join(warehouse, 'shop')).sort()).toEqual(['customers', 'orders']);
  });

  it('is not run again when the same idempotency key is posted after it finished', async () => {
    const before = filesUnder(warehouse);
    const again = await post(body);
    expect(again.status).toBe(202);
    expect(again.json).toEqual({ id: 'run-http-1', statusUrl, alreadyStarted: true });
    // A second run would show as Pending or Running at once, and would write new data files.
    const status = await call('GET', statusUrl);
    expect((status.json as MigrationReport).runtimeStatus).toBe('Completed');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await call('GET', statusUrl)).json).toMatchObject({ runtimeStatus: 'Completed', elapsedSeconds: report.elapsedSeconds });
    expect(filesUnder(warehouse)).toEqual(before);
    for (const table of ['customers', 'orders']) {
      const { metadata } = await catalog().loadTable({ namespace: ['shop'], name: table });
      expect(metadata.snapshots ?? []).toHaveLength(1);
    }
  });
  it('pages its tables with offset and limit, and refuses a page it cannot serve', async () => {
    const first = await call('GET', `${statusUrl}?limit=1`);
    expect(first.status, first.text).toBe(200);
    expect(first.json).toMatchObject({ page: { offset: 0, limit: 1, of: 2 }, tables: { total: 2, started: 2 } });
    const second = await call('GET', `${statusUrl}?offset=1&limit=1`);
    expect(second.json).toMatchObject({ page: { offset: 1, limit: 1, of: 2 } });
    const names = [first, second].flatMap((a) => (a.json as MigrationReport).details.map((d) => [d.index, d.table]));
    expect(names.sort()).toEqual(report.details.map((d) => [d.index, d.table]).sort());
    expect(((await call('GET', `${statusUrl}?offset=2`)).json as MigrationReport).details).toEqual([]);
    for (const query of ['limit=0', 'limit=101', 'offset=-1', 'offset=x']) {
      const refused = await call('GET', `${statusUrl}?${query}`);
      expect(refused.status, query).toBe(400);
      expect(reasonOf(refused), query).toMatch(/^(offset|limit) must be an integer/);
    }
  });

  it('answers the same key with a different request with 409 naming the fields that differ, and starts nothing', async () => {
    const before = filesUnder(warehouse);
    const other = await post(JSON.stringify({ schema: 'shop', tables: ['customers'], concurrency: 3, idempotencyKey: 'run-http-1' }));
    expect(other.status, other.text).toBe(409);
    expect(other.json).toMatchObject({ error: 'conflict', differences: ['concurrency', 'tables'] });
    expect(reasonOf(other)).toBe('the migration run-http-1 was started with a different request (concurrency, tables differ); use another idempotencyKey');
    // Defaults written out are the same request.
    const spelledOut = await post(
      JSON.stringify({ schema: 'shop', namespace: 'shop', tables: ['customers', 'orders'], concurrency: 2, verify: 'quick', idempotencyKey: 'run-http-1' }),
    );
    expect(spelledOut.json).toEqual({ id: 'run-http-1', statusUrl, alreadyStarted: true });
    expect(filesUnder(warehouse)).toEqual(before);
  });
});

describe('simultaneous posts of one key with different requests', () => {
  it(
    'start one run, tell its own posts it started or already runs, and answer the others 409',
    async () => {
      const bodies = [0, 1].map((i) =>
        JSON.stringify({ schema: 'shop', tables: ['products'], namespace: `split_${i}`, verify: 'none', idempotencyKey: 'race-split' }),
      );
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => post(bodies[i % 2]!)));
      const started = answers.filter((a) => a.status === 202 && (a.json as { alreadyStarted: boolean }).alreadyStarted === false);
      expect(started, answers.map((a) => a.text).join('\n')).toHaveLength(1);
      const winner = answers.indexOf(started[0]!) % 2;
      answers.forEach((answer, i) => {
        if (i % 2 === winner) expect(answer.status, answer.text).toBe(202);
        else {
          expect(answer.status, answer.text).toBe(409);
          expect(answer.json).toMatchObject({ differences: ['namespace'] });
        }
      });
      const report = await waitForRun(`${base}/migrations/race-split`);
      expect(report.runtimeStatus).toBe('Completed');
      expect(readdirSync(warehouse)).toContain(`split_${winner}`);
      expect(readdirSync(warehouse)).not.toContain(`split_${1 - winner}`);
    },
    MIGRATION_TIMEOUT_IN_MS + 10_000,
  );
});

describe('simultaneous posts of one key', () => {
  it(
    'start one run and answer every post with it',
    async () => {
      // Each round races six posts between the look for an existing run and the start of a new one.
      const keys = ['race-1', 'race-2', 'race-3', 'race-4'];
      for (const [i, key] of keys.entries()) {
        // A partition size well inside the accepted range must be taken as it is.
        const body = JSON.stringify({
          schema: 'shop',
          tables: ['products'],
          namespace: `race_${i}`,
          partitionSizeInBytes: 4 * 1024 * 1024,
          idempotencyKey: key,
        });
        const answers = await Promise.all(Array.from({ length: 6 }, () => post(body)));
        expect(answers.map((a) => a.status)).toEqual(Array<number>(6).fill(202));
        expect(new Set(answers.map((a) => (a.json as { id: string }).id))).toEqual(new Set([key]));
        expect(answers.filter((a) => (a.json as { alreadyStarted: boolean }).alreadyStarted === false)).toHaveLength(1);
      }
      const catalog = new HadoopCatalog(new ResolvingFileIO({}), warehouse);
      for (const [i, key] of keys.entries()) {
        const report = await waitForRun(`${base}/migrations/${key}`);
        expect(report.runtimeStatus).toBe('Completed');
        expect(report.details).toMatchObject([{ table: 'products', status: 'committed', rows: sourceCounts.get('products') }]);
        const { metadata } = await catalog.loadTable({ namespace: [`race_${i}`], name: 'products' });
        expect(metadata.snapshots ?? []).toHaveLength(1);
      }
    },
    MIGRATION_TIMEOUT_IN_MS + 10_000,
  );
});

describe('status requests', () => {
  it('answers an invalid id with 400 and an unknown one with 404', async () => {
    for (const id of ['not%20an%20id', 'a.b', 'x'.repeat(65), 'run-http-1%3Atable%3A0']) {
      const answer = await call('GET', `/migrations/${id}`);
      expect(answer.status, id).toBe(400);
      expect(reasonOf(answer)).toBe('not a migration id');
    }
    const unknown = await call('GET', '/migrations/never-started');
    expect(unknown.status).toBe(404);
    expect(reasonOf(unknown)).toBe('no migration with id never-started');
  });
});

describe('a verification', () => {
  const postVerification = (body: unknown): Promise<Answer> => call('POST', '/verifications', { body: JSON.stringify(body) });

  it('refuses bad requests with 400 and a reason, starting nothing', async () => {
    expect(reasonOf(await postVerification({ schema: 'shop', level: 'deep', idempotencyKey: 'ver-bad-1' }))).toBe('level must be "quick" or "full"');
    expect(reasonOf(await postVerification({ schema: 'shop', verify: 'full', idempotencyKey: 'ver-bad-2' }))).toBe(
      'the request body has unknown field "verify"; allowed: schema, namespace, tables, concurrency, tableConfig, idempotencyKey, level, maxDifferences, samples',
    );
    expect(reasonOf(await postVerification({ schema: 'shop', colour: 'blue', idempotencyKey: 'ver-bad-3' }))).toMatch(
      /^the request body has unknown field "colour"/,
    );
    expect(reasonOf(await postVerification({ schema: 'shop', samples: -1, idempotencyKey: 'ver-bad-4' }))).toBe('samples must be an integer from 0 to 1000');
    expect(reasonOf(await postVerification({ schema: 'shop', tables: ['nope'], idempotencyKey: 'ver-bad-5' }))).toMatch(/^table "shop\.nope" does not exist/);
    for (const id of ['ver-bad-1', 'ver-bad-2', 'ver-bad-3', 'ver-bad-4', 'ver-bad-5']) {
      expect((await call('GET', `/verifications/${id}`)).status, id).toBe(404);
    }
    expect(reasonOf(await call('GET', '/verifications/not%20an%20id'))).toBe('not a verification id');
    expect((await call('GET', '/verifications/run-http-1')).status).toBe(404);
    // Ids share one instance space: a verification cannot take a migration's key.
    const taken = await postVerification({ schema: 'shop', tables: ['customers'], idempotencyKey: 'run-http-1' });
    expect(taken.status, taken.text).toBe(409);
    expect(reasonOf(taken)).toBe('the id run-http-1 is taken by another kind of run; use another idempotencyKey');
  });

  it(
    'verifies every row of the migrated tables, then names the row and column a source change made differ',
    async () => {
      const request = { schema: 'shop', tables: ['customers', 'orders'], level: 'full', idempotencyKey: 'ver-http-1' };
      const accepted = await postVerification(request);
      expect(accepted.status, accepted.text).toBe(202);
      expect(accepted.json).toEqual({ id: 'ver-http-1', statusUrl: `${base}/verifications/ver-http-1`, alreadyStarted: false });
      const clean = await waitForRun<VerificationStatus>(`${base}/verifications/ver-http-1`);
      expect(clean, JSON.stringify(clean)).toMatchObject({
        runtimeStatus: 'Completed',
        phase: 'done',
        level: 'full',
        ok: true,
        tables: { total: 2, done: 2, differing: 0, errors: 0 },
      });
      expect(clean.report!.tables.map((t) => [t.table, t.status, t.rows?.compared])).toEqual([
        ['shop.customers', 'ok', String(sourceCounts.get('customers'))],
        ['shop.orders', 'ok', String(sourceCounts.get('orders'))],
      ]);

      const admin = new Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        const {
          rows: [row],
        } = await admin.query<{ id: string }>('SELECT id::text AS id FROM shop.customers ORDER BY id LIMIT 1 OFFSET 7');
        await admin.query("UPDATE shop.customers SET name = name || '.changed' WHERE id = $1", [row!.id]);
        expect((await postVerification({ ...request, idempotencyKey: 'ver-http-2' })).status).toBe(202);
        const differs = await waitForRun<VerificationStatus>(`${base}/verifications/ver-http-2`);
        expect(differs).toMatchObject({ runtimeStatus: 'Completed', ok: false, tables: { total: 2, done: 2, differing: 1, errors: 0 } });
        const customers = differs.report!.tables.find((t) => t.table === 'shop.customers')!;
        expect(customers.status).toBe('differs');
        expect(customers.rows!.differences).toHaveLength(1);
        expect(customers.rows!.differences[0]).toMatchObject({ key: { id: row!.id }, kind: 'VALUE_MISMATCH', columns: [{ column: 'name' }] });
        expect(customers.rows!.differences[0]!.columns[0]!.source).toMatch(/\.changed$/);
      } finally {
        await admin.end();
      }
    },
    2 * MIGRATION_TIMEOUT_IN_MS,
  );

  it("puts only the page's tables in its report, and a table whose report file is missing is that table's error", async () => {
    const statusUrl = `${base}/verifications/ver-http-1`;
    const second = (await call('GET', `${statusUrl}?offset=1&limit=1`)).json as VerificationStatus;
    expect(second.report!.tables.map((t) => [t.table, t.status])).toEqual([['shop.orders', 'ok']]);
    // Each table's whole verification is a file under the warehouse; the id's ':'-free form names its folder.
    const file = path.join(warehouse, '.icebridge', 'verifications', 'ver-http-1', 'tables', '0.json');
    const kept = readFileSync(file);
    rmSync(file);
    try {
      const answer = await call('GET', statusUrl);
      expect(answer.status, answer.text).toBe(200);
      const status = answer.json as VerificationStatus;
      expect(status.report!.tables.map((t) => [t.table, t.status])).toEqual([
        ['shop.customers', 'error'],
        ['shop.orders', 'ok'],
      ]);
      expect(status.report!.tables[0]!.error).toMatch(/^its report \S+\/tables\/0\.json cannot be read: /);
      expect(status).toMatchObject({ ok: false, report: { ok: false } });
    } finally {
      writeFileSync(file, kept);
    }
    expect(((await call('GET', statusUrl)).json as VerificationStatus).report!.tables.map((t) => t.status)).toEqual(['ok', 'ok']);
  });
});

describe("a verification keyed like a migration's own", () => {
  it(
    'does not take the id of the verification a migration runs',
    async () => {
      const postVerification = (body: unknown): Promise<Answer> => call('POST', '/verifications', { body: JSON.stringify(body) });
      // A finished instance with the migration's former verification id would have been replaced by that verification.
      expect((await postVerification({ schema: 'shop', tables: ['products'], level: 'full', idempotencyKey: 'coll-verify' })).status).toBe(202);
      const own = await waitForRun<VerificationStatus>(`${base}/verifications/coll-verify`);
      expect(own).toMatchObject({ runtimeStatus: 'Completed', level: 'full' });
      const accepted = await post(JSON.stringify({ schema: 'shop', tables: ['products'], namespace: 'coll', idempotencyKey: 'coll' }));
      expect(accepted.status, accepted.text).toBe(202);
      const migration = await waitForRun(`${base}/migrations/coll`);
      expect(migration.verification).toMatchObject({ id: 'coll:verify', level: 'quick', status: 'ok' });
      const after = await call('GET', '/verifications/coll-verify');
      expect(after.json).toMatchObject({ runtimeStatus: 'Completed', level: 'full', elapsedSeconds: own.elapsedSeconds });
      expect((after.json as VerificationStatus).report!.tables.map((t) => t.target)).toEqual(['shop.products']);
    },
    2 * MIGRATION_TIMEOUT_IN_MS,
  );
});

describe('cancelling', () => {
  /** Reads of shop.gated wait while the test holds this advisory lock: a barrier inside the copy, not a sleep. */
  const GATE_LOCK = 4242;
  const GATED_ROWS = 3000;
  let admin: Client;
  const gatedData = (): string => path.join(warehouse, 'cancelled', 'gated', 'data');
  const catalog = (): HadoopCatalog => new HadoopCatalog(new ResolvingFileIO({}), warehouse);

  beforeAll(async () => {
    admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    // Row-level security applies to the app's role: every row read evaluates the policy, which takes the lock.
    await admin.query(
      `CREATE FUNCTION shop.gate() RETURNS boolean LANGUAGE sql VOLATILE AS $$ SELECT true FROM (SELECT pg_advisory_xact_lock_shared(${GATE_LOCK})) AS l $$`,
    );
    await admin.query(`CREATE TABLE shop.gated (id int PRIMARY KEY, note text NOT NULL)`);
    await admin.query(`INSERT INTO shop.gated SELECT i, 'row ' || i FROM generate_series(1, ${GATED_ROWS}) AS i`);
    await admin.query('ALTER TABLE shop.gated ENABLE ROW LEVEL SECURITY');
    await admin.query('CREATE POLICY gated_read ON shop.gated FOR SELECT USING (shop.gate())');
  });

  afterAll(async () => {
    await admin?.end();
  });

  /** Waits until a read of the app is held at the gate; returns its backend's pid. */
  async function heldAtGate(query: RegExp): Promise<number> {
    const deadline = Date.now() + MIGRATION_TIMEOUT_IN_MS;
    for (;;) {
      const { rows } = await admin.query<{ pid: number; query: string }>(
        "SELECT pid, query FROM pg_stat_activity WHERE usename = 'icebridge_reader' AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
      );
      const held = rows.find((r) => query.test(r.query));
      if (held) return held.pid;
      if (Date.now() > deadline) throw new Error(`no read reached the gate:\n${serveOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function gone(pid: number): Promise<void> {
    const deadline = Date.now() + MIGRATION_TIMEOUT_IN_MS;
    while ((await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount !== 0) {
      if (Date.now() > deadline) throw new Error(`backend ${pid} is still there`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const body = JSON.stringify({ schema: 'shop', tables: ['gated'], namespace: 'cancelled', verify: 'none', idempotencyKey: 'cancel-1' });

  it(
    'stops a migration in the middle of a copy: cancelled, the copy aborted, nothing committed',
    async () => {
      await admin.query('SELECT pg_advisory_lock($1)', [GATE_LOCK]);
      let locked = true;
      try {
        const accepted = await post(body);
        expect(accepted.status, accepted.text).toBe(202);
        const copy = await heldAtGate(/^COPY/);
        const statusUrl = `${base}/migrations/cancel-1`;
        const running = await call('GET', `${statusUrl}?code=a-function-key`);
        checkStatusAnswer(running, statusUrl);
        expect(running.status).toBe(202);
        expect(running.json).toMatchObject({ runtimeStatus: 'Running', phase: 'copying' });

        const cancel = await call('POST', '/migrations/cancel-1/cancel');
        expect(cancel.status, cancel.text).toBe(202);
        expect(cancel.headers.get('location')).toBe(statusUrl);
        const cancelled = await waitForRun(statusUrl);
        expect(cancelled).toMatchObject({ runtimeStatus: 'Terminated', phase: 'cancelled' });
        // The table's own instance is terminated too, an instant after the run's.
        const deadline = Date.now() + MIGRATION_TIMEOUT_IN_MS;
        let details = cancelled.details;
        while (details[0]?.phase !== 'cancelled' && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          details = ((await call('GET', statusUrl)).json as MigrationReport).details;
        }
        expect(details).toMatchObject([{ index: 0, table: 'gated', phase: 'cancelled', status: 'failed', reason: 'cancelled' }]);

        // Let the held copy go on: it must notice the cancel at its first batch and stop, writing nothing.
        await admin.query('SELECT pg_advisory_unlock($1)', [GATE_LOCK]);
        locked = false;
        await gone(copy);
        expect(filesUnder(gatedData())).toEqual([]);
        const table = await catalog().tryLoadTable({ namespace: ['cancelled'], name: 'gated' });
        expect(table?.metadata.snapshots ?? []).toEqual([]);
        const again = await call('POST', '/migrations/cancel-1/cancel');
        expect(again.status).toBe(409);
        expect(reasonOf(again)).toBe('the migration cancel-1 already finished (Terminated)');
      } finally {
        if (locked) await admin.query('SELECT pg_advisory_unlock($1)', [GATE_LOCK]);
      }
    },
    2 * MIGRATION_TIMEOUT_IN_MS,
  );

  it(
    'starts a cancelled run again with the same key, and it finishes',
    async () => {
      const restarted = await post(body);
      expect(restarted.status, restarted.text).toBe(202);
      expect(restarted.json).toMatchObject({ id: 'cancel-1', alreadyStarted: false });
      const report = await waitForRun(`${base}/migrations/cancel-1`);
      expect(report).toMatchObject({ runtimeStatus: 'Completed', phase: 'done', tables: { total: 1, done: 1, failed: 0 } });
      expect(report.details).toMatchObject([{ table: 'gated', status: 'committed', rows: GATED_ROWS, sourceRows: GATED_ROWS }]);
      const { metadata } = await catalog().loadTable({ namespace: ['cancelled'], name: 'gated' });
      expect(metadata.snapshots ?? []).toHaveLength(1);
      // Finished is finished: the same request does not start it a third time.
      expect((await post(body)).json).toMatchObject({ alreadyStarted: true });
    },
    2 * MIGRATION_TIMEOUT_IN_MS,
  );

  it(
    'stops a verification, and answers 404 for an unknown run',
    async () => {
      await admin.query('SELECT pg_advisory_lock($1)', [GATE_LOCK]);
      try {
        const accepted = await call('POST', '/verifications', {
          body: JSON.stringify({ schema: 'shop', tables: ['gated'], namespace: 'cancelled', level: 'full', idempotencyKey: 'ver-cancel-1' }),
        });
        expect(accepted.status, accepted.text).toBe(202);
        await heldAtGate(/gated/);
        const cancel = await call('POST', '/verifications/ver-cancel-1/cancel');
        expect(cancel.status, cancel.text).toBe(202);
        const status = await waitForRun<VerificationStatus>(`${base}/verifications/ver-cancel-1`);
        expect(status).toMatchObject({ runtimeStatus: 'Terminated', phase: 'cancelled', ok: false });
      } finally {
        await admin.query('SELECT pg_advisory_unlock($1)', [GATE_LOCK]);
      }
      expect((await call('POST', '/verifications/never-started/cancel')).status).toBe(404);
      expect((await call('POST', '/migrations/never-started/cancel')).status).toBe(404);
      expect((await call('POST', '/migrations/run-http-1/cancel')).status).toBe(409);
    },
    2 * MIGRATION_TIMEOUT_IN_MS,
  );
});

describe('secrets', () => {
  it('never put the source password in a response', () => {
    expect(responses.length).toBeGreaterThan(20);
    for (const response of responses) expect(response).not.toContain(sourcePassword);
    expect(serveOutput).not.toContain(sourcePassword);
  });
});
