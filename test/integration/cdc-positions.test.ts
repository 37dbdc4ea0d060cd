import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../shared/cdc/change-decoder';
import { parseLsn } from '../../shared/cdc/lsn';
import { dropPublication, dropReplicationSlot, inspectReplicationSlot } from '../../shared/cdc/replication-setup';
import { type ReplicationSource, changes, commitsOf, startReplicationSource, transactions } from '../cdc/replication-harness';

// How the stream moves: back-pressure, the positions it reports, resuming, and an idle slot's advance.
let source: ReplicationSource;

beforeAll(async () => {
  source = await startReplicationSource();
}, 180_000);

afterAll(async () => {
  await source?.stop();
});

describe('back-pressure', () => {
  it('stops reading the socket while the consumer is behind, and loses nothing', async () => {
    await source.admin.query(`CREATE TABLE wide_rows (id integer PRIMARY KEY, pad text NOT NULL)`);
    const start = await source.setUp('wide_slot', 'wide_pub', [{ schema: 'public', name: 'wide_rows' }]);
    const stream = await source.open('wide_slot', 'wide_pub', [await source.binding('public', 'wide_rows')], start, { batchSize: 10 });
    const rows = 5000;
    // About 1 KB per change, so one socket chunk (64 KB at most) holds at most ~64 of them.
    await source.admin.query(`INSERT INTO wide_rows SELECT g, repeat('w', 1000) FROM generate_series(1, ${rows}) AS g`);
    // Nobody reads: the stream must pause itself (a barrier, however long the server takes to decode).
    const deadline = Date.now() + 90_000;
    while (!stream.stats().paused && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stream.stats().paused).toBe(true);
    // A slow consumer (a server round trip per batch): what waits for it is four ready batches of 10, the batch
    // at hand and one socket chunk, far below the transaction's 5000 changes, all along.
    const batches = stream.batches();
    const ids: unknown[] = [];
    let mostBuffered = stream.stats().bufferedEvents;
    while (ids.length < rows) {
      const next = await batches.next();
      if (next.done === true) throw new Error('the stream ended early');
      for (const change of changes(next.value)) ids.push(change.op === 'insert' ? change.after[0] : change.op);
      await source.admin.query('SELECT 1');
      mostBuffered = Math.max(mostBuffered, stream.stats().bufferedEvents);
    }
    expect(mostBuffered).toBeLessThan(150);
    expect(ids).toEqual(Array.from({ length: rows }, (_, i) => i + 1));
    await source.shut(stream);
    await dropReplicationSlot(source.admin, 'wide_slot');
  }, 120_000);
});

describe('positions', () => {
  it('reports only what the consumer confirmed, and a restart from the applied position resends nothing before it', async () => {
    await source.admin.query(`CREATE TABLE ledger (id integer PRIMARY KEY)`);
    const start = await source.setUp('ledger_slot', 'ledger_pub', [{ schema: 'public', name: 'ledger' }]);
    const bindings = [await source.binding('public', 'ledger')];
    const ids = (events: ChangeEvent[]): unknown[] => changes(events).map((c) => (c.op === 'insert' ? c.after[0] : c.op));

    const first = await source.open('ledger_slot', 'ledger_pub', bindings, start, { statusIntervalInMs: 50 });
    const firstBatches = first.batches();
    await source.admin.query(`INSERT INTO ledger VALUES (1)`);
    await source.admin.query(`INSERT INTO ledger VALUES (2)`);
    const delivered = await transactions(firstBatches, 2);
    expect(ids(delivered)).toEqual([1, 2]);
    const [one, two] = commitsOf(delivered);
    // Only the first transaction is applied; the second was received but never confirmed.
    first.confirm(one!.endLsn);
    expect(() => first.confirm(two!.endLsn + 1n)).toThrow(/has delivered changes up to/);
    await source.shut(first);
    const afterFirst = await inspectReplicationSlot(source.admin, 'ledger_slot');
    expect(afterFirst).toMatchObject({ exists: true, active: false, confirmedFlushLsn: one!.endLsn });

    // Restart from the position the tables hold (one's end): the unconfirmed transaction comes again, whole.
    const second = await source.open('ledger_slot', 'ledger_pub', bindings, one!.endLsn);
    const secondBatches = second.batches();
    await source.admin.query(`INSERT INTO ledger VALUES (3)`);
    const again = await transactions(secondBatches, 2);
    expect(ids(again)).toEqual([2, 3]);
    expect(commitsOf(again)[0]!.commitLsn).toBe(two!.commitLsn);
    await source.shut(second);

    // The tables hold two as well (its confirmation was lost): starting there, two is not sent again.
    const third = await source.open('ledger_slot', 'ledger_pub', bindings, two!.endLsn);
    const thirdBatches = third.batches();
    await source.admin.query(`INSERT INTO ledger VALUES (4)`);
    expect(ids(await transactions(thirdBatches, 2))).toEqual([3, 4]);
    await source.shut(third);
    await dropReplicationSlot(source.admin, 'ledger_slot');
    await dropPublication(source.admin, 'ledger_pub');
  }, 120_000);

  it('advances an idle slot: writes to other tables do not keep WAL for it', async () => {
    await source.admin.query(`CREATE TABLE quiet (id integer PRIMARY KEY)`);
    await source.admin.query(`CREATE TABLE busy (id integer, pad text)`);
    const start = await source.setUp('idle_slot', 'idle_pub', [{ schema: 'public', name: 'quiet' }]);
    const stream = await source.open('idle_slot', 'idle_pub', [await source.binding('public', 'quiet')], start, { statusIntervalInMs: 100 });
    const batches = stream.batches();
    // Nothing arrives for the publication's table, so the iterator would wait for ever: it is only started.
    void batches.next();
    const before = parseLsn((await source.admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn);
    await source.admin.query(`INSERT INTO busy SELECT g, repeat('p', 200) FROM generate_series(1, 50000) AS g`);
    const after = parseLsn((await source.admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn);
    const written = after - before;
    expect(written).toBeGreaterThan(5_000_000n);
    // A bounded wait for the server's keepalives; each round logs a running-transactions record, which is what
    // lets the server move the slot's restart position.
    const deadline = Date.now() + 90_000;
    let state = await inspectReplicationSlot(source.admin, 'idle_slot');
    while (Date.now() < deadline) {
      if (state.exists && state.confirmedFlushLsn >= after && state.retainedWalBytes < written / 10n) break;
      await source.admin.query(`SELECT pg_log_standby_snapshot()`);
      await source.admin.query(`INSERT INTO busy VALUES (0, 'tick')`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      state = await inspectReplicationSlot(source.admin, 'idle_slot');
    }
    expect(state).toMatchObject({ exists: true });
    if (!state.exists) return;
    expect(state.confirmedFlushLsn).toBeGreaterThanOrEqual(after);
    expect(state.retainedWalBytes).toBeLessThan(written / 10n);
    expect(stream.stats().confirmedLsn).toBeGreaterThanOrEqual(after);
    await source.shut(stream);
    await dropReplicationSlot(source.admin, 'idle_slot');
  }, 120_000);
});
