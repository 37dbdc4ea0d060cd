/**
 * A commit's cleanup removes only files of its own run's execution. Runs `x` and `x-p1` (one run id a prefix
 * of the other) migrate the same table in both commit orders, and a run id is reused after its history was
 * purged; afterwards every snapshot in the table's metadata is read back and must be exactly the source rows
 * it was copied from. Real embedded PostgreSQL, the real orchestrations and activities, a local warehouse.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLocalHost } from '../../cli/support/local-run';
import type { MigrateDatabaseOutput } from '../../orchestrators/migrate-database';
import { loadSettings } from '../../shared/config/settings';
import { LocalFileIO } from '../../shared/iceberg/io';
import { scanToArray } from '../../shared/iceberg/scan/table-scan';
import { type PrimitiveValue, decimalToString } from '../../shared/iceberg/spec/values';
import { RUN_ID_PROPERTY, commitTable } from '../../shared/migrate/commit-table';
import type { MigrateDatabaseInput, TableOutcome } from '../../shared/migrate/contracts';
import { copyPartition } from '../../shared/migrate/copy-partition';
import { environmentFromSettings } from '../../shared/run/environment';
import { partitionAt } from '../../shared/postgres/partition-ranges';
import { planMigration } from '../../shared/migrate/plan-migration';
import { committedPartitions, filesUnder, localCatalog, withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';
import { requestCancellation } from '../../shared/migrate/cancellation';

let pg: PostgresInstance;
let sourceUrl: string;
let workDir: string;

const ROWS = 60_000;
/** Small copy partitions: several per run, so several files and manifests per snapshot. */
const PARTITION_BYTES = 512 * 1024;

