/**
 * The real migrateDatabase and migrateTable orchestrators on the local host, with stub activities registered under
 * the real activity names (fixtures/stub-activities.ts): determinism on replay, failure isolation between tables,
 * bounded table concurrency, progress in the custom status and a failed plan.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalHost, silentHostLog, type HistoryEvent, type InstanceStatus, type ReplayReport } from '../../cli/local-host';
import { EventType } from '../../cli/local-host/history-events';
import type { OrchestratorAction } from '../../cli/local-host/actions';
import type { MigrateDatabaseOutput } from '../../orchestrators/migrate-database';
import type { MigrateDatabaseInput, MigrationProgress, TableProgress } from '../../shared/migrate/contracts';
import { buildMigrationReport } from '../../shared/migrate/migration-status';
import { type InstanceSnapshot } from '../../shared/run/instance-status';
import type { ActivityRecord, Scenario } from './fixtures/stub-activities';
import { renderSummary } from '../../cli/support/summary';

type Stubs = typeof import('./fixtures/stub-activities.js');

let host: LocalHost;
let stubs: Stubs;
const wait = { timeoutInMs: 30_000 };

beforeAll(async () => {
  // The orchestrator modules must load inside `load`: registrations are captured only from then on.
  host = await LocalHost.load(
    async () => {
      await import('../../orchestrators/migrate-database.js');
      await import('../../orchestrators/migrate-table.js');
      await import('./fixtures/stub-activities.js');
    },
    // Well above any scenario's fan-out, so table concurrency is the orchestrator's doing, not the host's limit.
    { log: silentHostLog, maxConcurrentActivities: 64, maxConcurrentOrchestrations: 16 },
  );
  stubs = await import('./fixtures/stub-activities.js');
});

afterAll(async () => {
  await host?.close();
});

function start(runId: string, scenario: Scenario, concurrency = 2): Promise<string> {
  stubs.scenarios.set(runId, scenario);
  const input: MigrateDatabaseInput = { runId, sourceSchema: 'src', namespace: 'lake', concurrency };
  return host.startOrchestration('migrateDatabase', input, runId);
}

const tableInstance = (runId: string, index: number): string => `${runId}:table:${index}`;

function outputOf(status: InstanceStatus): MigrateDatabaseOutput {
  return status.output as MigrateDatabaseOutput;
}

async function until(what: string, predicate: () => boolean, timeoutInMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function customStatus<T>(instanceId: string): T {
  return host.getStatus(instanceId)?.customStatus as T;
}

/** Scheduling events (activities, sub-orchestrations, timers) of a history, as `name` or `timer`, in event id order. */
function scheduled(history: HistoryEvent[]): string[] {
  return history
    .filter(
      (e) => e.EventType === EventType.TaskScheduled || e.EventType === EventType.SubOrchestrationInstanceCreated || e.EventType === EventType.TimerCreated,
    )
    .sort((a, b) => a.EventId - b.EventId)
    .map((e) => (e.EventType === EventType.TimerCreated ? 'timer' : (e.Name ?? '')));
}

/** Leaf actions in the order the shim assigns sequence numbers (depth first). */
function leafActions(actions: OrchestratorAction[]): string[] {
  return actions.flatMap((action): string[] => {
    if (action.kind === 'whenAll' || action.kind === 'whenAny') return leafActions(action.children);
    if (action.kind === 'activity' || action.kind === 'subOrchestration') return [action.name];
    return [action.kind];
  });
}

/** The largest number of intervals open at one moment (an interval ending at t is closed before one starting at t). */
function maxOverlap(intervals: Array<[number, number]>): number {
  const points = intervals.flatMap(([from, to]): Array<[number, number]> => [
    [from, 1],
    [to, -1],
  ]);
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, delta] of points) most = Math.max(most, (open += delta));
  return most;
}

/** Per table, from its first activity's start to its last activity's end. */
function tableIntervals(records: ActivityRecord[]): Map<string, [number, number]> {
  const intervals = new Map<string, [number, number]>();
  for (const r of records) {
    if (r.table === undefined || r.endedAt === undefined) continue;
    const seen = intervals.get(r.table);
    intervals.set(r.table, seen ? [Math.min(seen[0], r.startedAt), Math.max(seen[1], r.endedAt)] : [r.startedAt, r.endedAt]);
  }
  return intervals;
}

