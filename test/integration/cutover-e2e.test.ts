/**
 * A whole cutover on the local host, against real servers: `migrate --cdc` while an application writes to
 * PostgreSQL; the sync carries the changes; reads shift to Iceberg at 10%, 50% and 100% with validated reads and
 * no difference; with the sync stopped, Iceberg becomes the primary and the router writes there (inserts,
 * updates, deletes; refused while the sync still streamed the table); an emergency rollback sends traffic back to
 * PostgreSQL; the verification then finds what PostgreSQL misses, reverse replay from the snapshot at the flip
 * brings it up to date, and the full verification is exact, with every write made while Iceberg was primary in
 * PostgreSQL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCommand } from '../../cli/commands/sync';
import { runMigration } from '../../cli/support/run-migration';
import { FlagAuditTrail } from '../../shared/flags/audit-trail';
import { ICEBRIDGE_FLAGS, percentageFlag, switchFlag } from '../../shared/flags/feature-flag';
import { type RollbackAlert, rollbackToPostgres, setFlag } from '../../shared/flags/flag-changes';
import { FlagEvaluator, stickyPercentile } from '../../shared/flags/flag-evaluator';
import { LocalFlagStore } from '../../shared/flags/local-flag-store';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO, createFileIO } from '../../shared/iceberg/io';
import { ancestorsOf, currentSnapshot } from '../../shared/iceberg/spec/table-metadata';
import { handoverName } from '../../shared/migrate/handover-names';
import { connectPostgres } from '../../shared/postgres/connection';
import { replayIntoPostgres } from '../../shared/replay/replay-tables';
import { ROUTER_BATCH_PROPERTY } from '../../shared/router/iceberg-writer';
import { type ReadDifference, type Router, createRouter } from '../../shared/router/router';
import type { RunEnvironment } from '../../shared/run/environment';
import { appliedLsn } from '../../shared/sync/applied-lsn';
import { readTableStop } from '../../shared/sync/table-stop';
import { verifyTable } from '../../shared/verify/steps/verify-table';
import { slotCaughtUp } from './support/cdc-proof';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const ORDERS = { namespace: ['public'], name: 'orders' };
const quiet = { write: () => true };
const author = { actor: 'cutover-test', reason: 'end-to-end cutover' };

let pg: PostgresInstance;
let url: string;
let workDir: string;
let warehouse: string;
let catalog: HadoopCatalog;
let runId: string;
let store: LocalFlagStore;
let audit: FlagAuditTrail;
let router: Router;
const differences: ReadDifference[] = [];
let sync: { controller: AbortController; done: Promise<number> } | undefined;
let flipSnapshot: bigint;

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('cutover');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-cutover-'));
  warehouse = path.join(workDir, 'warehouse');
  catalog = new HadoopCatalog(new LocalFileIO(), warehouse);
  await withClient(url, async (client) => {
    await client.query(`CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, status text NOT NULL, total numeric(10,2), note text)`);
    await client.query(
      `INSERT INTO orders SELECT g, g % 97, 'open', g * 1.25, CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END FROM generate_series(1, 2000) g`,
    );
  });
  store = new LocalFlagStore(path.join(workDir, 'flags', 'flags.json'));
  const auditRoot = path.join(workDir, 'flag-audit');
  audit = new FlagAuditTrail(createFileIO(auditRoot), auditRoot);
}, 300_000);

afterAll(async () => {
  sync?.controller.abort();
  await sync?.done.catch(() => undefined);
  await router?.close().catch(() => undefined);
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function envOf(): RunEnvironment {
  return { connectSource: () => connectPostgres(url), catalog } as RunEnvironment;
}

async function verifyOrders(): Promise<{ status: string; rows: number | undefined }> {
  const result = await verifyTable(envOf(), { source: { schema: 'public', name: 'orders' }, target: ORDERS }, { level: 'full' });
  return { status: result.status, rows: result.rows?.differences.length };
}

async function flag(name: string, value: boolean | number): Promise<void> {
  await setFlag(store, audit, { name, flag: typeof value === 'number' ? percentageFlag(name, value) : switchFlag(name, value) }, author);
}

/** An application writing to PostgreSQL in its own transactions until told to stop. */
function startWriter(client: Client): { ops: () => number; stop: () => Promise<void> } {
  let ops = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      ops++;
      await client.query(`INSERT INTO orders VALUES ($1, $2, 'new', $3, 'written during the copy')`, [100_000 + ops, ops % 97, ops]);
      if (ops % 3 === 0) await client.query(`UPDATE orders SET total = total + 1, status = 'changed' WHERE id = $1`, [1 + ((ops * 7) % 2000)]);
      if (ops % 5 === 0) await client.query(`DELETE FROM orders WHERE id = $1`, [100_000 + ops - 2]);
    }
  })();
  return {
    ops: () => ops,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

async function inPostgres(id: number): Promise<Record<string, unknown> | undefined> {
  return withClient(
    url,
    async (client) => (await client.query<Record<string, unknown>>(`SELECT status, total::text, note FROM orders WHERE id = $1`, [id])).rows[0],
  );
}

describe('cutover, end to end on the local host', () => {
  it('1. migrates with --cdc while the application writes to PostgreSQL', async () => {
    const client = await connectPostgres(url);
    try {
      const writer = startWriter(client);
      const report = await runMigration({
        input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['orders'], verify: 'none', cdc: true },
        sourceUrl: url,
        warehouse,
        stateDir: path.join(workDir, 'state'),
      });
      // The application goes on after the hand-over: those changes reach Iceberg only through the sync.
      const atHandover = writer.ops();
      while (writer.ops() < atHandover + 60) await new Promise((resolve) => setTimeout(resolve, 20));
      await writer.stop();
      expect(report.runtimeStatus).toBe('Completed');
      expect(report.cdc).toBeDefined();
      runId = report.id;
    } finally {
      await client.end();
    }
  });

  it('2. the sync runs; reads shift to 10%, 50% and 100% with validated reads and no difference', async () => {
    const controller = new AbortController();
    sync = {
      controller,
      done: syncCommand(['--run', runId, '--source', url, '--warehouse', warehouse, '--flush-interval-ms', '200'], quiet, quiet, {}, controller.signal),
    };
    router = createRouter({
      postgres: { url, max: 4 },
      warehouse,
      flags: new FlagEvaluator(store, { refreshIntervalMs: 0 }),
      metadataTtlMs: 0,
      icebergWrites: { windowMs: 50 },
      onDifference: (d) => differences.push(d),
    });
    const orders = await router.table('public.orders');
    // PostgreSQL is the primary: the application's writes through the router go there, the sync carries them.
    await orders.save({ id: 50_001n, customer: 1, status: 'open', total: 100n, note: 'through the router' });
    await orders.save({ id: 7n, customer: 7, status: 'router update', total: 875n, note: 'note 7' });
    expect(await orders.delete(8n)).toBe(true);
    await slotCaughtUp(url, runId);
    // The slot is confirmed only after the commits: caught up, Iceberg equals PostgreSQL at once (nothing writes now).
    expect(await verifyOrders()).toEqual({ status: 'ok', rows: 0 });
    await flag(ICEBRIDGE_FLAGS.validateDualWrites, true);
    await flag(ICEBRIDGE_FLAGS.useIcebergStorage, true);
    const keys = [7n, 8n, 50_001n, 100_001n, 100_003n, ...Array.from({ length: 60 }, (_, i) => BigInt(1 + i * 33))];
    for (const percent of [10, 50, 100]) {
      await flag(ICEBRIDGE_FLAGS.icebergReadPercentage, percent);
      for (const key of keys) await orders.findById(key, { routingKey: `customer-${key}` });
      expect(differences, `differences at ${percent}%`).toEqual([]);
      // The same keys unvalidated: the ones inside the percentage (sticky per routing key) read Iceberg alone.
      await flag(ICEBRIDGE_FLAGS.validateDualWrites, false);
      const before = router.stats().reads.iceberg;
      for (const key of keys) await orders.findById(key, { routingKey: `customer-${key}` });
      const inside = keys.filter((key) => stickyPercentile(`customer-${key}`, ICEBRIDGE_FLAGS.icebergReadPercentage) < percent).length;
      expect(router.stats().reads.iceberg - before).toBe(inside);
      if (percent === 100) expect(inside).toBe(keys.length);
      await flag(ICEBRIDGE_FLAGS.validateDualWrites, true);
    }
    expect(router.stats()).toMatchObject({ differences: 0, secondaryFailures: 0, validatedReads: keys.length * 3 });
  });

  it('3. with the sync stopped, Iceberg becomes the primary and takes inserts, updates and deletes', async () => {
    const orders = await router.table('public.orders');
    await flag(ICEBRIDGE_FLAGS.useIcebergAsPrimary, true);
    // Two writers of one table drift apart: while the sync streams it, the router refuses.
    await expect(orders.save({ id: 60_000n, customer: 1, status: 'x', total: 1n, note: null })).rejects.toMatchObject({ code: 'SYNC_WRITING' });
    sync!.controller.abort();
    expect(await sync!.done).toBe(0);
    sync = undefined;
    const { metadata } = await catalog.loadTable(ORDERS);
    flipSnapshot = currentSnapshot(metadata)!['snapshot-id'];
    const position = appliedLsn(metadata);

    const inserts = Array.from({ length: 20 }, (_, i) =>
      orders.save({ id: BigInt(60_001 + i), customer: i, status: 'on iceberg', total: BigInt(i * 100), note: `new ${i}` }),
    );
    const updates = Array.from({ length: 10 }, (_, i) => orders.save({ id: BigInt(101 + i), status: 'updated on iceberg' }));
    const deletes = Array.from({ length: 5 }, (_, i) => orders.delete(BigInt(201 + i)));
    await Promise.all([...inserts, ...updates]);
    expect(await Promise.all(deletes)).toEqual([true, true, true, true, true]);
    await orders.save({ id: 60_001n, note: 'updated twice' });
    expect(await orders.delete(60_002n)).toBe(true);

    const after = (await catalog.loadTable(ORDERS)).metadata;
    const history = ancestorsOf(after, after['current-snapshot-id']);
    const made = history.slice(
      0,
      history.findIndex((s) => s['snapshot-id'] === flipSnapshot),
    );
    expect(made.length).toBeGreaterThan(0);
    // The router's commits carry its batch id and leave change capture's position where the sync left it.
    for (const s of made) expect(s.summary[ROUTER_BATCH_PROPERTY]).toBeDefined();
    expect(appliedLsn(after)).toBe(position);
    expect(readTableStop(after, handoverName(runId))?.reason).toMatch(/the router writes this table/);
    expect(await orders.findById(60_001n)).toMatchObject({ status: 'on iceberg', note: 'updated twice' });
    expect(await inPostgres(60_001)).toBeUndefined();
    expect(await inPostgres(101)).toMatchObject({ status: expect.not.stringMatching(/iceberg/) as unknown });
  });

  it('4. an emergency rollback sends every read and write back to PostgreSQL', async () => {
    const alerts: RollbackAlert[] = [];
    await rollbackToPostgres(store, audit, author, (a) => alerts.push(a));
    expect(alerts).toHaveLength(1);
    const before = router.stats().reads;
    const orders = await router.table('public.orders');
    await orders.findById(1n, { routingKey: 'customer-1' });
    expect(router.stats().reads).toEqual({ postgres: before.postgres + 1, iceberg: before.iceberg });
  });

  it('5-6. the verification finds what PostgreSQL misses; reverse replay from the flip makes it exact, with every write', async () => {
    // Without the reverse replay, PostgreSQL lacks the writes made while Iceberg was primary, and the check says so.
    const unreconciled = await verifyOrders();
    expect(unreconciled.status).toBe('differs');
    expect(unreconciled.rows).toBeGreaterThan(0);

    // Where change capture stopped writing is where the replay starts by default: the router did not move it.
    const [replayed] = await replayIntoPostgres(envOf(), { schema: 'public', tables: ['orders'] });
    expect(replayed!.from).toBe(String(flipSnapshot));
    expect(await verifyOrders()).toEqual({ status: 'ok', rows: 0 });

    for (let i = 0; i < 20; i++) {
      if (i === 1) expect(await inPostgres(60_002)).toBeUndefined();
      else expect(await inPostgres(60_001 + i)).toEqual({ status: 'on iceberg', total: `${i}.00`, note: i === 0 ? 'updated twice' : `new ${i}` });
    }
    for (let i = 0; i < 10; i++) expect(await inPostgres(101 + i)).toMatchObject({ status: 'updated on iceberg' });
    for (let i = 0; i < 5; i++) expect(await inPostgres(201 + i)).toBeUndefined();
    expect(await inPostgres(50_001)).toMatchObject({ note: 'through the router' });
  });
});
