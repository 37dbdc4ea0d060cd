/**
 * A table of 16,384 partitions (1 TiB in 64 MiB partitions) through the real migrateDatabase and migrateTable
 * orchestrators on the local host, with stub activities: every history stays under Durable's limits, measured
 * here from the histories themselves (largest message, custom status, actions per execution), and a key-range
 * verification's activities get inputs that do not grow with the number of ranges.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog, type HistoryEvent } from '../../cli/local-host';
import { EventType } from '../../cli/local-host/history-events';
import type { MigrateDatabaseOutput } from '../../orchestrators/migrate-database';
import type { MigrateDatabaseInput, TableProgress } from '../../shared/migrate/contracts';
import type { VerificationOutcome, VerifyDatabaseInput } from '../../shared/verify/contracts';
import { assembleVerificationReport } from '../../shared/verify/reports/report-store';

type Stubs = typeof import('./fixtures/stub-activities.js');
type VerifyStubs = typeof import('./fixtures/stub-verify-activities.js');

/** The Durable Task Scheduler's message cap (no large-payload offload for JavaScript). */
const MAX_MESSAGE_BYTES = 1024 * 1024;
/** Custom status limit. */
const MAX_CUSTOM_STATUS_BYTES = 16 * 1024;
/** Actions one orchestration execution may schedule. */
const MAX_ACTIONS_PER_EXECUTION = 100_000;

const PARTITIONS = 16_384;

let host: LocalHost;
let stubs: Stubs;
let verifyStubs: VerifyStubs;
/** migrateTable's own figure, read after the module loaded inside `load` (loaded earlier, it would register nothing). */
let PARTITIONS_PER_EXECUTION: number;

beforeAll(async () => {
  host = await LocalHost.load(
    async () => {
      await import('../../orchestrators/migrate-database.js');
      await import('../../orchestrators/migrate-table.js');
      await import('../../orchestrators/verify-database.js');
      await import('../../orchestrators/verify-table.js');
      await import('./fixtures/stub-activities.js');
      await import('./fixtures/stub-verify-activities.js');
    },
    { log: silentHostLog, maxConcurrentActivities: 16, maxConcurrentOrchestrations: 8 },
  );
  stubs = await import('./fixtures/stub-activities.js');
  verifyStubs = await import('./fixtures/stub-verify-activities.js');
  ({ PARTITIONS_PER_EXECUTION } = await import('../../orchestrators/migrate-table.js'));
});

afterAll(async () => {
  await host?.close();
});

const EVENT_NAMES = new Map<number, string>(Object.entries(EventType).map(([name, value]) => [value, name]));
const bytes = (text: string | undefined): number => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));

/** What one execution's history holds, measured. */
interface ExecutionFigures {
  executionId: string;
  events: number;
  actions: number;
  largestMessage: { bytes: number; event: string };
}

/** Measures an instance's current execution: its history and the events waiting for the next episode. */
function measure(instanceId: string): ExecutionFigures {
  const { history, pending } = host.getHistory(instanceId)!;
  const events: HistoryEvent[] = [...history, ...pending];
  const started = events.find((e) => e.EventType === EventType.ExecutionStarted);
  let largest = { bytes: 0, event: '' };
  for (const e of events) {
    // Inputs and results are what Durable stores as messages (activity and orchestration inputs and outputs).
    const size = Math.max(bytes(e.Input), bytes(e.Result));
    if (size > largest.bytes) largest = { bytes: size, event: `${EVENT_NAMES.get(e.EventType) ?? e.EventType} ${e.Name ?? ''}` };
  }
  const actions = events.filter(
    (e) =>
      e.EventType === EventType.TaskScheduled ||
      e.EventType === EventType.SubOrchestrationInstanceCreated ||
      e.EventType === EventType.TimerCreated ||
      e.EventType === EventType.EventSent,
  ).length;
  return { executionId: started?.OrchestrationInstance?.ExecutionId ?? '', events: events.length, actions, largestMessage: largest };
}

function customStatusBytes(instanceId: string): number {
  return bytes(JSON.stringify(host.getStatus(instanceId)?.customStatus ?? null));
}