describe('determinism', () => {
  it('replays every recorded history of a multi-table, multi-partition run to the same actions and nothing new', async () => {
    const runId = 'det-1';
    // 11 partitions make two copy batches; concurrency 2 over 3 tables makes two table batches.
    await start(
      runId,
      {
        tables: [
          { name: 'orders', partitions: 11 },
          { name: 'customers', partitions: 3 },
          { name: 'users', partitions: 1 },
        ],
      },
      2,
    );
    const status = await host.waitForCompletion(runId, wait);
    expect(status.runtimeStatus).toBe('Completed');
    const instances = [runId, tableInstance(runId, 0), tableInstance(runId, 1), tableInstance(runId, 2)];
    const firstReplays: ReplayReport[] = [];
    for (const id of instances) {
      const finished = host.getStatus(id)!;
      const first = await host.replayHistory(id);
      expect(first.problem, id).toBeUndefined();
      expect(first.shim, id).toEqual({ newEvents: [], actionsDone: true, continueAsNew: undefined });
      expect(first.answer).toMatchObject({ isDone: true, output: finished.output, customStatus: finished.customStatus });
      // The replayed actions are exactly what the history scheduled, in the same order.
      expect(leafActions(first.answer.actions.flat()), id).toEqual(scheduled(host.getHistory(id)!.history));
      firstReplays.push(first);
    }
    expect(scheduled(host.getHistory(runId)!.history)).toEqual(['planMigration', 'migrateTable', 'migrateTable', 'migrateTable']);
    expect(scheduled(host.getHistory(tableInstance(runId, 0))!.history)).toEqual([...Array<string>(11).fill('copyPartition'), 'commitTable', 'countRows']);

    // A second replay in a different world (another clock, other random numbers, other environment) must not
    // change a thing: an orchestrator that read any of them would schedule different work or report differently.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2041-06-01T12:00:00Z'));
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.987654321);
    vi.stubEnv('ICEBRIDGE_WAREHOUSE', '/somewhere/else');
    try {
      for (const [i, id] of instances.entries()) {
        const again = await host.replayHistory(id);
        expect(again.answer, id).toEqual(firstReplays[i]!.answer);
        expect(again.shim?.newEvents, id).toEqual([]);
      }
    } finally {
      vi.unstubAllEnvs();
      random.mockRestore();
      vi.useRealTimers();
    }
  });
});

