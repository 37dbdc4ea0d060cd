/**
 * The snapshot holder against a real PostgreSQL: what it exports is what importers see whatever is written later,
 * an adopted snapshot outlives the connection that exported it, the server-side idle timeout exceeds the
 * keepalive, the run registry shares and releases holders, and a lock request queued behind DDL fails at once.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../shared/postgres/connection';
import { SnapshotHolder, TableLockedError, heldRuns, holdSnapshot, lockWithoutWaiting, releaseSnapshots } from '../../shared/postgres/snapshot-holder';
import { withSnapshotTransaction } from '../../shared/postgres/snapshot-transaction';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { lockPlannedTables, markSnapshotReleased, takeRunSnapshot } from '../../shared/migrate/run-snapshot';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { RunEnvironment } from '../../shared/run/environment';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let url: string;

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('holder');
  const client = await connectPostgres(url);
  await client.query('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10)');
  await client.end();
}, 120_000);

afterAll(async () => {
  await pg?.stop();
});

/** Counts `t` in a transaction that imports `snapshotId`. */
async function countIn(snapshotId: string): Promise<number> {
  const client = await connectPostgres(url);
  try {
    return await withSnapshotTransaction(client, async () => Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM t')).rows[0]!.n), {
      snapshotId,
    });
  } finally {
    await client.end();
  }
}

async function insert(sql: string): Promise<void> {
  const client = await connectPostgres(url);
  await client.query(sql).finally(() => client.end());
}

