/**
 * The status endpoints' table reads: a bounded number of getStatus calls in flight, every table of the page
 * answered for (read, not created yet, or unreadable with a reason), and the report listing unreadable tables
 * instead of dropping them. The durable client is a stand-in for the extension's (a third-party interface): it
 * answers from a table of statuses and lets the test hold every call.
 */
import { InvocationContext } from '@azure/functions';
import type * as df from 'durable-functions';
import { describe, expect, it } from 'vitest';
import { STATUS_READS_AT_ONCE, readTables } from '../../../functions/http/durable-instances';
import { buildMigrationReport } from '../../../shared/migrate/migration-status';

interface HeldCall {
  instanceId: string;
  release(): void;
}

/** A client whose getStatus calls wait until released, answering from `statuses` (404 when absent, 500 for 'broken'). */
function heldClient(statuses: Record<string, unknown>): { client: df.DurableClient; calls: HeldCall[]; inFlight: () => number; most: () => number } {
  const calls: HeldCall[] = [];
  let inFlight = 0;
  let most = 0;
  const client = {
    getStatus: async (instanceId: string) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise<void>((release) => calls.push({ instanceId, release }));
      inFlight--;
      const status = statuses[instanceId];
      if (status === 'broken') throw new Error('DurableClient error: the extension replied with HTTP 500: account key=secret');
      if (status === undefined) throw new Error(`DurableClient error: Durable Functions extension replied with HTTP 404 response. ${instanceId}`);
      return status;
    },
  } as unknown as df.DurableClient;
  return { client, calls, inFlight: () => inFlight, most: () => most };
}

const tableStatus = (table: string) => ({
  runtimeStatus: 'Running',
  customStatus: { table, phase: 'copying', partitions: { total: 4, done: 1 }, rows: 10, estimatedRows: 40 },
});

describe('readTables', () => {
  it(`keeps at most ${STATUS_READS_AT_ONCE} reads in flight and answers for every table of the page`, async () => {
    const statuses: Record<string, unknown> = {};
    for (let n = 0; n < 40; n++) statuses[`run:table:${n}`] = tableStatus(`t${n}`);
    statuses['run:table:13'] = 'broken';
    delete statuses['run:table:17'];
    const { client, calls, inFlight, most } = heldClient(statuses);
    const context = new InvocationContext({ functionName: 'getMigration' });
    const reading = readTables(client, 'run', 10, 30, context);
    // Release calls one at a time once the reader has filled its slots: a barrier per call, no timing.
    let released = 0;
    while (released < 30) {
      while (calls.length <= released) await new Promise((resolve) => setImmediate(resolve));
      expect(inFlight()).toBeLessThanOrEqual(STATUS_READS_AT_ONCE);
      calls[released++]!.release();
    }
    const reads = await reading;
    expect(most()).toBe(STATUS_READS_AT_ONCE);
    expect(reads.map((r) => r.index)).toEqual(Array.from({ length: 30 }, (_, i) => 10 + i));
    expect(reads.find((r) => r.index === 13)).toEqual({ index: 13, instanceId: 'run:table:13', unreadable: 'its status could not be read; try again' });
    expect(reads.find((r) => r.index === 17)).toEqual({ index: 17, instanceId: 'run:table:17' });

    const report = buildMigrationReport(
      'run',
      {
        runtimeStatus: 'Running',
        customStatus: {
          phase: 'copying',
          tables: { total: 40, started: 40, done: 0, failed: 0 },
          partitions: { total: 160, done: 0 },
          rows: 0,
          recentFailures: [],
        },
      },
      reads,
      { offset: 10, limit: 30 },
      Date.now(),
    );
    expect(report.page).toEqual({ offset: 10, limit: 30, of: 40 });
    expect(report.unreadable).toEqual([{ index: 13, instanceId: 'run:table:13', reason: 'its status could not be read; try again' }]);
    expect(report.details).toHaveLength(29);
    expect(report.details.find((d) => d.index === 17)).toMatchObject({ table: '', phase: 'pending' });
    // Only running tables add to the run's own figures: 28 tables copying 10 rows each.
    expect(report.rows).toBe(280);
    expect(JSON.stringify(report)).not.toContain('secret');
  });
});
