import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABSENT, UNCHANGED } from '../../shared/cdc/change-decoder';
import {
  connectReplication,
  createPublication,
  createReplicationSlot,
  dropPublication,
  dropReplicationSlot,
  inspectReplicationSlot,
} from '../../shared/cdc/replication-setup';
import { startReplication } from '../../shared/cdc/replication-stream';
import { parseLsn } from '../../shared/cdc/lsn';
import { ValidationError } from '../../shared/errors';
import type { Row } from '../../shared/iceberg/spec/values';
import { connectPostgres } from '../../shared/postgres/connection';
import { readRows } from '../../shared/postgres/copy-reader';
import { describeTable } from '../../shared/postgres/introspect';
import { withSnapshotTransaction } from '../../shared/postgres/snapshot-transaction';
import { mapTable } from '../../shared/postgres/type-mapping';
import { EDGE, type ReplicationSource, changes, commitsOf, startReplicationSource, transactions } from '../cdc/replication-harness';

// What the stream delivers: every kind of change, values equal to the copy's, and what it refuses.
let source: ReplicationSource;

beforeAll(async () => {
  source = await startReplicationSource({ edgeCases: true });
}, 180_000);

afterAll(async () => {
  await source?.stop();
});

describe('changes decoded from a pgoutput slot', () => {
  it('decodes inserts, updates (a key change carries the old key), deletes and truncate exactly', async () => {
    await source.admin.query(`CREATE TABLE items (id integer PRIMARY KEY, name text, qty bigint NOT NULL)`);
    const start = await source.setUp('items_slot', 'items_pub', [{ schema: 'public', name: 'items' }]);
    const stream = await source.open('items_slot', 'items_pub', [await source.binding('public', 'items')], start);
    const batches = stream.batches();
    await source.admin.query(`INSERT INTO items VALUES (1, 'one', 9007199254740993), (2, NULL, -1)`);
    await source.admin.query(`UPDATE items SET name = 'uno' WHERE id = 1`);
    await source.admin.query(`UPDATE items SET id = 3 WHERE id = 2`);
    await source.admin.query(`DELETE FROM items WHERE id = 1`);
    await source.admin.query(`TRUNCATE items RESTART IDENTITY CASCADE`);
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
    await source.shut(stream);
    await dropReplicationSlot(source.admin, 'items_slot');
    expect(await inspectReplicationSlot(source.admin, 'items_slot')).toEqual({ exists: false });
  }, 120_000);

  it('surfaces an unchanged TOASTed value as UNCHANGED, never as null', async () => {
    await source.admin.query(`CREATE TABLE docs (id integer PRIMARY KEY, body text, n integer)`);
    await source.admin.query(`ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL`);
    const start = await source.setUp('docs_slot', 'docs_pub', [{ schema: 'public', name: 'docs' }]);
    const stream = await source.open('docs_slot', 'docs_pub', [await source.binding('public', 'docs')], start);
    const batches = stream.batches();
    const body = 'x'.repeat(10_000);
    await source.admin.query(`INSERT INTO docs VALUES (1, $1, 1)`, [body]);
    await source.admin.query(`UPDATE docs SET n = 2 WHERE id = 1`);
    const found = changes(await transactions(batches, 2));
    expect(found[0]).toMatchObject({ op: 'insert', after: [1, body, 1] });
    expect(found[1]).toMatchObject({ op: 'update', after: [1, UNCHANGED, 2] });
    await source.shut(stream);
    await dropReplicationSlot(source.admin, 'docs_slot');
  }, 120_000);

  it('gives every value the copy gives, for the edge-case type matrix', async () => {
    const matrix = await describeTable(source.admin, EDGE, 'Order');
    // The copy of the matrix in a table of its own, so its rows are inserted after the slot exists.
    await source.admin.query(`CREATE TABLE "${EDGE.replace(/"/g, '""')}"."Order streamed" (LIKE "${EDGE.replace(/"/g, '""')}"."Order" INCLUDING ALL)`);
    const streamed = await describeTable(source.admin, EDGE, 'Order streamed');
    // Columns copied as PostgreSQL text arrive in their binary form, which is refused (see the refusals below).
    const textColumns = mapTable(matrix)
      .columns.filter((c) => c.transfer === 'text')
      .map((c) => c.name);
    const generated = matrix.columns.filter((c) => c.generated !== undefined).map((c) => c.name);
    const options = { excludedColumns: [...textColumns, ...generated] };
    const mapping = mapTable(streamed, options);
    expect(mapping.columns.length).toBeGreaterThan(30);
    const start = await source.setUp('matrix_slot', 'matrix_pub', [{ schema: EDGE, name: 'Order streamed' }]);
    const stream = await source.open('matrix_slot', 'matrix_pub', [{ table: streamed, mapping }], start);
    const batches = stream.batches();
    const columns = mapping.columns.map((c) => `"${c.name.replace(/"/g, '""')}"`).join(', ');
    await source.admin.query(
      `INSERT INTO "${EDGE.replace(/"/g, '""')}"."Order streamed" (${columns}) SELECT ${columns} FROM "${EDGE.replace(/"/g, '""')}"."Order"`,
    );
    const viaStream = changes(await transactions(batches, 1)).map((c) => (c.op === 'insert' ? c.after : []));
    await source.shut(stream);
    const viaCopy = await withSnapshotTransaction(source.admin, async () => {
      const rows: Row[] = [];
      for await (const batch of readRows(source.admin, streamed, mapping, { exactBigInt: true })) rows.push(...batch);
      return rows;
    });
    const byKey = (rows: unknown[][]): unknown[][] => [...rows].sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(viaStream.length).toBe(6);
    expect(byKey(viaStream)).toEqual(byKey(viaCopy));
    await dropReplicationSlot(source.admin, 'matrix_slot');
  }, 120_000);
});

