/**
 * Point-in-time restore against a real PostgreSQL: the hostile all-types table of the edge fixture and Pagila
 * tables are migrated, changed and migrated again (a second snapshot), then restored as of the first snapshot, into
 * new tables and in place. PostgreSQL's own row text of the restored table must equal the rows as they were before
 * the change (an independent check), the restore's own full verification must pass, the backup must hold the rows
 * the table had just before, and a deliberately broken load must be caught by the verification.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreCommand } from '../../cli/commands/restore';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import { appHostJson, loadFunctionModules } from '../../cli/support/local-run';
import { runMigration } from '../../cli/support/run-migration';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { ancestorsOf } from '../../shared/iceberg/spec/table-metadata';
import type { Snapshot } from '../../shared/iceberg/spec/snapshot';
import { connectPostgres } from '../../shared/postgres/connection';
import { quoteQualified } from '../../shared/postgres/identifiers';
import { restoreTable } from '../../shared/restore/restore-table';
import { restoreTables } from '../../shared/restore/restore-tables';
import type { RestoreOutcome } from '../../shared/restore/restore-run';
import type { RunEnvironment } from '../../shared/run/environment';
import { PAGILA_SQL, type PostgresInstance, startPostgres } from './support/postgres';

const EDGE_SQL = path.resolve(__dirname, '../postgres/fixtures/edge-cases.sql');
const EDGE = 'edge "cases"';
const ORDER = { schema: EDGE, name: 'Order' };
const PAGILA = ['actor', 'language', 'film', 'film_actor'];
/** Tables of the shapes a restore treats apart: partitioned, an inheritance parent, an identity column. */
const SHAPES = [
  { schema: 'public', name: 'payment', namespace: 'public' },
  { schema: EDGE, name: 'parent_inh', namespace: 'edge' },
  { schema: 'public', name: 'ticket', namespace: 'public' },
];

let pg: PostgresInstance;
let dir: string;
let url: string;
let warehouse: string;
let client: Client;
let env: RunEnvironment;
/** Row texts of tables before the change, by `schema.table`. */
const before = new Map<string, string[]>();
/** The first snapshot of each Iceberg table, by name. */
const first = new Map<string, Snapshot>();

async function rowTexts(schema: string, table: string): Promise<string[]> {
  const relation = quoteQualified(schema, table);
  const { rows } = await client.query<{ t: string }>(`SELECT (r.*)::text AS t FROM ${relation} r`);
  return rows.map((r) => r.t).sort();
}

async function migrate(schema: string, tables: string[], namespace: string): Promise<void> {
  const report = await runMigration({
    input: { sourceSchema: schema, namespace, tables, concurrency: 1, verify: 'none' },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(dir, 'state'),
  });
  const failed = report.details.filter((d) => d.status !== 'committed');
  if (report.runtimeStatus !== 'Completed' || failed.length > 0) throw new Error(`migration failed: ${report.lastError ?? ''} ${JSON.stringify(failed)}`);
}

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('pagila');
  await pg.loadSqlFile('pagila', PAGILA_SQL);
  await pg.loadSqlFile('pagila', EDGE_SQL);
  client = await connectPostgres(url);
  // Row texts as the verifier's settings print them, so both reads compare like with like.
  await client.query("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3; SET bytea_output = 'hex'");
  dir = await mkdtemp(path.join(tmpdir(), 'icebridge-restore-'));
  warehouse = path.join(dir, 'warehouse');
  env = { connectSource: () => connectPostgres(url), catalog: new HadoopCatalog(new LocalFileIO(), warehouse) };

  await client.query('CREATE TABLE public.ticket (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text)');
  await client.query("INSERT INTO public.ticket (note) SELECT 'n' || g FROM generate_series(1, 30) g");
  await migrate(EDGE, ['Order', 'parent_inh'], 'edge');
  await migrate('public', [...PAGILA, 'payment', 'ticket'], 'public');
  before.set('Order', await rowTexts(EDGE, 'Order'));
  for (const t of SHAPES) before.set(t.name, await rowTexts(t.schema, t.name));
  for (const t of PAGILA) before.set(t, await rowTexts('public', t));
  // Snapshot 2: every kind of change since snapshot 1.
  await client.query(`UPDATE ${quoteQualified(EDGE, 'Order')} SET f8 = 42.5, jb = '{"changed": true}', ta = '{changed}' WHERE "select" = 2`);
  await client.query(`DELETE FROM ${quoteQualified(EDGE, 'Order')} WHERE "select" = 3`);
  await client.query(`INSERT INTO ${quoteQualified(EDGE, 'Order')} ("select", "a""b;DROP TABLE x") VALUES (7, 'new')`);
  await client.query(`DELETE FROM film_actor WHERE film_id = 1`);
  await client.query(`UPDATE film SET title = title || ' (changed)', rental_rate = 9.99 WHERE film_id <= 10`);
  await client.query(`UPDATE actor SET last_name = 'CHANGED' WHERE actor_id = 1`);
  await client.query(`UPDATE payment SET amount = amount + 1 WHERE payment_id % 100 = 0`);
  await client.query(`DELETE FROM payment WHERE payment_id % 777 = 0`);
  await client.query(`UPDATE ${quoteQualified(EDGE, 'parent_inh')} SET v = 'changed'`);
  await client.query(`DELETE FROM public.ticket WHERE id > 25`);
  await migrate(EDGE, ['Order', 'parent_inh'], 'edge');
  await migrate('public', [...PAGILA, 'payment', 'ticket'], 'public');
  for (const [namespace, name] of [['edge', 'Order'], ...PAGILA.map((t) => ['public', t]), ...SHAPES.map((t) => [t.namespace, t.name])] as Array<
    [string, string]
  >) {
    const table = await env.catalog.loadTable({ namespace: [namespace], name });
    const ancestors = ancestorsOf(table.metadata, table.metadata['current-snapshot-id']);
    expect(ancestors.length).toBe(2);
    first.set(name, ancestors[1]!);
  }
}, 600_000);

