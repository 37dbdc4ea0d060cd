/**
 * `icebridge sync` end to end: a table migrated with --cdc while a writer changes it, more changes afterwards, then
 * the sync command (in process) until caught up; the verifier compares every row and must say ok. A second run
 * applies nothing, an abort stops cleanly and a rerun completes, a crash before a batch is applied loses nothing;
 * confirming before applying (a test-only switch) loses changes, and the table that misses them stops the sync.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { syncCommand } from '../../cli/commands/sync';
import { runMigration } from '../../cli/support/run-migration';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { connectPostgres } from '../../shared/postgres/connection';
import type { RunEnvironment } from '../../shared/run/environment';
import { type SyncResult, syncTestSwitches } from '../../shared/sync/sync-loop';
import type { TableVerification } from '../../shared/verify/contracts';
import { verifyTable } from '../../shared/verify/steps/verify-table';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const ROWS = 5_000;

let pg: PostgresInstance;
let url: string;
let workDir: string;
/** Run id of each table's migrate --cdc run. */
const runs = new Map<string, string>();

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('syncloop');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-syncloop-'));
  await withClient(url, async (client) => {
    for (const table of ['items', 'lost']) {
      await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int NOT NULL, note text)`);
      await client.query(`INSERT INTO ${table} SELECT g, g, 'row ' || g FROM generate_series(1, ${ROWS}) g`);
    }
  });
  for (const table of ['items', 'lost']) {
    const writer = startWriter(table);
    const report = await runMigration({
      input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: [table], verify: 'none', cdc: true },
      sourceUrl: url,
      warehouse: warehouseOf(table),
      stateDir: path.join(workDir, `state-${table}`),
    });
    expect(await writer.stop()).toBeGreaterThan(0);
    if (report.runtimeStatus !== 'Completed' || report.cdc === undefined) throw new Error(`migration of ${table} failed: ${report.lastError ?? ''}`);
    runs.set(table, report.id);
  }
}, 300_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

afterEach(() => {
  syncTestSwitches.confirmBeforeApply = false;
  delete syncTestSwitches.beforeApply;
});

function warehouseOf(table: string): string {
  return path.join(workDir, `warehouse-${table}`);
}

/** Small insert/update/delete transactions until stopped. */
function startWriter(table: string): { stop(): Promise<number> } {
  let running = true;
  let transactions = 0;
  const done = withClient(url, async (client) => {
    let next = 1_000_000 + transactions;
    while (running) {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${table} VALUES ($1, $1, 'written')`, [next++]);
      await client.query(`UPDATE ${table} SET v = v + 1 WHERE id = $1`, [1 + (transactions % ROWS)]);
      await client.query(`DELETE FROM ${table} WHERE id = $1`, [ROWS - (transactions % 1000)]);
      await client.query('COMMIT');
      transactions++;
    }
  });
  return {
    stop: async () => {
      running = false;
      await done;
      return transactions;
    },
  };
}

let batchNo = 0;
/** A few more transactions of every kind, each its own commit. */
async function change(table: string): Promise<void> {
  batchNo++;
  const base = 2_000_000 + batchNo * 1000;
  await withClient(url, async (client) => {
    await client.query(`INSERT INTO ${table} SELECT g, g, 'late' FROM generate_series(${base}, ${base + 99}) g`);
    await client.query(`UPDATE ${table} SET note = 'updated ${batchNo}' WHERE id % 97 = ${batchNo % 97}`);
    await client.query(`DELETE FROM ${table} WHERE id % 89 = ${batchNo % 89} AND id < ${ROWS}`);
    for (let i = 0; i < 20; i++) await client.query(`UPDATE ${table} SET v = v + 1 WHERE id = $1`, [base + i]);
  });
}

interface SyncRun {
  status: number;
  result: SyncResult | undefined;
  err: string;
}

async function sync(table: string, extra: string[], signal?: AbortSignal, onErr?: (text: string) => void): Promise<SyncRun> {
  const out: string[] = [];
  const err: string[] = [];
  const argv = ['--run', runs.get(table)!, '--source', url, '--warehouse', warehouseOf(table), '--json', '--flush-interval-ms', '200', ...extra];
  const status = await syncCommand(
    argv,
    { write: (t) => void out.push(t) },
    {
      write: (t) => {
        err.push(t);
        onErr?.(t);
      },
    },
    {},
    signal,
  );
  const text = out.join('');
  return { status, result: text.startsWith('{') ? (JSON.parse(text) as SyncResult) : undefined, err: err.join('') };
}

async function verify(table: string): Promise<TableVerification> {
  const env = { connectSource: () => connectPostgres(url), catalog: new HadoopCatalog(new LocalFileIO(), warehouseOf(table)) } as RunEnvironment;
  return verifyTable(env, { source: { schema: 'public', name: table }, target: { namespace: ['public'], name: table } }, { level: 'full' });
}

async function expectSame(table: string): Promise<void> {
  const result = await verify(table);
  expect({ status: result.status, error: result.error, rows: result.rows?.differences }).toEqual({ status: 'ok', error: undefined, rows: [] });
}