describe('partitioned tables and names', () => {
  it('publishes a partitioned table under its root, judged by its leaves, under a publication name that needs quoting', async () => {
    const events = { schema: EDGE, name: 'events' };
    const publication = 'Pub "quoted", too';
    const start = await source.setUp('events_slot', publication, [events]);
    const stream = await source.open('events_slot', publication, [await source.binding(EDGE, 'events')], start);
    const batches = stream.batches();
    await source.admin.query(`INSERT INTO "edge ""cases""".events VALUES ('a', 7, '2024-05-01'), ('zz', 8, '2023-01-01')`);
    const days = (date: string): number => Date.parse(`${date}T00:00:00Z`) / 86_400_000;
    expect(changes(await transactions(batches, 1))).toEqual([
      { op: 'insert', table: events, after: ['a', 7, days('2024-05-01')] },
      { op: 'insert', table: events, after: ['zz', 8, days('2023-01-01')] },
    ]);
    await source.shut(stream);
    await dropReplicationSlot(source.admin, 'events_slot');
    await dropPublication(source.admin, publication);
    expect((await source.admin.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [publication])).rowCount).toBe(0);
  }, 120_000);
});

describe('the exported snapshot', () => {
  it('holds exactly what precedes the slot: copy in it, stream the rest, and it ends with release', async () => {
    await source.admin.query(`CREATE TABLE handover (id integer PRIMARY KEY)`);
    await source.admin.query(`INSERT INTO handover VALUES (1), (2)`);
    await createPublication(source.admin, 'handover_pub', [{ schema: 'public', name: 'handover' }]);
    const slot = await createReplicationSlot(source.url, 'handover_slot');
    await source.admin.query(`INSERT INTO handover VALUES (3)`);
    const bound = await source.binding('public', 'handover');
    const reader = await connectPostgres(source.url);
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
    const stream = await source.open('handover_slot', 'handover_pub', [bound], slot.consistentPoint);
    expect(changes(await transactions(stream.batches(), 1))).toEqual([{ op: 'insert', table: { schema: 'public', name: 'handover' }, after: [3] }]);
    await source.shut(stream);
    await dropReplicationSlot(source.admin, 'handover_slot');
  }, 120_000);
});

