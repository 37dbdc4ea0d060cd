/**
 * The router's writes against a real PostgreSQL and a migrated Iceberg table: with Iceberg as the primary, writes
 * waiting together become ONE commit that records the router's batch id and leaves the change-capture position
 * alone, each caller settling with that commit; a failed commit rejects all of its writers and a bad write fails
 * alone; dual writes make the secondary too, and a secondary that fails queues the write durably for
 * `icebridge reconcile`, which applies it on either side.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileCommand } from '../../cli/commands/reconcile';
import { runMigration } from '../../cli/support/run-migration';
import { CDC_LSN_PROPERTY } from '../../shared/cdc/lsn';
import { ValidationError } from '../../shared/errors';
import { ICEBRIDGE_FLAGS, switchFlag } from '../../shared/flags/feature-flag';
import { FlagEvaluator } from '../../shared/flags/flag-evaluator';
import { LocalFlagStore } from '../../shared/flags/local-flag-store';
import type { Catalog, Table } from '../../shared/iceberg/catalog/catalog';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { ReconcileQueue } from '../../shared/router/reconcile-queue';
import { ROUTER_BATCH_PROPERTY } from '../../shared/router/iceberg-writer';
import { type Router, type RouterOptions, type SecondaryFailure, createRouter } from '../../shared/router/router';
import { withClient } from '../integration/support/migration-fixtures';
import { type PostgresInstance, startPostgres } from '../integration/support/postgres';

let pg: PostgresInstance;
let url: string;
let workDir: string;
let warehouse: string;
const ITEMS = { namespace: ['public'], name: 'items' };
const quiet = { write: () => true };

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('router_writes');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-router-writes-'));
  warehouse = path.join(workDir, 'warehouse');
  await withClient(url, async (client) => {
    await client.query(`CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty int, price numeric(10,2), note text)`);
    await client.query(`INSERT INTO items SELECT g, 'item ' || g, g % 17, g * 0.5, NULL FROM generate_series(1, 200) g`);
    // A switch that makes PostgreSQL refuse writes to items, for a secondary that fails.
    await client.query(`CREATE TABLE blocked (on_ boolean)`);
    await client.query(`CREATE FUNCTION refuse_when_blocked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF EXISTS (SELECT 1 FROM blocked) THEN RAISE EXCEPTION 'items are blocked'; END IF; RETURN COALESCE(NEW, OLD); END $$`);
    await client.query(`CREATE TRIGGER items_blocked BEFORE INSERT OR UPDATE OR DELETE ON items FOR EACH ROW EXECUTE FUNCTION refuse_when_blocked()`);
  });
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['items'], verify: 'none' },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(workDir, 'state'),
  });
  if (report.runtimeStatus !== 'Completed') throw new Error(`migration failed: ${report.lastError ?? ''}`);
}, 300_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** The warehouse's catalog, whose commits fail while `broken` is set. */
class BreakableCatalog implements Catalog {
  broken = false;
  private readonly inner = new HadoopCatalog(new LocalFileIO(), warehouse);
  readonly io = this.inner.io;
  tableLocation = (id: Parameters<Catalog['tableLocation']>[0]) => this.inner.tableLocation(id);
  loadTable = (id: Parameters<Catalog['loadTable']>[0]) => this.inner.loadTable(id);
  tryLoadTable = (id: Parameters<Catalog['tryLoadTable']>[0]) => this.inner.tryLoadTable(id);
  tableExists = (id: Parameters<Catalog['tableExists']>[0]) => this.inner.tableExists(id);
  createTable: Catalog['createTable'] = (...args) => this.inner.createTable(...args);
  listTables = (namespace: string[]) => this.inner.listTables(namespace);
  dropTable: Catalog['dropTable'] = (...args) => this.inner.dropTable(...args);
  commit: Catalog['commit'] = (...args): Promise<Table> => {
    if (this.broken) return Promise.reject(new ValidationError('the catalog refuses commits (test switch)'));
    return this.inner.commit(...args);
  };
}

async function flags(...on: string[]): Promise<FlagEvaluator> {
  const store = new LocalFlagStore(path.join(await mkdtemp(path.join(workDir, 'flags-')), 'flags.json'));
  for (const name of on) await store.put(switchFlag(name, true), undefined, 'absent');
  return new FlagEvaluator(store, { refreshIntervalMs: 0 });
}

function router(evaluator: FlagEvaluator, extra: Partial<RouterOptions> = {}): Router {
  return createRouter({ postgres: { url, max: 4 }, warehouse, flags: evaluator, metadataTtlMs: 0, ...extra });
}

async function snapshots(): Promise<Array<{ id: bigint; summary: Record<string, string> }>> {
  const { metadata } = await new HadoopCatalog(new LocalFileIO(), warehouse).loadTable(ITEMS);
  return metadata.snapshots.map((s) => ({ id: s['snapshot-id'], summary: s.summary }));
}

