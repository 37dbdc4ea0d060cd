/**
 * A migration of a live table is one consistent snapshot: a writer moving rows between heap pages during a
 * multi-partition copy leaves the copy exact as of the run's snapshot, while the same writer against a source that
 * refuses to share a snapshot duplicates rows (and the run says so, and does not read as a success). DDL during
 * the copy waits or fails the table clearly; a lost snapshot makes the table start again under a new one; the
 * holder's connection is gone at the end. Real PostgreSQL, the real local host; nothing is mocked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationSucceeded } from '../../cli/commands/migrate';
import { runMigration } from '../../cli/support/run-migration';
import type { Value } from '../../shared/iceberg/spec/values';
import { currentSchema } from '../../shared/iceberg/spec/table-metadata';
import type { MigrationReport } from '../../shared/migrate/migration-status';
import type { TableConfig } from '../../shared/run/request-fields';
import {
  type CanonicalColumn,
  type CanonicalRows,
  copyActivityLog,
  duplicateKeys,
  icebergRows,
  localCatalog,
  readStateDir,
  rowDifferences,
  sourceRows,
  withClient,
} from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const DATABASE = 'live';
/** About 40 MB of heap: some 40 partitions of 1 MiB, so the copy is still going while the writer runs. */
const ROWS = 300_000;
/** Rows the writer moves: they sit in the first two partitions' pages. */
const MOVED = 8_000;

let pg: PostgresInstance;
let sourceUrl: string;
let workDir: string;

