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
const replicationClients: Client[] = [];

beforeAll(async () => {
  server = await startPostgres({ logical: true });
  url = await server.createDatabase('cdc');
  admin = await connectPostgres(url);
  // The edge-case fixture uses Pagila's domain; it is all this database needs of Pagila.
  await admin.query(`CREATE DOMAIN public."bıgınt" AS bigint`);
  await server.loadSqlFile('cdc', EDGE_SQL);
}, 180_000);

afterAll(async () => {
  await Promise.all(replicationClients.map((c) => c.end().catch(() => undefined)));
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

async function open(slot: string, publication: string, bindings: TableBinding[], startLsn: Lsn, statusIntervalInMs = 10_000): Promise<ReplicationStream> {
  const client = await connectReplication(url);
  replicationClients.push(client);
  return startReplication(client, { slotName: slot, publications: [publication], startLsn, bindings, exactBigInt: true, statusIntervalInMs });
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
    await stream.close();
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
    await stream.close();
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
    await stream.close();
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