async function inPostgres(id: number): Promise<Record<string, unknown> | undefined> {
  return withClient(
    url,
    async (client) => (await client.query<Record<string, unknown>>(`SELECT id::text, name, qty, price::text, note FROM items WHERE id = $1`, [id])).rows[0],
  );
}

/** Lets every pending callback run: a commit that could start now has started and would have settled. */
async function settleTurns(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('router writes', () => {
  it('with Iceberg as the primary, makes the writes that wait together ONE commit recording its batch id, not a source position', async () => {
    const before = await snapshots();
    const r = router(await flags(ICEBRIDGE_FLAGS.useIcebergAsPrimary), { icebergWrites: { windowMs: 3_600_000, maxRows: 5 } });
    const reader = router(await flags(ICEBRIDGE_FLAGS.useIcebergStorage));
    try {
      const items = await r.table('public.items');
      const settled: string[] = [];
      const track = <T>(name: string, p: Promise<T>): Promise<T> => p.finally(() => settled.push(name));
      const first = [
        track('insert 1001', items.save({ id: 1001n, name: 'new', qty: 1, price: 250n, note: 'n' })),
        track('insert 1002', items.save({ id: 1002n, name: 'newer', qty: 2, price: 1n, note: null })),
        track('update 3', items.save({ id: 3n, name: 'renamed', qty: 99, price: 1234n, note: 'u' })),
        track('delete 4', items.delete(4n)),
      ];
      // The batch is one write short of its size: nothing is committed and nobody is answered.
      await settleTurns();
      expect(settled).toEqual([]);
      expect(await snapshots()).toHaveLength(before.length);
      const partial = track('partial update 5', items.save({ id: 5n, note: 'only the note' }));
      await Promise.all([...first, partial]);
      const after = await snapshots();
      expect(after).toHaveLength(before.length + 1);
      const made = after[after.length - 1]!;
      expect(made.summary[ROUTER_BATCH_PROPERTY]).toMatch(/^[0-9a-f-]{36}$/);
      expect(made.summary[CDC_LSN_PROPERTY]).toBeUndefined();
      expect(r.stats()).toMatchObject({ writes: 5, icebergCommits: 1 });

      const read = await reader.table('public.items');
      expect(await read.findById(1001n)).toEqual({ id: 1001n, name: 'new', qty: 1, price: 250n, note: 'n' });
      expect(await read.findById(3n)).toEqual({ id: 3n, name: 'renamed', qty: 99, price: 1234n, note: 'u' });
      expect(await read.findById(4n)).toBeUndefined();
      expect(await read.findById(5n)).toEqual({ id: 5n, name: 'item 5', qty: 5, price: 250n, note: 'only the note' });
      expect((await read.find({}, { limit: 1000 })).length).toBe(201);
      // PostgreSQL is not the primary and dual writes are off: it did not take these writes.
      expect(await inPostgres(1001)).toBeUndefined();
      expect(await inPostgres(3)).toMatchObject({ name: 'item 3' });

      // A delete of a key the table does not hold is false; two writes to one key in one batch keep the later one.
      const again = [items.delete(4n), items.save({ id: 1001n, name: 'twice', qty: 1, price: 1n, note: null }), items.save({ id: 1001n, qty: 2 })];
      const [deleted] = await Promise.all([...again, items.delete(999_999n), items.save({ id: 6n, qty: 0 })]);
      expect(deleted).toBe(false);
      expect(await read.findById(1001n)).toEqual({ id: 1001n, name: 'twice', qty: 2, price: 1n, note: null });
    } finally {
      await r.close();
      await reader.close();
    }
  });

  it('a failed commit rejects every write of its batch; a new row without every column fails alone', async () => {
    const catalog = new BreakableCatalog();
    const r = router(await flags(ICEBRIDGE_FLAGS.useIcebergAsPrimary), { warehouse: catalog, icebergWrites: { windowMs: 3_600_000, maxRows: 3 } });
    try {
      const items = await r.table('public.items');
      const before = await snapshots();
      catalog.broken = true;
      const outcomes = await Promise.allSettled([
        items.save({ id: 2001n, name: 'a', qty: 1, price: 1n, note: null }),
        items.delete(7n),
        items.save({ id: 8n, qty: 0 }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
      for (const o of outcomes)
        expect((o as PromiseRejectedResult).reason).toMatchObject({
          code: 'ICEBERG_WRITE_FAILED',
          message: expect.stringMatching(
            /3 write\(s\) to Iceberg in batch .*the commit failed, nothing of it was written: the catalog refuses commits/,
          ) as unknown,
        });
      expect(await snapshots()).toEqual(before);
      catalog.broken = false;
      const mixed = await Promise.allSettled([
        items.save({ id: 2002n, name: 'no qty given' }),
        items.save({ id: 2003n, name: 'whole', qty: 1, price: 1n, note: null }),
        items.delete(7n),
      ]);
      expect(mixed[0]).toMatchObject({
        status: 'rejected',
        reason: {
          message: expect.stringContaining("must give every column (PostgreSQL's defaults are not applied there); missing qty, price, note") as unknown,
        },
      });
      expect(mixed.slice(1).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
      await expect(items.save({ id: 2004n, name: 'x', qty: 'many', price: 1n, note: null })).rejects.toThrow(/column qty \(int\) cannot hold a string/);
    } finally {
      await r.close();
    }
  });

  it('dual writes with PostgreSQL primary: a failed Iceberg write is queued, counted, and icebridge reconcile applies it', async () => {
    const catalog = new BreakableCatalog();
    const failures: SecondaryFailure[] = [];
    const r = router(await flags(ICEBRIDGE_FLAGS.dualWriteMode), {
      warehouse: catalog,
      icebergWrites: { windowMs: 0 },
      onSecondaryError: (f) => failures.push(f),
    });
    const reader = router(await flags(ICEBRIDGE_FLAGS.useIcebergStorage));
    try {
      const items = await r.table('public.items');
      const read = await reader.table('public.items');
      await items.save({ id: 3001n, name: 'both', qty: 1, price: 1n, note: null });
      expect(await read.findById(3001n)).toMatchObject({ name: 'both' });
      catalog.broken = true;
      await items.save({ id: 3002n, name: 'postgres only', qty: 1, price: 1n, note: null });
      await items.delete(3001n);
      catalog.broken = false;
      expect(await inPostgres(3002)).toMatchObject({ name: 'postgres only' });
      expect(await read.findById(3002n)).toBeUndefined();
      expect(await read.findById(3001n)).toBeDefined();
      expect(r.stats()).toMatchObject({ writes: 3, secondaryWrites: 1, secondaryWriteFailures: 2, reconcile: { queued: 2, depth: 2 } });
      expect(failures.map((f) => [f.side, f.operation, f.queued])).toEqual([
        ['iceberg', 'write', true],
        ['iceberg', 'write', true],
      ]);
      const queue = ReconcileQueue.of(catalog, ITEMS);
      expect((await queue.entries()).map((e) => [e.entry.operation, e.entry.key, e.entry.source, e.entry.target])).toEqual([
        ['save', [3002n], 'postgres', 'iceberg'],
        ['delete', [3001n], 'postgres', 'iceberg'],
      ]);

      let out = '';
      expect(await reconcileCommand(['--warehouse', warehouse, '--source', url], { write: (t: string) => ((out += t), true) }, quiet, {})).toBe(0);
      expect(out).toContain('public.items');
      expect(out).toContain('2 applied, 0 left');
      expect(await queue.depth()).toBe(0);
      expect(await read.findById(3002n)).toMatchObject({ name: 'postgres only' });
      expect(await read.findById(3001n)).toBeUndefined();
      out = '';
      expect(await reconcileCommand(['--warehouse', warehouse, '--source', url], { write: (t: string) => ((out += t), true) }, quiet, {})).toBe(0);
      expect(out).toBe('nothing to reconcile\n');
    } finally {
      await r.close();
      await reader.close();
    }
  });

  it('dual writes with Iceberg primary: a failed PostgreSQL write never fails the caller and is reconciled', async () => {
    const r = router(await flags(ICEBRIDGE_FLAGS.useIcebergAsPrimary, ICEBRIDGE_FLAGS.dualWriteMode), {
      icebergWrites: { windowMs: 0 },
      onSecondaryError: () => undefined,
    });
    try {
      const items = await r.table('public.items');
      await items.save({ id: 4001n, name: 'both', qty: 1, price: 1n, note: null });
      expect(await inPostgres(4001)).toMatchObject({ name: 'both' });
      await withClient(url, (client) => client.query(`INSERT INTO blocked VALUES (true)`));
      await items.save({ id: 4002n, name: 'iceberg only', qty: 2, price: 3n, note: 'x' });
      await items.delete(4001n);
      await withClient(url, (client) => client.query(`DELETE FROM blocked`));
      expect(await inPostgres(4002)).toBeUndefined();
      expect(await inPostgres(4001)).toBeDefined();
      expect(r.stats()).toMatchObject({ secondaryWriteFailures: 2, reconcile: { queued: 2, depth: 2 } });
      expect(await reconcileCommand(['--warehouse', warehouse, '--source', url, '--tables', 'public.items'], quiet, quiet, {})).toBe(0);
      expect(await inPostgres(4002)).toEqual({ id: '4002', name: 'iceberg only', qty: 2, price: '0.03', note: 'x' });
      expect(await inPostgres(4001)).toBeUndefined();
    } finally {
      await r.close();
    }
  });
});
