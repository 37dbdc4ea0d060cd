/**
 * The change applier against a real source and real tables: tables migrated with runMigration after the slot was
 * made (the source is quiet meanwhile, so nothing is missed), then changes streamed from the slot and applied in
 * micro-batches; after each batch the verifier compares every row (level full) and must say ok. A replay after a
 * crash before confirmation applies nothing twice; a wrong delete (a tampered index) is caught by verification.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import type { ChangeEvent, TableBinding } from '../../shared/cdc/change-decoder';
import { type Lsn, formatLsn } from '../../shared/cdc/lsn';
import type { ReplicationStream } from '../../shared/cdc/replication-stream';
import type { Catalog } from '../../shared/iceberg/catalog/catalog';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { scanToArray } from '../../shared/iceberg/scan/table-scan';
import { CommitStateUnknownError } from '../../shared/errors';
import { connectPostgres } from '../../shared/postgres/connection';
import type { RunEnvironment } from '../../shared/run/environment';
import { appliedLsn } from '../../shared/sync/applied-lsn';
import { type ApplyResult, type SyncTable, applyChanges, openSyncTable } from '../../shared/sync/apply-changes';
import type { TableVerification } from '../../shared/verify/contracts';
import { verifyTable } from '../../shared/verify/steps/verify-table';
import { type ReplicationSource, startReplicationSource, transactions } from '../cdc/replication-harness';

const TABLES = ['items', 'bag', 'tamper'];
const BODY = 'toasted '.repeat(2_000);

let source: ReplicationSource;
let dir: string;
let env: RunEnvironment;
let bindings: TableBinding[];
let stream: ReplicationStream;
let batches: AsyncGenerator<ChangeEvent[]>;
let start: Lsn;
/** Transactions the stream has delivered since `start`: what a restart from `start` sends again. */
let delivered = 0;
const synced = new Map<string, SyncTable>();

beforeAll(async () => {
  source = await startReplicationSource();
  await source.admin.query(`
    CREATE TABLE public.items (id integer PRIMARY KEY, name text, qty bigint NOT NULL, body text);
    ALTER TABLE public.items ALTER COLUMN body SET STORAGE EXTERNAL;
    INSERT INTO public.items SELECT g, 'item ' || g, g * 10, CASE WHEN g % 10 = 0 THEN $$${BODY}$$ || g END FROM generate_series(1, 500) g;
    CREATE TABLE public.bag (a integer, b text);
    ALTER TABLE public.bag REPLICA IDENTITY FULL;
    INSERT INTO public.bag VALUES (1, 'x'), (1, 'x'), (1, 'x'), (2, NULL), (3, 'y');
    CREATE TABLE public.tamper (id integer PRIMARY KEY, v text);
    INSERT INTO public.tamper SELECT g, 'v' || g FROM generate_series(1, 20) g;
  `);
  // The slot first, then the copy of a quiet source: every change after the copy is in the slot.
  start = await source.setUp(
    'sync_slot',
    'sync_pub',
    TABLES.map((name) => ({ schema: 'public', name })),
  );
  dir = await mkdtemp(path.join(tmpdir(), 'icebridge-sync-'));
  const warehouse = path.join(dir, 'warehouse');
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1 },
    sourceUrl: source.url,
    warehouse,
    stateDir: path.join(dir, 'state'),
  });
  if (report.runtimeStatus !== 'Completed' || report.details.some((d) => d.status !== 'committed')) {
    throw new Error(`migration failed: ${report.lastError ?? ''} ${JSON.stringify(report.details)}`);
  }
  env = { connectSource: () => connectPostgres(source.url), catalog: new HadoopCatalog(new LocalFileIO(), warehouse) };
  bindings = [];
  for (const name of TABLES) bindings.push(await source.binding('public', name));
  for (const name of TABLES) synced.set(name, await open(name));
  stream = await source.open('sync_slot', 'sync_pub', bindings, start);
  batches = stream.batches();
}, 300_000);

