import * as path from 'node:path';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABSENT, type ChangeEvent, type RowChange, type TableBinding, UNCHANGED } from '../../shared/cdc/change-decoder';
import { type Lsn, parseLsn } from '../../shared/cdc/lsn';
import {
  connectReplication,
  createPublication,
  createReplicationSlot,
  dropPublication,
  dropReplicationSlot,
  inspectReplicationSlot,
} from '../../shared/cdc/replication-setup';
import { type ReplicationStream, startReplication } from '../../shared/cdc/replication-stream';
import { ValidationError } from '../../shared/errors';
import type { Row } from '../../shared/iceberg/spec/values';
import { connectPostgres } from '../../shared/postgres/connection';
import { readRows } from '../../shared/postgres/copy-reader';
import { describeTable } from '../../shared/postgres/introspect';
import { withSnapshotTransaction } from '../../shared/postgres/snapshot-transaction';
import { type MapTableOptions, mapTable } from '../../shared/postgres/type-mapping';
import { type PostgresInstance, startPostgres } from './support/postgres';

const EDGE_SQL = path.resolve(__dirname, '../postgres/fixtures/edge-cases.sql');
const EDGE = 'edge "cases"';

let server: PostgresInstance;
let url: string;
let admin: Client;
const replicationClients = new Map<ReplicationStream, Client>();

beforeAll(async () => {
  server = await startPostgres({ logical: true });
  url = await server.createDatabase('cdc');
  admin = await connectPostgres(url);
  // The edge-case fixture uses Pagila's domain; it is all this database needs of Pagila.
  await admin.query(`CREATE DOMAIN public."bıgınt" AS bigint`);
  await server.loadSqlFile('cdc', EDGE_SQL);
}, 180_000);

afterAll(async () => {
  await Promise.all([...replicationClients.values()].map((c) => c.end().catch(() => undefined)));
  await admin?.end().catch(() => undefined);
  await server?.stop();
});

async function binding(schema: string, name: string, options: MapTableOptions = {}): Promise<TableBinding> {
  const table = await describeTable(admin, schema, name);
  return { table, mapping: mapTable(table, options) };
}

/** A publication and a slot for the tables; returns the slot's consistent point. */
async function setUp(slot: string, publication: string, tables: Array<{ schema: string; name: string }>): Promise<Lsn> {
  await createPublication(admin, publication, tables);
  const created = await createReplicationSlot(url, slot);
  await created.release();
  return created.consistentPoint;
}

async function open(
  slot: string,
  publication: string,
  bindings: TableBinding[],
  startLsn: Lsn,
  statusIntervalInMs = 10_000,
  batchSize = 1000,
): Promise<ReplicationStream> {
  const client = await connectReplication(url);
  const stream = await startReplication(client, {
    slotName: slot,
    publications: [publication],
    startLsn,
    bindings,
    exactBigInt: true,
    statusIntervalInMs,
    batchSize,
  }).catch(async (error: unknown) => {
    await client.end();
    throw error;
  });
  replicationClients.set(stream, client);
  return stream;
}

/** Closes the stream, then its connection: the server has a few WAL senders only. */
async function shut(stream: ReplicationStream): Promise<void> {
  await stream.close();
  await replicationClients.get(stream)?.end();
  replicationClients.delete(stream);
}

/** Events until `commits` transactions have been delivered whole. */
async function transactions(batches: AsyncGenerator<ChangeEvent[]>, commits: number): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = [];
  let seen = 0;
  while (seen < commits) {
    const next = await batches.next();
    if (next.done === true) throw new Error(`the stream ended after ${seen} of ${commits} transactions`);
    for (const event of next.value) {
      events.push(event);
      if (event.kind === 'commit') seen++;
    }
  }
  return events;
}

function changes(events: ChangeEvent[]): RowChange[] {
  return events.flatMap((e) => (e.kind === 'change' ? [e.change] : []));
}

