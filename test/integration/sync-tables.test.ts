/**
 * `icebridge sync` with several tables in one run: a lost replication or SQL connection is made again while a
 * writer writes and nothing is lost or doubled; a table that breaks mid-sync is stopped alone (recorded in the
 * table, so a later sync reports it and leaves it alone) while the others sync exactly and the slot advances;
 * --tables/--schema refuse unknown names (exit 2) and leave out running tables only with --force, stopping them;
 * a stopped table is brought back by copying it again with a new run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { syncCommand } from '../../cli/commands/sync';
import { runMigration } from '../../cli/support/run-migration';
import { type Lsn, parseLsn } from '../../shared/cdc/lsn';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { overwrite } from '../../shared/iceberg/transaction/table-operations';
import type { TableMetadata } from '../../shared/iceberg/spec/table-metadata';
import { handoverName } from '../../shared/migrate/handover-names';
import { connectPostgres } from '../../shared/postgres/connection';
import type { RunEnvironment } from '../../shared/run/environment';
import { appliedLsn } from '../../shared/sync/applied-lsn';
import { type SyncResult, syncTestSwitches } from '../../shared/sync/sync-loop';
import { readTableStop } from '../../shared/sync/table-stop';
import type { TableVerification } from '../../shared/verify/contracts';
import { verifyTable } from '../../shared/verify/steps/verify-table';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const ROWS = 2_000;
const TABLES = ['bad', 'good', 'spare'];

let pg: PostgresInstance;
let url: string;
let workDir: string;
let warehouse: string;
let runId: string;

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('synctables');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-synctables-'));
  warehouse = path.join(workDir, 'warehouse');
  await withClient(url, async (client) => {
    for (const table of TABLES) {
      await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int NOT NULL, note text)`);
      await client.query(`INSERT INTO ${table} SELECT g, g, 'row ' || g FROM generate_series(1, ${ROWS}) g`);
    }
  });
  runId = await migrate(TABLES, 'state');
}, 300_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

afterEach(() => {
  delete syncTestSwitches.beforeApply;
});

async function migrate(tables: string[], state: string): Promise<string> {
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables, verify: 'none', cdc: true },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(workDir, state),
  });
  if (report.runtimeStatus !== 'Completed' || report.cdc === undefined) throw new Error(`migration failed: ${report.lastError ?? ''}`);
  return report.id;
}

const catalog = (): HadoopCatalog => new HadoopCatalog(new LocalFileIO(), warehouse);
const metadataOf = async (table: string): Promise<TableMetadata> => (await catalog().loadTable({ namespace: ['public'], name: table })).metadata;

/** Small insert/update/delete transactions, each on one of the tables in turn, until stopped. */
function startWriter(): { stop(): Promise<number>; transactions(): number } {
  let running = true;
  let transactions = 0;
  const done = withClient(url, async (client) => {
    let next = 1_000_000;
    while (running) {
      const table = TABLES[transactions % TABLES.length]!;
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${table} VALUES ($1, $1, 'written')`, [next++]);
      await client.query(`UPDATE ${table} SET v = v + 1 WHERE id = $1`, [1 + (transactions % ROWS)]);
      await client.query(`DELETE FROM ${table} WHERE id = $1`, [ROWS - (transactions % 500)]);
      await client.query('COMMIT');
      transactions++;
    }
  });
  // A test that fails before stopping the writer still ends with the server's shutdown: not an unhandled rejection.
  done.catch(() => undefined);
  return {
    stop: async () => {
      running = false;
      await done;
      return transactions;
    },
    transactions: () => transactions,
  };
}

let batchNo = 0;
/** A few transactions of every kind on each table, updates and deletes reaching rows of the copy. */
async function change(tables: string[]): Promise<void> {
  batchNo++;
  const base = 2_000_000 + batchNo * 1000;
  await withClient(url, async (client) => {
    for (const table of tables) {
      await client.query(`INSERT INTO ${table} SELECT g, g, 'late' FROM generate_series(${base}, ${base + 49}) g`);
      await client.query(`UPDATE ${table} SET note = 'updated ${batchNo}' WHERE id % 97 = ${batchNo % 97}`);
      await client.query(`DELETE FROM ${table} WHERE id % 89 = ${batchNo % 89} AND id < ${ROWS}`);
      for (let i = 0; i < 10; i++) await client.query(`UPDATE ${table} SET v = v + 1 WHERE id = $1`, [base + i]);
    }
  });
}

interface SyncRun {
  status: number;
  result: SyncResult | undefined;
  err: string;
}

/** The sync command in process; the source comes from --source, or from the environment with `sourceFromEnv`. */
async function sync(
  extra: string[],
  options: { run?: string; signal?: AbortSignal; onErr?: (text: string) => void; sourceFromEnv?: boolean } = {},
): Promise<SyncRun> {
  const out: string[] = [];
  const err: string[] = [];
  const source = options.sourceFromEnv === true ? [] : ['--source', url];
  const argv = ['--run', options.run ?? runId, ...source, '--warehouse', warehouse, '--json', '--flush-interval-ms', '200', ...extra];
  const status = await syncCommand(
    argv,
    { write: (t) => void out.push(t) },
    {
      write: (t) => {
        err.push(t);
        options.onErr?.(t);
      },
    },
    options.sourceFromEnv === true ? { ICEBRIDGE_SOURCE_URL: url } : {},
    options.signal,
  );
  const text = out.join('');
  return { status, result: text.startsWith('{') ? (JSON.parse(text) as SyncResult) : undefined, err: err.join('') };
}

async function verify(table: string): Promise<TableVerification> {
  const env = { connectSource: () => connectPostgres(url), catalog: catalog() } as RunEnvironment;
  return verifyTable(env, { source: { schema: 'public', name: table }, target: { namespace: ['public'], name: table } }, { level: 'full' });
}

async function expectSame(table: string): Promise<void> {
  const result = await verify(table);
  expect({ table, status: result.status, error: result.error, rows: result.rows?.differences }).toEqual({ table, status: 'ok', error: undefined, rows: [] });
}

async function slotConfirmed(run = runId): Promise<Lsn> {
  return withClient(url, async (client) => {
    const rows = await client.query<{ lsn: string }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [
      handoverName(run),
    ]);
    return parseLsn(rows.rows[0]!.lsn);
  });
}

async function walInsert(): Promise<Lsn> {
  return withClient(url, async (client) => parseLsn((await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn));
}

/** Polls until `condition` holds; fails at once when the sync ended first (it must still be running). */
async function waitFor(what: string, condition: () => boolean | Promise<boolean>, running: { done: boolean; err: () => string }): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (await condition()) return;
    if (running.done) throw new Error(`the sync ended before ${what}: ${running.err()}`);
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after 180 s: ${running.err()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('icebridge sync of several tables', () => {
  it('reconnects after the walsender and the SQL connection are terminated mid-stream, losing and doubling nothing', async () => {
    const writer = startWriter();
    const controller = new AbortController();
    let errText = '';
    const state = { done: false, err: () => errText };
    // The source from ICEBRIDGE_SOURCE_URL, as migrate takes it.
    const running = sync([], { signal: controller.signal, sourceFromEnv: true, onErr: (t) => (errText += t) }).finally(() => (state.done = true));
    try {
      await waitFor('a first batch', () => /^sync: \d+ changes applied/m.test(errText) && writer.transactions() > 20, state);
      const walsender = await withClient(url, (client) =>
        client.query('SELECT pg_terminate_backend(active_pid) AS ok FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL', [
          handoverName(runId),
        ]),
      );
      expect(walsender.rowCount).toBe(1);
      await waitFor('the replication reconnect', () => errText.includes('the replication connection is back'), state);
      const applied = errText.length;
      await waitFor('a batch after the reconnect', () => /^sync: \d+ changes applied/m.test(errText.slice(applied)), state);
      const sqlBackend = await withClient(url, (client) =>
        client.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND backend_type = 'client backend' AND application_name = 'icebridge'`,
        ),
      );
      expect(sqlBackend.rowCount).toBe(1);
      await waitFor('the SQL reconnect', () => errText.includes('the SQL connection is back'), state);
      expect(await writer.stop()).toBeGreaterThan(20);
      // One last transaction, on every table, after this position: it is the only one ending past it, so a table whose
      // applied position passes it has applied that transaction and everything before.
      const last = await walInsert();
      await withClient(url, async (client) => {
        await client.query('BEGIN');
        for (const table of TABLES) await client.query(`INSERT INTO ${table} VALUES (-1, -1, 'last')`);
        await client.query('COMMIT');
      });
      await waitFor(
        'every table applied to the end',
        async () => (await Promise.all(TABLES.map(async (t) => appliedLsn(await metadataOf(t))! > last))).every(Boolean),
        state,
      );
      controller.abort();
      const result = await running;
      expect(result.status, result.err).toBe(0);
      expect(result.result).toMatchObject({ outcome: 'stopped', stoppedTables: [] });
      expect(result.err).toMatch(/lost the replication connection .*; reconnecting in/);
      expect(result.err).toMatch(/lost the SQL connection .*; reconnecting in/);
      expect(result.result!.lagBytes).toBeDefined();
    } finally {
      // A failed wait leaves neither the writer nor the sync running into the next test.
      controller.abort();
      await writer.stop().catch(() => undefined);
      await running;
    }
    for (const table of TABLES) await expectSame(table);
  }, 600_000);

  it('refuses a table or schema not in the publication, and a subset without --force, with exit 2', async () => {
    const unknown = await sync(['--tables', 'good,nope']);
    expect(unknown.status).toBe(2);
    expect(unknown.err).toContain('nope');
    const schema = await sync(['--schema', 'elsewhere']);
    expect(schema.status).toBe(2);
    expect(schema.err).toContain('elsewhere');
    const subset = await sync(['--tables', 'good', '--until-caught-up']);
    expect(subset.status).toBe(2);
    expect(subset.err).toMatch(/loses the changes of public\.bad, public\.spare .*--force/);
    for (const table of TABLES) expect(readTableStop(await metadataOf(table), handoverName(runId))).toBeUndefined();
    const all = await sync(['--tables', 'spare,public.good,bad', '--schema', 'public', '--until-caught-up']);
    expect(all.status, all.err).toBe(0);
  }, 300_000);

  it('stops a table that breaks mid-sync alone: the others sync exactly, the slot advances, a rerun leaves it alone', async () => {
    await change(TABLES);
    const before = await slotConfirmed();
    let broken = false;
    // Between two batches, after the tables were opened: another writer empties bad in Iceberg, so its next update
    // or delete names a row the table does not hold.
    syncTestSwitches.beforeApply = async () => {
      if (broken) return;
      broken = true;
      await overwrite(catalog(), { namespace: ['public'], name: 'bad' }, { deleteWhere: () => true });
    };
    const first = await sync(['--until-caught-up']);
    expect(first.status, first.err).toBe(1);
    expect(broken).toBe(true);
    expect(first.result?.outcome).toBe('caught-up');
    const stop = readTableStop(await metadataOf('bad'), handoverName(runId));
    expect(stop?.reason).toMatch(/^table public\.bad holds no row with key /);
    expect(first.result!.stoppedTables).toEqual([{ table: 'public.bad', ...stop }]);
    expect(first.err).toContain(`table public.bad is stopped (holds changes up to ${stop!.lsn}`);
    expect(first.result!.tables.find((t) => t.table === 'public.good')!.changesApplied).toBeGreaterThan(0);
    const after = await slotConfirmed();
    expect(after).toBeGreaterThan(before);
    expect(after).toBeGreaterThanOrEqual(parseLsn(first.result!.targetLsn));
    await expectSame('good');
    await expectSame('spare');

    delete syncTestSwitches.beforeApply;
    await change(TABLES);
    const untouched = await metadataOf('bad');
    const rerun = await sync(['--until-caught-up']);
    expect(rerun.status, rerun.err).toBe(1);
    expect(rerun.result!.stoppedTables).toEqual([{ table: 'public.bad', ...stop }]);
    expect(rerun.err).toContain(`table public.bad is stopped (holds changes up to ${stop!.lsn}, stopped ${stop!.at})`);
    expect(await metadataOf('bad')).toEqual(untouched);
    expect(await slotConfirmed()).toBeGreaterThanOrEqual(parseLsn(rerun.result!.targetLsn));
    await expectSame('good');
    await expectSame('spare');
  }, 600_000);

  it('--tables with --force syncs the subset and stops the tables it leaves out', async () => {
    await change(TABLES);
    const subset = await sync(['--tables', 'good', '--force', '--until-caught-up']);
    expect(subset.status, subset.err).toBe(1);
    const stopped = Object.fromEntries(subset.result!.stoppedTables.map((t) => [t.table, t.reason]));
    expect(Object.keys(stopped).sort()).toEqual(['public.bad', 'public.spare']);
    expect(stopped['public.spare']).toMatch(/left out of a sync of a subset/);
    expect(subset.result!.tables.map((t) => t.table)).toEqual(['public.good']);
    await expectSame('good');
    // Without --tables the left-out table stays stopped: its changes of the subset run are gone from the slot.
    await change(TABLES);
    const all = await sync(['--until-caught-up']);
    expect(all.status, all.err).toBe(1);
    expect(all.result!.stoppedTables.map((t) => t.table).sort()).toEqual(['public.bad', 'public.spare']);
    await expectSame('good');
  }, 600_000);

  it('brings a stopped table back by copying it again with a new run', async () => {
    const again = await migrate(['bad'], 'state-again');
    await change(['bad']);
    const resumed = await sync(['--until-caught-up'], { run: again });
    expect(resumed.status, resumed.err).toBe(0);
    expect(resumed.result!.stoppedTables).toEqual([]);
    await expectSame('bad');
    // The first run still reports it stopped for its own slot and leaves it to the new run.
    const old = await sync(['--until-caught-up']);
    expect(old.status, old.err).toBe(1);
    expect(old.result!.stoppedTables.map((t) => t.table).sort()).toEqual(['public.bad', 'public.spare']);
    await expectSame('bad');
  }, 600_000);
});
