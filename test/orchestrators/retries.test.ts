/**
 * Transient activity failures under the real retry policy (orchestrators/retry-policy.ts: 4 attempts, 2 s then
 * 4 s then 8 s apart), with the real orchestrators and stub activities on the local host.
 *
 * The first test runs on the wall clock: a partition that throws twice waits 2 s + 4 s for its retries, so it takes
 * about 6 s; shortening the policy for the test would no longer test the policy. The second needs 2 + 4 + 8 + 16 s
 * of retry timers, so it runs on a virtual clock instead (durable timers are the host's setTimeout and the history's
 * timestamps, both faked), which changes nothing the orchestrator can see.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalHost, silentHostLog, type HistoryEvent } from '../../cli/local-host';
import { EventType } from '../../cli/local-host/history-events';
import type { MigrateDatabaseOutput } from '../../orchestrators/migrate-database';
import type { MigrateDatabaseInput, MigrationProgress } from '../../shared/migrate/contracts';
import type { Scenario } from './fixtures/stub-activities';

type Stubs = typeof import('./fixtures/stub-activities.js');

let host: LocalHost;
let stubs: Stubs;

beforeAll(async () => {
  host = await LocalHost.load(
    async () => {
      await import('../../orchestrators/migrate-database.js');
      await import('../../orchestrators/migrate-table.js');
      await import('./fixtures/stub-activities.js');
    },
    { log: silentHostLog },
  );
  stubs = await import('./fixtures/stub-activities.js');
});

afterAll(async () => {
  vi.useRealTimers();
  await host?.close();
});

function start(runId: string, scenario: Scenario): Promise<string> {
  stubs.scenarios.set(runId, scenario);
  const input: MigrateDatabaseInput = { runId, sourceSchema: 'src', namespace: 'lake', concurrency: 2 };
  return host.startOrchestration('migrateDatabase', input, runId);
}

/** Milliseconds between each retry timer's creation and its due time, in order. */
function retryDelays(history: HistoryEvent[]): number[] {
  return history.filter((e) => e.EventType === EventType.TimerCreated).map((e) => Date.parse(e.FireAt!) - Date.parse(e.Timestamp));
}

describe('transient failures', () => {
  it('retries a partition that throws twice with the policy’s 2 s and 4 s intervals, and the table commits', async () => {
    const runId = 'transient-1';
    const began = Date.now();
    await start(runId, {
      tables: [
        { name: 'orders', partitions: 3 },
        { name: 'customers', partitions: 1 },
      ],
      copyThrows: { 'orders#1': 2 },
    });
    const status = await host.waitForCompletion(runId, { timeoutInMs: 30_000 });
    const elapsed = Date.now() - began;
    expect(status.runtimeStatus).toBe('Completed');
    const tables = (status.output as MigrateDatabaseOutput).tables;
    expect(tables.map((t) => [t.table, t.status, t.rows])).toEqual([
      ['orders', 'committed', 30],
      ['customers', 'committed', 10],
    ]);
    const attempts = stubs.recordsOf(runId).filter((r) => r.activity === 'copy' && r.table === 'orders' && r.partition === 1);
    expect(attempts.map((r) => r.outcome)).toEqual(['threw', 'threw', 'ok']);
    // The retries waited as the policy says, and nothing else in the table was run twice.
    expect(attempts[1]!.startedAt - attempts[0]!.endedAt!).toBeGreaterThanOrEqual(2_000 - 50);
    expect(attempts[2]!.startedAt - attempts[1]!.endedAt!).toBeGreaterThanOrEqual(4_000 - 50);
    expect(retryDelays(host.getHistory(`${runId}:table:0`)!.history)).toEqual([2_000, 4_000]);
    expect(
      stubs
        .recordsOf(runId)
        .filter((r) => r.table === 'orders' && r.activity !== 'copy')
        .map((r) => r.activity),
    ).toEqual(['commit', 'count']);
    expect(elapsed).toBeGreaterThanOrEqual(6_000 - 100);
    expect((status.customStatus as MigrationProgress).recentFailures).toEqual([]);
  }, 30_000);

  it('fails the table with the last error once every attempt has thrown, and commits the other table', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const runId = 'transient-2';
      await start(runId, {
        tables: [
          { name: 'orders', partitions: 2 },
          { name: 'customers', partitions: 1 },
        ],
        copyThrows: { 'orders#0': 99 },
      });
      for (let i = 0; i < 400 && host.getStatus(runId)?.runtimeStatus !== 'Completed'; i++) await vi.advanceTimersByTimeAsync(100);
      const status = host.getStatus(runId)!;
      expect(status.runtimeStatus).toBe('Completed');
      const tables = (status.output as MigrateDatabaseOutput).tables;
      expect(tables.find((t) => t.table === 'customers')).toMatchObject({ status: 'committed', rows: 10 });
      const orders = tables.find((t) => t.table === 'orders');
      expect(orders).toMatchObject({ status: 'failed', rows: 0 });
      // The person reading the report sees the activity's own message, without the host's wrapping or a stack.
      expect(orders?.reason).toBe('copying failed after retries: connection to the source was reset while copying orders#0 (attempt 4)');
      const attempts = stubs.recordsOf(runId).filter((r) => r.activity === 'copy' && r.table === 'orders' && r.partition === 0);
      expect(attempts).toHaveLength(4);
      // The framework arms a timer after the last failed attempt as well before giving up, so 2 + 4 + 8 + 16 s.
      expect(retryDelays(host.getHistory(`${runId}:table:0`)!.history)).toEqual([2_000, 4_000, 8_000, 16_000]);
      expect(stubs.recordsOf(runId).some((r) => r.table === 'orders' && r.activity === 'commit')).toBe(false);
      expect((status.customStatus as MigrationProgress).recentFailures).toEqual([{ table: 'orders', reason: orders?.reason }]);
    } finally {
      vi.useRealTimers();
    }
  });
});
