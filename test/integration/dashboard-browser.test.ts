/**
 * The dashboard in headless Chromium (Debian `chromium`, driven by playwright-core) on `icebridge serve` against an
 * embedded PostgreSQL: a migration where one table fails (a NaN in a numeric(10,2) column, which Iceberg's decimal
 * cannot hold), the page's figures checked against the run's own status report, the drill-down to the
 * verification report, and the failed table retried from the page once its cause is removed, until the page shows
 * it committed. Screenshots go to the test's temporary folder (kept when DASHBOARD_SCREENSHOTS names a folder).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardData } from '../../shared/dashboard/dashboard-data';
import { retryRunId } from '../../shared/dashboard/table-retry';
import { LocalFileIO } from '../../shared/iceberg/io/local-file-io';
import type { MigrationReport } from '../../shared/migrate/migration-status';
import { jobReportsLocation, writeJobResult } from '../../shared/run/job-results';
import { type ServeChild, startServe } from '../dashboard/serve-child';
import { type PostgresInstance, startPostgres } from './support/postgres';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
/** In CI (`CI=true`, as .ci/run sets) the browser is part of the environment: its absence fails, never skips. */
const inCi = /^(true|1)$/i.test(process.env.CI ?? '');
if (!haveChromium && !inCi) console.warn(`dashboard-browser: skipped, ${CHROMIUM} is not installed (apt-get install chromium; .ci/run does this in CI)`);

const RUN_ID = 'dash-run-1';
const FAILING = 'ledger';
const TABLES = { customers: 300, orders: 1_200, ledger: 100 };
/** Generous: a loaded 2-core machine copies these few thousand rows in seconds; the limit only stops a hang. */
const RUN_TIMEOUT_IN_MS = 240_000;

const SOURCE_SQL = `
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO shop.customers SELECT g, 'customer ' || g FROM generate_series(1, ${TABLES.customers}) g;
CREATE TABLE shop.orders (id bigint PRIMARY KEY, customer_id integer NOT NULL REFERENCES shop.customers, total numeric(12, 2));
INSERT INTO shop.orders SELECT g, 1 + g % ${TABLES.customers}, g * 1.25 FROM generate_series(1, ${TABLES.orders}) g;
-- numeric(10,2) accepts NaN, Iceberg's decimal(10,2) cannot hold it: this table fails until the row is fixed.
CREATE TABLE shop.ledger (id integer PRIMARY KEY, amount numeric(10, 2));
INSERT INTO shop.ledger SELECT g, g * 0.5 FROM generate_series(1, ${TABLES.ledger}) g WHERE g <> 42;
INSERT INTO shop.ledger VALUES (42, 'NaN');
`;

describe.runIf(!haveChromium && inCi)('dashboard in CI without a browser', () => {
  it(`fails, because ${CHROMIUM} must be installed in CI`, () => {
    expect.fail(`${CHROMIUM} is not installed; CI must install it (.ci/run runs apt-get install chromium) instead of skipping this suite`);
  });
});