beforeAll(async () => {
  pg = await startPostgres();
  sourceUrl = await pg.createDatabase('scope');
  await withClient(sourceUrl, (client) =>
    client.query(`
    CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2));
    INSERT INTO items SELECT g, 'item ' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 100000) / 100.0 END FROM generate_series(1, ${ROWS}) AS g;
    ANALYZE items;`),
  );
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-cleanup-scope-'));
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function input(runId: string, partitionSizeInBytes = PARTITION_BYTES): MigrateDatabaseInput {
  return { runId, sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['items'], partitionSizeInBytes, verify: 'none' };
}

/** Runs one migration of `items` with the given run id to the end, on a local host over `stateDir`. */
async function migrate(warehouse: string, stateDir: string, runId: string, partitionSizeInBytes?: number): Promise<TableOutcome> {
  return withLocalHost({ sourceUrl, warehouse, stateDir }, async (host) => {
    await host.startOrchestration('migrateDatabase', input(runId, partitionSizeInBytes), runId);
    const status = await host.waitForCompletion(runId, { timeoutInMs: 240_000 });
    expect(status.runtimeStatus, `run ${runId}`).toBe('Completed');
    const outcome = (status.output as MigrateDatabaseOutput).tables[0]!;
    expect(outcome, `run ${runId}`).toMatchObject({ status: 'committed', rows: outcome.sourceRows });
    return outcome;
  });
}

/** The source rows now, one text line each, by id. */
async function sourceLines(): Promise<string[]> {
  return withClient(sourceUrl, async (client) => {
    const { rows } = await client.query<{ line: string }>(
      `SELECT id::text || '|' || name || '|' || coalesce(price::text, 'null') AS line FROM items ORDER BY id`,
    );
    return rows.map((r) => r.line);
  });
}

/** Every snapshot of the table, read back in full (a missing file fails the read), as lines by id. */
async function everySnapshot(warehouse: string): Promise<Array<{ runId: string; snapshotId: string; current: boolean; lines: string[] }>> {
  const table = await localCatalog(warehouse).loadTable({ namespace: ['public'], name: 'items' });
  const out = [];
  for (const snapshot of table.metadata.snapshots) {
    const rows = await scanToArray(new LocalFileIO(), table.metadata, { snapshotId: snapshot['snapshot-id'] });
    rows.sort((a, b) => (BigInt(a[0] as bigint) < BigInt(b[0] as bigint) ? -1 : 1));
    out.push({
      runId: snapshot.summary[RUN_ID_PROPERTY] ?? '',
      snapshotId: String(snapshot['snapshot-id']),
      current: snapshot['snapshot-id'] === table.metadata['current-snapshot-id'],
      lines: rows.map(
        (r) => `${String(r[0] as PrimitiveValue)}|${String(r[1] as PrimitiveValue)}|${r[2] === null ? 'null' : decimalToString(r[2] as bigint, 2)}`,
      ),
    });
  }
  return out;
}

/** Receipts and files of unfinished attempts left in the table's metadata folder. */
async function leftoverReceipts(warehouse: string): Promise<string[]> {
  return filesUnder(path.join(warehouse, 'public', 'items', 'metadata', 'receipts'));
}

describe('cleanup scoped to its own run and execution', () => {
  it('x-p1 commits, then x: both snapshots stay readable and exact', async () => {
    const warehouse = path.join(workDir, 'a', 'warehouse');
    const expected = await sourceLines();
    await migrate(warehouse, path.join(workDir, 'a', 'state'), 'x-p1');
    await migrate(warehouse, path.join(workDir, 'a', 'state'), 'x');
    const snapshots = await everySnapshot(warehouse);
    expect(snapshots.map((s) => [s.runId, s.current])).toEqual([
      ['x-p1', false],
      ['x', true],
    ]);
    for (const s of snapshots) expect(s.lines, `snapshot ${s.snapshotId} of ${s.runId}`).toEqual(expected);
    expect(await leftoverReceipts(warehouse), 'receipts are removed by their commit').toEqual([]);
  }, 300_000);

  it('x-p1 copies, x copies and commits, then x-p1 commits: the current snapshot and the one before are readable and exact', async () => {
    const warehouse = path.join(workDir, 'b', 'warehouse');
    const expected = await sourceLines();
    // x-p1 is driven step by step so that its files are on disk, uncommitted, while x commits and cleans up.
    const env = environmentFromSettings(loadSettings({ ICEBRIDGE_SOURCE_URL: sourceUrl, ICEBRIDGE_WAREHOUSE: warehouse }));
    const plan = (await planMigration(env, input('x-p1'))).tables[0]!;
    const { partitions, ...table } = plan;
    expect(partitions.length, 'several partitions').toBeGreaterThan(2);
    const execution = '00112233aabbccdd';
    for (let index = 0; index < partitions.length; index++) {
      await copyPartition(env, { runId: 'x-p1', execution, table, partition: partitionAt(partitions, index) });
    }
    await migrate(warehouse, path.join(workDir, 'b', 'state'), 'x');
    const committed = await commitTable(env.catalog, { runId: 'x-p1', execution, table, partitions: partitions.length });
    expect(committed).toMatchObject({ created: true, rows: expected.length });

    const snapshots = await everySnapshot(warehouse);
    expect(snapshots.map((s) => [s.runId, s.current])).toEqual([
      ['x', false],
      ['x-p1', true],
    ]);
    for (const s of snapshots) expect(s.lines, `snapshot ${s.snapshotId} of ${s.runId}`).toEqual(expected);
    expect(await leftoverReceipts(warehouse)).toEqual([]);
  }, 300_000);

  it('a cancelled run commits nothing, even when all its copies finished before the cancel', async () => {
    const warehouse = path.join(workDir, 'e', 'warehouse');
    const env = environmentFromSettings(loadSettings({ ICEBRIDGE_SOURCE_URL: sourceUrl, ICEBRIDGE_WAREHOUSE: warehouse }));
    const { partitions, ...table } = (await planMigration(env, input('late'))).tables[0]!;
    const execution = '0badc0ffee000001';
    for (let index = 0; index < partitions.length; index++) {
      await copyPartition(env, { runId: 'late', execution, table, partition: partitionAt(partitions, index) });
    }
    await requestCancellation(env.catalog, 'late', new Date());
    await expect(commitTable(env.catalog, { runId: 'late', execution, table, partitions: partitions.length })).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
    expect(await everySnapshot(warehouse), 'no snapshot').toEqual([]);
  }, 300_000);

  it('a table of more partitions than one orchestration execution copies commits each partition once, exactly', async () => {
    const warehouse = path.join(workDir, 'd', 'warehouse');
    const expected = await sourceLines();
    // One heap page per partition: more partitions than migrateTable copies before it continues as new.
    const outcome = await migrate(warehouse, path.join(workDir, 'd', 'state'), 'multi', 8192);
    expect(outcome.partitions, 'partitions of the run').toBeGreaterThan(256);
    const [snapshot, ...others] = await everySnapshot(warehouse);
    expect(others).toEqual([]);
    expect(snapshot!.lines).toEqual(expected);
    const table = await localCatalog(warehouse).loadTable({ namespace: ['public'], name: 'items' });
    expect(committedPartitions(table.metadata.snapshots[0]!), 'every partition once').toEqual(Array.from({ length: outcome.partitions }, (_, i) => i));
    expect(await leftoverReceipts(warehouse)).toEqual([]);
  }, 600_000);

  it('a run id reused after its history was purged commits the new copy and keeps the old snapshot readable', async () => {
    const warehouse = path.join(workDir, 'c', 'warehouse');
    const before = await sourceLines();
    await migrate(warehouse, path.join(workDir, 'c', 'state-1'), 'x');
    await withClient(sourceUrl, (client) =>
      client.query(`INSERT INTO items SELECT g, 'late ' || g, 1.25 FROM generate_series(${ROWS + 1}, ${ROWS + 500}) AS g`),
    );
    try {
      const after = await sourceLines();
      // A fresh state directory: the first run's history is gone, as after a purge.
      await migrate(warehouse, path.join(workDir, 'c', 'state-2'), 'x');
      const snapshots = await everySnapshot(warehouse);
      expect(snapshots.map((s) => [s.runId, s.current])).toEqual([
        ['x', false],
        ['x', true],
      ]);
      expect(snapshots[0]!.lines, "the first run's snapshot").toEqual(before);
      expect(snapshots[1]!.lines, "the second run's snapshot, current").toEqual(after);
    } finally {
      await withClient(sourceUrl, (client) => client.query(`DELETE FROM items WHERE id > ${ROWS}`));
    }
  }, 300_000);
});
