/**
 * The slot's confirmed position never passes a commit the tables do not hold. A stream whose consumer holds a
 * transaction it has not confirmed reports nothing past it, however far the keepalives go; a sync holding a batch
 * before applying it leaves the slot before the batch while keepalives pass it, and a crash there loses nothing.
 * What a caught-up check (`slotCaughtUp`) compares the slot with: the WAL insert position. The write position
 * (pg_current_wal_lsn) can stand before a commit that has returned (synchronous_commit off, as these servers run),
 * and the slot passes it while that commit is not even decoded, let alone applied: the walwriter is paused here to
 * show it without timing luck.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Lsn, parseLsn } from '../../shared/cdc/lsn';
import { createReplicationSlot, inspectReplicationSlot } from '../../shared/cdc/replication-setup';
import type { ReplicationStream } from '../../shared/cdc/replication-stream';
import { handoverName } from '../../shared/migrate/handover-names';
import { connectPostgres } from '../../shared/postgres/connection';
import type { RunEnvironment } from '../../shared/run/environment';
import { type SyncOptions, type SyncResult, runSync, syncTestSwitches } from '../../shared/sync/sync-loop';
import { type ReplicationSource, commitsOf, startReplicationSource, transactions } from '../cdc/replication-harness';
import { committedPosition, expectExact, migrateCdc, slotCaughtUp, slotConfirmed, tableApplied, waitFor } from './support/cdc-proof';
import { localCatalog } from './support/migration-fixtures';

let source: ReplicationSource;
let workDir: string;
let warehouse: string;
let runId: string;

beforeAll(async () => {
  source = await startReplicationSource();
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-sync-confirm-'));
  warehouse = path.join(workDir, 'warehouse');
  await source.admin.query(`CREATE TABLE items (id int PRIMARY KEY, note text)`);
  await source.admin.query(`INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 2000) g`);
  await source.admin.query(`CREATE TABLE held (id int PRIMARY KEY)`);
  // Outside every publication: its writes reach a stream as keepalives only.
  await source.admin.query(`CREATE TABLE noise (n int)`);
  runId = await migrateCdc(source.url, 'public', ['items'], warehouse, workDir);
}, 300_000);

afterAll(async () => {
  await source?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

afterEach(() => {
  delete syncTestSwitches.beforeApply;
  delete syncTestSwitches.onStream;
});

async function position(client: Client, fn: 'pg_current_wal_insert_lsn' | 'pg_current_wal_lsn'): Promise<Lsn> {
  return parseLsn((await client.query<{ lsn: string }>(`SELECT pg_catalog.${fn}()::text AS lsn`)).rows[0]!.lsn);
}

/** WAL written by a table no stream publishes; returns the insert position past it. */
async function noise(): Promise<Lsn> {
  await source.admin.query(`INSERT INTO noise SELECT generate_series(1, 1000)`);
  return position(source.admin, 'pg_current_wal_insert_lsn');
}

/** The slot's confirmed position once the server has handled a status update sent after this call. */
async function toldSince(slot: string): Promise<Lsn> {
  const asOf = (await source.admin.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0]!.now;
  await waitFor(`a status update on ${slot}`, async () => {
    const { rows } = await source.admin.query<{ replied: boolean }>(
      `SELECT r.reply_time > $2 AS replied FROM pg_catalog.pg_stat_replication r
         JOIN pg_catalog.pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = $1`,
      [slot, asOf],
    );
    return rows[0]?.replied === true ? true : undefined;
  });
  const state = await inspectReplicationSlot(source.admin, slot);
  if (!state.exists) throw new Error(`no slot ${slot}`);
  return state.confirmedFlushLsn;
}

function syncEnv(): RunEnvironment {
  return { connectSource: () => connectPostgres(source.url), catalog: localCatalog(warehouse), sourceUrl: source.url } as RunEnvironment;
}

function sync(options: Partial<SyncOptions> = {}): Promise<SyncResult> {
  const slot = handoverName(runId);
  return runSync(syncEnv(), { sourceUrl: source.url, slot, publication: slot, flushIntervalMs: 200, untilCaughtUp: true, ...options });
}

/** The pid of the server's WAL writer, the process that writes asynchronous commits out. */
async function walWriterPid(): Promise<number> {
  const { rows } = await source.admin.query<{ pid: number }>(`SELECT pid FROM pg_catalog.pg_stat_activity WHERE backend_type = 'walwriter'`);
  if (rows[0] === undefined) throw new Error('no walwriter process');
  return rows[0].pid;
}