describe.skipIf(!haveChromium)('the dashboard in headless Chromium', () => {
  let workDir: string;
  let warehouse: string;
  let postgres: PostgresInstance | undefined;
  let serve: ServeChild | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let sourceUrl: string;
  let run: MigrationReport;
  const token = `tok-${randomBytes(16).toString('hex')}`;
  /** Every URL the browser asked for: none may carry the token. */
  const requested: string[] = [];
  const shot = (name: string) => path.join(workDir, `${name}.png`);

  async function api(
    method: 'GET' | 'POST' | 'PUT',
    route: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${serve!.base}/${route}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
  }

  async function waitForRun(id: string): Promise<MigrationReport> {
    const deadline = Date.now() + RUN_TIMEOUT_IN_MS;
    for (;;) {
      const answer = await api('GET', `migrations/${id}`);
      if (answer.status === 200) return answer.json as MigrationReport;
      if (Date.now() > deadline) throw new Error(`${id} did not finish: ${JSON.stringify(answer.json)}\n${serve!.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The figures the page shows for the tables of a run, by table. */
  async function pageRows(runId: string): Promise<Record<string, { rows: number; status: string }>> {
    const shown: Record<string, { rows: number; status: string }> = {};
    for (const row of await page.locator(`article[data-run="${runId}"] tbody tr[data-table]`).all()) {
      shown[(await row.getAttribute('data-table')) ?? ''] = {
        rows: Number(((await row.locator('[data-field="rows"]').textContent()) ?? '').replace(/,/g, '')),
        status: ((await row.locator('.state').first().textContent()) ?? '').replace(/[^a-z-]/g, ''),
      };
    }
    return shown;
  }

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-dashboard-'));
    warehouse = path.join(workDir, 'warehouse');
    const cwd = path.join(workDir, 'cwd');
    await mkdir(cwd);
    postgres = await startPostgres();
    sourceUrl = await postgres.createDatabase('dash_source');
    const admin = new Client({ connectionString: sourceUrl });
    await admin.connect();
    try {
      await admin.query(SOURCE_SQL);
    } finally {
      await admin.end();
    }
    // A nightly job's result and report as the scheduled jobs record them.
    const io = new LocalFileIO();
    const reports = jobReportsLocation(warehouse, 'consistency', '2026-12-05');
    await io.write(`${reports}/report.html`, new TextEncoder().encode('<!doctype html><title>consistency</title><h1 id="job-report">1 table differs</h1>'));
    await writeJobResult(io, warehouse, {
      job: 'consistency',
      slot: '2026-12-05',
      instanceId: 'consistency-2026-12-05',
      startedAt: '2026-12-05T02:00:00.000Z',
      finishedAt: '2026-12-05T02:03:00.000Z',
      status: 'findings',
      summary: '3 tables checked, 1 differs',
      figures: { tables: 3, differing: 1 },
      reports,
    });
    serve = await startServe(cwd, path.join(workDir, 'state'), {
      ICEBRIDGE_SOURCE_URL: sourceUrl,
      ICEBRIDGE_WAREHOUSE: warehouse,
      ICEBRIDGE_LOCAL_TOKEN: token,
      ICEBRIDGE_FLAGS_FILE: path.join(workDir, 'flags.json'),
    });
    const started = await api('POST', 'migrations', { schema: 'shop', idempotencyKey: RUN_ID, concurrency: 2, verify: 'quick' });
    expect(started.status, JSON.stringify(started.json)).toBe(202);
    run = await waitForRun(RUN_ID);
    const flipped = await api('PUT', 'flags/use-iceberg-storage', { value: 'on', reason: 'orders read from Iceberg' }, { authorization: `Bearer ${token}` });
    expect(flipped.status, JSON.stringify(flipped.json)).toBe(200);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    page.on('request', (request) => requested.push(request.url()));
  }, RUN_TIMEOUT_IN_MS + 120_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await postgres?.stop();
    const keep = process.env.DASHBOARD_SCREENSHOTS;
    if (keep && workDir) {
      await mkdir(keep, { recursive: true });
      for (const name of ['dashboard-failed', 'dashboard-retried']) if (existsSync(shot(name))) await cp(shot(name), path.join(keep, `${name}.png`));
    }
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('ran the migration with one failed table', () => {
    const byTable = Object.fromEntries(run.details.map((d) => [d.table, d]));
    expect(byTable[FAILING]?.status).toBe('failed');
    expect(byTable[FAILING]?.reason).toContain('NaN');
    expect(byTable.orders?.status).toBe('committed');
    expect(byTable.customers?.status).toBe('committed');
  });

  it("shows every table's rows and status exactly as the run's status report has them", async () => {
    // `days` (like a function key on Azure) is passed on to the page's polls and links; `refresh` is the page's own.
    await page.goto(`${serve!.base}/dashboard?refresh=1&days=3`);
    await page.waitForSelector('#refresh-status:text("Updated")');
    expect(await page.textContent('.generated')).toContain('runs of the last 3 days');
    await page.waitForSelector(`article[data-run="${RUN_ID}"]`);
    const shown = await pageRows(RUN_ID);
    const expected = Object.fromEntries(run.details.map((d) => [d.table, { rows: d.rows, status: d.status ?? d.phase }]));
    expect(shown).toEqual(expected);
    expect(shown.orders?.rows).toBe(TABLES.orders);
    const runRows = await page.textContent(`article[data-run="${RUN_ID}"] dd[data-field="rows"]`);
    expect(Number(runRows?.replace(/,/g, ''))).toBe(run.rows);
    const reason = await page.textContent(`article[data-run="${RUN_ID}"] tr[data-table="${FAILING}"] .reason`);
    expect(reason).toContain('NaN');
    await page.screenshot({ path: shot('dashboard-failed'), fullPage: true });
  });

  it('shows the flag, its change and the scheduled job result', async () => {
    expect(await page.textContent('tr[data-flag="use-iceberg-storage"] td')).toBe('on');
    expect(await page.textContent('#h-flags ~ table:last-of-type tbody')).toContain('orders read from Iceberg');
    const job = await page.textContent('tr[data-job="consistency"][data-slot="2026-12-05"]');
    expect(job).toContain('findings');
    expect(job).toContain('1 differs');
    await page.click('tr[data-job="consistency"][data-slot="2026-12-05"] a');
    expect(await page.textContent('#job-report')).toBe('1 table differs');
    await page.goBack();
    await page.waitForSelector(`article[data-run="${RUN_ID}"]`);
  });

  it("opens a committed table's verification report from its row", async () => {
    const link = page.locator(`article[data-run="${RUN_ID}"] tr[data-table="orders"] a`);
    const href = await link.getAttribute('href');
    expect(href).toMatch(/\/report\?days=3#table=orders$/);
    await link.click();
    await page.waitForSelector('#verdict');
    expect(await page.textContent('#verdict')).toBe('All tables verified exact');
    expect(await page.inputValue('#filter-table')).toBe('orders');
    await page.goBack();
    await page.waitForSelector(`article[data-run="${RUN_ID}"]`);
  });

  it('refuses a retry without the operator token', async () => {
    const refused = await api('POST', `migrations/${RUN_ID}/tables/${FAILING}/retry`);
    expect(refused.status).toBe(401);
    const auth = { authorization: `Bearer ${token}` };
    expect((await api('POST', `migrations/${RUN_ID}/tables/orders/retry`, undefined, auth)).status, 'a committed table').toBe(409);
    expect((await api('POST', `migrations/${RUN_ID}/tables/ghost/retry`, undefined, auth)).status, 'a table the run never had').toBe(404);
    expect((await api('POST', `migrations/no-such-run/tables/${FAILING}/retry`, undefined, auth)).status, 'an unknown run').toBe(404);
    expect((await api('POST', `migrations/${RUN_ID}/tables/${'x'.repeat(64)}/retry`, undefined, auth)).status, 'not a name').toBe(400);
  });

  it('answers the same figures as JSON, each section on its own', async () => {
    const answer = await api('GET', 'dashboard/data');
    expect(answer.status).toBe(200);
    const data = answer.json as DashboardData;
    expect(data.operatorAuth).toBe('local-token');
    expect(data.migrations.ok && data.migrations.value.find((m) => m.id === RUN_ID)?.details.map((d) => [d.table, d.rows, d.retry?.state])).toEqual(
      run.details.map((d) => [d.table, d.rows, d.status === 'failed' ? 'none' : undefined]),
    );
    expect(data.jobs.ok && data.jobs.value.map((j) => j.slot)).toEqual(['2026-12-05']);
    expect((await api('GET', 'dashboard/data?days=0')).status).toBe(400);
  });

  it(
    'retries the failed table from the page: failed again while its cause is there, committed once it is removed',
    async () => {
      const row = `article[data-run="${RUN_ID}"] tr[data-table="${FAILING}"]`;
      const retryId = retryRunId(RUN_ID, FAILING);
      await page.fill('#operator-token', token);
      await page.click('#operator button[type="submit"]');
      await page.click(`${row} button[data-retry-url]`);
      // The page refreshes every second; the limit is only there to stop a hang.
      await page.waitForSelector(`${row} [data-retry-state="failed"]`, { timeout: RUN_TIMEOUT_IN_MS });
      expect((await waitForRun(retryId)).details.map((d) => [d.table, d.status])).toEqual([[FAILING, 'failed']]);
      const admin = new Client({ connectionString: sourceUrl });
      await admin.connect();
      try {
        await admin.query('UPDATE shop.ledger SET amount = 21 WHERE id = 42');
      } finally {
        await admin.end();
      }
      // A retry that failed is offered again, and starts again under the same id.
      await page.click(`${row} button[data-retry-url]`);
      await page.waitForSelector(`${row} [data-retry-state="committed"]`, { timeout: RUN_TIMEOUT_IN_MS });
      const retried = await waitForRun(retryId);
      expect(retried.details.map((d) => [d.table, d.status, d.rows])).toEqual([[FAILING, 'committed', TABLES.ledger]]);
      const shown = await pageRows(retryId);
      expect(shown[FAILING]).toEqual({ rows: TABLES.ledger, status: 'committed' });
      expect(await page.textContent('#action-status')).toContain(retryId);
      await page.screenshot({ path: shot('dashboard-retried'), fullPage: true });
      // A second press is the same retry, not another copy.
      const again = await api('POST', `migrations/${RUN_ID}/tables/${FAILING}/retry`, undefined, { authorization: `Bearer ${token}` });
      expect(again.status).toBe(202);
      expect(again.json).toMatchObject({ id: retryId, alreadyStarted: true });
    },
    2 * RUN_TIMEOUT_IN_MS + 60_000,
  );

  it('never put the token in a URL or in the server output', () => {
    expect(requested.length).toBeGreaterThan(3);
    expect(requested.filter((url) => url.includes(token))).toEqual([]);
    expect(serve!.output()).not.toContain(token);
    expect(serve!.output()).toContain(`the dashboard is ${serve!.base}/dashboard`);
  });
});