function commitsOf(events: ChangeEvent[]): Array<Extract<ChangeEvent, { kind: 'commit' }>> {
  return events.flatMap((e) => (e.kind === 'commit' ? [e] : []));
}

describe('changes decoded from a pgoutput slot', () => {
  it('decodes inserts, updates (a key change carries the old key), deletes and truncate exactly', async () => {
    await admin.query(`CREATE TABLE items (id integer PRIMARY KEY, name text, qty bigint NOT NULL)`);
    const start = await setUp('items_slot', 'items_pub', [{ schema: 'public', name: 'items' }]);
    const stream = await open('items_slot', 'items_pub', [await binding('public', 'items')], start);
    const batches = stream.batches();
    await admin.query(`INSERT INTO items VALUES (1, 'one', 9007199254740993), (2, NULL, -1)`);
    await admin.query(`UPDATE items SET name = 'uno' WHERE id = 1`);
    await admin.query(`UPDATE items SET id = 3 WHERE id = 2`);
    await admin.query(`DELETE FROM items WHERE id = 1`);
    await admin.query(`TRUNCATE items RESTART IDENTITY CASCADE`);
    const events = await transactions(batches, 5);
    const table = { schema: 'public', name: 'items' };
    expect(changes(events)).toEqual([
      { op: 'insert', table, after: [1, 'one', 9007199254740993n] },
      { op: 'insert', table, after: [2, null, -1n] },
      { op: 'update', table, before: undefined, beforeKind: undefined, after: [1, 'uno', 9007199254740993n] },
      { op: 'update', table, before: [2, ABSENT, ABSENT], beforeKind: 'key', after: [3, null, -1n] },
      { op: 'delete', table, before: [1, ABSENT, ABSENT], beforeKind: 'key' },
      { op: 'truncate', tables: [table], cascade: true, restartIdentity: true },
    ]);
    // Transactions arrive whole and in commit order, each commit after its begin.
    const commits = commitsOf(events);
    for (let i = 1; i < commits.length; i++) expect(commits[i]!.commitLsn).toBeGreaterThan(commits[i - 1]!.endLsn - 1n);
    await shut(stream);
    await dropReplicationSlot(admin, 'items_slot');
    expect(await inspectReplicationSlot(admin, 'items_slot')).toEqual({ exists: false });
  }, 120_000);

  it('surfaces an unchanged TOASTed value as UNCHANGED, never as null', async () => {
    await admin.query(`CREATE TABLE docs (id integer PRIMARY KEY, body text, n integer)`);
    await admin.query(`ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL`);
    const start = await setUp('docs_slot', 'docs_pub', [{ schema: 'public', name: 'docs' }]);
    const stream = await open('docs_slot', 'docs_pub', [await binding('public', 'docs')], start);
    const batches = stream.batches();
    const body = 'x'.repeat(10_000);
    await admin.query(`INSERT INTO docs VALUES (1, $1, 1)`, [body]);
    await admin.query(`UPDATE docs SET n = 2 WHERE id = 1`);
    const found = changes(await transactions(batches, 2));
    expect(found[0]).toMatchObject({ op: 'insert', after: [1, body, 1] });
    expect(found[1]).toMatchObject({ op: 'update', after: [1, UNCHANGED, 2] });
    await shut(stream);
    await dropReplicationSlot(admin, 'docs_slot');
  }, 120_000);

  it('gives every value the copy gives, for the edge-case type matrix', async () => {
    const source = await describeTable(admin, EDGE, 'Order');
    // The copy of the matrix in a table of its own, so its rows are inserted after the slot exists.
    await admin.query(`CREATE TABLE "${EDGE.replace(/"/g, '""')}"."Order streamed" (LIKE "${EDGE.replace(/"/g, '""')}"."Order" INCLUDING ALL)`);
    const streamed = await describeTable(admin, EDGE, 'Order streamed');
    // Columns copied as PostgreSQL text arrive in their binary form, which is refused (see the next test).
    const textColumns = mapTable(source)
      .columns.filter((c) => c.transfer === 'text')
      .map((c) => c.name);
    const generated = source.columns.filter((c) => c.generated !== undefined).map((c) => c.name);
    const options = { excludedColumns: [...textColumns, ...generated] };
    const mapping = mapTable(streamed, options);
    expect(mapping.columns.length).toBeGreaterThan(30);
    const start = await setUp('matrix_slot', 'matrix_pub', [{ schema: EDGE, name: 'Order streamed' }]);
    const stream = await open('matrix_slot', 'matrix_pub', [{ table: streamed, mapping }], start);
    const batches = stream.batches();
    const columns = mapping.columns.map((c) => `"${c.name.replace(/"/g, '""')}"`).join(', ');
    await admin.query(`INSERT INTO "${EDGE.replace(/"/g, '""')}"."Order streamed" (${columns}) SELECT ${columns} FROM "${EDGE.replace(/"/g, '""')}"."Order"`);
    const viaStream = changes(await transactions(batches, 1)).map((c) => (c.op === 'insert' ? c.after : []));
    await shut(stream);
    const viaCopy = await withSnapshotTransaction(admin, async () => {
      const rows: Row[] = [];
      for await (const batch of readRows(admin, streamed, mapping, { exactBigInt: true })) rows.push(...batch);
      return rows;
    });
    const byKey = (rows: unknown[][]): unknown[][] => [...rows].sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(viaStream.length).toBe(6);
    expect(byKey(viaStream)).toEqual(byKey(viaCopy));
    await dropReplicationSlot(admin, 'matrix_slot');
  }, 120_000);
});