const renderText = (value: Value): string | null => (value === null ? null : typeof value === 'string' ? value : `<unexpected ${typeof value}>`);
const renderInt = (value: Value): string | null => (value === null ? null : typeof value === 'number' ? String(value) : `<unexpected ${typeof value}>`);
const COLUMNS: CanonicalColumn[] = [
  { name: 'id', sql: 'id::text', render: renderInt },
  { name: 'k', sql: 'k::text', render: renderInt },
  { name: 'payload', sql: 'payload', render: renderText },
];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  pg = await startPostgres();
  sourceUrl = await pg.createDatabase(DATABASE);
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-snapshot-'));
  await withClient(sourceUrl, async (client) => {
    for (const table of ['moving', 'moving_refused', 'altered', 'altered_refused', 'lost', 'excluded']) {
      // k is indexed, so updating it is never a HOT update: the new row versions go to pages at the end.
      await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, k int NOT NULL, payload text NOT NULL)`);
      await client.query(`CREATE INDEX ${table}_k ON ${table} (k)`);
      await client.query(
        `INSERT INTO ${table} SELECT g, g, repeat(md5(g::text), 3) FROM generate_series(1, ${table === 'moving' || table === 'moving_refused' ? ROWS : ROWS / 3}) g`,
      );
      await client.query(`VACUUM ANALYZE ${table}`);
    }
    // A role that may read the tables but not export a snapshot: a source where one snapshot is not possible.
    await client.query(`CREATE ROLE no_export LOGIN PASSWORD 'no-export-pass'`);
    await client.query('GRANT SELECT ON ALL TABLES IN SCHEMA public TO no_export');
    await client.query('REVOKE EXECUTE ON FUNCTION pg_catalog.pg_export_snapshot() FROM PUBLIC');
  });
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** The source as the role that may not export a snapshot. */
function refusedUrl(): string {
  const url = new URL(sourceUrl);
  url.username = 'no_export';
  url.password = 'no-export-pass';
  return url.toString();
}

/** Collects what the run writes to its progress output. */
function captured(): { write(text: string): boolean; text(): string } {
  let all = '';
  return { write: (text: string) => ((all += text), true), text: () => all };
}

/** Starts a one-table migration in this process, partitions of 1 MiB, no verification. */
function migrate(table: string, name: string, url = sourceUrl, progress = captured(), tableConfig?: Record<string, TableConfig>) {
  const stateDir = path.join(workDir, name, 'state');
  const warehouse = path.join(workDir, name, 'warehouse');
  const run = runMigration({
    input: {
      sourceSchema: 'public',
      namespace: 'public',
      concurrency: 1,
      tables: [table],
      partitionSizeInBytes: 1024 * 1024,
      verify: 'none',
      ...(tableConfig ? { tableConfig } : {}),
    },
    sourceUrl: url,
    warehouse,
    stateDir,
    progress,
  });
  return { run, stateDir, warehouse, progress };
}

/** Waits until the given partitions of `table` are copied, then checks the copy is far from its end. */
async function afterPartitions(stateDir: string, table: string, partitions: number[], run: Promise<MigrationReport>): Promise<{ planned: number }> {
  let settled = false;
  void run.then(
    () => (settled = true),
    () => (settled = true),
  );
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (settled) throw new Error(`the migration of ${table} ended before its partitions ${partitions.join(', ')} were seen copied`);
    const log = copyActivityLog(await readStateDir(stateDir), table);
    if (log && partitions.every((p) => log.completed.has(p))) return { planned: log.planned };
    if (Date.now() > deadline) throw new Error(`partitions ${partitions.join(', ')} of ${table} were not copied within 120 s`);
    await sleep(10);
  }
}

/** Throws when the last partition was already scheduled: the scenario would prove nothing. */
async function expectLastPartitionAhead(stateDir: string, table: string): Promise<void> {
  const log = copyActivityLog(await readStateDir(stateDir), table)!;
  if (log.scheduled.has(log.planned - 1))
    throw new Error(`the copy ran ahead of the writer: the last of ${log.planned} partitions was scheduled before the writer committed`);
}

/** Backends of the source database still inside a transaction, or left by the snapshot holder. */
async function leftoverBackends(): Promise<string[]> {
  return withClient(pg.url, async (client) => {
    const { rows } = await client.query<{ what: string }>(
      `SELECT application_name || ': ' || coalesce(state, '') AS what FROM pg_catalog.pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND (state LIKE 'idle in transaction%' OR application_name = 'icebridge-snapshot')`,
      [DATABASE],
    );
    return rows.map((r) => r.what);
  });
}

/** Polls until no backend is left (a released connection's backend takes a moment to exit). */
async function expectNoLeftoverBackends(what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let left = await leftoverBackends();
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = await leftoverBackends();
  }
  expect(left, `${what}: backends in a transaction or of the snapshot holder`).toEqual([]);
}

async function copiedRows(warehouse: string, table: string): Promise<CanonicalRows> {
  return icebergRows(await localCatalog(warehouse).loadTable({ namespace: ['public'], name: table }), COLUMNS, true);
}

/** Moves `MOVED` rows from the first pages to the end of the heap (a non-HOT update of an indexed column). */
async function moveRows(table: string): Promise<void> {
  await withClient(sourceUrl, (client) => client.query(`UPDATE ${table} SET k = k + 1000000 WHERE id <= ${MOVED}`));
}

describe('one snapshot per migration', () => {
  it("copies a table whose rows move between pages during the copy exactly as of the run's snapshot", async () => {
    const before = await sourceRows(sourceUrl, 'moving', COLUMNS, true);
    const { run, stateDir, warehouse, progress } = migrate('moving', 'moving');
    const { planned } = await afterPartitions(stateDir, 'moving', [0, 1], run);
    expect(planned, 'partitions planned').toBeGreaterThan(20);
    await moveRows('moving');
    await expectLastPartitionAhead(stateDir, 'moving');
    const report = await run;

    expect(
      report.details.map((t) => [t.table, t.status, t.reason ?? '']),
      'the table committed',
    ).toEqual([['moving', 'committed', '']]);
    const copied = await copiedRows(warehouse, 'moving');
    expect(duplicateKeys(copied).slice(0, 5), 'keys copied twice').toEqual([]);
    const diff = rowDifferences(before, copied);
    expect(diff.count, `rows differing from the source as of the snapshot (${diff.sample})`).toBe(0);
    expect(report.warnings, 'no warning: the run was one snapshot').toBeUndefined();
    expect(progress.text(), 'no warning on the progress output').not.toContain('warning');
    expect(migrationSucceeded(report), 'a success').toBe(true);
    expect(report.details[0]!.sourceRows, 'the source counted in the snapshot').toBe(ROWS);
    await expectNoLeftoverBackends('after the run');
  }, 300_000);

  it('without a shared snapshot (export refused) says so at the start, and the rows the same writer duplicates do not read as a success', async () => {
    const { run, stateDir, warehouse, progress } = migrate('moving_refused', 'refused', refusedUrl());
    await afterPartitions(stateDir, 'moving_refused', [0, 1], run);
    await moveRows('moving_refused');
    await expectLastPartitionAhead(stateDir, 'moving_refused');
    const report = await run;

    // The warning is on the progress output before the table is done, not only in the summary.
    const said = progress.text();
    expect(said, 'the run says it is not one snapshot').toMatch(/^warning: not one snapshot: .*permission denied for function pg_export_snapshot/m);
    expect(said.indexOf('warning: not one snapshot'), `said before the table committed:\n${said}`).toBeLessThan(said.indexOf('moving_refused: committed'));
    const copied = await copiedRows(warehouse, 'moving_refused');
    // Each partition read its own moment: the moved rows were read before and after the move.
    expect(copied.lines.length, 'rows committed: the moved rows twice').toBeGreaterThan(ROWS);
    expect(duplicateKeys(copied).length, 'keys copied twice').toBeGreaterThan(0);
    expect(report.details[0]!.status, 'the copy itself committed').toBe('committed');
    expect(report.countsDiffering, 'tables whose count differs from the source').toBe(1);
    expect(report.warnings?.shown.join('\n'), 'the summary names both counts').toContain(
      `${copied.lines.length} rows committed but the source holds ${ROWS} now`,
    );
    expect(report.warnings?.shown[0], 'and that the run was not one snapshot').toMatch(/^not one snapshot/);
    expect(migrationSucceeded(report), 'not a success: the CLI exits 1').toBe(false);
    await expectNoLeftoverBackends('after the run');
  }, 300_000);

  it('ALTER TABLE … ADD COLUMN during the copy waits for the copy or fails the table clearly, never changes its columns silently', async () => {
    const before = await sourceRows(sourceUrl, 'altered', COLUMNS, true);
    const { run, stateDir, warehouse } = migrate('altered', 'altered');
    await afterPartitions(stateDir, 'altered', [0], run);
    const ddl = new Client({ connectionString: sourceUrl, application_name: 'icebridge-test-ddl' });
    await ddl.connect();
    let altered = false;
    const alter = ddl.query('ALTER TABLE altered ADD COLUMN extra int DEFAULT 7').then(() => (altered = true));
    try {
      // The ALTER waits on the run's ACCESS SHARE lock.
      const waiting = await withClient(sourceUrl, async (client) => {
        for (let i = 0; i < 600 && !altered; i++) {
          const { rows } = await client.query(
            `SELECT 1 FROM pg_catalog.pg_locks WHERE relation = 'altered'::regclass AND mode = 'AccessExclusiveLock' AND NOT granted`,
          );
          if (rows.length > 0) return true;
          await sleep(10);
        }
        return false;
      });
      const report = await run;
      await alter;
      expect(waiting, 'the ALTER waited for the copy').toBe(true);
      const outcome = report.details[0]!;
      if (outcome.status === 'failed') {
        expect(outcome.reason, 'the reason names the table and the waiting DDL').toMatch(
          /public\.altered: DDL \(ALTER TABLE or similar\) is waiting on the table while it is being copied/,
        );
      } else {
        const table = await localCatalog(warehouse).loadTable({ namespace: ['public'], name: 'altered' });
        expect(
          currentSchema(table.metadata).fields.map((f) => f.name),
          'the columns as planned',
        ).toEqual(['id', 'k', 'payload']);
        expect(rowDifferences(before, await copiedRows(warehouse, 'altered')).count, 'rows as of the snapshot').toBe(0);
      }
      await expectNoLeftoverBackends('after a run whose table failed');
    } finally {
      await alter.catch(() => undefined);
      await ddl.end();
    }
  }, 300_000);

  it('without a shared snapshot, a column added during the copy fails the table with a reason instead of being left out', async () => {
    const { run, stateDir } = migrate('altered_refused', 'altered-refused', refusedUrl());
    await afterPartitions(stateDir, 'altered_refused', [0], run);
    await withClient(sourceUrl, (client) => client.query('ALTER TABLE altered_refused ADD COLUMN extra int DEFAULT 7'));
    await expectLastPartitionAhead(stateDir, 'altered_refused');
    const report = await run;
    const outcome = report.details[0]!;
    expect(outcome.status, 'the table failed').toBe('failed');
    // The ALTER either found a copy's lock with the next one waiting behind it, or ran between partitions.
    expect(outcome.reason, 'the reason').toMatch(
      /public\.altered_refused: (DDL \(ALTER TABLE or similar\) is waiting on the table|columns extra are not in the migration's plan)/,
    );
  }, 300_000);

  it("copies a table again from its first partition under a new snapshot when the run's snapshot is lost, and warns", async () => {
    const before = await sourceRows(sourceUrl, 'lost', COLUMNS, true);
    const { run, stateDir, warehouse } = migrate('lost', 'lost');
    await afterPartitions(stateDir, 'lost', [0], run);
    // What a restart or a scale-in does to the holder: its backend ends, and the snapshot with it.
    const ended = await withClient(
      pg.url,
      async (client) =>
        (
          await client.query(
            `SELECT pg_catalog.pg_terminate_backend(pid) AS ok FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND application_name = 'icebridge-snapshot'`,
            [DATABASE],
          )
        ).rows.length,
    );
    expect(ended, "the holder's backend was found and ended").toBe(1);
    await expectLastPartitionAhead(stateDir, 'lost');
    const report = await run;

    expect(
      report.details.map((t) => [t.table, t.status, t.reason ?? '']),
      'the table committed',
    ).toEqual([['lost', 'committed', '']]);
    expect(report.warnings?.shown, "the run says the table was not read in the run's snapshot").toEqual([
      expect.stringMatching(/^lost: not one snapshot: the run's snapshot was lost, so the table was copied again from its first partition/),
    ]);
    expect(rowDifferences(before, await copiedRows(warehouse, 'lost')).count, 'rows').toBe(0);
    const log = copyActivityLog(await readStateDir(stateDir), 'lost')!;
    expect(log.completed.size, 'every partition copied in the new execution').toBe(log.planned);
    await expectNoLeftoverBackends('after the run');
  }, 300_000);

  it('copies a table whose configuration excludes a column: the plan carries the exclusion, so the copies expect it', async () => {
    const { run, warehouse } = migrate('excluded', 'excluded', sourceUrl, captured(), { excluded: { excludeColumns: ['payload'] } });
    const report = await run;
    expect(
      report.details.map((t) => [t.table, t.status, t.reason ?? '']),
      'the table committed',
    ).toEqual([['excluded', 'committed', '']]);
    const table = await localCatalog(warehouse).loadTable({ namespace: ['public'], name: 'excluded' });
    expect(
      currentSchema(table.metadata).fields.map((f) => f.name),
      'the columns copied',
    ).toEqual(['id', 'k']);
  }, 300_000);

  it('releases the snapshot when planning fails after taking it', async () => {
    const { run } = migrate('no_such_table', 'plan-fails');
    const report = await run;
    expect(report.runtimeStatus, 'the run failed in planning').toBe('Failed');
    await expectNoLeftoverBackends('after a failed planning');
  }, 300_000);
});
