/**
 * The fan-out inside the sync: the historical load from each table's Iceberg snapshot, then the stream's changes
 * (inserts, updates, deletes, a key change, an unchanged TOASTed value under REPLICA IDENTITY FULL) handed to a sink
 * in the same batches the tables apply, the slot confirmed only after the sink took them. A sink that fails leaves
 * its batch unconfirmed and the next sync hands it over again; a sync that ran without the fan-out makes the next
 * fan-out refuse to start; the cross-system check finds a key a sink lacks, holds alone or holds stale.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { checkFanout } from '../../shared/fanout/consistency/check-fanout';
import { icebergInventory, postgresInventory } from '../../shared/fanout/consistency/source-inventory';
import { FanoutFeed } from '../../shared/fanout/fanout-feed';
import { fanoutTables } from '../../shared/fanout/fanout-tables';
import type { FanoutTable } from '../../shared/fanout/fanout-types';
import { loadHistory } from '../../shared/fanout/historical-load';
import { aggregateId, qualifiedName } from '../../shared/fanout/identity';
import { parseLsn } from '../../shared/cdc/lsn';
import { loadedPositions, readLoadCheckpoints } from '../../shared/fanout/load-checkpoints';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import type { Value } from '../../shared/iceberg/spec/values';
import { handoverName } from '../../shared/migrate/handover-names';
import { readRows } from '../../shared/postgres/copy-reader';
import { describeTable } from '../../shared/postgres/introspect';
import { withSnapshotTransaction } from '../../shared/postgres/snapshot-transaction';
import { mapTable } from '../../shared/postgres/type-mapping';
import { environmentFromSettings } from '../../shared/run/environment';
import { loadSettings } from '../../shared/config/settings';
import { migrateStateDatabase } from '../../shared/state-db/migration-runner';
import { describeSyncBinding } from '../../shared/sync/sync-binding';
import { type SyncOptions, type SyncResult, runSync } from '../../shared/sync/sync-loop';
import { RecordingSink } from '../fanout/recording-sink';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const SCHEMA = 'icebridge';
let pg: PostgresInstance;
let url: string;
let workDir: string;
let warehouse: string;
let runId: string;
let tables: FanoutTable[];

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('fanoutfeed');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-fanout-'));
  warehouse = path.join(workDir, 'warehouse');
  await withClient(url, async (client) => {
    await client.query('CREATE TABLE author (id int PRIMARY KEY, name text NOT NULL)');
    await client.query('CREATE TABLE book (id bigint PRIMARY KEY, author_id int REFERENCES author, title text, body text, price numeric(8,2))');
    await client.query('ALTER TABLE book REPLICA IDENTITY FULL');
    await client.query(`INSERT INTO author SELECT g, 'author ' || g FROM generate_series(1, 50) g`);
    await client.query(`INSERT INTO book SELECT g, 1 + g % 50, 'title ' || g, repeat(md5(g::text), 400), g * 1.25 FROM generate_series(1, 1000) g`);
    await migrateStateDatabase(client, { schema: SCHEMA });
  });
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['author', 'book'], verify: 'none', cdc: true },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(workDir, 'state'),
  });
  if (report.runtimeStatus !== 'Completed' || report.cdc === undefined) throw new Error(`migration failed: ${report.lastError ?? ''}`);
  runId = report.id;
  tables = await withClient(url, async (client) =>
    fanoutTables([
      await describeSyncBinding(client, { schema: 'public', name: 'author' }),
      await describeSyncBinding(client, { schema: 'public', name: 'book' }),
    ]),
  );
}, 300_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const catalog = (): HadoopCatalog => new HadoopCatalog(new LocalFileIO(), warehouse);
const env = () => environmentFromSettings(loadSettings({ ICEBRIDGE_SOURCE_URL: url, ICEBRIDGE_WAREHOUSE: warehouse }));

function sync(sink: RecordingSink | undefined, extra: Partial<SyncOptions> = {}): Promise<SyncResult> {
  const name = handoverName(runId);
  return runSync(env(), {
    sourceUrl: url,
    slot: name,
    publication: name,
    untilCaughtUp: true,
    flushIntervalMs: 200,
    ...(sink === undefined
      ? {}
      : {
          fanout: async (start) => {
            const loaded = await withClient(url, async (client) => loadedPositions(await readLoadCheckpoints(client, SCHEMA)));
            return FanoutFeed.open([sink], tables, loaded, start);
          },
        }),
    ...extra,
  });
}

/** The source's rows by aggregate id, as the copy's decoders read them, rendered for comparison. */
async function sourceRows(client: Client, table: FanoutTable): Promise<Map<string, string>> {
  const source = await describeTable(client, table.schema, table.name);
  const mapping = mapTable(source);
  const keys = table.key.map((k) => mapping.columns.findIndex((c) => c.name === k));
  const rows = new Map<string, string>();
  await withSnapshotTransaction(client, async (tx) => {
    for await (const batch of readRows(tx, source, mapping)) for (const row of batch) rows.set(aggregateId(keys.map((i) => row[i]!)), render(row));
  });
  return rows;
}

/** 64-bit values come as bigint from Iceberg and as a safe-integer number from the stream: the same value either way. */
const render = (row: Value[]): string => JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));

async function expectSinkEqualsSource(sink: RecordingSink): Promise<void> {
  await withClient(url, async (client) => {
    for (const table of tables) {
      const expected = await sourceRows(client, table);
      const held = new Map([...sink.rows.get(qualifiedName(table))!].map(([k, h]) => [k, render(h.row)]));
      expect(held.size, table.name).toBe(expected.size);
      // Keys only in the failure message: the rows are long.
      expect(
        [...expected].filter(([key, row]) => held.get(key) !== row).map(([key]) => key),
        table.name,
      ).toEqual([]);
    }
  });
}

