/**
 * The state schema on a real PostgreSQL: the numbered migrations apply once each (a second run, or a second runner
 * started at the same moment, applies nothing more), `status` lists them, an edited applied file is refused by
 * name; the transaction log records a flag flip with its before and after, and a state database that cannot be
 * reached costs the action nothing but a counted warning without secrets.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dbCommand } from '../../cli/commands/db';
import { freePort } from '../../cli/support/free-port';
import { runMigration } from '../../cli/support/run-migration';
import { FlagAuditTrail } from '../../shared/flags/audit-trail';
import { ICEBRIDGE_FLAGS, percentageFlag, switchFlag } from '../../shared/flags/feature-flag';
import { rollbackToPostgres, setFlag } from '../../shared/flags/flag-changes';
import { LocalFlagStore } from '../../shared/flags/local-flag-store';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO, createFileIO } from '../../shared/iceberg/io';
import { restoreTable } from '../../shared/restore/restore-table';
import { TableAuditTrail } from '../../shared/restore/table-audit';
import { connectPostgres } from '../../shared/postgres/connection';
import { defaultMigrationsDirectory, readMigrationFiles } from '../../shared/state-db/migration-files';
import { migrateStateDatabase, migrationLockName, stateDatabaseStatus } from '../../shared/state-db/migration-runner';
import { recordMigrationEnd, recordMigrationStart, recordTableCommitted } from '../../shared/state-db/migration-state';
import { listActions, recordJobAction, transactionLogFigures } from '../../shared/state-db/transaction-log';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let url: string;
let dir: string;
const clients: Client[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('state');
  dir = await mkdtemp(path.join(tmpdir(), 'icebridge-state-db-'));
});

afterAll(async () => {
  for (const client of clients) await client.end().catch(() => undefined);
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function connect(): Promise<Client> {
  const client = await connectPostgres(url);
  clients.push(client);
  return client;
}

/** A copy of the package's migrations plus `extra` files, in a folder of its own. */
async function migrationsFolder(name: string, extra: Record<string, string> = {}): Promise<string> {
  const folder = path.join(dir, name);
  await mkdir(folder, { recursive: true });
  const source = defaultMigrationsDirectory();
  for (const file of await readMigrationFiles(source)) await copyFile(path.join(source, file.name), path.join(folder, file.name));
  for (const [file, sql] of Object.entries(extra)) await writeFile(path.join(folder, file), sql);
  return folder;
}

function capture(): { out: { write(text: string): void }; err: { write(text: string): void }; text: () => string; errors: () => string } {
  let out = '';
  let err = '';
  return { out: { write: (t) => void (out += t) }, err: { write: (t) => void (err += t) }, text: () => out, errors: () => err };
}