describe('icebridge sync', () => {
  it('finds the run from the tables when --run is not given, and says so when the namespace holds none', async () => {
    const quiet = { write: () => true };
    const run = async (extra: string[]) => {
      let err = '';
      const status = await syncCommand(
        ['--source', url, '--warehouse', warehouseOf('items'), '--until-caught-up', '--flush-interval-ms', '200', ...extra],
        quiet,
        { write: (t) => ((err += t), true) },
        {},
      );
      return { status, err };
    };
    expect((await run([])).status).toBe(0);
    const none = await run(['--namespace', 'elsewhere']);
    expect(none.status).toBe(2);
    expect(none.err).toContain(`no table of namespace elsewhere in ${warehouseOf('items')} was migrated with --cdc: give --run`);
  });

  it('applies the writer of the copy and later changes until caught up, then applies nothing on a second run', async () => {
    await change('items');
    const first = await sync('items', ['--until-caught-up']);
    expect(first.status, first.err).toBe(0);
    expect(first.result?.outcome).toBe('caught-up');
    expect(first.result!.changesApplied).toBeGreaterThan(0);
    await expectSame('items');
    const again = await sync('items', ['--until-caught-up']);
    expect(again.status, again.err).toBe(0);
    expect(again.result).toMatchObject({ outcome: 'caught-up', changesApplied: 0 });
    await expectSame('items');
  }, 300_000);

  it('applies the last batch as soon as it reaches the target, without waiting for the flush interval', async () => {
    await change('items');
    // A flush interval longer than the test's timeout: only the target rule can end this run in time.
    const run = await sync('items', ['--until-caught-up', '--flush-interval-ms', '3600000']);
    expect(run.status, run.err).toBe(0);
    expect(run.result?.outcome).toBe('caught-up');
    expect(run.result!.changesApplied).toBeGreaterThan(0);
    await expectSame('items');
  }, 120_000);

  it('ends a catch-up whose target lies past its last change when the server reports its position, not at the flush timer', async () => {
    await change('items');
    // WAL written after the last published change: only the server's keepalive carries the stream to the target.
    await withClient(url, async (client) => {
      await client.query('CREATE TABLE IF NOT EXISTS unpublished_noise (n int)');
      await client.query('INSERT INTO unpublished_noise SELECT generate_series(1, 1000)');
    });
    const run = await sync('items', ['--until-caught-up', '--flush-interval-ms', '3600000']);
    expect(run.status, run.err).toBe(0);
    expect(run.result?.outcome).toBe('caught-up');
    await expectSame('items');
  }, 120_000);

  it('refuses usage errors with exit 2', async () => {
    expect(await syncCommand(['--run', 'x'], { write: () => undefined }, { write: () => undefined }, {})).toBe(2);
    const unknownTable = await sync('items', ['--tables', 'items,nope']);
    expect(unknownTable.status).toBe(2);
    const bad = await sync('items', ['--flush-interval-ms', 'soon']);
    expect(bad.status).toBe(2);
  }, 120_000);

  it('stops cleanly on abort, and a rerun completes exactly', async () => {
    await change('items');
    const controller = new AbortController();
    // Abort as soon as the first batch is applied and reported; the stop must come from the signal.
    const stopped = await sync('items', [], controller.signal, (text) => {
      if (text.startsWith('sync:')) controller.abort();
    });
    expect(stopped.status, stopped.err).toBe(0);
    expect(stopped.result?.outcome).toBe('stopped');
    await change('items');
    const rerun = await sync('items', ['--until-caught-up']);
    expect(rerun.status, rerun.err).toBe(0);
    expect(rerun.result!.changesApplied).toBeGreaterThan(0);
    await expectSame('items');
  }, 300_000);

  it('loses nothing when a crash comes between reading a batch and applying it', async () => {
    await change('items');
    syncTestSwitches.beforeApply = () => {
      throw new Error('crash before the batch is applied');
    };
    const crashed = await sync('items', ['--until-caught-up']);
    expect(crashed.status).toBe(1);
    expect(crashed.err).toContain('crash before the batch is applied');
    delete syncTestSwitches.beforeApply;
    const rerun = await sync('items', ['--until-caught-up']);
    expect(rerun.status, rerun.err).toBe(0);
    expect(rerun.result!.changesApplied).toBeGreaterThan(0);
    await expectSame('items');
  }, 300_000);

  it('confirming before applying loses the changes of a crash; the table that misses them stops the sync, exit 1', async () => {
    await change('lost');
    syncTestSwitches.confirmBeforeApply = true;
    syncTestSwitches.beforeApply = () => {
      throw new Error('crash before the batch is applied');
    };
    expect((await sync('lost', ['--until-caught-up'])).status).toBe(1);
    syncTestSwitches.confirmBeforeApply = false;
    delete syncTestSwitches.beforeApply;
    // The rerun starts where the server was told to, past the lost batch. Its first transaction inserted a row of
    // id 1,000,000 or more (the copy's writer or the later inserts): an update of every such row reaches one the
    // table lacks, and that table stops the sync, named, with exit 1.
    await withClient(url, (client) => client.query(`UPDATE lost SET note = 'touched' WHERE id >= 1000000`));
    const rerun = await sync('lost', ['--until-caught-up']);
    expect(rerun.status, rerun.err).toBe(1);
    expect(rerun.result?.outcome).toBe('failed');
    expect(rerun.err).toMatch(/table public\.lost is stopped .*holds no row/);
  }, 300_000);
});
