/**
 * Maintenance on a table that change capture keeps in step (embedded PostgreSQL with logical replication, a
 * migrate --cdc run, `icebridge sync` between rounds of changes): compaction, expiry of every snapshot nothing needs
 * and removal of old orphan files leave every file a remaining snapshot references in place, and the table read by
 * an independent reader (DuckDB, from the data files) equals PostgreSQL; the sync goes on afterwards from where it
 * was. The sensitivity: an orphan older than the window goes and a young one stays; the hand-over, the newest
 * position and a snapshot a restore in progress names are kept; a dry run changes nothing.
 */
import { copyFile, mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCommand } from '../../cli/commands/sync';
import { runMigration } from '../../cli/support/run-migration';
import { CDC_LSN_PROPERTY } from '../../shared/cdc/lsn';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { referencedFiles } from '../../shared/iceberg/maintenance/orphan-files';
import { type TableMetadata, ancestorsOf } from '../../shared/iceberg/spec/table-metadata';
import { RUN_ID_PROPERTY } from '../../shared/migrate/commit-table';
import { maintainTables } from '../../shared/ops/maintenance-job';
import { connectPostgres } from '../../shared/postgres/connection';
import type { RunEnvironment } from '../../shared/run/environment';
import { changeCaptureRun } from '../../shared/sync/applied-lsn';
import { verifyTable } from '../../shared/verify/steps/verify-table';
import { compareTable, loadIcebergTable, openDuckDb, prepareComparisonSession } from './support/compare';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const ROWS = 3_000;
const TABLE = 'items';
const ID = { namespace: ['public'], name: TABLE };
const DAY_MS = 86_400_000;