describe('migrations', () => {
  it('applies every file once, lists them, and a second run applies nothing', async () => {
    const client = await connect();
    const files = await readMigrationFiles();
    expect(files.map((f) => f.name)).toContain('0001_icebridge_schema.sql');
    expect((await stateDatabaseStatus(client, { schema: 'first' })).every((m) => m.state === 'pending')).toBe(true);

    const first = await migrateStateDatabase(client, { schema: 'first' });
    expect(first.applied).toEqual(files.map((f) => f.name));
    const tables = await client.query<{ relname: string }>(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'first' AND c.relkind = 'r' ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.relname)).toEqual([
      'event_snapshots',
      'event_store',
      'migration_checkpoints',
      'migration_runs',
      'outbox',
      'schema_migrations',
      'service_tracking',
      'table_checkpoints',
      'transaction_log',
    ]);
    const status = await stateDatabaseStatus(client, { schema: 'first' });
    expect(status.map((m) => [m.name, m.state, m.checksum])).toEqual(files.map((f) => [f.name, 'applied', f.checksum]));

    const second = await migrateStateDatabase(client, { schema: 'first' });
    expect(second.applied).toEqual([]);
    expect(second.migrations.map((m) => m.appliedAt)).toEqual(status.map((m) => m.appliedAt));
  });

  it('refuses an applied file that was edited afterwards, naming it, and applies nothing', async () => {
    const folder = await migrationsFolder('edited');
    const client = await connect();
    await migrateStateDatabase(client, { schema: 'edited', files: await readMigrationFiles(folder) });
    const first = path.join(folder, '0001_icebridge_schema.sql');
    await writeFile(first, `${await readFile(first, 'utf8')}\nALTER TABLE transaction_log ADD COLUMN extra text;\n`);
    await writeFile(path.join(folder, '9001_later.sql'), 'CREATE TABLE later (n int);\n');
    const edited = await readMigrationFiles(folder);
    await expect(migrateStateDatabase(client, { schema: 'edited', files: edited })).rejects.toThrow(
      /migration 0001_icebridge_schema\.sql changed after it was applied/,
    );
    expect((await stateDatabaseStatus(client, { schema: 'edited', files: edited })).map((m) => [m.name, m.state])).toEqual([
      ['0001_icebridge_schema.sql', 'changed'],
      ['0002_event_sourcing.sql', 'applied'],
      ['9001_later.sql', 'pending'],
    ]);
    expect((await client.query<{ t: string | null }>("SELECT to_regclass('edited.later')::text AS t")).rows[0]!.t).toBeNull();
  });

  it('two runners started together apply each file exactly once and both succeed', async () => {
    const folder = await migrationsFolder('concurrent', {
      '9001_counted.sql': 'CREATE TABLE applied_once (n int);\nINSERT INTO applied_once VALUES (1);\n',
    });
    const files = await readMigrationFiles(folder);
    const holder = await connect();
    const [a, b] = [await connect(), await connect()];
    // Asked now: a client busy waiting for the lock would queue the question behind its wait.
    const pids = [await pid(a), await pid(b)];
    // The barrier: hold the runners' lock until both are waiting for it, so they start at the same moment.
    await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [migrationLockName('concurrent')]);
    const runs = Promise.all([migrateStateDatabase(a, { schema: 'concurrent', files }), migrateStateDatabase(b, { schema: 'concurrent', files })]);
    const waiting = async (): Promise<number> =>
      (
        await holder.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid = ANY($1::int[])", [
          pids,
        ])
      ).rows[0]!.n;
    for (const deadline = Date.now() + 60_000; (await waiting()) < 2;) {
      if (Date.now() > deadline) throw new Error('the two runners never both waited for the migration lock');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await holder.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [migrationLockName('concurrent')]);
    const [first, second] = await runs;
    expect([...first.applied, ...second.applied].sort()).toEqual(files.map((f) => f.name));
    expect([first.applied.length, second.applied.length].sort()).toEqual([0, files.length]);
    expect((await holder.query<{ n: number }>('SELECT count(*)::int AS n FROM concurrent.applied_once')).rows[0]!.n).toBe(1);
    expect((await holder.query<{ n: number }>('SELECT count(*)::int AS n FROM concurrent.schema_migrations')).rows[0]!.n).toBe(files.length);
  });

  it('icebridge db migrate and status work on the database given, and refuse a schema name that is not an identifier', async () => {
    const run = capture();
    expect(await dbCommand(['status', '--database', url, '--schema', 'cli'], run.out, run.err, {})).toBe(1);
    expect(run.text()).toMatch(/0001_icebridge_schema\.sql +pending/);
    expect(run.text()).not.toContain('icebridge-test');
    expect(await dbCommand(['migrate', '--database', url, '--schema', 'cli'], run.out, run.err, {})).toBe(0);
    expect(run.text()).toContain('applied 0001_icebridge_schema.sql');
    const json = capture();
    expect(await dbCommand(['status', '--database', url, '--schema', 'cli', '--json'], json.out, json.err, {})).toBe(0);
    expect(JSON.parse(json.text())).toMatchObject({
      schema: 'cli',
      migrations: [
        { name: '0001_icebridge_schema.sql', state: 'applied' },
        { name: '0002_event_sourcing.sql', state: 'applied' },
      ],
    });
    const log = capture();
    expect(await dbCommand(['log', '--database', url, '--schema', 'cli'], log.out, log.err, {})).toBe(0);
    expect(log.text()).toBe('no actions recorded in postgresql://postgres@127.0.0.1:' + String(pg.port) + '/state schema cli\n');
    const wrongKind = capture();
    expect(await dbCommand(['log', '--database', url, '--kind', 'nonsense'], wrongKind.out, wrongKind.err, {})).toBe(2);
    const bad = capture();
    expect(await dbCommand(['migrate', '--database', url, '--schema', 'x"; DROP SCHEMA cli; --'], bad.out, bad.err, {})).toBe(1);
    expect(bad.errors()).toContain('is not valid');
  });
});

async function pid(client: Client): Promise<number> {
  return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
}