afterAll(async () => {
  await source?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function open(name: string): Promise<SyncTable> {
  const binding = bindings[TABLES.indexOf(name)]!;
  return openSyncTable(
    env,
    { namespace: ['public'], name },
    { schema: 'public', name },
    {
      keyColumns: binding.table.key.columns,
      rowColumns: binding.mapping.schema.fields.map((f) => f.name),
    },
  );
}

/** Runs the statements as separate transactions, then applies them as one micro-batch to every table. */
async function batch(...statements: string[]): Promise<Map<string, ApplyResult>> {
  for (const sql of statements) await source.admin.query(sql);
  return applyAll(await next(statements.length));
}

/** The next `commits` transactions of the stream. */
async function next(commits: number): Promise<ChangeEvent[]> {
  const events = await transactions(batches, commits);
  delivered += events.filter((e) => e.kind === 'commit').length;
  return events;
}

async function applyAll(events: ChangeEvent[]): Promise<Map<string, ApplyResult>> {
  const results = new Map<string, ApplyResult>();
  for (const [name, table] of synced) results.set(name, await applyChanges(env, table, events));
  return results;
}

async function verify(name: string): Promise<TableVerification> {
  return verifyTable(env, { source: { schema: 'public', name }, target: { namespace: ['public'], name } }, { level: 'full' });
}

async function expectSame(name: string): Promise<void> {
  const result = await verify(name);
  expect({ status: result.status, error: result.error, rows: result.rows?.differences }).toEqual({ status: 'ok', error: undefined, rows: [] });
}

async function icebergCount(name: string): Promise<number> {
  const { metadata } = await env.catalog.loadTable({ namespace: ['public'], name });
  return (await scanToArray(env.catalog.io, metadata)).length;
}

describe('applying changes to a migrated table', () => {
  it('applies inserts, updates (a key change too), deletes and unchanged TOASTed values over several batches', async () => {
    await expectSame('items');
    const first = await batch(
      `INSERT INTO public.items VALUES (501, 'new', 5010, NULL), (502, 'newer', 5020, 'short')`,
      `UPDATE public.items SET name = 'renamed' WHERE id IN (1, 2, 3)`,
      `DELETE FROM public.items WHERE id BETWEEN 100 AND 109`,
    );
    expect(first.get('items')).toMatchObject({ committed: true, transactions: 3, rowsAdded: 5, rowsDeleted: 13 });
    expect(first.get('bag')).toMatchObject({ committed: false, transactions: 3 });
    await expectSame('items');
    // The qty update leaves body unsent (UNCHANGED): the applier must take it from the table, never null.
    await batch(`UPDATE public.items SET qty = qty + 1 WHERE id IN (10, 20, 30)`, `UPDATE public.items SET id = id + 1000 WHERE id IN (40, 41)`);
    await expectSame('items');
    const { metadata } = await env.catalog.loadTable({ namespace: ['public'], name: 'items' });
    const rows = await scanToArray(env.catalog.io, metadata);
    expect(rows.find((r) => r[0] === 20)?.[3]).toBe(`${BODY}20`);
    expect(rows.find((r) => r[0] === 1040)?.[3]).toBe(`${BODY}40`);
    // The recorded position is the batch's last end LSN.
    expect(appliedLsn(metadata)).toBeDefined();
    expect(formatLsn(appliedLsn(metadata)!)).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
  }, 300_000);

  it('folds several changes to one key within a batch: the row is written once, the last change wins', async () => {
    const results = await batch(
      `INSERT INTO public.items VALUES (600, 'a', 1, NULL)`,
      `UPDATE public.items SET name = 'b' WHERE id = 600`,
      `UPDATE public.items SET id = 601, name = 'c' WHERE id = 600`,
      `UPDATE public.items SET name = 'first' WHERE id = 5`,
      `UPDATE public.items SET name = 'second' WHERE id = 5`,
      `DELETE FROM public.items WHERE id = 6`,
      `INSERT INTO public.items VALUES (6, 'again', 6, NULL)`,
    );
    expect(results.get('items')).toMatchObject({ committed: true, rowsAdded: 3, rowsDeleted: 2 });
    await expectSame('items');
  }, 300_000);

  it('applies changes to a keyless table with REPLICA IDENTITY FULL, one repeated row at a time', async () => {
    await expectSame('bag');
    await batch(
      `DELETE FROM public.bag WHERE ctid = (SELECT min(ctid) FROM public.bag WHERE a = 1)`,
      `UPDATE public.bag SET b = 'z' WHERE a = 3`,
      `INSERT INTO public.bag VALUES (1, 'x'), (4, NULL)`,
    );
    await expectSame('bag');
    await batch(`UPDATE public.bag SET b = 'w' WHERE a = 1`);
    await expectSame('bag');
    expect(await icebergCount('bag')).toBe(6);
  }, 300_000);

  it('replays nothing twice after a crash between commit and confirmation', async () => {
    const before = await source.admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM public.items`);
    const applied = await batch(
      `INSERT INTO public.items VALUES (700, 'x', 7, NULL)`,
      `DELETE FROM public.items WHERE id = 7`,
      `UPDATE public.items SET qty = 0 WHERE id = 8`,
    );
    expect(applied.get('items')).toMatchObject({ committed: true, transactions: 3 });
    // The crash: nothing confirmed, the stream and the index lost. Restart from the slot's position.
    await source.shut(stream);
    for (const name of TABLES) synced.set(name, await open(name));
    stream = await source.open('sync_slot', 'sync_pub', bindings, start);
    batches = stream.batches();
    // Everything since the slot's start comes again; the tables' recorded positions make it a no-op.
    const replayed = await applyAll(await transactions(batches, delivered));
    for (const result of replayed.values()) expect(result.committed).toBe(false);
    expect(replayed.get('items')).toMatchObject({ transactions: 0, skippedTransactions: delivered });
    const after = await batch(`UPDATE public.items SET name = 'after restart' WHERE id = 9`);
    expect(after.get('items')).toMatchObject({ committed: true });
    stream.confirm(after.get('items')!.through!);
    expect(await icebergCount('items')).toBe(Number(before.rows[0]!.n));
    await expectSame('items');
  }, 300_000);

  it('applying the same batch twice changes nothing the second time', async () => {
    await source.admin.query(`INSERT INTO public.items VALUES (800, 'twice', 8, NULL)`);
    const events = await next(1);
    await applyAll(events);
    const again = await applyAll(events);
    expect(again.get('items')).toMatchObject({ committed: false, transactions: 0, skippedTransactions: 1 });
    await expectSame('items');
  }, 300_000);

  it('a commit whose outcome was lost is found by its operation id, not made twice', async () => {
    const catalog = env.catalog;
    let lost = 0;
    // The commit lands, then the answer is lost: the commit loop must find it instead of committing again.
    const losing = new Proxy(catalog, {
      get(target, property) {
        if (property === 'commit') {
          return async (...args: Parameters<Catalog['commit']>) => {
            const committed = await target.commit(...args);
            if (lost++ === 0) throw new CommitStateUnknownError('the answer of the commit was lost');
            return committed;
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const table = synced.get('items')!;
    const before = (await catalog.loadTable(table.id)).metadata.snapshots?.length ?? 0;
    await source.admin.query(`INSERT INTO public.items VALUES (900, 'lost answer', 9, NULL)`);
    const result = await applyChanges({ catalog: losing }, table, await next(1));
    expect(result).toMatchObject({ committed: true, rowsAdded: 1 });
    expect(lost).toBe(1);
    expect((await catalog.loadTable(table.id)).metadata.snapshots?.length).toBe(before + 1);
    await expectSame('items');
  }, 300_000);

  it('truncates: every live row goes, rows inserted after the truncate in the same batch stay', async () => {
    const results = await batch(
      `UPDATE public.bag SET b = 'gone' WHERE a = 2`,
      `TRUNCATE public.bag`,
      `INSERT INTO public.bag VALUES (9, 'after')`,
      `UPDATE public.bag SET b = 'after!' WHERE a = 9`,
    );
    expect(results.get('bag')).toMatchObject({ committed: true, truncated: true, rowsAdded: 1 });
    await expectSame('bag');
    expect(await icebergCount('bag')).toBe(1);
    await batch(`INSERT INTO public.bag VALUES (10, 'more')`, `DELETE FROM public.bag WHERE a = 9`);
    await expectSame('bag');
  }, 300_000);

  it('refuses a change to a key the table does not hold, naming table and key', async () => {
    const events: ChangeEvent[] = [
      { kind: 'begin', finalLsn: 0xffff_0000n, commitTime: 0n, xid: 1 },
      { kind: 'change', change: { op: 'delete', table: { schema: 'public', name: 'tamper' }, before: [424242, null], beforeKind: 'key' } },
      { kind: 'commit', commitLsn: 0xffff_0000n, endLsn: 0xffff_0010n, commitTime: 0n },
    ];
    await expect(applyChanges(env, synced.get('tamper')!, events)).rejects.toThrow(/table public\.tamper holds no row with key .*424242/);
  }, 60_000);

  it('a wrong delete (a tampered index) is caught by the verification', async () => {
    await expectSame('tamper');
    const index = synced.get('tamper')!.index;
    // Point key 1 at key 2's row: deleting 1 then deletes 2 in the table.
    const one = index.keyText([1, null]);
    const two = index.keyText([2, null]);
    const [location] = index.locations(two);
    index.remove(one, 1);
    index.add(one, index.file(location!), location!.pos);
    await batch(`DELETE FROM public.tamper WHERE id = 1`);
    const result = await verify('tamper');
    expect(result.status).toBe('differs');
    expect(result.rows?.differing).toBe('2');
  }, 300_000);
});
