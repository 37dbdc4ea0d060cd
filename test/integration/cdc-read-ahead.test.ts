/**
 * How far the stream decodes ahead of a consumer that is not reading: `readyBatches` batches (the sync loop asks
 * for one full micro-batch, so the server decodes the next batch while one is applied), then the socket is paused;
 * nothing is lost when the consumer reads on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropReplicationSlot } from '../../shared/cdc/replication-setup';
import { type ReplicationSource, changes, startReplicationSource } from '../cdc/replication-harness';

let source: ReplicationSource;

beforeAll(async () => {
  source = await startReplicationSource();
}, 180_000);

afterAll(async () => {
  await source?.stop();
});

describe('read-ahead', () => {
  it('decodes readyBatches batches ahead before it pauses the socket, and loses nothing', async () => {
    await source.admin.query(`CREATE TABLE ahead_rows (id integer PRIMARY KEY, pad text NOT NULL)`);
    const start = await source.setUp('ahead_slot', 'ahead_pub', [{ schema: 'public', name: 'ahead_rows' }]);
    const stream = await source.open('ahead_slot', 'ahead_pub', [await source.binding('public', 'ahead_rows')], start, {
      batchSize: 10,
      readyBatches: 200,
    });
    const rows = 5000;
    // About 1 KB per change, so one socket chunk (64 KB at most) holds at most ~64 of them.
    await source.admin.query(`INSERT INTO ahead_rows SELECT g, repeat('a', 1000) FROM generate_series(1, ${rows}) AS g`);
    // Nobody reads: the stream pauses itself once 200 batches wait (a barrier, however long the server takes).
    const deadline = Date.now() + 90_000;
    while (!stream.stats().paused && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stream.stats().paused).toBe(true);
    // 200 batches hold at least one event each (a socket chunk's events are handed over as a batch of their own).
    // The default pauses at four batches of at most 10, the batch at hand and one chunk: under 150 events.
    expect(stream.stats().bufferedEvents).toBeGreaterThanOrEqual(200);
    const batches = stream.batches();
    const ids: unknown[] = [];
    while (ids.length < rows) {
      const next = await batches.next();
      if (next.done === true) throw new Error('the stream ended early');
      for (const change of changes(next.value)) ids.push(change.op === 'insert' ? change.after[0] : change.op);
    }
    expect(ids).toEqual(Array.from({ length: rows }, (_, i) => i + 1));
    await source.shut(stream);
    await dropReplicationSlot(source.admin, 'ahead_slot');
  }, 120_000);
});
