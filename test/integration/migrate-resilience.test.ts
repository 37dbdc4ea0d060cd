/**
 * The migration under the failures it has to survive: the process killed with SIGKILL halfway (the same command
 * resumes it), a source backend terminated in the middle of a COPY (the activity retry copies that partition
 * again), and a database or warehouse that cannot be reached (the command stops in seconds and says why,
 * without the password). Real PostgreSQL, the real command and the real warehouse on disk; nothing is mocked.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../cli/support/free-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import type { Table } from '../../shared/iceberg/catalog/catalog';
import type { MigrationReport } from '../../shared/migrate/migration-status';
import {
  type CanonicalColumn,
  type CanonicalRows,
  EVENTS_COLUMNS,
  EVENT_ROWS,
  ORDERS_COLUMNS,
  ORDERS_ROWS,
  copyActivityLog,
  committedPartitions,
  copyAttemptOf,
  duplicateKeys,
  filesUnder,
  icebergRows,
  killGroup,
  loadFixture,
  localCatalog,
  readStateDir,
  rowDifferences,
  runCli,
  snapshotFiles,
  snapshotsOfRun,
  sourceRows,
  startCli,
} from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const DATABASE = 'shop';

let pg: PostgresInstance;
let sourceUrl: string;
let workDir: string;
const expected = new Map<string, Promise<CanonicalRows>>();

beforeAll(async () => {
  pg = await startPostgres();
  sourceUrl = await pg.createDatabase(DATABASE);
  await loadFixture(sourceUrl);
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-resilience-'));
});

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The source rows never change during the suite, so each table is read (and rendered) once. */
function sourceOf(table: string, columns: CanonicalColumn[], keyed: boolean): Promise<CanonicalRows> {
  let rows = expected.get(table);
  if (!rows) {
    rows = sourceRows(sourceUrl, table, columns, keyed);
    expected.set(table, rows);
  }
  return rows;
}

/** Asserts the table's current snapshot holds exactly the source rows (and, when keyed, no key twice). */
async function expectSameRows(table: Table, name: string, columns: CanonicalColumn[], keyed: boolean): Promise<void> {
  const [source, copied] = await Promise.all([sourceOf(name, columns, keyed), icebergRows(table, columns, keyed)]);
  if (keyed) expect(duplicateKeys(copied).slice(0, 5), `${name}: keys present more than once in the Iceberg table`).toEqual([]);
  const diff = rowDifferences(source, copied);
  expect(diff.count, `${name}: rows differing between PostgreSQL and Iceberg (${diff.sample})`).toBe(0);
}

/** The one snapshot `runId` committed to a table, after checking it is the only one and the current one. */
function onlySnapshotOfRun(table: Table, name: string, runId: string) {
  const ofRun = snapshotsOfRun(table, runId);
  expect(
    ofRun.map((s) => String(s['snapshot-id'])),
    `${name}: snapshots committed by ${runId}`,
  ).toHaveLength(1);
  expect(String(table.metadata['current-snapshot-id']), `${name}: the run's snapshot is the current one`).toBe(String(ofRun[0]!['snapshot-id']));
  return ofRun[0]!;
}