describe('the confirmed position and what the consumer holds', () => {
  it('a stream reports nothing past a transaction its consumer holds unconfirmed, however far the keepalives go', async () => {
    const start = await source.setUp('hold_slot', 'hold_pub', [{ schema: 'public', name: 'held' }]);
    const stream = await source.open('hold_slot', 'hold_pub', [await source.binding('public', 'held')], start, { statusIntervalInMs: 50 });
    const batches = stream.batches();
    await source.admin.query(`INSERT INTO held VALUES (1)`);
    const [held] = commitsOf(await transactions(batches, 1));
    const past = await noise();
    // Barrier: the stream has handled a keepalive past the noise, everything before it handed over (deliveredLsn
    // moves on such a keepalive only).
    await waitFor('a keepalive past the noise', async () => (stream.stats().deliveredLsn >= past ? true : undefined));
    expect(stream.stats().confirmedLsn).toBe(start);
    expect(await toldSince('hold_slot')).toBeLessThan(held!.endLsn);
    // Confirmed, the consumer holds nothing: the next keepalive moves the position past the noise at once.
    stream.confirm(held!.endLsn);
    await waitFor('the idle advance', async () => (stream.stats().confirmedLsn >= past ? true : undefined));
    expect(await toldSince('hold_slot')).toBeGreaterThanOrEqual(past);
    await source.shut(stream);
  }, 120_000);

  it('refuses to confirm a transaction the consumer has not been given yet, even one the stream has queued', async () => {
    const bindings = [await source.binding('public', 'held')];
    const startA = await source.setUp('queued_a', 'queued_pub', [{ schema: 'public', name: 'held' }]);
    const slotB = await createReplicationSlot(source.url, 'queued_b');
    await slotB.release();
    const a = await source.open('queued_a', 'queued_pub', bindings, startA);
    const b = await source.open('queued_b', 'queued_pub', bindings, slotB.consistentPoint);
    await source.admin.query(`INSERT INTO held VALUES (2)`);
    // Both slots decode the same transaction: its end LSN, learnt from the first stream, is the second's too.
    const [commit] = commitsOf(await transactions(a.batches(), 1));
    // Begin, insert and commit wait on the second stream, not given to its consumer.
    await waitFor('the transaction queued on the second stream', async () => (b.stats().bufferedEvents >= 3 ? true : undefined));
    expect(() => b.confirm(commit!.endLsn)).toThrow(/has delivered changes up to/);
    const [same] = commitsOf(await transactions(b.batches(), 1));
    expect(same!.endLsn).toBe(commit!.endLsn);
    b.confirm(same!.endLsn);
    expect(b.stats().confirmedLsn).toBe(commit!.endLsn);
    await source.shut(a);
    await source.shut(b);
  }, 120_000);

  it('a sync holding a batch leaves the slot before it while keepalives pass it, and a crash there loses nothing', async () => {
    expect((await sync()).outcome).toBe('caught-up');
    let stream: ReplicationStream | undefined;
    syncTestSwitches.onStream = (s) => (stream = s);
    await source.admin.query(`UPDATE items SET note = 'held' WHERE id <= 10`);
    const heldEnd = await position(source.admin, 'pg_current_wal_insert_lsn');
    let confirmedWhileHeld: Lsn | undefined;
    syncTestSwitches.beforeApply = async () => {
      const past = await noise();
      await waitFor('a keepalive past the noise', async () => (stream!.stats().deliveredLsn >= past ? true : undefined));
      confirmedWhileHeld = stream!.stats().confirmedLsn;
      throw new Error('crash while the batch is held');
    };
    await expect(sync()).rejects.toThrow('crash while the batch is held');
    delete syncTestSwitches.beforeApply;
    expect(confirmedWhileHeld).toBeLessThan(heldEnd);
    // The stream's last word to the server (sent as it closed) is still before the held batch.
    expect(await slotConfirmed(source.url, runId)).toBeLessThan(heldEnd);
    expect(await tableApplied(warehouse, 'public', 'items')).toBeLessThan(heldEnd);
    const rerun = await sync();
    expect(rerun).toMatchObject({ outcome: 'caught-up', changesApplied: 10 });
    await expectExact(source.url, warehouse, 'public', 'items');
  }, 180_000);

  it('caught up is judged against every commit that returned: the slot passes the WAL write position before such a commit is applied', async () => {
    const controller = new AbortController();
    const running = sync({ untilCaughtUp: false, signal: controller.signal });
    try {
      await slotCaughtUp(source.url, runId);
      const walWriter = await walWriterPid();
      // With the walwriter paused, an asynchronous commit returns while its record is only in WAL buffers.
      process.kill(walWriter, 'SIGSTOP');
      try {
        await source.admin.query(`UPDATE items SET note = 'unwritten' WHERE id = 11`);
        const written = await position(source.admin, 'pg_current_wal_lsn');
        // The slot passes the write position (everything the server can decode is applied and confirmed), yet the
        // table lacks the update: the server reads only WAL that is written out. Caught up it is not.
        await waitFor('the slot to pass the write position', async () => ((await slotConfirmed(source.url, runId)) >= written ? true : undefined));
        expect(await slotConfirmed(source.url, runId)).toBeLessThan(await committedPosition(source.url));
        expect(await tableApplied(warehouse, 'public', 'items')).toBeLessThan(await committedPosition(source.url));
      } finally {
        process.kill(walWriter, 'SIGCONT');
      }
      // Caught up against every returned commit means applied: the table holds the update as soon as the slot says so.
      await slotCaughtUp(source.url, runId);
      await expectExact(source.url, warehouse, 'public', 'items');
    } finally {
      controller.abort();
      await running;
    }
  }, 180_000);
});