afterAll(async () => {
  await client?.end();
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('restore into a new table', () => {
  it('gives back every hostile value of the first snapshot exactly', async () => {
    const snapshot = first.get('Order')!;
    const result = await restoreTable(env, {
      table: ORDER,
      target: { namespace: ['edge'], name: 'Order' },
      asOf: { snapshotId: snapshot['snapshot-id'] },
      mode: { into: 'Order restored' },
    });
    expect(result.verification.error).toBeUndefined();
    expect(result.verification.rows?.differing).toBe('0');
    expect(result.ok).toBe(true);
    expect(result.rows).toBe(String(before.get('Order')!.length));
    expect(result.snapshotId).toBe(snapshot['snapshot-id'].toString());
    expect(await rowTexts(EDGE, 'Order restored')).toEqual(before.get('Order'));
    // The live table still holds the change: a restore into a new table leaves it alone.
    expect(await rowTexts(EDGE, 'Order')).not.toEqual(before.get('Order'));
  });

  it('restores Pagila tables in foreign-key order, as of a time, in batches', async () => {
    const result = await restoreTables(env, {
      schema: 'public',
      tables: ['film_actor', 'film', 'actor', 'language'],
      asOf: { timestampMs: first.get('film_actor')!['timestamp-ms'] },
      mode: { intoSuffix: '_restored' },
      batchRows: 1000,
    });
    expect(result.failed).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.order.indexOf('public.film')).toBeLessThan(result.order.indexOf('public.film_actor'));
    expect(result.order.indexOf('public.language')).toBeLessThan(result.order.indexOf('public.film'));
    for (const t of PAGILA) expect(await rowTexts('public', `${t}_restored`)).toEqual(before.get(t));
    const filmActor = result.restored.find((r) => r.table === 'public.film_actor')!;
    expect(filmActor.transactions).toBeGreaterThan(5);
  });

  it('drops a new table whose load fails, batches already committed included', async () => {
    await expect(
      restoreTable(env, {
        table: { schema: 'public', name: 'film_actor' },
        asOf: { snapshotId: first.get('film_actor')!['snapshot-id'] },
        mode: { into: 'film_actor_half' },
        batchRows: 1000,
        // A duplicate key in the fourth batch: three batches are committed by then.
        tamper: (row, i) => (i === 3500 ? [1, 1, row[2]!] : row),
      }),
    ).rejects.toThrow(/duplicate key value/);
    const { rows } = await client.query("SELECT 1 FROM pg_class WHERE relname = 'film_actor_half'");
    expect(rows).toEqual([]);
  });

  it('refuses a name that is taken, and leaves that table alone', async () => {
    await expect(
      restoreTable(env, { table: { schema: 'public', name: 'actor' }, asOf: { snapshotId: first.get('actor')!['snapshot-id'] }, mode: { into: 'film' } }),
    ).rejects.toThrow(/public\.film already exists/);
  });
});

describe('restore in place', () => {
  it('keeps the rows it replaces in a backup table and loads the snapshot in one transaction', async () => {
    const current = await rowTexts(EDGE, 'Order');
    const result = await restoreTable(env, {
      table: ORDER,
      target: { namespace: ['edge'], name: 'Order' },
      asOf: { timestampMs: first.get('Order')!['timestamp-ms'] },
      mode: { replace: true },
      now: () => new Date('2026-12-06T07:30:00Z'),
    });
    expect(result.ok).toBe(true);
    expect(result.backupTable).toBe('"edge ""cases"""."Order_icebridge_backup_20261206073000"');
    expect(result.transactions).toBe(1);
    expect(await rowTexts(EDGE, 'Order')).toEqual(before.get('Order'));
    // The backup holds the table as it was just before, every value as PostgreSQL printed it.
    expect(await rowTexts(EDGE, 'Order_icebridge_backup_20261206073000')).toEqual(current);
  });

  it('refuses a table other tables reference, and changes nothing', async () => {
    const current = await rowTexts('public', 'actor');
    await expect(
      restoreTable(env, { table: { schema: 'public', name: 'actor' }, asOf: { snapshotId: first.get('actor')!['snapshot-id'] }, mode: { replace: true } }),
    ).rejects.toThrow(/foreign keys of public\.film_actor \(film_actor_actor_id_fkey\) reference it/);
    expect(await rowTexts('public', 'actor')).toEqual(current);
  });

  it('rolls back a load that fails, leaving the table and no backup', async () => {
    const current = await rowTexts('public', 'film_actor');
    await expect(
      restoreTable(env, {
        table: { schema: 'public', name: 'film_actor' },
        asOf: { snapshotId: first.get('film_actor')!['snapshot-id'] },
        mode: { replace: true },
        now: () => new Date('2026-12-06T07:31:00Z'),
        // A duplicate key half way: the COPY fails after thousands of rows went in.
        tamper: (row, i) => (i === 3000 ? [1, 1, row[2]!] : row),
      }),
    ).rejects.toThrow(/rolled back, the table is as it was/);
    expect(await rowTexts('public', 'film_actor')).toEqual(current);
    const { rows } = await client.query("SELECT 1 FROM pg_class WHERE relname = 'film_actor_icebridge_backup_20261206073100'");
    expect(rows).toEqual([]);
  });
});

describe('tables of other shapes', () => {
  it('replaces a partitioned table through its parent, every leaf emptied and loaded in one transaction', async () => {
    const current = await rowTexts('public', 'payment');
    const result = await restoreTable(env, {
      table: { schema: 'public', name: 'payment' },
      asOf: { snapshotId: first.get('payment')!['snapshot-id'] },
      mode: { replace: true },
      now: () => new Date('2026-12-06T07:40:00Z'),
    });
    expect(result.ok).toBe(true);
    expect(await rowTexts('public', 'payment')).toEqual(before.get('payment'));
    expect(await rowTexts('public', 'payment_icebridge_backup_20261206074000')).toEqual(current);
  });

  it("replaces an inheritance parent's own rows and leaves its child's alone", async () => {
    const child = await rowTexts(EDGE, 'child_inh');
    const result = await restoreTable(env, {
      table: { schema: EDGE, name: 'parent_inh' },
      target: { namespace: ['edge'], name: 'parent_inh' },
      asOf: { snapshotId: first.get('parent_inh')!['snapshot-id'] },
      mode: { replace: true },
    });
    expect(result.ok).toBe(true);
    expect(result.rows).toBe('1');
    const { rows } = await client.query<{ t: string }>(`SELECT (r.*)::text AS t FROM ONLY ${quoteQualified(EDGE, 'parent_inh')} r`);
    expect(rows.map((r) => r.t)).toEqual(['(1,parent)']);
    expect(await rowTexts(EDGE, 'child_inh')).toEqual(child);
  });

  it('gives a new table its own identity sequence, past the restored values', async () => {
    const result = await restoreTable(env, {
      table: { schema: 'public', name: 'ticket' },
      asOf: { snapshotId: first.get('ticket')!['snapshot-id'] },
      mode: { into: 'ticket_restored' },
    });
    expect(result.ok).toBe(true);
    expect(await rowTexts('public', 'ticket_restored')).toEqual(before.get('ticket'));
    const { rows } = await client.query<{ id: number }>("INSERT INTO public.ticket_restored (note) VALUES ('next') RETURNING id");
    expect(rows[0]!.id).toBe(31);
  });
});

describe('a broken restore', () => {
  it('is caught by the verification when a row is dropped', async () => {
    const result = await restoreTable(env, {
      table: { schema: 'public', name: 'film' },
      asOf: { snapshotId: first.get('film')!['snapshot-id'] },
      mode: { into: 'film_broken_row' },
      tamper: (row, i) => (i === 17 ? undefined : row),
    });
    expect(result.ok).toBe(false);
    expect(result.verification.status).toBe('differs');
    expect(result.verification.counts?.ok).toBe(false);
    expect(result.verification.rows?.differing).toBe('1');
  });

  it('is caught by the verification when one value is altered', async () => {
    const result = await restoreTable(env, {
      table: ORDER,
      target: { namespace: ['edge'], name: 'Order' },
      asOf: { snapshotId: first.get('Order')!['snapshot-id'] },
      mode: { into: 'Order broken value' },
      // f4 of row 2 is NaN in the fixture; 1.5 instead.
      tamper: (row) => (row[0] === 2 ? row.map((v, c) => (c === 3 ? 1.5 : v)) : row),
    });
    expect(result.ok).toBe(false);
    expect(result.verification.rows?.differences).toEqual([expect.objectContaining({ kind: 'VALUE_MISMATCH', key: { select: '2' } })]);
    expect(result.verification.rows?.differences[0]?.columns.map((c) => c.column)).toEqual(['f4']);
  });
});

describe('what cannot be restored', () => {
  it('a time before the first snapshot is an error naming the earliest one', async () => {
    const earliest = first.get('actor')!;
    await expect(
      restoreTable(env, { table: { schema: 'public', name: 'actor' }, asOf: { timestampMs: earliest['timestamp-ms'] - 1 }, mode: { into: 'actor_too_early' } }),
    ).rejects.toThrow(`the earliest available is ${earliest['snapshot-id']} of ${new Date(earliest['timestamp-ms']).toISOString()}`);
  });

  it('a column whose type changed since the snapshot is refused by name before anything is written', async () => {
    await client.query('CREATE TABLE public.widened (id int PRIMARY KEY, n int)');
    await client.query('INSERT INTO public.widened VALUES (1, 1)');
    await migrate('public', ['widened'], 'public');
    await client.query('ALTER TABLE public.widened ALTER COLUMN n TYPE bigint');
    const table = await env.catalog.loadTable({ namespace: ['public'], name: 'widened' });
    await expect(
      restoreTable(env, {
        table: { schema: 'public', name: 'widened' },
        asOf: { snapshotId: table.metadata['current-snapshot-id']! },
        mode: { into: 'widened_restored' },
      }),
    ).rejects.toThrow(/cannot restore public\.widened exactly: n was int in the snapshot, while bigint maps to long now/);
    const { rows } = await client.query("SELECT 1 FROM pg_class WHERE relname = 'widened_restored'");
    expect(rows).toEqual([]);
  });
});

describe('icebridge restore', () => {
  function output(): { write(text: string): boolean; text: string } {
    const o = { text: '', write: (t: string) => ((o.text += t), true) };
    return o;
  }
  const cli = async (args: string[]) => {
    const out = output();
    const err = output();
    const code = await restoreCommand(['--warehouse', warehouse, '--source', url, ...args], out, err, {});
    return { code, out: out.text, err: err.text };
  };

  it('restores as of an ISO time into a new table and prints rows and verification, exit 0', async () => {
    const at = new Date(first.get('language')!['timestamp-ms']).toISOString();
    const run = await cli(['--table', 'language', '--as-of', at, '--into', 'language_cli']);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain(`restored public.language as of snapshot ${first.get('language')!['snapshot-id']}`);
    expect(run.out).toMatch(/: 6 rows into public\.language_cli in 1 transaction\n {2}verification \(full\): exact, 6 rows compared/);
    expect(await rowTexts('public', 'language_cli')).toEqual(before.get('language'));
  });

  it('a time before the first snapshot fails with exit 1, naming the earliest', async () => {
    const run = await cli(['--table', 'language', '--as-of', '2001-01-01T00:00:00Z', '--into', 'language_early']);
    expect(run.code).toBe(1);
    expect(run.err).toContain(`has no snapshot as of 2001-01-01T00:00:00.000Z: the earliest available is ${first.get('language')!['snapshot-id']}`);
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['--table', 'language', '--as-of', 'yesterday', '--into', 'x'])).code).toBe(2);
    expect((await cli(['--table', 'language', '--as-of', '1', '--into', 'x', '--replace'])).code).toBe(2);
    expect((await cli(['--tables', 'language', '--as-of', '1', '--into', 'x'])).code).toBe(2);
    expect((await cli(['--table', 'no_such_table', '--as-of', '1', '--into', 'x'])).code).toBe(2);
  });
});