describe('a table of 16,384 partitions', () => {
  it('migrates with every message under 1 MiB, custom status under 16 KB and a bounded history per execution', async () => {
    const runId = 'scale-1';
    const table = 'huge';
    const tableInstance = `${runId}:table:0`;
    stubs.scenarios.set(runId, { tables: [{ name: table, partitions: PARTITIONS, rowsPerPartition: 1_000 }] });
    // Each execution but the last is measured while the last copy of its last batch is held, i.e. with every
    // activity it schedules in its history; it continues as new once that copy is let go.
    const executions = Math.ceil(PARTITIONS / PARTITIONS_PER_EXECUTION);
    expect(executions, 'the table needs several executions').toBeGreaterThan(1);
    const gates = Array.from({ length: executions - 1 }, (_, k) => stubs.hold(`${runId}/copy/${table}#${(k + 1) * PARTITIONS_PER_EXECUTION - 1}`));
    const input: MigrateDatabaseInput = { runId, sourceSchema: 'src', namespace: 'lake', concurrency: 1 };
    await host.startOrchestration('migrateDatabase', input, runId);

    const figures: ExecutionFigures[] = [];
    const statuses: number[] = [];
    for (const [k, gate] of gates.entries()) {
      await gate.reached;
      figures.push(measure(tableInstance));
      statuses.push(customStatusBytes(tableInstance), customStatusBytes(runId));
      const progress = host.getStatus(tableInstance)!.customStatus as TableProgress;
      // Progress counts across executions: everything before this execution's last batch is done.
      expect(progress.partitions).toEqual({ total: PARTITIONS, done: (k + 1) * PARTITIONS_PER_EXECUTION - 8 });
      gate.release();
    }
    const status = await host.waitForCompletion(runId, { timeoutInMs: 900_000 });
    expect(status.runtimeStatus).toBe('Completed');
    figures.push(measure(tableInstance));
    const run = measure(runId);
    statuses.push(customStatusBytes(tableInstance), customStatusBytes(runId));

    const outcome = (status.output as MigrateDatabaseOutput).tables[0]!;
    expect(outcome).toMatchObject({ table, status: 'committed', partitions: PARTITIONS, rows: PARTITIONS * 1_000, sourceRows: PARTITIONS * 1_000 });
    expect(host.getStatus(tableInstance)!.customStatus).toMatchObject({
      phase: 'done',
      partitions: { total: PARTITIONS, done: PARTITIONS },
      rows: PARTITIONS * 1_000,
    });
    const copies = stubs.recordsOf(runId).filter((r) => r.activity === 'copy');
    expect(new Set(copies.map((r) => r.partition)).size, 'every partition copied').toBe(PARTITIONS);
    expect(copies, 'each partition copied once').toHaveLength(PARTITIONS);
    // One execution token for the whole table, whichever execution copied the partition, and the commit's too.
    const tokens = new Set(
      stubs
        .recordsOf(runId)
        .filter((r) => r.activity === 'copy' || r.activity === 'commit')
        .map((r) => r.execution),
    );
    expect(tokens.size, 'one execution token across continueAsNew').toBe(1);

    expect(new Set(figures.map((f) => f.executionId)).size, 'distinct executions measured').toBe(executions);
    for (const f of [...figures, run]) {
      expect(f.largestMessage.bytes, `largest message (${f.largestMessage.event})`).toBeLessThan(MAX_MESSAGE_BYTES);
      expect(f.actions, 'actions of one execution').toBeLessThan(MAX_ACTIONS_PER_EXECUTION);
    }
    // Far under the limits: messages do not grow with the table, and each replay reads a short history.
    expect(Math.max(...figures.map((f) => f.largestMessage.bytes), run.largestMessage.bytes), 'largest message anywhere').toBeLessThan(4_096);
    // Per partition one scheduled and one completed event, plus two per episode at most once per completion.
    expect(Math.max(...figures.map((f) => f.events)), 'history events of one execution').toBeLessThanOrEqual(4 * PARTITIONS_PER_EXECUTION + 16);
    expect(Math.max(...statuses), 'largest custom status').toBeLessThan(MAX_CUSTOM_STATUS_BYTES);
  }, 900_000);
});

describe('a verification of 1,000 key ranges', () => {
  it('gives each activity its own range only: inputs do not grow with the number of ranges', async () => {
    const id = 'scale-verify-1';
    verifyStubs.verifyScenarios.set(id, {
      tables: [
        { name: 'wide', ranges: 1_000 },
        { name: 'narrow', ranges: 2 },
      ],
    });
    const input: VerifyDatabaseInput = { verificationId: id, sourceSchema: 'src', namespace: 'lake', level: 'full', concurrency: 2 };
    await host.startOrchestration('verifyDatabase', input, id);
    const status = await host.waitForCompletion(id, { timeoutInMs: 300_000 });
    expect(status.runtimeStatus).toBe('Completed');
    const report = await assembleVerificationReport(verifyStubs.reportStore, status.output as VerificationOutcome);
    expect(report.tables.map((t) => [t.table, t.rows?.compared])).toEqual([
      ['src.wide', '100000'],
      ['src.narrow', '200'],
    ]);
    const inputs = (table: string, activity: string): number[] =>
      verifyStubs.verifyRecords.filter((r) => r.table === table && r.activity === activity).map((r) => r.inputBytes ?? Infinity);
    expect(inputs('wide', 'verifyRowRange')).toHaveLength(1_000);
    for (const activity of ['verifyRowRange', 'verifyTableChecks']) {
      // The same size whatever the table's number of ranges (range bounds differ by a few digits).
      expect(Math.max(...inputs('wide', activity)), activity).toBeLessThan(Math.max(...inputs('narrow', activity)) + 16);
    }
  }, 300_000);
});