describe('replica identity and refused columns', () => {
  it('refuses a table without a primary key or REPLICA IDENTITY FULL, naming it and the fix; FULL streams whole old rows', async () => {
    await source.admin.query(`CREATE TABLE "Loose Ends" (a integer, b text)`);
    await source.admin.query(`INSERT INTO "Loose Ends" VALUES (1, 'x')`);
    const loose = { schema: 'public', name: 'Loose Ends' };
    const refusal: unknown = await createPublication(source.admin, 'loose_pub', [loose]).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as ValidationError).message).toBe(
      'table public."Loose Ends" has no primary key and no REPLICA IDENTITY FULL or USING INDEX, so its updates and deletes cannot be captured; ' +
        'fix: ALTER TABLE "public"."Loose Ends" REPLICA IDENTITY FULL;',
    );
    expect((await source.admin.query(`SELECT 1 FROM pg_publication WHERE pubname = 'loose_pub'`)).rowCount).toBe(0);
    await source.admin.query(`ALTER TABLE "public"."Loose Ends" REPLICA IDENTITY FULL`);
    const start = await source.setUp('loose_slot', 'loose_pub', [loose]);
    // Asking again with the same tables is a no-op; other tables are refused.
    await createPublication(source.admin, 'loose_pub', [loose]);
    await expect(createPublication(source.admin, 'loose_pub', [{ schema: 'public', name: 'docs' }])).rejects.toThrow(/already exists with other tables/);
    const stream = await source.open('loose_slot', 'loose_pub', [await source.binding('public', 'Loose Ends')], start);
    const batches = stream.batches();
    await source.admin.query(`UPDATE "Loose Ends" SET b = 'y' WHERE a = 1`);
    await source.admin.query(`DELETE FROM "Loose Ends" WHERE a = 1`);
    expect(changes(await transactions(batches, 2))).toEqual([
      { op: 'update', table: loose, before: [1, 'x'], beforeKind: 'full', after: [1, 'y'] },
      { op: 'delete', table: loose, before: [1, 'y'], beforeKind: 'full' },
    ]);
    await source.shut(stream);
    await dropReplicationSlot(source.admin, 'loose_slot');
  }, 120_000);

  it('refuses a column copied as text, whose binary form the stream would send', async () => {
    await source.admin.query(`CREATE TABLE hosts (id integer PRIMARY KEY, ip inet)`);
    const start = await source.setUp('hosts_slot', 'hosts_pub', [{ schema: 'public', name: 'hosts' }]);
    const stream = await source.open('hosts_slot', 'hosts_pub', [await source.binding('public', 'hosts')], start);
    const batches = stream.batches();
    await source.admin.query(`INSERT INTO hosts VALUES (1, '10.0.0.1')`);
    await expect(transactions(batches, 1)).rejects.toThrow(/column ip of public.hosts \(inet\) is copied as PostgreSQL's text output/);
    await source.shut(stream);
    await dropReplicationSlot(source.admin, 'hosts_slot');
  }, 120_000);

  it('refuses a generated column, which PostgreSQL 17 does not publish', async () => {
    await source.admin.query(`CREATE TABLE priced (id integer PRIMARY KEY, price integer, doubled integer GENERATED ALWAYS AS (price * 2) STORED)`);
    const start = await source.setUp('priced_slot', 'priced_pub', [{ schema: 'public', name: 'priced' }]);
    const stream = await source.open('priced_slot', 'priced_pub', [await source.binding('public', 'priced')], start);
    const batches = stream.batches();
    await source.admin.query(`INSERT INTO priced (id, price) VALUES (1, 5)`);
    await expect(transactions(batches, 1)).rejects.toThrow(
      'column doubled of public.priced is not in the replication stream (PostgreSQL does not publish generated columns before version 18): exclude it from the table',
    );
    await source.shut(stream);
    // Without it, the same changes decode.
    const again = await source.open('priced_slot', 'priced_pub', [await source.binding('public', 'priced', { excludedColumns: ['doubled'] })], start);
    expect(changes(await transactions(again.batches(), 1))).toEqual([{ op: 'insert', table: { schema: 'public', name: 'priced' }, after: [1, 5] }]);
    await source.shut(again);
    await dropReplicationSlot(source.admin, 'priced_slot');
  }, 120_000);

  it('stops at a change of a published table it was not given, instead of dropping it', async () => {
    await source.admin.query(`CREATE TABLE kept (id integer PRIMARY KEY)`);
    await source.admin.query(`CREATE TABLE forgotten (id integer PRIMARY KEY)`);
    const tables = [
      { schema: 'public', name: 'kept' },
      { schema: 'public', name: 'forgotten' },
    ];
    const start = await source.setUp('forgotten_slot', 'forgotten_pub', tables);
    const stream = await source.open('forgotten_slot', 'forgotten_pub', [await source.binding('public', 'kept')], start);
    const batches = stream.batches();
    await source.admin.query(`INSERT INTO forgotten VALUES (1)`);
    await expect(transactions(batches, 1)).rejects.toThrow(
      'the stream carries changes of public.forgotten, which is not one of the tables being synchronised; check the publication',
    );
    await source.shut(stream);
    await dropReplicationSlot(source.admin, 'forgotten_slot');
  }, 120_000);

  it('fails at start, naming the slot, when the slot is missing or in use', async () => {
    const bindings = [await source.binding('public', 'kept')];
    await expect(source.open('nope_slot', 'forgotten_pub', bindings, 0n)).rejects.toThrow(
      /streaming changes from slot nope_slot failed .*replication slot "nope_slot" does not exist/,
    );
    const start = await source.setUp('busy_slot', 'busy_pub', [{ schema: 'public', name: 'kept' }]);
    const first = await source.open('busy_slot', 'busy_pub', bindings, start);
    await expect(source.open('busy_slot', 'busy_pub', bindings, start)).rejects.toThrow(/replication slot "busy_slot" is active for PID/);
    await source.shut(first);
    await dropReplicationSlot(source.admin, 'busy_slot');
  }, 120_000);

  it('hands on logical decoding messages only when asked', async () => {
    const start = await source.setUp('notes_slot', 'notes_pub', [{ schema: 'public', name: 'kept' }]);
    const bindings = [await source.binding('public', 'kept')];
    const plain = await source.open('notes_slot', 'notes_pub', bindings, start);
    await source.admin.query(`BEGIN; SELECT pg_logical_emit_message(true, 'app', 'hidden'); INSERT INTO kept VALUES (100); COMMIT`);
    const seen = await transactions(plain.batches(), 1);
    expect(seen.map((e) => e.kind)).toEqual(['begin', 'change', 'commit']);
    await source.shut(plain);
    await dropReplicationSlot(source.admin, 'notes_slot');
    const again = await source.setUp('notes_slot', 'notes_pub', [{ schema: 'public', name: 'kept' }]);
    const client = await connectReplication(source.url);
    const asked = await startReplication(client, { slotName: 'notes_slot', publications: ['notes_pub'], startLsn: again, bindings, messages: true });
    await source.admin.query(`BEGIN; SELECT pg_logical_emit_message(true, 'app', 'shown'); INSERT INTO kept VALUES (101); COMMIT`);
    const events = await transactions(asked.batches(), 1);
    expect(events.map((e) => e.kind)).toEqual(['begin', 'message', 'change', 'commit']);
    expect(events[1]).toMatchObject({ kind: 'message', transactional: true, prefix: 'app', content: Buffer.from('shown') });
    await asked.close();
    await client.end();
    await dropReplicationSlot(source.admin, 'notes_slot');
  }, 120_000);

  it('stops at a value the mapping cannot hold, and at a column whose type changed, naming table and column', async () => {
    await source.admin.query(`CREATE TABLE prices (id integer PRIMARY KEY, amount numeric(10, 2), note text)`);
    const start = await source.setUp('prices_slot', 'prices_pub', [{ schema: 'public', name: 'prices' }]);
    const bindings = [await source.binding('public', 'prices')];
    const stream = await source.open('prices_slot', 'prices_pub', bindings, start);
    await source.admin.query(`INSERT INTO prices VALUES (1, 'NaN', 'x')`);
    const failure: unknown = await transactions(stream.batches(), 1).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: 'UNREPRESENTABLE_VALUE',
      message: 'table public.prices, column amount, row (id)=(1): value "NaN" cannot be stored exactly: decimal(10, 2) cannot hold NaN or infinity',
    });
    await source.shut(stream);
    // A column changes type after the table was described; the stream starts past the NaN row.
    await source.admin.query(`DELETE FROM prices`);
    await source.admin.query(`ALTER TABLE prices ALTER COLUMN note TYPE varchar(20)`);
    const position = (await source.admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    await source.admin.query(`INSERT INTO prices VALUES (2, 1.5, 'y')`);
    const again = await source.open('prices_slot', 'prices_pub', bindings, parseLsn(position));
    await expect(transactions(again.batches(), 1)).rejects.toThrow(
      /column note of public.prices changed type since the table was described \(type oid 25 -> 1043\)/,
    );
    await source.shut(again);
    await dropReplicationSlot(source.admin, 'prices_slot');
  }, 120_000);
});