describe('failures', () => {
  it('fails only the table with a permanently failing partition, with its reason, and commits the others', async () => {
    const runId = 'perm-1';
    const reason = 'table src.payments column amount, row id=7: 1e+400 does not fit decimal(10,2)';
    await start(
      runId,
      {
        tables: [
          { name: 'accounts', partitions: 2 },
          { name: 'payments', partitions: 4 },
          { name: 'refunds', partitions: 1 },
        ],
        unplanned: [{ table: 'legacy', reason: 'column blob has type tsrange[] with no mapping' }],
        copyFailures: { 'payments#2': { code: 'VALUE_OUT_OF_RANGE', reason } },
      },
      3,
    );
    const status = await host.waitForCompletion(runId, wait);
    expect(status.runtimeStatus).toBe('Completed');
    const byTable = new Map(outputOf(status).tables.map((t) => [t.table, t]));
    expect(byTable.get('payments')).toMatchObject({ status: 'failed', reason, rows: 0 });
    expect(byTable.get('payments')?.snapshotId).toBeUndefined();
    expect(byTable.get('accounts')).toMatchObject({ status: 'committed', rows: 20, sourceRows: 20 });
    expect(byTable.get('refunds')).toMatchObject({ status: 'committed', rows: 10, sourceRows: 10 });
    expect(byTable.get('legacy')).toMatchObject({ status: 'failed', reason: 'column blob has type tsrange[] with no mapping' });

    const records = stubs.recordsOf(runId);
    // A permanent failure is an answer, not an exception: it is not retried, and nothing of the table is committed.
    expect(records.filter((r) => r.activity === 'copy' && r.table === 'payments' && r.partition === 2)).toHaveLength(1);
    expect(
      records
        .filter((r) => r.activity === 'commit')
        .map((r) => r.table)
        .sort(),
    ).toEqual(['accounts', 'refunds']);

    const progress = status.customStatus as MigrationProgress;
    expect(progress).toMatchObject({ phase: 'done', tables: { total: 4, done: 4, failed: 2 }, rows: 30 });
    expect(progress.recentFailures).toEqual(
      expect.arrayContaining([
        { table: 'payments', reason },
        { table: 'legacy', reason: 'column blob has type tsrange[] with no mapping' },
      ]),
    );
    expect(progress.recentFailures).toHaveLength(2);
  });

  it('fails the run with the reason when planMigration fails, and copies nothing', async () => {
    const runId = 'plan-fail-1';
    const reason = 'schema "src" does not exist; schemas: public, shop';
    await start(runId, { tables: [{ name: 'orders', partitions: 2 }], planFailure: { code: 'SCHEMA_NOT_FOUND', reason } });
    const status = await host.waitForCompletion(runId, wait);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain(reason);
    expect(status.customStatus).toMatchObject({ phase: 'done', lastError: reason, tables: { total: 0, done: 0, failed: 0 } });
    expect(stubs.recordsOf(runId).map((r) => r.activity)).toEqual(['plan']);
    expect(host.getStatus(tableInstance(runId, 0))).toBeUndefined();
  });

  it('reports a table whose sub-orchestration was terminated as failed, waits for the rest of its batch, and goes on', async () => {
    const runId = 'term-1';
    const first = stubs.hold(`${runId}/copy/first#0`);
    const second = stubs.hold(`${runId}/copy/second#0`);
    await start(
      runId,
      {
        tables: [
          { name: 'first', partitions: 1 },
          { name: 'second', partitions: 1 },
          { name: 'third', partitions: 1 },
        ],
      },
      2,
    );
    await Promise.all([first.reached, second.reached]);
    expect(await host.terminate(tableInstance(runId, 1), 'stopped by an operator')).toBe('accepted');
    await until('the terminated table is reported to the run', () =>
      host.getHistory(runId)!.history.some((e) => e.EventType === EventType.SubOrchestrationInstanceFailed),
    );
    // `first` is still copying: the third table must not start before it is done (at most 2 tables at a time).
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stubs.recordsOf(runId).some((r) => r.table === 'third')).toBe(false);
    first.release();
    second.release();
    const status = await host.waitForCompletion(runId, wait);
    expect(status.runtimeStatus).toBe('Completed');
    const byTable = new Map(outputOf(status).tables.map((t) => [t.table, t]));
    expect(byTable.get('first')).toMatchObject({ status: 'committed', rows: 10 });
    expect(byTable.get('second')).toMatchObject({ status: 'failed', target: 'lake.second' });
    expect(byTable.get('second')?.reason).toMatch(/terminated: stopped by an operator/);
    expect(byTable.get('third')).toMatchObject({ status: 'committed', rows: 10 });
    const intervals = tableIntervals(stubs.recordsOf(runId));
    expect(intervals.get('third')![0]).toBeGreaterThanOrEqual(intervals.get('first')![1]);
  });
});

describe('concurrency', () => {
  it.each([1, 2, 3])('runs at most %i tables at a time, and that many do run together', async (concurrency) => {
    const runId = `conc-${concurrency}`;
    const tables = ['t1', 't2', 't3', 't4', 't5'].map((name) => ({ name, partitions: 2 }));
    // Every table's first copy waits at a gate: `concurrency` of them arriving together proves that many run at
    // once, however slowly the machine schedules them; none is released before that.
    const gates = tables.map((t) => stubs.hold(`${runId}/copy/${t.name}#0`));
    let arrived = 0;
    for (const gate of gates) void gate.reached.then(() => arrived++);
    await start(runId, { tables }, concurrency);
    await until(`${concurrency} tables copying at once`, () => arrived >= concurrency, 30_000);
    for (const gate of gates) gate.release();
    const status = await host.waitForCompletion(runId, wait);
    expect(outputOf(status).tables.map((t) => t.status)).toEqual(Array<string>(5).fill('committed'));
    const intervals = tableIntervals(stubs.recordsOf(runId));
    expect(intervals.size).toBe(5);
    // The upper bound from what ran: never more than `concurrency` tables between their first start and last end.
    expect(maxOverlap([...intervals.values()])).toBeLessThanOrEqual(concurrency);
  });
});