describe('partitioned tables and names', () => {
  it('publishes a partitioned table under its root, judged by its leaves, under a publication name that needs quoting', async () => {
    const events = { schema: EDGE, name: 'events' };
    const publication = 'Pub "quoted", too';
    const start = await setUp('events_slot', publication, [events]);
    const stream = await open('events_slot', publication, [await binding(EDGE, 'events')], start);
    const batches = stream.batches();
    await admin.query(`INSERT INTO "edge ""cases""".events VALUES ('a', 7, '2024-05-01'), ('zz', 8, '2023-01-01')`);
    const days = (date: string): number => Date.parse(`${date}T00:00:00Z`) / 86_400_000;
    expect(changes(await transactions(batches, 1))).toEqual([
      { op: 'insert', table: events, after: ['a', 7, days('2024-05-01')] },
      { op: 'insert', table: events, after: ['zz', 8, days('2023-01-01')] },
    ]);
    await shut(stream);
    await dropReplicationSlot(admin, 'events_slot');
    await dropPublication(admin, publication);
    expect((await admin.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [publication])).rowCount).toBe(0);
  }, 120_000);
});

describe('the exported snapshot', () => {
  it('holds exactly what precedes the slot: copy in it, stream the rest, and it ends with release', async () => {
    await admin.query(`CREATE TABLE handover (id integer PRIMARY KEY)`);
    await admin.query(`INSERT INTO handover VALUES (1), (2)`);
    await createPublication(admin, 'handover_pub', [{ schema: 'public', name: 'handover' }]);
    const slot = await createReplicationSlot(url, 'handover_slot');
    await admin.query(`INSERT INTO handover VALUES (3)`);
    const bound = await binding('public', 'handover');
    const reader = await connectPostgres(url);
    try {
      const copied = await withSnapshotTransaction(
        reader,
        async () => {
          const rows: Row[] = [];
          for await (const batch of readRows(reader, bound.table, bound.mapping)) rows.push(...batch);
          return rows;
        },
        { snapshotId: slot.snapshotName },
      );
      expect(copied.map((r) => r[0]).sort()).toEqual([1, 2]);
      await slot.release();
      await expect(withSnapshotTransaction(reader, async () => undefined, { snapshotId: slot.snapshotName })).rejects.toThrow(/snapshot/i);
    } finally {
      await reader.end();
    }
    const stream = await open('handover_slot', 'handover_pub', [bound], slot.consistentPoint);
    expect(changes(await transactions(stream.batches(), 1))).toEqual([{ op: 'insert', table: { schema: 'public', name: 'handover' }, after: [3] }]);
    await shut(stream);
    await dropReplicationSlot(admin, 'handover_slot');
  }, 120_000);
});