/** One transaction of every kind of change; answers the WAL insert position just before its commit record. */
async function write(client: Client, round: number): Promise<bigint> {
  await client.query('BEGIN');
  await client.query(`INSERT INTO author VALUES ($1, $2)`, [1000 + round, `new author ${round}`]);
  await client.query(`INSERT INTO book VALUES ($1, $2, 'new', repeat('x', 5000), 9.99)`, [100_000 + round, 1000 + round]);
  // The body is TOASTed and left unchanged: under REPLICA IDENTITY FULL the old row carries it.
  await client.query(`UPDATE book SET title = title || ' (2nd)' WHERE id = $1`, [1 + round]);
  await client.query(`DELETE FROM book WHERE id = $1`, [500 + round]);
  // A key change: a delete of the old key and an insert of the new one for the sinks.
  await client.query(`UPDATE book SET id = id + 200000 WHERE id = $1`, [600 + round]);
  const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
  await client.query('COMMIT');
  return parseLsn(rows[0]!.lsn);
}

describe('the fan-out feed', () => {
  const sink = new RecordingSink();

  it('loads each table from its Iceberg snapshot at the position the table holds', async () => {
    const loaded = await withClient(url, (client) =>
      loadHistory({ catalog: catalog(), tables, sinks: [sink], state: { client, schema: SCHEMA }, chunkRows: 300 }),
    );
    expect(loaded.map((l) => [l.table, l.rows, l.state])).toEqual([
      ['public.author', 50, 'loaded'],
      ['public.book', 1000, 'loaded'],
    ]);
    expect(sink.held).toBe(0n);
    await expectSinkEqualsSource(sink);
    // A second load skips the tables it finished.
    const again = await withClient(url, (client) => loadHistory({ catalog: catalog(), tables, sinks: [sink], state: { client, schema: SCHEMA } }));
    expect(again.map((l) => l.state)).toEqual(['skipped', 'skipped']);
  }, 120_000);

  it('hands the stream to the sink in the tables’ batches, and the sink equals the source', async () => {
    await withClient(url, async (client) => {
      for (let round = 0; round < 20; round++) await write(client, round);
    });
    const result = await sync(sink);
    expect(result.outcome).toBe('caught-up');
    await expectSinkEqualsSource(sink);
    const keyChange = sink.batches
      .flatMap((b) => b.changes)
      .filter((c) => c.origin === 'stream' && c.table.name === 'book' && ['600', '200600'].includes(aggregateId(c.key)));
    expect(keyChange.map((c) => [c.op, aggregateId(c.key)])).toEqual([
      ['delete', '600'],
      ['insert', '200600'],
    ]);
    expect(sink.held).toBe(BigInt.asUintN(64, (await confirmedFlush())!));
  }, 120_000);

  it('a sink that fails leaves the batch unconfirmed, and the next sync hands it over again', async () => {
    const beforeCommit = await withClient(url, (client) => write(client, 20));
    sink.failNext = true;
    await expect(sync(sink)).rejects.toThrow(/the sink is down/);
    // The slot may move over WAL before the transaction (a keepalive), never onto its commit.
    expect(await confirmedFlush()).toBeLessThanOrEqual(beforeCommit);
    expect((await sync(sink)).outcome).toBe('caught-up');
    await expectSinkEqualsSource(sink);
  }, 120_000);

  it('the cross-system check is exact, and names a key a system lacks, holds alone or holds stale', async () => {
    const other = new RecordingSink();
    Object.defineProperty(other, 'system', { value: 'clickhouse' });
    for (const [name, rows] of sink.rows) other.rows.set(name, new Map(rows));
    const check = () =>
      withClient(url, (client) =>
        checkFanout({
          tables,
          sources: [
            { system: 'postgres', inventory: (t) => postgresInventory(client, t) },
            { system: 'iceberg', inventory: (t) => icebergInventory(catalog(), t, 'public') },
            { system: 'event-store', inventory: (t) => sink.inventory(t) },
            { system: 'clickhouse', inventory: (t) => other.inventory(t) },
          ],
        }),
      );
    const exact = await check();
    expect(exact.differenceCount).toBe(0);
    expect(exact.tables.map((t) => t.counts.postgres)).toEqual(exact.tables.map((t) => t.counts.clickhouse));
    const books = other.rows.get('public.book')!;
    books.delete('7');
    books.set('999999', { row: [], position: 1n });
    const held = books.get('8')!;
    books.set('8', { ...held, position: held.position - 1n });
    const damaged = await check();
    const differences = damaged.tables.find((t) => t.table === 'public.book')!.differences;
    expect(differences.map((d) => [d.kind, d.key, d.systems])).toEqual([
      ['missing', '7', ['clickhouse']],
      ['stale', '8', ['clickhouse']],
      ['orphan', '999999', ['clickhouse']],
    ]);
    expect(differences.every((d) => d.entity === 'Book')).toBe(true);
  }, 120_000);

  it('a sync without the fan-out makes the next fan-out refuse to start', async () => {
    await withClient(url, (client) => write(client, 21));
    expect((await sync(undefined)).outcome).toBe('caught-up');
    await expect(sync(sink)).rejects.toThrow(/applied changes after it without the fan-out .* load the fan-out again/);
  }, 120_000);
});

async function confirmedFlush(): Promise<bigint | undefined> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ lsn: string }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [
      handoverName(runId),
    ]);
    const [hi, lo] = rows[0]!.lsn.split('/');
    return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
  });
}