describe('migration resilience', () => {
  it('resumes after SIGKILL mid-copy: exact rows, one snapshot per table, the table whose source snapshot died copied again under a new one and warned, stray files removed', async () => {
    const warehouse = path.join(workDir, 'killed', 'warehouse');
    const stateDir = path.join(workDir, 'killed', 'state');
    const args = ['migrate', '--source', sourceUrl, '--warehouse', warehouse, '--state-dir', stateDir, '--partition-size-mb', '1', '--json'];

    // Kill once some partitions of the big table are durably done and many are still to come.
    const first = startCli(args);
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (first.child.exitCode !== null) throw new Error(`the first run ended before it could be killed:\n${first.output().stderr}${first.output().stdout}`);
        const log = copyActivityLog(await readStateDir(stateDir), 'orders');
        if (log && log.completed.size >= 3) {
          if (log.completed.size > log.planned - 8)
            throw new Error(`the copy ran ahead of the test: ${log.completed.size} of ${log.planned} partitions done before the kill`);
          break;
        }
        if (Date.now() > deadline) throw new Error(`no orders partition completed within 60 s:\n${first.output().stderr}`);
        await sleep(10);
      }
    } finally {
      // Also on the way out of a failed wait: a stray run would keep writing into the warehouse.
      killGroup(first);
    }
    const killed = await first.exited;
    expect(killed.signal, 'the first run died of SIGKILL').toBe('SIGKILL');

    // What the state directory says at the kill: the run, and the partitions durably finished.
    const atKill = await readStateDir(stateDir);
    const runs = atKill.filter((i) => i.meta.name === 'migrateDatabase');
    expect(
      runs.map((r) => r.meta.instanceId),
      'one run was started',
    ).toHaveLength(1);
    const runId = runs[0]!.meta.instanceId;
    const ordersAtKill = copyActivityLog(atKill, 'orders')!;
    expect(ordersAtKill.completed.size, 'some orders partitions completed before the kill').toBeGreaterThan(0);
    expect(ordersAtKill.completed.size, 'some orders partitions were left for the second run').toBeLessThan(ordersAtKill.planned);
    const ordersTable = { namespace: ['public'], name: 'orders' };
    const catalog = localCatalog(warehouse);

    // The journal is history that outlives the run: it must not hold the source's password.
    for (const file of await filesUnder(stateDir)) {
      expect(await readFile(file, 'utf8'), `${path.basename(file)} holds no password`).not.toContain(pg.password);
    }

    const second = await runCli(args);
    expect(second.code, `the second run exits 0\n${second.stderr}`).toBe(0);
    const report = JSON.parse(second.stdout) as MigrationReport;
    expect(report.id, 'the second run resumed the first run instead of starting another').toBe(runId);
    expect(report.details.map((t) => [t.table, t.status]).sort(), 'every table committed').toEqual([
      ['events', 'committed'],
      ['orders', 'committed'],
    ]);

    for (const [name, columns, keyed, rows] of [
      ['orders', ORDERS_COLUMNS, true, ORDERS_ROWS],
      ['events', EVENTS_COLUMNS, false, EVENT_ROWS * 2],
    ] as const) {
      const table = await catalog.loadTable({ namespace: ['public'], name });
      const snapshot = onlySnapshotOfRun(table, name, runId);
      expect(Number(snapshot.summary['total-records']), `${name}: records in the snapshot`).toBe(rows);
      await expectSameRows(table, name, columns, keyed);

      // Everything this run left in the table's folders is referenced by its snapshot: retried and killed
      // attempts were cleaned up by the commit.
      const referenced = await snapshotFiles(snapshot);
      const location = catalog.tableLocation({ namespace: ['public'], name });
      const dataFiles = (await filesUnder(`${location}/data`)).filter((f) => copyAttemptOf(f, runId) && f.endsWith('.parquet'));
      expect(
        dataFiles.filter((f) => !referenced.dataFiles.includes(f)),
        `${name}: Parquet files of ${runId} that the snapshot does not reference`,
      ).toEqual([]);
      expect(referenced.dataFiles.length, `${name}: the snapshot's data files are all on disk`).toBe(dataFiles.length);
      const manifests = (await filesUnder(`${location}/metadata`)).filter((f) => copyAttemptOf(f, runId) && f.endsWith('.avro'));
      expect(
        manifests.filter((f) => !referenced.manifests.includes(f)),
        `${name}: manifests of ${runId} that the snapshot does not reference`,
      ).toEqual([]);
    }

    // The kill ended the run's snapshot with its process: orders' partitions finished before it were read in that
    // snapshot and the rest can no longer be, so the table was copied again from its first partition under a new
    // one (never a mix of two), in a new execution whose files alone are committed, and the run says so.
    const orders = await catalog.loadTable(ordersTable);
    const committed = await snapshotFiles(onlySnapshotOfRun(orders, 'orders', runId));
    const attemptByPartition = new Map<number, Set<string>>();
    for (const file of committed.dataFiles) {
      const attempt = copyAttemptOf(file, runId);
      expect(attempt, `${file} is named after its run and partition`).toBeDefined();
      attemptByPartition.set(attempt!.partition, (attemptByPartition.get(attempt!.partition) ?? new Set()).add(attempt!.attempt));
    }
    expect(attemptByPartition.size, 'every orders partition is in the snapshot').toBe(ordersAtKill.planned);
    const everyPartition = Array.from({ length: ordersAtKill.planned }, (_, i) => i);
    expect(
      committedPartitions(onlySnapshotOfRun(orders, 'orders', runId)).sort((a, b) => a - b),
      'the snapshot summary lists each partition once',
    ).toEqual(everyPartition);
    for (const [partition, attempts] of attemptByPartition) expect([...attempts], `partition ${partition}: files from one attempt only`).toHaveLength(1);
    expect(new Set(committed.dataFiles.map((f) => copyAttemptOf(f, runId)!.execution)).size, 'orders: files of one execution').toBe(1);
    for (const [partition, result] of ordersAtKill.completed) {
      expect([...attemptByPartition.get(partition)!], `partition ${partition}: copied again under the new snapshot, not kept from the old one`).not.toContain(
        result.attempt,
      );
    }
    const ordersAfter = copyActivityLog(await readStateDir(stateDir), 'orders')!;
    expect(ordersAfter.completed.size, 'every orders partition has a result after the second run').toBe(ordersAtKill.planned);
    expect(report.warnings?.shown ?? [], 'the run says orders was not read in its one snapshot').toContainEqual(
      expect.stringMatching(/^orders: not one snapshot: the run's snapshot was lost/),
    );
  }, 150_000);

  it('retries a partition whose COPY backend was terminated and still commits the exact rows', async () => {
    const warehouse = path.join(workDir, 'terminated', 'warehouse');
    const stateDir = path.join(workDir, 'terminated', 'state');
    // Partitions of a few MB keep each COPY open long enough to be seen in pg_stat_activity.
    const migration = runMigration({
      input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['orders'], partitionSizeInBytes: 4 * 1024 * 1024 },
      sourceUrl,
      warehouse,
      stateDir,
    });
    let settled = false;
    void migration.then(
      () => (settled = true),
      () => (settled = true),
    );

    const watcher = new Client({ connectionString: sourceUrl, application_name: 'icebridge-test-watcher' });
    await watcher.connect();
    let terminated: { pid: number; query: string; ok: boolean } | undefined;
    try {
      while (!settled && !terminated) {
        // Found and terminated in one statement: this process also runs the migration, whose CPU-bound Parquet
        // encoding can delay a second round trip until that COPY is over and the terminate would hit nothing.
        const { rows } = await watcher.query<{ pid: number; query: string; ok: boolean }>(
          `SELECT pid, query, pg_catalog.pg_terminate_backend(pid) AS ok FROM pg_catalog.pg_stat_activity
            WHERE application_name = 'icebridge' AND datname = $1 AND state = 'active' AND query LIKE 'COPY%'
            LIMIT 1`,
          [DATABASE],
        );
        if (rows[0]) terminated = rows[0];
        else await sleep(5);
      }
    } finally {
      await watcher.end();
    }
    const report = await migration;
    expect(terminated, 'a COPY of the migration was seen in pg_stat_activity').toBeDefined();
    expect(terminated!.ok, `pg_terminate_backend(${terminated!.pid}) terminated the backend running ${terminated!.query.slice(0, 80)}`).toBe(true);
    expect(report.runtimeStatus, `the run completed (${report.lastError ?? ''})`).toBe('Completed');
    expect(
      report.details.map((t) => [t.table, t.status, t.reason ?? '']),
      'the table committed',
    ).toEqual([['orders', 'committed', '']]);

    // The terminated attempt failed, was retried by the activity's retry policy, and everything else ran once.
    const log = copyActivityLog(await readStateDir(stateDir), 'orders')!;
    // The server's FATAL reaches the client, or (when the backend was blocked sending) the socket just closes.
    expect(
      log.failures.map((f) => f.reason),
      'exactly one copy attempt failed, because its backend was terminated',
    ).toEqual([expect.stringMatching(/terminat|not queryable/i)]);
    expect(log.failures[0]!.reason, 'the failure names no password').not.toContain(pg.password);
    expect(log.attempts, 'copy attempts: one per partition plus the retry').toBe(log.planned + 1);
    expect(log.completed.size, 'every partition has a result').toBe(log.planned);

    const table = await localCatalog(warehouse).loadTable({ namespace: ['public'], name: 'orders' });
    const snapshot = onlySnapshotOfRun(table, 'orders', report.id);
    await expectSameRows(table, 'orders', ORDERS_COLUMNS, true);
    const referenced = await snapshotFiles(snapshot);
    const files = (await filesUnder(`${table.metadata.location}/data`)).filter((f) => copyAttemptOf(f, report.id) && f.endsWith('.parquet'));
    expect(
      files.filter((f) => !referenced.dataFiles.includes(f)),
      'files of the terminated attempt left behind',
    ).toEqual([]);
  }, 120_000);

  it('stops within seconds when the database cannot be reached, naming host and port but never the password', async () => {
    const port = await freePort();
    const result = await runCli([
      // A connect timeout of 10 minutes: a run that waited for it instead of failing on the refusal would be
      // told apart from one that did not by minutes, not by how fast this machine starts a process.
      'migrate',
      '--source',
      `postgres://u:secret-pass@127.0.0.1:${port}/db?connect_timeout=600`,
      '--warehouse',
      path.join(workDir, 'unreachable-db', 'warehouse'),
      '--state-dir',
      path.join(workDir, 'unreachable-db', 'state'),
    ]);
    const output = `${result.stdout}${result.stderr}`;
    expect(result.code, `exit status (output: ${output})`).toBe(1);
    expect(output, 'the message names where it tried to connect').toContain(`127.0.0.1:${port}`);
    expect(output, 'the password never appears').not.toContain('secret-pass');
    // A refused connection must not wait for the connect timeout; the limit only has to be far below 600 s.
    expect(result.elapsedMs, 'time to fail').toBeLessThan(120_000);
  }, 180_000);

  it('stops within seconds with a clear message when the warehouse cannot be written', async () => {
    const blocker = path.join(workDir, 'a-file');
    await writeFile(blocker, 'not a directory');
    const warehouse = path.join(blocker, 'warehouse');
    const stateDir = path.join(workDir, 'unwritable', 'state');
    const result = await runCli(['migrate', '--source', sourceUrl, '--warehouse', warehouse, '--state-dir', stateDir]);
    const output = `${result.stdout}${result.stderr}`;
    expect(result.code, `exit status (output: ${output})`).toBe(1);
    expect(result.stderr, 'the message says the warehouse cannot be written, and where it is').toContain(`cannot write to the warehouse ${warehouse}`);
    expect(output, 'the password never appears').not.toContain(pg.password);
    expect(await readStateDir(stateDir), 'no run was started').toEqual([]);
    // Refused before any run starts: no copy, no retries with backoff. A generous bound, far from a retry loop's.
    expect(result.elapsedMs, 'time to fail').toBeLessThan(120_000);
  }, 180_000);
});