describe('POST /api/restores', () => {
  let host: LocalHost;
  let base: string;

  beforeAll(async () => {
    // The app reads its source and warehouse from settings, as on Azure.
    process.env.ICEBRIDGE_SOURCE_URL = url;
    process.env.ICEBRIDGE_WAREHOUSE = warehouse;
    // Starting a restore needs an operator: under a local host, the local token.
    process.env.ICEBRIDGE_LOCAL_TOKEN = 'restore-test-token';
    host = await LocalHost.load(loadFunctionModules, { stateDir: path.join(dir, 'state-serve'), hostJson: appHostJson(), log: silentHostLog });
    base = (await host.listen(0)).url;
  }, 120_000);

  afterAll(async () => {
    await host?.close();
    delete process.env.ICEBRIDGE_LOCAL_TOKEN;
  });

  async function call(
    method: 'GET' | 'POST',
    route: string,
    body?: unknown,
    token = 'restore-test-token',
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${base}/api${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  it('restores tables in foreign-key order as an orchestration, one activity per table, and reports each', async () => {
    const body = {
      idempotencyKey: 'restore-http-1',
      tables: ['film', 'language'],
      asOf: new Date(first.get('film')!['timestamp-ms']).toISOString(),
      intoSuffix: '_http',
    };
    const started = await call('POST', '/restores', body);
    expect(started.status).toBe(202);
    expect(started.json.alreadyStarted).toBe(false);
    expect((await call('POST', '/restores', body)).json.alreadyStarted).toBe(true);
    let report: { status: number; json: Record<string, unknown> };
    const deadline = Date.now() + 120_000;
    do {
      await new Promise((resolve) => setTimeout(resolve, 200));
      report = await call('GET', '/restores/restore-http-1');
    } while (report.status === 202 && Date.now() < deadline);
    expect(report.status).toBe(200);
    const outcome = report.json.outcome as RestoreOutcome;
    expect(outcome.ok).toBe(true);
    expect(outcome.order).toEqual(['language', 'film']);
    expect(outcome.restored.map((r) => [r.restoredInto, r.verification.status, r.ok])).toEqual([
      ['public.language_http', 'ok', true],
      ['public.film_http', 'ok', true],
    ]);
    expect(await rowTexts('public', 'film_http')).toEqual(before.get('film'));
  });

  it('refuses bad bodies with 400 and a reason, and unknown tables before anything starts', async () => {
    expect((await call('POST', '/restores', { table: 'film', asOf: '1', into: 'x' }, 'wrong-token')).status).toBe(401);
    const bad = await call('POST', '/restores', { table: 'film', asOf: 'yesterday', into: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.json.reason).toMatch(/snapshot id or an ISO 8601 time/);
    expect((await call('POST', '/restores', { table: 'film', asOf: '1', into: 'x', replace: true })).status).toBe(400);
    const unknown = await call('POST', '/restores', { table: 'no_such', asOf: '1', into: 'x' });
    expect(unknown.status).toBe(400);
    expect(String(unknown.json.reason)).toContain('no_such');
  });
});
