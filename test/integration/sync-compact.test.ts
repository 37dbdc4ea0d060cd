/**
 * Compaction with a real change stream: a table migrated with --cdc, then synced run after run with a low
 * delete-file threshold, compacts during the sync (replace snapshots in its history) and stays exact (verify full);
 * then `icebridge compact` run again and again while a sync streams a writer's changes: the sync never fails, and
 * once caught up the table is exact, with no delete file left after a last compaction.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactCommand } from '../../cli/commands/compact';
import { syncCommand } from '../../cli/commands/sync';
import { runMigration } from '../../cli/support/run-migration';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { type TableMetadata, currentSnapshot } from '../../shared/iceberg/spec/table-metadata';
import { connectPostgres } from '../../shared/postgres/connection';
import type { RunEnvironment } from '../../shared/run/environment';
import { appliedLsn } from '../../shared/sync/applied-lsn';
import type { SyncResult } from '../../shared/sync/sync-loop';
import { verifyTable } from '../../shared/verify/steps/verify-table';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const ROWS = 3_000;
const TABLE = 'items';

let pg: PostgresInstance;
let url: string;
let workDir: string;
let runId: string;

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('synccompact');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-synccompact-'));
  await withClient(url, async (client) => {
    await client.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, v int NOT NULL, note text)`);
    await client.query(`INSERT INTO ${TABLE} SELECT g, g, 'row ' || g FROM generate_series(1, ${ROWS}) g`);
  });
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: [TABLE], verify: 'none', cdc: true },
    sourceUrl: url,
    warehouse: workDir,
    stateDir: path.join(workDir, '.state'),
  });
  if (report.runtimeStatus !== 'Completed' || report.cdc === undefined) throw new Error(`migration failed: ${report.lastError ?? ''}`);
  runId = report.id;
}, 300_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const catalog = (): HadoopCatalog => new HadoopCatalog(new LocalFileIO(), workDir);
const metadata = async (): Promise<TableMetadata> => (await catalog().loadTable({ namespace: ['public'], name: TABLE })).metadata;

let round = 0;
/** Inserts, updates and deletes in a few transactions. */
async function change(): Promise<void> {
  round++;
  const base = 1_000_000 + round * 100;
  await withClient(url, async (client) => {
    await client.query(`INSERT INTO ${TABLE} SELECT g, g, 'late' FROM generate_series(${base}, ${base + 19}) g`);
    await client.query(`UPDATE ${TABLE} SET note = 'updated ${round}' WHERE id % 53 = ${round % 53}`);
    await client.query(`DELETE FROM ${TABLE} WHERE id % 61 = ${round % 61} AND id < ${ROWS}`);
  });
}

async function sync(extra: string[], signal?: AbortSignal, onErr?: (text: string) => void): Promise<{ status: number; result?: SyncResult; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const argv = ['--run', runId, '--source', url, '--warehouse', workDir, '--json', '--flush-interval-ms', '200', ...extra];
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
  return { status, err: err.join(''), ...(text.startsWith('{') ? { result: JSON.parse(text) as SyncResult } : {}) };
}

async function compact(): Promise<{ status: number; err: string }> {
  const err: string[] = [];
  const status = await compactCommand(['--warehouse', workDir, '--tables', TABLE], { write: () => undefined }, { write: (t) => void err.push(t) }, {});
  return { status, err: err.join('') };
}

async function expectExact(): Promise<void> {
  const env = { connectSource: () => connectPostgres(url), catalog: catalog() } as RunEnvironment;
  const result = await verifyTable(env, { source: { schema: 'public', name: TABLE }, target: { namespace: ['public'], name: TABLE } }, { level: 'full' });
  expect({ status: result.status, error: result.error, rows: result.rows?.differences }).toEqual({ status: 'ok', error: undefined, rows: [] });
}

const replaces = (m: TableMetadata): number => m.snapshots.filter((s) => s.summary.operation === 'replace').length;

describe('compaction during sync', () => {
  it('compacts past the threshold while syncing and keeps the table exact', async () => {
    await expectExact();
    expect((await sync(['--until-caught-up', '--compact-after-delete-files', 'many'])).status).toBe(2);
    for (let i = 0; i < 5; i++) {
      await change();
      const run = await sync(['--until-caught-up', '--compact-after-delete-files', '2']);
      expect(run.status, run.err).toBe(0);
      expect(run.result?.outcome).toBe('caught-up');
    }
    const m = await metadata();
    expect(replaces(m)).toBeGreaterThanOrEqual(1);
    // The compaction snapshots kept the applied position: a next sync has nothing to apply.
    expect(appliedLsn(m)).toBeDefined();
    const again = await sync(['--until-caught-up']);
    expect(again.result).toMatchObject({ outcome: 'caught-up', changesApplied: 0 });
    await expectExact();
  }, 600_000);

  it('stays exact when icebridge compact runs while a sync streams changes', async () => {
    const before = replaces(await metadata());
    const controller = new AbortController();
    let batches = 0;
    let wake: (() => void) | undefined;
    const running = sync(['--compact-after-delete-files', '0'], controller.signal, (text) => {
      if (text.startsWith('sync:')) {
        batches++;
        wake?.();
      }
    });
    const nextBatch = (): Promise<void> => new Promise((resolve) => (wake = resolve));
    // A sync that ends (fails) while a batch is awaited fails the test at once, with its reason.
    const batchOrEnd = async (applied: Promise<void>): Promise<void> => {
      const ended = await Promise.race([applied, running]);
      if (ended !== undefined) throw new Error(`the sync ended (exit ${ended.status}): ${ended.err}`);
    };
    for (let i = 0; i < 4; i++) {
      const applied = nextBatch();
      await change();
      await batchOrEnd(applied);
      const compacted = await compact();
      expect(compacted.status, compacted.err).toBe(0);
    }
    // One more batch after the last compaction: its deletes must land on the rewritten files.
    const applied = nextBatch();
    await change();
    await batchOrEnd(applied);
    controller.abort();
    const stopped = await running;
    expect(stopped.status, stopped.err).toBe(0);
    expect(stopped.result?.outcome).toBe('stopped');
    expect(batches).toBeGreaterThanOrEqual(5);
    expect(replaces(await metadata())).toBeGreaterThan(before);
    const rest = await sync(['--until-caught-up', '--compact-after-delete-files', '0']);
    expect(rest.status, rest.err).toBe(0);
    await expectExact();
    expect((await compact()).status).toBe(0);
    expect(currentSnapshot(await metadata())!.summary['total-delete-files']).toBe('0');
    await expectExact();
  }, 600_000);
});