/** Backends of the test database with this application name. */
async function backends(applicationName: string): Promise<number> {
  const client = await connectPostgres(url);
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT count(*) AS n FROM pg_catalog.pg_stat_activity WHERE datname = current_database() AND application_name = $1',
      [applicationName],
    );
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('SnapshotHolder', () => {
  it('exports a snapshot importers see as it was, whatever is committed later, and an adopted one outlives its exporter', async () => {
    const first = await SnapshotHolder.open(await connectPostgres(url));
    await insert('INSERT INTO t SELECT generate_series(11, 15)');
    expect(await countIn(first.snapshotId), 'rows in the exported snapshot').toBe(10);

    // As change capture will: a snapshot exported elsewhere is adopted and exported again by a holder of its own.
    const adopted = await SnapshotHolder.open(await connectPostgres(url), { adoptSnapshotId: first.snapshotId });
    expect(adopted.snapshotId, 'a snapshot id of its own').not.toBe(first.snapshotId);
    await first.release();
    await expect(countIn(first.snapshotId), 'the released snapshot is gone').rejects.toThrow(/snapshot/);
    expect(await countIn(adopted.snapshotId), 'the adopted snapshot still sees the rows as they were').toBe(10);
    await adopted.release();
    await insert('DELETE FROM t WHERE id > 10');
  });

  it('sets an idle-in-transaction timeout above its keepalive period, so only a frozen process loses it', async () => {
    const holder = await SnapshotHolder.open(await connectPostgres(url), { keepaliveInMs: 1_000 });
    try {
      const timeout = await holder.read(
        async (client) =>
          (await client.query<{ ms: string }>(`SELECT setting AS ms FROM pg_catalog.pg_settings WHERE name = 'idle_in_transaction_session_timeout'`)).rows[0]!
            .ms,
      );
      expect(Number(timeout), 'idle_in_transaction_session_timeout (ms)').toBe(4_000);
    } finally {
      await holder.release();
    }
    await expect(SnapshotHolder.open(await connectPostgres(url), { adoptSnapshotId: 'not-a-snapshot' }), 'a bad id to adopt').rejects.toThrow(
      /cannot share one snapshot/,
    );
  });

  it('ends at its next keepalive once it is told to (a cancelled run)', async () => {
    let cancelled = false;
    const holder = await SnapshotHolder.open(await connectPostgres(url), { keepaliveInMs: 100, shouldRelease: async () => cancelled });
    cancelled = true;
    for (let i = 0; i < 600 && holder.alive; i++) await sleep(50);
    expect(holder.alive, 'released after the release was asked for').toBe(false);
  });

  it('is shared per run and generation in the process, and released with its run', async () => {
    const open = async () => SnapshotHolder.open(await connectPostgres(url, { applicationName: 'holder-registry' }));
    const a = await holdSnapshot('run-a', 0, open);
    expect(await holdSnapshot('run-a', 0, open), 'a second planning of the run shares the holder').toBe(a);
    const renewed = await holdSnapshot('run-a', 1, open);
    expect(renewed, 'a new generation is a new holder').not.toBe(a);
    expect(heldRuns()).toContain('run-a');
    let opened = 0;
    const counted = async () => (opened++, open());
    const [x, y] = await Promise.all([holdSnapshot('run-b', 0, counted), holdSnapshot('run-b', 0, counted)]);
    expect([x === y, opened], 'two tables asking at once share one opening').toEqual([true, 1]);
    await releaseSnapshots('run-b');
    expect(await releaseSnapshots('run-a'), 'holders released').toBe(2);
    expect(a.alive || renewed.alive, 'no holder of the run is alive').toBe(false);
    let left = await backends('holder-registry');
    for (let i = 0; i < 200 && left > 0; i++) {
      await sleep(50);
      left = await backends('holder-registry');
    }
    expect(left, "the holders' backends ended").toBe(0);
  });

  it('fails at once with a clear error when DDL waits on a table it locks, instead of queueing behind the DDL', async () => {
    const holder = await SnapshotHolder.open(await connectPostgres(url));
    await holder.lock([{ schema: 'public', name: 't' }]);
    const ddl = new Client({ connectionString: url });
    await ddl.connect();
    const alter = ddl.query('ALTER TABLE t ADD COLUMN extra int DEFAULT 7');
    const copier = await connectPostgres(url);
    try {
      // The ALTER is queued behind the holder's lock before the copy asks for its own.
      let waiting = false;
      for (let i = 0; i < 1_500 && !waiting; i++) {
        waiting =
          (await copier.query(`SELECT 1 FROM pg_catalog.pg_locks WHERE relation = 't'::regclass AND mode = 'AccessExclusiveLock' AND NOT granted`)).rows
            .length > 0;
        if (!waiting) await sleep(20);
      }
      expect(waiting, 'the ALTER waits on the holder').toBe(true);
      await copier.query('BEGIN');
      const error = await lockWithoutWaiting(copier, { schema: 'public', name: 't' }).catch((e: unknown) => e);
      expect(error, 'the lock request failed').toBeInstanceOf(TableLockedError);
      expect((error as Error).message).toMatch(/^public\.t: DDL \(ALTER TABLE or similar\) is waiting on the table while it is being copied/);
      await copier.query('ROLLBACK');
    } finally {
      await holder.release();
      await alter;
      await ddl.query('ALTER TABLE t DROP COLUMN extra');
      await ddl.end();
      await copier.end();
    }
  });

  it('refuses a plan whose table was altered between the export and the lock, and accepts one that was not', async () => {
    const env: RunEnvironment = { connectSource: () => connectPostgres(url), catalog: new HadoopCatalog(new LocalFileIO(), '/nonexistent') };
    const quiet = await SnapshotHolder.open(await connectPostgres(url));
    await lockPlannedTables(env, quiet, 'public', ['t']).finally(() => quiet.release());

    const holder = await SnapshotHolder.open(await connectPostgres(url));
    try {
      await insert('ALTER TABLE t ADD COLUMN late int');
      const error = await lockPlannedTables(env, holder, 'public', ['t']).catch((e: unknown) => e);
      expect(error, 'planning is refused, to be tried again').toMatchObject({ code: 'SOURCE_CHANGED_DURING_PLANNING', retryable: true });
    } finally {
      await holder.release();
      await insert('ALTER TABLE t DROP COLUMN late');
    }
  });

  it("ends a holder of another process at its next keepalive once the run's release marker is written, but not a later run's", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'icebridge-holder-'));
    const env: RunEnvironment = { connectSource: () => connectPostgres(url), catalog: new HadoopCatalog(new LocalFileIO(), dir) };
    try {
      const taken = await takeRunSnapshot(env, 'run-m', 0, { keepaliveInMs: 100 });
      if (!('holder' in taken)) throw new Error(`no holder: ${taken.refused}`);
      // What releaseSnapshot on another instance leaves for this one: the marker, not a call into this registry.
      await markSnapshotReleased(env, 'run-m');
      for (let i = 0; i < 600 && taken.holder.alive; i++) await sleep(50);
      expect(taken.holder.alive, 'the holder ended after finding the marker').toBe(false);

      // The same run id started again later opens its holder after the marker: it is not ended by it.
      const again = await takeRunSnapshot(env, 'run-m', 0, { keepaliveInMs: 100 });
      if (!('holder' in again)) throw new Error(`no holder: ${again.refused}`);
      await sleep(1_000);
      expect(again.holder.alive, 'a later holder of the same run id is kept').toBe(true);
      await releaseSnapshots('run-m');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