describe('progress', () => {
  it('reports phase, partitions and rows in the custom statuses while the run goes on', async () => {
    const runId = 'progress-1';
    const plan = stubs.hold(`${runId}/plan`);
    // The ninth partition is in the second copy batch of 8: the first batch's progress is visible while it waits.
    const lastCopy = stubs.hold(`${runId}/copy/big#9`);
    const commit = stubs.hold(`${runId}/commit/big`);
    await start(
      runId,
      {
        tables: [
          { name: 'big', partitions: 10, rowsPerPartition: 100 },
          { name: 'small', partitions: 1, rowsPerPartition: 5 },
        ],
      },
      1,
    );

    await plan.reached;
    expect(customStatus<MigrationProgress>(runId)).toEqual({
      phase: 'planning',
      tables: { total: 0, started: 0, done: 0, failed: 0 },
      partitions: { total: 0, done: 0 },
      rows: 0,
      recentFailures: [],
    });
    plan.release();

    await lastCopy.reached;
    const big = tableInstance(runId, 0);
    expect(customStatus<MigrationProgress>(runId)).toMatchObject({
      phase: 'copying',
      tables: { total: 2, started: 1, done: 0, failed: 0 },
      partitions: { total: 11, done: 0 },
      rows: 0,
    });
    expect(customStatus<TableProgress>(big)).toEqual({ table: 'big', phase: 'copying', partitions: { total: 10, done: 8 }, rows: 800, estimatedRows: 1000 });
    // The HTTP status endpoint's report, built from the same statuses.
    const midway = report(runId);
    expect(midway).toMatchObject({ runtimeStatus: 'Running', phase: 'copying', partitions: { total: 11, done: 8 }, rows: 800 });
    expect(midway.details).toEqual([
      expect.objectContaining({ index: 0, table: 'big', phase: 'copying', partitions: { total: 10, done: 8 }, rows: 800, estimatedRows: 1000 }),
    ]);
    lastCopy.release();

    await commit.reached;
    expect(customStatus<TableProgress>(big)).toMatchObject({ phase: 'committing', partitions: { total: 10, done: 10 }, rows: 1000 });
    commit.release();

    const status = await host.waitForCompletion(runId, wait);
    expect(status.customStatus).toEqual({
      phase: 'done',
      tables: { total: 2, started: 2, done: 2, failed: 0 },
      partitions: { total: 11, done: 11 },
      rows: 1005,
      recentFailures: [],
    });
    expect(customStatus<TableProgress>(big)).toMatchObject({ phase: 'done', partitions: { total: 10, done: 10 }, rows: 1000 });
    const final = report(runId);
    expect(final).toMatchObject({ runtimeStatus: 'Completed', phase: 'done', partitions: { total: 11, done: 11 }, rows: 1005 });
    expect(final.details.map((d) => [d.table, d.status, d.rows])).toEqual([
      ['big', 'committed', 1000],
      ['small', 'committed', 5],
    ]);
  });
});

