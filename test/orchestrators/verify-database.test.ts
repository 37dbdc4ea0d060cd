/**
 * The real verifyDatabase and verifyTable orchestrators on the local host, with stub activities registered under
 * the real activity names: replay determinism, the fan-out per table and key range, merging, and a range that
 * fails for good making only its table an error.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalHost, silentHostLog, type HistoryEvent } from '../../cli/local-host';
import { EventType } from '../../cli/local-host/history-events';
import type { VerificationOutcome, VerificationReport, VerifyDatabaseInput } from '../../shared/verify/contracts';
import { assembleVerificationReport } from '../../shared/verify/reports/report-store';
import { tableReportLocation } from '../../shared/verify/reports/table-summary';
import type { VerifyScenario } from './fixtures/stub-verify-activities';

type Stubs = typeof import('./fixtures/stub-verify-activities.js');

let host: LocalHost;
let stubs: Stubs;
const wait = { timeoutInMs: 30_000 };

beforeAll(async () => {
  host = await LocalHost.load(
    async () => {
      await import('../../orchestrators/verify-database.js');
      await import('../../orchestrators/verify-table.js');
      await import('./fixtures/stub-verify-activities.js');
    },
    { log: silentHostLog, maxConcurrentActivities: 16, maxConcurrentOrchestrations: 8 },
  );
  stubs = await import('./fixtures/stub-verify-activities.js');
});

afterAll(async () => {
  await host?.close();
});

async function run(id: string, scenario: VerifyScenario, level: 'quick' | 'full' = 'full'): Promise<VerificationReport> {
  stubs.verifyScenarios.set(id, scenario);
  const input: VerifyDatabaseInput = { verificationId: id, sourceSchema: 'src', namespace: 'lake', level, concurrency: 2 };
  await host.startOrchestration('verifyDatabase', input, id);
  const status = await host.waitForCompletion(id, wait);
  expect(status.runtimeStatus).toBe('Completed');
  return assembleVerificationReport(stubs.reportStore, status.output as VerificationOutcome | VerificationReport);
}

function scheduled(history: HistoryEvent[]): string[] {
  return history
    .filter((e) => e.EventType === EventType.TaskScheduled || e.EventType === EventType.SubOrchestrationInstanceCreated)
    .sort((a, b) => a.EventId - b.EventId)
    .map((e) => e.Name ?? '');
}

describe('verifyDatabase', () => {
  it('fans out the checks and one activity per key range, in batches, and merges the ranges', async () => {
    // 11 ranges make two batches (the checks ride in the first).
    const report = await run('ver-1', {
      tables: [
        { name: 'orders', ranges: 11, differing: { 3: 2, 10: 1 } },
        { name: 'users', ranges: 0 },
        { name: 'items', ranges: 2 },
      ],
    });
    expect(report.tables.map((t) => [t.table, t.status, t.rows?.compared, t.rows?.differing])).toEqual([
      ['src.orders', 'differs', '1100', '3'],
      ['src.users', 'ok', '100', '0'],
      ['src.items', 'ok', '200', '0'],
    ]);
    expect(report.tables[0]!.rows!.differences.map((d) => d.key.id)).toEqual(['300', '301', '1000']);
    expect(report.ok).toBe(false);
    expect(scheduled(host.getHistory('ver-1:table:0')!.history)).toEqual([
      'verifyTableChecks',
      ...Array<string>(11).fill('verifyRowRange'),
      'saveTableVerification',
    ]);
    expect(scheduled(host.getHistory('ver-1:table:1')!.history)).toEqual(['verifyTableChecks', 'saveTableVerification']);
    // The checks of a split table leave the rows to the ranges; an unsplit table's checks compare them.
    const checks = stubs.verifyRecords.filter((r) => r.activity === 'verifyTableChecks');
    expect(Object.fromEntries(checks.map((r) => [r.table, r.rowsByRange]))).toEqual({ orders: true, users: false, items: true });
  });

  it('replays every history to the same actions, whatever the clock and randomness', async () => {
    const ids = ['ver-1', 'ver-1:table:0', 'ver-1:table:1', 'ver-1:table:2'];
    const first = [];
    for (const id of ids) {
      const replay = await host.replayHistory(id);
      expect(replay.problem, id).toBeUndefined();
      expect(replay.shim, id).toEqual({ newEvents: [], actionsDone: true, continueAsNew: undefined });
      expect(replay.answer.output, id).toEqual(host.getStatus(id)!.output);
      first.push(replay.answer);
    }
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2041-06-01T12:00:00Z'));
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    try {
      for (const [i, id] of ids.entries()) expect((await host.replayHistory(id)).answer, id).toEqual(first[i]);
    } finally {
      random.mockRestore();
      vi.useRealTimers();
    }
  });

  it('makes a table whose range fails for good an error with the reason, and verifies the others', async () => {
    const report = await run('ver-2', {
      tables: [
        { name: 'orders', ranges: 3, failingRanges: [1] },
        { name: 'users', ranges: 2 },
      ],
    });
    expect(report.tables.map((t) => [t.table, t.status, t.error])).toEqual([
      // Named by the plan (the stubs carry the verification id as the schema), since no checks result stands.
      ['"ver-2".orders', 'error', 'range 1 of orders cannot be read'],
      ['src.users', 'ok', undefined],
    ]);
    expect(host.getStatus('ver-2')!.customStatus).toMatchObject({
      phase: 'done',
      tables: { total: 2, done: 2, differing: 0, errors: 1 },
      lastError: '"ver-2".orders: range 1 of orders cannot be read',
    });
  });

  it('verifies as many ranges at once as the plan says', async () => {
    await run('ver-4', { tables: [{ name: 'orders', ranges: 5 }], rangesAtOnce: 2 });
    // S: an activity scheduled, C: one completed. The checks go out with the first batch; the report is saved last.
    const steps = host
      .getHistory('ver-4:table:0')!
      .history.filter((e) => e.EventType === EventType.TaskScheduled || e.EventType === EventType.TaskCompleted)
      .map((e) => (e.EventType === EventType.TaskScheduled ? 'S' : 'C'))
      .join('');
    expect(steps).toBe('SSSCCCSSCCSCSC');
  });

  it('runs no range at the quick level', async () => {
    const before = stubs.verifyRecords.filter((r) => r.activity === 'verifyRowRange').length;
    const report = await run('ver-3', { tables: [{ name: 'orders', ranges: 4 }] }, 'quick');
    expect(report.tables.map((t) => [t.status, t.rows])).toEqual([['ok', undefined]]);
    expect(stubs.verifyRecords.filter((r) => r.activity === 'verifyRowRange').length).toBe(before);
  });

  it('keeps its custom status under 16 KB for 1,000 tables, and names each table by its derived instance', async () => {
    const tables = Array.from({ length: 1_000 }, (_, i) => ({ name: `t${String(i).padStart(4, '0')}_${'y'.repeat(58)}`, ranges: 0 }));
    stubs.verifyScenarios.set('ver-wide', { tables });
    const input: VerifyDatabaseInput = { verificationId: 'ver-wide', sourceSchema: 'src', namespace: 'lake', level: 'quick', concurrency: 50 };
    await host.startOrchestration('verifyDatabase', input, 'ver-wide');
    const status = await host.waitForCompletion('ver-wide', { timeoutInMs: 300_000 });
    expect(status.runtimeStatus).toBe('Completed');
    // UTF-16 JSON text, as Azure measures its limit.
    expect(Buffer.byteLength(JSON.stringify(status.customStatus), 'utf16le')).toBeLessThan(16 * 1024);
    expect(status.customStatus).toEqual({ phase: 'done', level: 'quick', tables: { total: 1_000, started: 1_000, done: 1_000, differing: 0, errors: 0 } });
    expect(host.getStatus('ver-wide:table:999')!.customStatus).toMatchObject({ table: tables[999]!.name });
  }, 600_000);

  it('keeps its output small for 1,000 tables of ~20 KB each: the whole verifications are in storage', async () => {
    const tables = Array.from({ length: 1_000 }, (_, i) => ({ name: `big${String(i).padStart(4, '0')}`, ranges: 0 }));
    stubs.verifyScenarios.set('ver-big', { tables, padding: 20_000 });
    const input: VerifyDatabaseInput = { verificationId: 'ver-big', sourceSchema: 'src', namespace: 'lake', level: 'quick', concurrency: 50 };
    await host.startOrchestration('verifyDatabase', input, 'ver-big');
    // The local host's limits are on (its default): the whole verifications together are some 20 MB.
    const status = await host.waitForCompletion('ver-big', { timeoutInMs: 300_000 });
    expect(status.runtimeStatus, JSON.stringify(status.output).slice(0, 500)).toBe('Completed');
    const outcome = status.output as VerificationOutcome;
    expect(Buffer.byteLength(JSON.stringify(outcome), 'utf16le')).toBeLessThan(512 * 1024);
    expect(outcome).toMatchObject({ verificationId: 'ver-big', level: 'quick', ok: true, reports: 'memory://stub/.icebridge/verifications/ver-big' });
    expect(outcome.tables[999]).toEqual({
      index: 999,
      table: 'src.big0999',
      target: 'lake.big0999',
      level: 'quick',
      status: 'ok',
      countsOk: true,
      durationMs: 0,
    });
    const stored = JSON.parse(new TextDecoder().decode(await stubs.reportStore.read(tableReportLocation(outcome.reports, 999)))) as { aggregates: unknown[] };
    expect(stored.aggregates).toHaveLength(20);
    // Assembled page by page, as the status endpoint does.
    const page = await assembleVerificationReport(stubs.reportStore, outcome, { offset: 990, limit: 100 });
    expect(page.tables.map((t) => t.table)).toEqual(tables.slice(990).map((t) => `src.${t.name}`));
    expect(page.tables[0]!.aggregates[19]!.source).toHaveLength(1_000);
    expect(page.ok).toBe(true);
  }, 600_000);

  it("reports a table whose report file is missing as that table's error, and the report as not ok", async () => {
    expect(
      (
        await run('ver-5', {
          tables: [
            { name: 'orders', ranges: 2 },
            { name: 'users', ranges: 0 },
            { name: 'items', ranges: 0 },
          ],
        })
      ).ok,
    ).toBe(true);
    const outcome = host.getStatus('ver-5')!.output as VerificationOutcome;
    await stubs.reportStore.delete(tableReportLocation(outcome.reports, 1));
    const report = await assembleVerificationReport(stubs.reportStore, outcome);
    expect(report.tables.map((t) => [t.table, t.status])).toEqual([
      ['src.orders', 'ok'],
      ['src.users', 'error'],
      ['src.items', 'ok'],
    ]);
    expect(report.tables[1]!.error).toMatch(/^its report memory:\/\/stub\/\.icebridge\/verifications\/ver-5\/tables\/1\.json cannot be read: /);
    expect(report.ok).toBe(false);
  });

  it('finishes a verification planned before reports were stored with the whole report as its output, as then', async () => {
    const report = await run('ver-6', {
      tables: [
        { name: 'orders', ranges: 2, differing: { 1: 1 } },
        { name: 'users', ranges: 0 },
      ],
      formerPlan: true,
    });
    expect(report.tables.map((t) => [t.table, t.status, t.rows?.differing])).toEqual([
      ['src.orders', 'differs', '1'],
      ['src.users', 'ok', '0'],
    ]);
    expect(host.getStatus('ver-6')!.output).toEqual(report);
    expect(scheduled(host.getHistory('ver-6:table:1')!.history)).toEqual(['verifyTableChecks']);
  });
});
