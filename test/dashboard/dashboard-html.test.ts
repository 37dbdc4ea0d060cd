import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DashboardData, DashboardMigration } from '../../shared/dashboard/dashboard-data';
import { formatBytes, formatSeconds, renderDashboardSections, retryUrl } from '../../shared/dashboard/dashboard-html';
import { DASHBOARD_CSP, renderDashboardPage } from '../../shared/dashboard/dashboard-page';
import { percentageFlag, switchFlag } from '../../shared/flags/feature-flag';

const HOSTILE = `<img src=x onerror="alert(1)">'&`;

function migration(overrides: Partial<DashboardMigration> = {}): DashboardMigration {
  return {
    id: 'run-1',
    runtimeStatus: 'Completed',
    phase: 'done',
    tables: { total: 2, started: 2, done: 2, failed: 1 },
    partitions: { total: 3, done: 2 },
    rows: 1234567,
    rowsPerSecond: 1000,
    elapsedSeconds: 61,
    failures: [],
    unreadable: [],
    page: { offset: 0, limit: 100, of: 2 },
    reportReady: true,
    verification: { id: 'run-1:verify', level: 'quick', status: 'ok', tables: { total: 1, done: 1, differing: 0, errors: 0 } },
    details: [
      {
        index: 0,
        table: 'orders',
        phase: 'committed',
        status: 'committed',
        partitions: { total: 2, done: 2 },
        rows: 1234567,
        estimatedRows: 1200000,
        verified: 'ok',
      },
      {
        index: 1,
        table: HOSTILE,
        phase: 'failed',
        status: 'failed',
        partitions: { total: 1, done: 0 },
        rows: 0,
        estimatedRows: 10,
        reason: `value ${HOSTILE} cannot be stored`,
        retry: { id: 'run-1-retry-00000000', state: 'none' },
      },
    ],
    ...overrides,
  };
}

function data(overrides: Partial<DashboardData> = {}): DashboardData {
  return {
    generatedAt: '2026-12-06T10:00:00.000Z',
    windowDays: 7,
    operatorAuth: 'local-token',
    migrations: { ok: true, value: [migration()] },
    verifications: { ok: true, value: [] },
    syncs: {
      ok: true,
      value: [
        {
          id: 'sync-run-1',
          runtimeStatus: 'Running',
          phase: 'syncing',
          lagBytes: 3 * 1024 * 1024,
          lagSeconds: 42,
          changesPerSecond: 250,
          changesApplied: 9000,
          stoppedTables: [{ table: 'shop.events', reason: 'column dropped', lsn: '0/1' }],
          stoppedTablesOmitted: 2,
        },
      ],
    },
    flags: {
      ok: true,
      value: {
        store: 'local flags file',
        flags: [
          {
            name: 'iceberg-read-percentage',
            label: 'shop.orders',
            flag: percentageFlag('iceberg-read-percentage', 25),
            etag: 'e',
            lastModified: '2026-12-06T09:00:00.000Z',
          },
        ],
        history: [
          {
            at: '2026-12-06T09:00:00.000Z',
            actor: 'ana',
            action: 'set',
            reason: 'canary',
            flag: 'iceberg-read-percentage',
            label: 'shop.orders',
            before: switchFlag('iceberg-read-percentage', false),
            after: percentageFlag('iceberg-read-percentage', 25),
            etagAfter: 'e',
          },
        ],
      },
    },
    jobs: { ok: false, error: 'the job results could not be read: storage said 503' },
    ...overrides,
  };
}

describe('dashboard sections', () => {
  it('escapes every name and reason, so a hostile table name is text and no element', () => {
    const html = renderDashboardSections(data());
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;');
    // The retry button's target encodes the name as a URL path segment.
    expect(html).toContain(`data-retry-url="${retryUrl('run-1', HOSTILE).replace(/'/g, '&#39;')}"`);
  });

  it('states each status in words beside its colour, and shows figures grouped', () => {
    const html = renderDashboardSections(data());
    expect(html).toMatch(/class="state good"><span aria-hidden="true">✓<\/span> committed/);
    expect(html).toMatch(/class="state bad"><span aria-hidden="true">✗<\/span> failed/);
    expect(html).toContain('<td class="num" data-field="rows">1,234,567</td>');
    expect(html).toContain('<dd data-field="rows">1,234,567</dd>');
    expect(html).toContain('Retry &lt;img');
    expect(html).toContain('href="dashboard/verifications/run-1%3Averify/report#table=orders"');
  });

  it("shows a sync's lag in bytes and seconds and its stopped tables, and flags with their changes", () => {
    const html = renderDashboardSections(data());
    expect(html).toContain('3.0 MiB');
    expect(html).toContain('42 s');
    expect(html).toContain('shop.events: <span class="reason">column dropped</span>');
    expect(html).toContain('and 2 more');
    expect(html).toContain('<th scope="row">iceberg-read-percentage [shop.orders]</th><td>25%</td>');
    expect(html).toContain('set: off → 25%');
  });

  it('says in its place why a section could not be read, and renders the others', () => {
    const html = renderDashboardSections(data());
    expect(html).toContain('<p class="problem" role="alert">the job results could not be read: storage said 503</p>');
    expect(html).toContain('Migration run-1');
  });

  it('says so when a period has no run of a kind', () => {
    const html = renderDashboardSections(data({ migrations: { ok: true, value: [] }, syncs: { ok: true, value: [] } }));
    expect(html).toContain('<p>No migration in this period.</p>');
    expect(html).toContain('<p>No sync in this period.</p>');
  });

  it('offers no retry while a retry runs or once it committed', () => {
    const running = migration();
    running.details[1]!.retry = { id: 'run-1-retry-00000000', state: 'running' };
    const html = renderDashboardSections(data({ migrations: { ok: true, value: [running] } }));
    expect(html).toContain('data-retry-state="running"');
    expect(html).not.toContain('data-retry-url');
  });
});

describe('dashboard page', () => {
  it('allows exactly its own inline style and script by hash, and fetches only from the app', () => {
    const page = renderDashboardPage(data(), { refreshSeconds: 2 });
    const script = /<script>([\s\S]*?)<\/script>/.exec(page)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
    const sha = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
    expect(DASHBOARD_CSP).toContain(`script-src ${sha(script)};`);
    expect(DASHBOARD_CSP).toContain(`style-src ${sha(style)};`);
    expect(DASHBOARD_CSP).toContain("connect-src 'self'");
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).toContain('data-refresh-ms="2000"');
    expect(page).toContain('id="operator-token" type="password"');
  });

  it('asks for no token where operators sign in', () => {
    expect(renderDashboardPage(data({ operatorAuth: 'signed-in' }))).not.toContain('id="operator-token"');
  });
});

describe('formatting', () => {
  it('reads seconds and bytes as people do', () => {
    expect(formatSeconds(45)).toBe('45 s');
    expect(formatSeconds(200)).toBe('3 min 20 s');
    expect(formatSeconds(7500)).toBe('2 h 5 min');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
  });
});