describe('plan warnings', () => {
  it("reach the status and the summary, a few and the count, and never the copies' inputs", async () => {
    const runId = 'warned-1';
    const tableWarnings = { a: ['a1', 'a2', 'a3', 'a4'], b: ['b1', 'b2', 'b3'] };
    await start(runId, {
      tables: [
        { name: 'a', partitions: 2 },
        { name: 'b', partitions: 1 },
      ],
      tableWarnings,
    });
    const status = await host.waitForCompletion(runId, { timeoutInMs: 60_000 });
    expect(outputOf(status).tables.map((t) => [t.table, t.status, t.reason])).toEqual([
      ['a', 'committed', undefined],
      ['b', 'committed', undefined],
    ]);
    expect(customStatus<MigrationProgress>(runId)).toMatchObject({ warnings: ['a1', 'a2', 'a3', 'a4', 'b1'], warningsTotal: 7 });
    const report = buildMigrationReport(runId, snapshot(status), [], { offset: 0, limit: 0 }, 0);
    expect(report.warnings).toEqual({ shown: ['a1', 'a2', 'a3', 'a4', 'b1'], total: 7 });
    expect(renderSummary(report)).toMatch(/\nwarning: a1\n(.*\n){3}warning: b1\nwarning: 2 more$/);
  });
});

describe('custom status size', () => {
  /** Serialized size as Azure measures its 16 KB limit (UTF-16 JSON text), the stricter reading. */
  const sizeOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf16le');

  it('stays under 16 KB for 1,000 tables with long names, half of them failing with long reasons', async () => {
    const runId = 'wide-1';
    const names = Array.from({ length: 1_000 }, (_, i) => `t${String(i).padStart(4, '0')}_${'x'.repeat(58)}`);
    const copyFailures = Object.fromEntries(
      names.filter((_, i) => i % 2 === 1).map((name, i) => [`${name}#0`, { code: 'VALUE_OUT_OF_RANGE', reason: `${i}: ${'why '.repeat(1_000)}` }]),
    );
    await start(runId, { tables: names.map((name) => ({ name, partitions: 1 })), copyFailures }, 50);
    // Sizes seen while it runs, and at the end, where every figure is at its largest.
    let largest = 0;
    // Any end counts: a run that failed (say, on a payload limit) must fail the test at once, not time it out.
    while (!['Completed', 'Failed', 'Terminated'].includes(host.getStatus(runId)?.runtimeStatus ?? '')) {
      largest = Math.max(largest, sizeOf(customStatus(runId)));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(host.getStatus(runId)?.runtimeStatus, String(host.getStatus(runId)?.output).slice(0, 500)).toBe('Completed');
    const progress = customStatus<MigrationProgress>(runId);
    largest = Math.max(largest, sizeOf(progress));
    expect(largest).toBeLessThan(16 * 1024);
    expect(progress).toMatchObject({ phase: 'done', tables: { total: 1_000, started: 1_000, done: 1_000, failed: 500 }, rows: 5_000 });
    expect(progress.recentFailures).toHaveLength(5);
    expect(progress.recentFailures.at(-1)!.table).toBe(names[999]);
    expect(progress.lastError!.length).toBeLessThanOrEqual(500);
    // The tables are found by their derived ids; every one is there to report, page by page.
    const last = host.getStatus(tableInstance(runId, 999))!;
    expect(last.customStatus).toMatchObject({ table: names[999] });
    expect(report(runId, 900)).toMatchObject({ page: { offset: 900, limit: 100, of: 1_000 }, tables: { started: 1_000 } });
    expect(report(runId, 900).details.map((d) => d.table)).toEqual(names.slice(900));
  }, 600_000);
});

function snapshot(status: InstanceStatus): InstanceSnapshot {
  return {
    runtimeStatus: status.runtimeStatus,
    customStatus: status.customStatus,
    output: status.output,
    createdTime: status.createdTime,
    lastUpdatedTime: status.lastUpdatedTime,
  };
}

function report(runId: string, offset = 0): ReturnType<typeof buildMigrationReport> {
  const run = host.getStatus(runId)!;
  const started = (run.customStatus as MigrationProgress).tables.started;
  const tables = Array.from({ length: Math.min(100, started - offset) }, (_, i) => {
    const index = offset + i;
    const status = host.getStatus(tableInstance(runId, index));
    return { index, instanceId: tableInstance(runId, index), ...(status ? { status: snapshot(status) } : {}) };
  });
  return buildMigrationReport(runId, snapshot(run), tables, { offset, limit: 100 }, Date.now());
}
