/**
 * The real syncDatabase orchestrator on the local host, with a scripted syncBatch: it continues as new after every
 * batch (its history stays a handful of events however many batches ran) and carries its figures across; an idle
 * batch is followed by a durable timer; a stop, every table stopped, and a failed table end it as designed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import { EventType } from '../../cli/local-host/history-events';
import type { SyncDatabaseOutput } from '../../orchestrators/sync-database';
import type { SyncDatabaseInput, SyncStatus } from '../../shared/run/sync-run';

type Stubs = typeof import('./fixtures/stub-sync-activities.js');

let host: LocalHost;
let stubs: Stubs;

beforeAll(async () => {
  host = await LocalHost.load(
    async () => {
      await import('../../orchestrators/sync-database.js');
      await import('./fixtures/stub-sync-activities.js');
    },
    { log: silentHostLog },
  );
  stubs = await import('./fixtures/stub-sync-activities.js');
});

afterAll(async () => {
  for (const gate of stubs?.gates.values() ?? []) gate.open();
  await host?.close();
});

const input = (runId: string): SyncDatabaseInput => ({ runId, flushIntervalMs: 1000, batchSeconds: 60 });

async function until<T>(what: string, probe: () => T | undefined, timeoutInMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutInMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('syncDatabase', () => {
  it('continues as new after every batch, carrying its figures, with a history that does not grow', async () => {
    const runId = 'many';
    const batches = [stubs.busy(10, '0/1000'), stubs.busy(20, '0/2000'), stubs.busy(5, '0/3000'), stubs.busy(7, '0/3500'), stubs.busy(2, '0/3800')];
    stubs.scripts.set(runId, [...batches, { ...stubs.busy(1, '0/3900'), stopRequested: true }]);
    const id = await host.startOrchestration('syncDatabase', input(runId), `sync-${runId}`);
    const status = await host.waitForCompletion(id, { timeoutInMs: 60_000 });
    expect(status.runtimeStatus, JSON.stringify(status.output)).toBe('Completed');
    expect(status.output as SyncDatabaseOutput).toEqual({ outcome: 'stopped', batches: 6, changesApplied: 45, executions: 6 });
    const custom = status.customStatus as SyncStatus;
    expect(custom).toMatchObject({
      phase: 'stopped',
      runId,
      execution: 6,
      batches: 6,
      changesApplied: 45,
      changesPerSecond: 1,
      lagBytes: 4096,
      lagSeconds: 1.5,
    });
    expect(custom.tables).toEqual([
      { table: 'public.items', appliedLsn: '0/3900' },
      { table: 'public.orders', appliedLsn: '0/100' },
    ]);
    // One execution holds one batch: started, the activity scheduled and completed, the end; never the earlier ones.
    const { history } = host.getHistory(id)!;
    expect(history.length).toBeLessThanOrEqual(10);
    expect(history.filter((e) => e.EventType === EventType.TaskScheduled)).toHaveLength(1);
    const mine = stubs.calls.filter((c) => c.input.runId === runId);
    expect(mine.map((c) => c.input)).toEqual(Array(6).fill({ syncId: id, runId, flushIntervalMs: 1000, batchSeconds: 60 }));
  });

  it('waits on a durable timer after a batch that found nothing, and only then runs the next', async () => {
    const runId = 'idle';
    stubs.scripts.set(runId, [stubs.idle()]);
    const id = await host.startOrchestration('syncDatabase', input(runId), `sync-${runId}`);
    // The next batch waits on the gate, so the pause is seen in the first execution's history.
    const timer = await until('the idle timer', () => host.getHistory(id)?.history.find((e) => e.EventType === EventType.TimerCreated));
    expect((host.getStatus(id)!.customStatus as SyncStatus).phase).toBe('idle');
    await until('the next batch', () => (stubs.calls.filter((c) => c.input.runId === runId).length === 2 ? true : undefined));
    const [first, second] = stubs.calls.filter((c) => c.input.runId === runId);
    // The timer fires 5 s after the episode that set it, which came after the first batch began.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(4_900);
    expect(timer.FireAt).toBeDefined();
    stubs.gateFor(runId).open();
    const status = await host.waitForCompletion(id, { timeoutInMs: 60_000 });
    expect(status.runtimeStatus).toBe('Completed');
    expect((status.output as SyncDatabaseOutput).outcome).toBe('stopped');
    // The stop's batch had no figures: the status keeps the idle batch's.
    expect((status.customStatus as SyncStatus).tables).toHaveLength(2);
  });

  it('ends once every table has stopped, listing each with its reason and position', async () => {
    const runId = 'allstop';
    stubs.scripts.set(runId, [
      { ...stubs.busy(3, '0/500'), stoppedTables: [{ table: 'public.items', reason: 'key 7 not found', lsn: '0/400' }] },
      { ...stubs.busy(0, '0/500'), stoppedTables: [{ table: 'public.orders', reason: 'column dropped', lsn: '0/100' }] },
    ]);
    const id = await host.startOrchestration('syncDatabase', input(runId), `sync-${runId}`);
    const status = await host.waitForCompletion(id, { timeoutInMs: 60_000 });
    expect(status.runtimeStatus).toBe('Completed');
    expect((status.output as SyncDatabaseOutput).outcome).toBe('all-tables-stopped');
    expect((status.customStatus as SyncStatus).stoppedTables).toEqual([
      { table: 'public.items', reason: 'key 7 not found', lsn: '0/400' },
      { table: 'public.orders', reason: 'column dropped', lsn: '0/100' },
    ]);
  });

  it('ends when the sync loop reports no table running, keeping each stopped table and its reason', async () => {
    const runId = 'failed';
    stubs.scripts.set(runId, [
      { ...stubs.busy(0, '0/500'), outcome: 'failed', stoppedTables: [{ table: 'public.items', reason: 'insert of a key it holds', lsn: '0/500' }] },
    ]);
    const id = await host.startOrchestration('syncDatabase', input(runId), `sync-${runId}`);
    const status = await host.waitForCompletion(id, { timeoutInMs: 60_000 });
    expect(status.runtimeStatus).toBe('Completed');
    expect((status.output as SyncDatabaseOutput).outcome).toBe('all-tables-stopped');
    const custom = status.customStatus as SyncStatus;
    expect(custom.phase).toBe('all-tables-stopped');
    expect(custom.stoppedTables).toEqual([{ table: 'public.items', reason: 'insert of a key it holds', lsn: '0/500' }]);
  });

  it('retries a batch that failed for a moment, and goes on', async () => {
    const runId = 'flaky';
    stubs.scripts.set(runId, [{ throws: 'connection reset' }, { ...stubs.busy(4, '0/900'), stopRequested: true }]);
    const id = await host.startOrchestration('syncDatabase', input(runId), `sync-${runId}`);
    const status = await host.waitForCompletion(id, { timeoutInMs: 60_000 });
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output as SyncDatabaseOutput).toEqual({ outcome: 'stopped', batches: 1, changesApplied: 4, executions: 1 });
  });
});