let pg: PostgresInstance;
let url: string;
let workDir: string;
let warehouse: string;
let runId: string;

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('maintain');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-maintain-'));
  warehouse = path.join(workDir, 'warehouse');
  await withClient(url, async (client) => {
    await client.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, v int NOT NULL, note text)`);
    await client.query(`INSERT INTO ${TABLE} SELECT g, g, 'row ' || g FROM generate_series(1, ${ROWS}) g`);
  });
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: [TABLE], verify: 'none', cdc: true },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(workDir, 'state'),
  });
  if (report.runtimeStatus !== 'Completed' || report.cdc === undefined) throw new Error(`migration failed: ${report.lastError ?? ''}`);
  runId = report.id;
}, 300_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const catalog = (): HadoopCatalog => new HadoopCatalog(new LocalFileIO(), warehouse);
const metadata = async (): Promise<TableMetadata> => (await catalog().loadTable(ID)).metadata;
const ids = (m: TableMetadata): string[] => m.snapshots.map((s) => s['snapshot-id'].toString());

let round = 0;
/** Inserts, updates and deletes, each statement its own transaction. */
async function change(): Promise<void> {
  round++;
  const base = 1_000_000 + round * 100;
  await withClient(url, async (client) => {
    await client.query(`INSERT INTO ${TABLE} SELECT g, g, 'late' FROM generate_series(${base}, ${base + 19}) g`);
    await client.query(`UPDATE ${TABLE} SET note = 'updated ${round}' WHERE id % 53 = ${round % 53}`);
    await client.query(`DELETE FROM ${TABLE} WHERE id % 61 = ${round % 61} AND id < ${ROWS}`);
  });
}

/** Applies every change committed so far (auto-compaction off, so maintenance finds delete files to compact). */
async function syncCaughtUp(): Promise<void> {
  const err: string[] = [];
  const argv = ['--run', runId, '--source', url, '--warehouse', warehouse, '--json', '--flush-interval-ms', '200'];
  const status = await syncCommand(
    [...argv, '--until-caught-up', '--compact-after-delete-files', '0'],
    { write: () => undefined },
    { write: (t: string) => void err.push(t) },
    {},
  );
  expect(status, err.join('')).toBe(0);
}

/** Every file under the table's data/ and metadata/ folders, last written `days` ago. */
async function ageTableFiles(days: number): Promise<void> {
  const when = new Date(Date.now() - days * DAY_MS);
  for await (const file of new LocalFileIO().list(`${path.join(warehouse, 'public', TABLE)}/`)) await utimes(file.location, when, when);
}

async function expectReaderSeesSource(): Promise<void> {
  const iceberg = await loadIcebergTable(warehouse, ['public'], TABLE);
  const duck = await openDuckDb();
  const client = await connectPostgres(url);
  try {
    await prepareComparisonSession(client);
    const comparison = await compareTable(client, duck.connection, { schema: 'public', table: TABLE }, iceberg);
    expect(comparison.explanation).toBe('');
    expect(comparison.equal).toBe(true);
    expect(comparison.icebergRows).toBeGreaterThan(ROWS - 200);
  } finally {
    await client.end();
    duck.close();
  }
}

async function expectEveryReferencedFileThere(): Promise<void> {
  const table = await catalog().loadTable(ID);
  const missing = [...(await referencedFiles(catalog(), table, { liveOnly: true }))].filter((file) => !existsSync(file));
  expect(missing).toEqual([]);
}

describe('maintenance of a synced table', () => {
  it('expires, compacts and removes orphans without touching a live file, and the sync goes on', async () => {
    for (let i = 0; i < 4; i++) {
      await change();
      await syncCaughtUp();
    }
    const before = await metadata();
    const ancestry = ancestorsOf(before, before['current-snapshot-id']);
    const handover = ancestry.find((s) => s.summary[RUN_ID_PROPERTY] !== undefined && s.summary[CDC_LSN_PROPERTY] !== undefined)!['snapshot-id'];
    expect(ancestry.length).toBeGreaterThanOrEqual(5);
    // A snapshot between the hand-over and the newest position, which a restore in progress reads.
    const restoring = ancestry[ancestry.length - 2]!['snapshot-id'];
    expect(restoring).not.toBe(handover);

    // Every file looks old, so only the references protect the live ones; then two orphans of different ages.
    await ageTableFiles(10);
    const dataFile = (await loadIcebergTable(warehouse, ['public'], TABLE).catch(() => undefined))?.files[0];
    const someData = dataFile ?? [...(await referencedFiles(catalog(), await catalog().loadTable(ID)))].find((f) => f.endsWith('.parquet'))!;
    const dataDir = path.join(warehouse, 'public', TABLE, 'data');
    const oldOrphan = path.join(dataDir, 'orphan-old.parquet');
    const youngOrphan = path.join(dataDir, 'orphan-young.parquet');
    await copyFile(someData, oldOrphan);
    await copyFile(someData, youngOrphan);
    await utimes(oldOrphan, new Date(Date.now() - 4 * DAY_MS), new Date(Date.now() - 4 * DAY_MS));
    // A migration copying for longer than the window: its files are old, not referenced yet, and have receipts.
    const receipts = path.join(warehouse, 'public', TABLE, 'metadata', 'receipts');
    await mkdir(receipts, { recursive: true });
    await writeFile(path.join(receipts, 'run-slow.0123456789abcdef.p00000.json'), '{}');
    const uncommitted = path.join(dataDir, 'run-slow.0123456789abcdef.p00001-a1b2-00001.parquet');
    await copyFile(someData, uncommitted);
    await utimes(uncommitted, new Date(Date.now() - 10 * DAY_MS), new Date(Date.now() - 10 * DAY_MS));

    const options = { tables: [ID], now: new Date(), retentionDays: 0, retainLast: 1, orphanDays: 3 };
    const holds = [{ namespace: 'public', asOf: { snapshotId: restoring.toString() } }];
    const [dry] = await maintainTables(catalog(), { ...options, dryRun: true, restoreHolds: holds });
    expect(dry!.error).toBeUndefined();
    expect(dry!.orphanFiles).toEqual([oldOrphan]);
    expect(dry!.expiredSnapshots.length).toBeGreaterThan(0);
    expect(ids(await metadata())).toEqual(ids(before));
    expect(existsSync(oldOrphan)).toBe(true);

    const [done] = await maintainTables(catalog(), { ...options, restoreHolds: holds });
    expect(done!.error).toBeUndefined();
    expect(done!.compacted).toBe(true);
    expect(done!.expiredSnapshots.length).toBeGreaterThan(0);
    expect(done!.orphanFiles).toEqual([oldOrphan]);
    expect(existsSync(oldOrphan)).toBe(false);
    expect(existsSync(youngOrphan)).toBe(true);
    expect(existsSync(uncommitted)).toBe(true);

    const after = await metadata();
    const kept = new Set(ids(after));
    const newestPosition = ancestorsOf(before, before['current-snapshot-id']).find((s) => s.summary[CDC_LSN_PROPERTY] !== undefined)!['snapshot-id'];
    expect({ handover: kept.has(handover.toString()), position: kept.has(newestPosition.toString()), restoring: kept.has(restoring.toString()) }).toEqual({
      handover: true,
      position: true,
      restoring: true,
    });
    expect(done!.keptSnapshots.map((k) => k.reason)).toEqual(expect.arrayContaining(['change capture hand-over', 'a restore in progress']));
    expect(changeCaptureRun(after)).toEqual({ runId });

    await expectEveryReferencedFileThere();
    await expectReaderSeesSource();

    // The sync goes on from its position, and a second maintenance finds nothing more to expire but stays correct.
    await change();
    await syncCaughtUp();
    const env = { connectSource: () => connectPostgres(url), catalog: catalog() } as RunEnvironment;
    const verified = await verifyTable(env, { source: { schema: 'public', name: TABLE }, target: ID }, { level: 'full' });
    expect({ status: verified.status, error: verified.error }).toEqual({ status: 'ok', error: undefined });
    await ageTableFiles(10);
    const [second] = await maintainTables(catalog(), options);
    expect(second!.error).toBeUndefined();
    // No longer an ancestor of the current snapshot, the hand-over still stays; the orphan kept as young is now old.
    expect(ids(await metadata())).toContain(handover.toString());
    expect(changeCaptureRun(await metadata())).toEqual({ runId });
    expect(existsSync(youngOrphan)).toBe(false);
    await expectEveryReferencedFileThere();
    await expectReaderSeesSource();
    expect((await stat(path.join(warehouse, 'public', TABLE, 'metadata'))).isDirectory()).toBe(true);
  }, 600_000);
});