describe('transaction log', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['ICEBRIDGE_STATE_DATABASE_URL', 'ICEBRIDGE_STATE_SCHEMA', 'ICEBRIDGE_STATE_MIGRATE_ON_START']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  async function flags(name: string): Promise<{ store: LocalFlagStore; audit: FlagAuditTrail }> {
    const root = path.join(dir, name, 'audit');
    return { store: new LocalFlagStore(path.join(dir, name, 'flags.json')), audit: new FlagAuditTrail(createFileIO(root), root) };
  }

  it('records a flag flip with before and after, and an emergency rollback per flag', async () => {
    await migrateStateDatabase(await connect(), { schema: 'logged' });
    process.env.ICEBRIDGE_STATE_DATABASE_URL = url;
    process.env.ICEBRIDGE_STATE_SCHEMA = 'logged';
    const { store, audit } = await flags('flip');
    const name = ICEBRIDGE_FLAGS.icebergReadPercentage;
    await setFlag(store, audit, { name, flag: percentageFlag(name, 10) }, { actor: 'alice', reason: 'first tenth' });
    await setFlag(store, audit, { name, flag: percentageFlag(name, 50) }, { actor: 'bob', reason: 'half' });
    const database = { url, schema: 'logged', migrateOnStart: false };
    const sets = await listActions({ kind: 'flag.set', table: name, limit: 10 }, database);
    expect(sets.map((a) => [a.actor, a.reason, a.before, a.after])).toEqual([
      ['bob', 'half', percentageFlag(name, 10), percentageFlag(name, 50)],
      ['alice', 'first tenth', null, percentageFlag(name, 10)],
    ]);

    await store.put(switchFlag(ICEBRIDGE_FLAGS.useIcebergStorage, true), undefined, 'absent');
    await rollbackToPostgres(store, audit, { actor: 'carol', reason: 'errors in reads' }, () => undefined);
    const rolled = await listActions({ kind: 'flag.rollback' }, database);
    expect(rolled.map((a) => [a.subject, a.actor, (a.after as { enabled: boolean }).enabled]).sort()).toEqual([
      [ICEBRIDGE_FLAGS.icebergReadPercentage, 'carol', false],
      [ICEBRIDGE_FLAGS.useIcebergStorage, 'carol', false],
    ]);
    expect(new Set(rolled.map((a) => a.correlationId))).toEqual(new Set([`rollback:${rolled[0]!.at}`]));
  });

  it('records job results and table checkpoints', async () => {
    await migrateStateDatabase(await connect(), { schema: 'logged' });
    const database = { url, schema: 'logged', migrateOnStart: false };
    const at = '2026-12-06T02:00:05.000Z';
    const result = {
      job: 'drift',
      slot: '2026-12-06',
      instanceId: 'drift-2026-12-06',
      startedAt: at,
      finishedAt: at,
      status: 'findings' as const,
      summary: '1 table drifted',
      figures: { tables: 3, drifted: 1 },
    };
    expect(await recordJobAction(result, { database })).toBe(true);
    expect(await listActions({ kind: 'drift.found' }, database)).toEqual([
      expect.objectContaining({
        at,
        actor: 'timer',
        subject: 'drift',
        reason: '1 table drifted',
        correlationId: 'drift-2026-12-06',
        after: { slot: '2026-12-06', status: 'findings', figures: { tables: 3, drifted: 1 } },
      }),
    ]);
    const table = {
      source: { schema: 'public', name: 'orders' },
      target: { namespace: ['public'], name: 'orders' },
      columns: ['id'],
      key: ['id'],
      estimatedRows: 10,
    };
    await recordTableCommitted({ runId: 'run-1', execution: 'e', table, partitions: 1 }, { snapshotId: '1', rows: 10, files: 1, created: true }, { database });
    await recordTableCommitted({ runId: 'run-1', execution: 'e', table, partitions: 1 }, { snapshotId: '1', rows: 12, files: 1, created: false }, { database });
    const client = await connect();
    expect((await client.query('SELECT run_id, table_name, status, rows::int AS rows FROM logged.table_checkpoints')).rows).toEqual([
      { run_id: 'run-1', table_name: 'public.orders', status: 'committed', rows: 12 },
    ]);
  });

  it('records a table rollback from its audit entry, and a migration run from start to end', async () => {
    await migrateStateDatabase(await connect(), { schema: 'logged' });
    process.env.ICEBRIDGE_STATE_DATABASE_URL = url;
    process.env.ICEBRIDGE_STATE_SCHEMA = 'logged';
    const database = { url, schema: 'logged', migrateOnStart: false };
    const trail = new TableAuditTrail(new HadoopCatalog(new LocalFileIO(), path.join(dir, 'warehouse')), { namespace: ['public'], name: 'orders' });
    await trail.append({
      at: '2026-12-06T09:00:00.000Z',
      actor: 'dana',
      action: 'rollback',
      reason: 'bad load',
      table: 'public.orders',
      before: '22',
      after: '11',
    });
    expect(await listActions({ kind: 'table.rollback', table: 'public.orders' }, database)).toEqual([
      expect.objectContaining({ actor: 'dana', reason: 'bad load', before: { snapshotId: '22' }, after: { snapshotId: '11' } }),
    ]);

    const input = { runId: 'run-7', sourceSchema: 'public', namespace: 'public', concurrency: 2 };
    const plan = { runId: 'run-7', tables: [], cycles: [], failures: [] };
    expect(await recordMigrationStart(input, plan)).toBe(plan);
    expect(await recordMigrationEnd({ runId: 'run-7' }, { released: 1 })).toEqual({ released: 1 });
    expect((await listActions({ correlationId: 'run-7' }, database)).map((a) => [a.kind, a.actor])).toEqual([
      ['migration.end', 'migration'],
      ['migration.start', 'migration'],
    ]);
    const client = await connect();
    expect((await client.query("SELECT status, finished_at IS NOT NULL AS finished FROM logged.migration_runs WHERE run_id = 'run-7'")).rows).toEqual([
      { status: 'copied', finished: true },
    ]);
  });

  it('a migration run migrates the state schema at start-up and records its start, its tables and its end; a restore is recorded', async () => {
    const client = await connect();
    await client.query('CREATE TABLE public.items (id int PRIMARY KEY, name text)');
    await client.query("INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 100) g");
    process.env.ICEBRIDGE_STATE_DATABASE_URL = url;
    process.env.ICEBRIDGE_STATE_SCHEMA = 'onstart';
    process.env.ICEBRIDGE_STATE_MIGRATE_ON_START = 'true';
    const report = await runMigration({
      input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['items'], verify: 'none' },
      sourceUrl: url,
      warehouse: path.join(dir, 'migrated'),
      stateDir: path.join(dir, 'host-state'),
    });
    expect(report.runtimeStatus).toBe('Completed');
    const database = { url, schema: 'onstart', migrateOnStart: false };
    expect((await stateDatabaseStatus(client, { schema: 'onstart' })).every((m) => m.state === 'applied')).toBe(true);
    expect((await listActions({ correlationId: report.id }, database)).map((a) => a.kind)).toEqual(['migration.end', 'migration.start']);
    expect((await client.query('SELECT table_name, status, rows::int AS rows FROM onstart.table_checkpoints WHERE run_id = $1', [report.id])).rows).toEqual([
      { table_name: 'public.items', status: 'committed', rows: 100 },
    ]);

    const env = { catalog: new HadoopCatalog(new LocalFileIO(), path.join(dir, 'migrated')), connectSource: () => connectPostgres(url) };
    const restored = await restoreTable(env, {
      table: { schema: 'public', name: 'items' },
      asOf: { timestampMs: Date.now() },
      mode: { into: 'items_restored' },
    });
    expect(restored.ok).toBe(true);
    expect(await listActions({ kind: 'restore', table: 'public.items' }, database)).toEqual([
      expect.objectContaining({
        actor: 'restore',
        after: expect.objectContaining({ restoredInto: 'public.items_restored', rows: '100', ok: true }) as unknown,
      }),
    ]);
  });

  it('a state database that cannot be reached fails nothing: the flag flips, the failure is counted and logged without the password', async () => {
    process.env.ICEBRIDGE_STATE_DATABASE_URL = `postgresql://someone:s3cret-pw@127.0.0.1:${await freePort()}/state`;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const before = transactionLogFigures().failed;
      const { store, audit } = await flags('down');
      const result = await setFlag(
        store,
        audit,
        { name: ICEBRIDGE_FLAGS.useIcebergStorage, flag: switchFlag(ICEBRIDGE_FLAGS.useIcebergStorage, true) },
        { actor: 'a', reason: 'r' },
      );
      expect(result.changed).toBe(true);
      expect((await store.get(ICEBRIDGE_FLAGS.useIcebergStorage))?.flag.enabled).toBe(true);
      expect(transactionLogFigures().failed).toBe(before + 1);
      const logged = warn.mock.calls.map((call) => String(call[0])).join('\n');
      expect(logged).toContain('did not record flag.set');
      expect(logged).not.toContain('s3cret-pw');
    } finally {
      warn.mockRestore();
    }
  });
});
