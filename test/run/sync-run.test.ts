/**
 * The sync request's validation and the sync's custom status: the status stays far under Azure's 16 KB limit at a
 * thousand tables with long names and long reasons, and the cursor folds each batch's figures in once.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors';
import { type SyncBatchResult, afterBatch, allTablesStopped, firstCursor, parseSyncRequest, syncStatusOf, syncTablesProblem } from '../../shared/run/sync-run';

const utf16Bytes = (value: unknown): number => JSON.stringify(value).length * 2;

function batch(tables: number, nameLength: number, stopped: number): SyncBatchResult {
  const names = Array.from({ length: tables }, (_, i) => `s.${'t'.repeat(nameLength)}${i}`);
  return {
    outcome: 'stopped',
    stopRequested: false,
    changesApplied: 500,
    elapsedMs: 2_000,
    tables: names.map((table) => ({ table, appliedLsn: 'FFFFFFFF/FFFFFFFF', changesApplied: 1_000_000 })),
    confirmedLsn: '0/10',
    lagBytes: 12,
    lagSeconds: 0.25,
    stoppedTables: names.slice(0, stopped).map((table) => ({ table, reason: 'x'.repeat(5_000), lsn: '0/1' })),
    tablesReused: 0,
  };
}

describe('parseSyncRequest', () => {
  it('applies the defaults and keeps what was given', () => {
    expect(parseSyncRequest({ runId: 'run-1' })).toEqual({ runId: 'run-1', flushIntervalMs: 1000, batchSeconds: 60 });
    expect(parseSyncRequest({ runId: 'r', warehouse: '/w', namespace: 'lake', tables: ['a', 'b'], flushIntervalMs: 250, batchSeconds: 30 })).toEqual({
      runId: 'r',
      warehouse: '/w',
      namespace: 'lake',
      tables: ['a', 'b'],
      flushIntervalMs: 250,
      batchSeconds: 30,
    });
  });

  it.each([
    [{}, /runId/],
    [{ runId: 'a b' }, /runId/],
    [{ runId: 'r', batchSeconds: 0 }, /batchSeconds must be an integer from 1 to 240/],
    [{ runId: 'r', batchSeconds: 600 }, /batchSeconds/],
    [{ runId: 'r', flushIntervalMs: 'soon' }, /flushIntervalMs/],
    [{ runId: 'r', tables: [] }, /tables/],
    [{ runId: 'r', source: 'postgres://x' }, /unknown field "source"/],
    [[], /JSON object/],
  ])('refuses %j', (body, message) => {
    expect(() => parseSyncRequest(body)).toThrow(ValidationError);
    expect(() => parseSyncRequest(body)).toThrow(message);
  });
});

describe('syncTablesProblem', () => {
  const published = [
    { schema: 'public', name: 'items' },
    { schema: 'public', name: 'orders' },
  ];
  it('accepts none or all, refuses unknown and partial lists', () => {
    expect(syncTablesProblem(published, undefined)).toBeUndefined();
    expect(syncTablesProblem(published, ['orders', 'items'])).toBeUndefined();
    expect(syncTablesProblem(published, ['items', 'nope'])).toMatch(/not in the run's publication: nope/);
    expect(syncTablesProblem(published, ['items'])).toMatch(/leaves out public\.orders/);
  });
});

describe('the sync status', () => {
  it('stays under 10 KB as UTF-16 with 1,000 long-named tables, 1,000 of them stopped with long reasons', () => {
    let cursor = firstCursor('2026-12-06T00:00:00.000Z');
    cursor = afterBatch(cursor, batch(1_000, 120, 1_000), '2026-12-06T00:01:00.000Z');
    const status = syncStatusOf('run', cursor, 'syncing', 'e'.repeat(10_000));
    expect(utf16Bytes(status)).toBeLessThan(10 * 1024);
    expect(status.tables.length + status.tablesOmitted).toBe(1_000);
    expect(status.tables.length).toBeGreaterThan(0);
    expect(status.stoppedTables.length + status.stoppedTablesOmitted).toBe(1_000);
    expect(status.changesPerSecond).toBe(250);
  });

  it('folds batches in: sums, the last batch figures, each stopped table once', () => {
    let cursor = firstCursor('t0');
    cursor = afterBatch(cursor, batch(2, 3, 1), 't1');
    cursor = afterBatch(cursor, batch(2, 3, 1), 't2');
    expect(cursor).toMatchObject({ batches: 2, changesApplied: 1_000, execution: 1 });
    expect(cursor.stoppedTables).toHaveLength(1);
    expect(allTablesStopped(cursor)).toBe(false);
    cursor = afterBatch(cursor, batch(2, 3, 2), 't3');
    expect(allTablesStopped(cursor)).toBe(true);
  });
});
