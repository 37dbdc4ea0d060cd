/**
 * The real verifyDatabase and verifyTable orchestrators on the local host with stub activities, for a table
 * split into scan ranges: the checks first, then one activity per range in batches, each given its own range
 * only; the merge of their figures; the row search when the merged figures differ; and replay determinism.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog, type HistoryEvent } from '../../cli/local-host';
import { EventType } from '../../cli/local-host/history-events';
import type { TableVerification, VerifyDatabaseInput } from '../../shared/verify/contracts';
import type { ScanScenario } from './fixtures/stub-scan-range-activities';

type Stubs = typeof import('./fixtures/stub-scan-range-activities.js');

let host: LocalHost;
let stubs: Stubs;

beforeAll(async () => {
  host = await LocalHost.load(
    async () => {
      await import('../../orchestrators/verify-database.js');
      await import('../../orchestrators/verify-table.js');
      await import('./fixtures/stub-scan-range-activities.js');
    },
    { log: silentHostLog, maxConcurrentActivities: 16, maxConcurrentOrchestrations: 8 },
  );
  stubs = await import('./fixtures/stub-scan-range-activities.js');
});

afterAll(async () => {
  await host?.close();
});

/** Runs a verification and returns its table's own result (the table sub-orchestration's output). */
async function run(id: string, scenario: ScanScenario): Promise<TableVerification> {
  stubs.scanScenarios.set(id, scenario);
  const input: VerifyDatabaseInput = { verificationId: id, sourceSchema: 'src', namespace: 'lake', level: 'full', concurrency: 1 };
  await host.startOrchestration('verifyDatabase', input, id);
  expect((await host.waitForCompletion(id, { timeoutInMs: 30_000 })).runtimeStatus).toBe('Completed');
  return host.getStatus(`${id}:table:0`)!.output as TableVerification;
}

function scheduled(history: HistoryEvent[]): string[] {
  return history
    .filter((e) => e.EventType === EventType.TaskScheduled)
    .sort((a, b) => a.EventId - b.EventId)
    .map((e) => e.Name ?? '');
}

describe('verifyTable with scan ranges', () => {
  it('runs the checks, then every range once in batches with only its own range, and merges the figures', async () => {
    const result = await run('scan-1', { pages: 1000, pagesPerRange: 50, rangesAtOnce: 3, sampleRange: 13 });
    expect(scheduled(host.getHistory('scan-1:table:0')!.history)).toEqual(['verifyTableChecks', ...Array<string>(20).fill('verifyScanRange')]);
    const ranges = stubs.scanRecords.filter((r) => r.activity === 'verifyScanRange');
    expect(ranges.map((r) => r.range).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 20 }, (_v, i) => i));
    expect(new Set(ranges.map((r) => r.count))).toEqual(new Set([20]));
    // An input holds one range and the table's sample, whatever the number of ranges.
    expect(Math.max(...ranges.map((r) => r.inputBytes))).toBeLessThan(600);
    expect(stubs.scanRecords.find((r) => r.activity === 'verifyTableChecks')!.scanRanges).toBe(true);
    expect(result.status).toBe('ok');
    expect(result.counts).toEqual({ source: '2000', targetManifest: '2000', targetRead: '2000', ok: true });
    // Hash sums add modulo 2^64 on both sides alike.
    expect(result.rows).toEqual({ compared: '2000', differing: '0', differences: [] });
    expect(result.aggregates.find((a) => a.column === 'id' && a.aggregate === 'max')).toMatchObject({ source: '1999', target: '1999', ok: true });
    expect(result.samples).toEqual([{ key: { id: '7' }, source: { id: '7', v: 'x' }, target: { id: '7', v: 'x' } }]);
    expect(stubs.scanRecords.some((r) => r.activity === 'searchTableRows')).toBe(false);
  });

  it('searches the rows once when the merged figures differ', async () => {
    const result = await run('scan-2', { pages: 300, pagesPerRange: 100, rangesAtOnce: 8, differingRange: 1, sampleRange: 0 });
    expect(scheduled(host.getHistory('scan-2:table:0')!.history)).toEqual([
      'verifyTableChecks',
      'verifyScanRange',
      'verifyScanRange',
      'verifyScanRange',
      'searchTableRows',
    ]);
    expect(result.status).toBe('differs');
    expect(result.rows).toMatchObject({ compared: '2000', differing: '1' });
    expect(result.rows!.rangesNotExamined).toBeUndefined();
  });

  it('counts a table split into key ranges by its ranges, not by a count of the whole table in its checks', async () => {
    // The checks stub reports a source count of 0: the merged count must be the ranges' 5 x 100.
    const result = await run('scan-3', { pages: 100, pagesPerRange: 100, rangesAtOnce: 8, sampleRange: 0, keyRanges: 5 });
    expect(scheduled(host.getHistory('scan-3:table:0')!.history)).toEqual(['verifyTableChecks', ...Array<string>(5).fill('verifyRowRange')]);
    expect(result.counts).toEqual({ source: '500', targetManifest: '2000', targetRead: '500', ok: false });
  });

  it('replays every history to the same actions', async () => {
    for (const id of ['scan-1', 'scan-1:table:0', 'scan-2:table:0']) {
      const replay = await host.replayHistory(id);
      expect(replay.problem, id).toBeUndefined();
      expect(replay.shim, id).toEqual({ newEvents: [], actionsDone: true, continueAsNew: undefined });
      expect(replay.answer.output, id).toEqual(host.getStatus(id)!.output);
    }
  });
});