describe('back-pressure', () => {
  it('stops reading the socket while the consumer is behind, and loses nothing', async () => {
    await admin.query(`CREATE TABLE wide_rows (id integer PRIMARY KEY, pad text NOT NULL)`);
    const start = await setUp('wide_slot', 'wide_pub', [{ schema: 'public', name: 'wide_rows' }]);
    const stream = await open('wide_slot', 'wide_pub', [await binding('public', 'wide_rows')], start, 10_000, 10);
    const rows = 5000;
    // About 1 KB per change, so one socket chunk (64 KB at most) holds at most ~64 of them.
    await admin.query(`INSERT INTO wide_rows SELECT g, repeat('w', 1000) FROM generate_series(1, ${rows}) AS g`);
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
      await admin.query('SELECT 1');
      mostBuffered = Math.max(mostBuffered, stream.stats().bufferedEvents);
    }
    expect(mostBuffered).toBeLessThan(150);
    expect(ids).toEqual(Array.from({ length: rows }, (_, i) => i + 1));
    await shut(stream);
    await dropReplicationSlot(admin, 'wide_slot');
  }, 120_000);
});

describe('positions', () => {
  it('reports only what the consumer confirmed, and a restart from the applied position resends nothing before it', async () => {
    await admin.query(`CREATE TABLE ledger (id integer PRIMARY KEY)`);
    const start = await setUp('ledger_slot', 'ledger_pub', [{ schema: 'public', name: 'ledger' }]);
    const bindings = [await binding('public', 'ledger')];
    const ids = (events: ChangeEvent[]): unknown[] => changes(events).map((c) => (c.op === 'insert' ? c.after[0] : c.op));

    const first = await open('ledger_slot', 'ledger_pub', bindings, start, 50);
    const firstBatches = first.batches();
    await admin.query(`INSERT INTO ledger VALUES (1)`);
    await admin.query(`INSERT INTO ledger VALUES (2)`);
    const delivered = await transactions(firstBatches, 2);
    expect(ids(delivered)).toEqual([1, 2]);
    const [one, two] = commitsOf(delivered);
    // Only the first transaction is applied; the second was received but never confirmed.
    first.confirm(one!.endLsn);
    expect(() => first.confirm(two!.endLsn + 1n)).toThrow(/has delivered changes up to/);
    await shut(first);
    const afterFirst = await inspectReplicationSlot(admin, 'ledger_slot');
    expect(afterFirst).toMatchObject({ exists: true, active: false, confirmedFlushLsn: one!.endLsn });

    // Restart from the position the tables hold (one's end): the unconfirmed transaction comes again, whole.
    const second = await open('ledger_slot', 'ledger_pub', bindings, one!.endLsn);
    const secondBatches = second.batches();
    await admin.query(`INSERT INTO ledger VALUES (3)`);
    const again = await transactions(secondBatches, 2);
    expect(ids(again)).toEqual([2, 3]);
    expect(commitsOf(again)[0]!.commitLsn).toBe(two!.commitLsn);
    await shut(second);

    // The tables hold two as well (its confirmation was lost): starting there, two is not sent again.
    const third = await open('ledger_slot', 'ledger_pub', bindings, two!.endLsn);
    const thirdBatches = third.batches();
    await admin.query(`INSERT INTO ledger VALUES (4)`);
    expect(ids(await transactions(thirdBatches, 2))).toEqual([3, 4]);
    await shut(third);
    await dropReplicationSlot(admin, 'ledger_slot');
    await dropPublication(admin, 'ledger_pub');
  }, 120_000);

  it('advances an idle slot: writes to other tables do not keep WAL for it', async () => {
    await admin.query(`CREATE TABLE quiet (id integer PRIMARY KEY)`);
    await admin.query(`CREATE TABLE busy (id integer, pad text)`);
    const start = await setUp('idle_slot', 'idle_pub', [{ schema: 'public', name: 'quiet' }]);
    const stream = await open('idle_slot', 'idle_pub', [await binding('public', 'quiet')], start, 100);
    const batches = stream.batches();
    // Nothing arrives for the publication's table, so the iterator would wait for ever: it is only started.
    void batches.next();
    const before = parseLsn((await admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn);
    await admin.query(`INSERT INTO busy SELECT g, repeat('p', 200) FROM generate_series(1, 50000) AS g`);
    const after = parseLsn((await admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn);
    const written = after - before;
    expect(written).toBeGreaterThan(5_000_000n);
    // A bounded wait for the server's keepalives; each round logs a running-transactions record, which is what
    // lets the server move the slot's restart position.
    const deadline = Date.now() + 90_000;
    let state = await inspectReplicationSlot(admin, 'idle_slot');
    while (Date.now() < deadline) {
      if (state.exists && state.confirmedFlushLsn >= after && state.retainedWalBytes < written / 10n) break;
      await admin.query(`SELECT pg_log_standby_snapshot()`);
      await admin.query(`INSERT INTO busy VALUES (0, 'tick')`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      state = await inspectReplicationSlot(admin, 'idle_slot');
    }
    expect(state).toMatchObject({ exists: true });
    if (!state.exists) return;
    expect(state.confirmedFlushLsn).toBeGreaterThanOrEqual(after);
    expect(state.retainedWalBytes).toBeLessThan(written / 10n);
    expect(stream.stats().confirmedLsn).toBeGreaterThanOrEqual(after);
    await shut(stream);
    await dropReplicationSlot(admin, 'idle_slot');
  }, 120_000);
});

describe('replica identity and refused columns', () => {
  it('refuses a table without a primary key or REPLICA IDENTITY FULL, naming it and the fix; FULL streams whole old rows', async () => {
    await admin.query(`CREATE TABLE "Loose Ends" (a integer, b text)`);
    await admin.query(`INSERT INTO "Loose Ends" VALUES (1, 'x')`);
    const loose = { schema: 'public', name: 'Loose Ends' };
    const refusal: unknown = await createPublication(admin, 'loose_pub', [loose]).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as ValidationError).message).toBe(
      'table public."Loose Ends" has no primary key and no REPLICA IDENTITY FULL or USING INDEX, so its updates and deletes cannot be captured; ' +
        'fix: ALTER TABLE "public"."Loose Ends" REPLICA IDENTITY FULL;',
    );
    expect((await admin.query(`SELECT 1 FROM pg_publication WHERE pubname = 'loose_pub'`)).rowCount).toBe(0);
    await admin.query(`ALTER TABLE "public"."Loose Ends" REPLICA IDENTITY FULL`);
    const start = await setUp('loose_slot', 'loose_pub', [loose]);
    // Asking again with the same tables is a no-op; other tables are refused.
    await createPublication(admin, 'loose_pub', [loose]);
    await expect(createPublication(admin, 'loose_pub', [{ schema: 'public', name: 'docs' }])).rejects.toThrow(/already exists with other tables/);
    const stream = await open('loose_slot', 'loose_pub', [await binding('public', 'Loose Ends')], start);
    const batches = stream.batches();
    await admin.query(`UPDATE "Loose Ends" SET b = 'y' WHERE a = 1`);
    await admin.query(`DELETE FROM "Loose Ends" WHERE a = 1`);
    expect(changes(await transactions(batches, 2))).toEqual([
      { op: 'update', table: loose, before: [1, 'x'], beforeKind: 'full', after: [1, 'y'] },
      { op: 'delete', table: loose, before: [1, 'y'], beforeKind: 'full' },
    ]);
    await shut(stream);
    await dropReplicationSlot(admin, 'loose_slot');
  }, 120_000);

  it('refuses a column copied as text, whose binary form the stream would send', async () => {
    await admin.query(`CREATE TABLE hosts (id integer PRIMARY KEY, ip inet)`);
    const start = await setUp('hosts_slot', 'hosts_pub', [{ schema: 'public', name: 'hosts' }]);
    const stream = await open('hosts_slot', 'hosts_pub', [await binding('public', 'hosts')], start);
    const batches = stream.batches();
    await admin.query(`INSERT INTO hosts VALUES (1, '10.0.0.1')`);
    await expect(transactions(batches, 1)).rejects.toThrow(/column ip of public.hosts \(inet\) is copied as PostgreSQL's text output/);
    await shut(stream);
    await dropReplicationSlot(admin, 'hosts_slot');
  }, 120_000);

  it('refuses a generated column, which PostgreSQL 17 does not publish', async () => {
    await admin.query(`CREATE TABLE priced (id integer PRIMARY KEY, price integer, doubled integer GENERATED ALWAYS AS (price * 2) STORED)`);
    const start = await setUp('priced_slot', 'priced_pub', [{ schema: 'public', name: 'priced' }]);
    const stream = await open('priced_slot', 'priced_pub', [await binding('public', 'priced')], start);
    const batches = stream.batches();
    await admin.query(`INSERT INTO priced (id, price) VALUES (1, 5)`);
    await expect(transactions(batches, 1)).rejects.toThrow(
      'column doubled of public.priced is not in the replication stream (PostgreSQL does not publish generated columns before version 18): exclude it from the table',
    );
    await shut(stream);
    // Without it, the same changes decode.
    const again = await open('priced_slot', 'priced_pub', [await binding('public', 'priced', { excludedColumns: ['doubled'] })], start);
    expect(changes(await transactions(again.batches(), 1))).toEqual([{ op: 'insert', table: { schema: 'public', name: 'priced' }, after: [1, 5] }]);
    await shut(again);
    await dropReplicationSlot(admin, 'priced_slot');
  }, 120_000);

  it('stops at a change of a published table it was not given, instead of dropping it', async () => {
    await admin.query(`CREATE TABLE kept (id integer PRIMARY KEY)`);
    await admin.query(`CREATE TABLE forgotten (id integer PRIMARY KEY)`);
    const tables = [
      { schema: 'public', name: 'kept' },
      { schema: 'public', name: 'forgotten' },
    ];
    const start = await setUp('forgotten_slot', 'forgotten_pub', tables);
    const stream = await open('forgotten_slot', 'forgotten_pub', [await binding('public', 'kept')], start);
    const batches = stream.batches();
    await admin.query(`INSERT INTO forgotten VALUES (1)`);
    await expect(transactions(batches, 1)).rejects.toThrow(
      'the stream carries changes of public.forgotten, which is not one of the tables being synchronised; check the publication',
    );
    await shut(stream);
    await dropReplicationSlot(admin, 'forgotten_slot');
  }, 120_000);

  it('fails at start, naming the slot, when the slot is missing or in use', async () => {
    const bindings = [await binding('public', 'kept')];
    await expect(open('nope_slot', 'forgotten_pub', bindings, 0n)).rejects.toThrow(
      /streaming changes from slot nope_slot failed .*replication slot "nope_slot" does not exist/,
    );
    const start = await setUp('busy_slot', 'busy_pub', [{ schema: 'public', name: 'kept' }]);
    const first = await open('busy_slot', 'busy_pub', bindings, start);
    await expect(open('busy_slot', 'busy_pub', bindings, start)).rejects.toThrow(/replication slot "busy_slot" is active for PID/);
    await shut(first);
    await dropReplicationSlot(admin, 'busy_slot');
  }, 120_000);
});
