/**
 * End to end on real sample databases: Pagila and Chinook are loaded into embedded PostgreSQL, every table of
 * schema public is migrated through the local host (the same function modules as on Azure), and every row of
 * every table is compared with what DuckDB reads from the Parquet files of the current snapshot. The metadata is
 * also read without our Iceberg code (plain JSON and avsc), and DuckDB confirms each data file's rows and size.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import type { MigrationReport } from '../../shared/migrate/migration-status';
import {
  type DuckDb,
  compareTable,
  duckRows,
  duckString,
  fieldIdProblems,
  loadIcebergTable,
  openDuckDb,
  prepareComparisonSession,
  sourceRowCount,
} from './support/compare';
import { dataFileProblems, readTableIndependently } from './support/independent-metadata';
import { CHINOOK_SQL, PAGILA_SQL, type PostgresInstance, startPostgres } from './support/postgres';

/** Small enough that rental splits into page ranges and every payment leaf is its own partition. */
const PARTITION_SIZE_IN_BYTES = 1 << 20;

interface Dataset {
  database: string;
  sqlFile: string;
  /** Iceberg namespace the dataset is migrated into. */
  namespace: string;
}

const PAGILA: Dataset = { database: 'pagila', sqlFile: PAGILA_SQL, namespace: 'pagila' };
const CHINOOK: Dataset = { database: 'chinook', sqlFile: CHINOOK_SQL, namespace: 'chinook' };
const DATASETS = [PAGILA, CHINOOK];

let server: PostgresInstance;
let workDir: string;
let warehouse: string;
let duck: DuckDb;
const clients = new Map<string, Client>();
const firstRuns = new Map<string, MigrationReport>();

/** The same command every time, so a repeat is recognised as the same migration (and run again). */
function migrate(dataset: Dataset): Promise<MigrationReport> {
  return runMigration({
    input: { sourceSchema: 'public', namespace: dataset.namespace, concurrency: 4, partitionSizeInBytes: PARTITION_SIZE_IN_BYTES },
    sourceUrl: server.urlFor(dataset.database),
    warehouse,
    stateDir: path.join(workDir, `state-${dataset.database}`),
  });
}

function client(dataset: Dataset): Client {
  const c = clients.get(dataset.database);
  if (c === undefined) throw new Error(`no connection to ${dataset.database}`);
  return c;
}

function firstRun(dataset: Dataset): MigrationReport {
  const report = firstRuns.get(dataset.database);
  if (report === undefined) throw new Error(`${dataset.database} was not migrated`);
  return report;
}

/** Ordinary and partitioned tables of schema public, leaf partitions left out (they belong to their parent). */
async function publicTables(dataset: Dataset): Promise<string[]> {
  const { rows } = await client(dataset).query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname COLLATE "C"`,
  );
  return rows.map((r) => r.name);
}

function sourceCount(dataset: Dataset, table: string): Promise<number> {
  return sourceRowCount(client(dataset), 'public', table);
}

async function duckCount(files: readonly string[]): Promise<number> {
  if (files.length === 0) return 0;
  const rows = await duckRows(duck.connection, `SELECT count(*) FROM read_parquet([${files.map(duckString).join(', ')}])`);
  return Number(rows[0]![0]);
}

function failuresOf(report: MigrationReport): string {
  const failed = report.details.filter((d) => d.status !== 'committed');
  return failed.map((d) => `${d.table}: ${d.status ?? d.phase}: ${d.reason ?? '(no reason)'}`).join('\n');
}

beforeAll(async () => {
  server = await startPostgres();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'icebridge-datasets-'));
  warehouse = path.join(workDir, 'warehouse');
  await Promise.all(DATASETS.map((d) => server.createDatabase(d.database)));
  await Promise.all(DATASETS.map((d) => server.loadSqlFile(d.database, d.sqlFile)));
  for (const dataset of DATASETS) {
    const c = new Client({ connectionString: server.urlFor(dataset.database) });
    await c.connect();
    await prepareComparisonSession(c);
    clients.set(dataset.database, c);
  }
  duck = await openDuckDb();
  // Both databases into one warehouse, one after the other, as two separate migrations.
  for (const dataset of DATASETS) firstRuns.set(dataset.database, await migrate(dataset));
}, 240_000);

afterAll(async () => {
  duck?.close();
  await Promise.all([...clients.values()].map((c) => c.end().catch(() => undefined)));
  await server?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe.each(DATASETS)('migrating $database', (dataset) => {
  it('commits every table of schema public', async () => {
    const report = firstRun(dataset);
    const tables = await publicTables(dataset);
    expect(report.runtimeStatus, `run ${report.id}: ${report.lastError ?? ''}`).toBe('Completed');
    expect(failuresOf(report), 'tables that did not commit').toBe('');
    expect(report.details.map((d) => d.table).sort()).toEqual([...tables].sort());
    expect(report.tables).toEqual({ total: tables.length, started: tables.length, done: tables.length, failed: 0 });
  });

  it('has the source row count in the report, the manifests and the data files', async () => {
    const report = firstRun(dataset);
    const problems: string[] = [];
    for (const detail of report.details) {
      const expected = await sourceCount(dataset, detail.table);
      const state = await loadIcebergTable(warehouse, [dataset.namespace], detail.table);
      const read = await duckCount(state.files);
      const counts = { source: expected, reportedSource: detail.sourceRows, reportedRows: detail.rows, manifests: state.recordCount, duckdb: read };
      if (Object.values(counts).some((n) => n !== expected)) problems.push(`${detail.table}: ${JSON.stringify(counts)}`);
    }
    expect(problems.join('\n'), 'tables whose counts differ').toBe('');
  });

  it('has metadata that avsc and DuckDB read as our catalog does: paths, record counts and file sizes', async () => {
    const report = firstRun(dataset);
    const problems: string[] = [];
    let files = 0;
    for (const detail of report.details) {
      const independent = await readTableIndependently(warehouse, [dataset.namespace], detail.table);
      const ours = await loadIcebergTable(warehouse, [dataset.namespace], detail.table);
      const label = `${detail.table}:`;
      problems.push(...independent.problems.map((p) => `${label} ${p}`));
      if (independent.snapshotId !== String(ours.snapshot?.['snapshot-id'])) {
        problems.push(
          `${label} current snapshot ${String(independent.snapshotId)} read independently, ${String(ours.snapshot?.['snapshot-id'])} by our catalog`,
        );
      }
      const theirs = independent.files.map((f) => f.path).sort();
      if (JSON.stringify(theirs) !== JSON.stringify([...ours.files].sort())) {
        problems.push(`${label} data files differ:\n  avsc ${theirs.join(', ')}\n  ours ${[...ours.files].sort().join(', ')}`);
      }
      const recorded = independent.files.reduce((n, f) => n + f.recordCount, 0n);
      const expected = await sourceCount(dataset, detail.table);
      if (recorded !== BigInt(expected)) problems.push(`${label} record_count sums to ${recorded}, the source has ${expected} rows`);
      problems.push(...(await dataFileProblems(duck.connection, independent.files)).map((p) => `${label} ${p}`));
      files += independent.files.length;
    }
    expect(problems.join('\n'), 'disagreements about the metadata').toBe('');
    expect(files, 'data files judged').toBeGreaterThanOrEqual(report.details.length);
  });

  it('holds exactly the rows of the source, read back by DuckDB from the data files', async () => {
    const report = firstRun(dataset);
    const differences: string[] = [];
    let rows = 0;
    for (const detail of report.details) {
      const state = await loadIcebergTable(warehouse, [dataset.namespace], detail.table);
      const result = await compareTable(client(dataset), duck.connection, { schema: 'public', table: detail.table }, state);
      if (!result.equal) differences.push(result.explanation);
      rows += result.sourceRows;
    }
    expect(differences.join('\n\n'), 'tables whose rows differ').toBe('');
    // A comparison of nothing would pass too: make sure the datasets really were read.
    expect(rows).toBeGreaterThan(dataset === PAGILA ? 45_000 : 15_000);
  });

  it('writes Iceberg field ids into every data file and the run id into every snapshot', async () => {
    const report = firstRun(dataset);
    const problems: string[] = [];
    for (const detail of report.details) {
      const state = await loadIcebergTable(warehouse, [dataset.namespace], detail.table);
      const runId = state.snapshot?.summary['icebridge.run-id'];
      if (runId !== report.id) problems.push(`${detail.table}: snapshot run id ${String(runId)}, expected ${report.id}`);
      if (state.snapshot === undefined || String(state.snapshot['snapshot-id']) !== detail.snapshotId) {
        problems.push(`${detail.table}: current snapshot ${String(state.snapshot?.['snapshot-id'])}, reported ${String(detail.snapshotId)}`);
      }
      for (const file of state.files) problems.push(...(await fieldIdProblems(duck.connection, file, state.schema)));
    }
    expect(problems.join('\n')).toBe('');
  });
});

describe('Pagila payment, a partitioned table', () => {
  it('becomes ONE Iceberg table, read leaf by leaf', async () => {
    const catalog = new HadoopCatalog(new LocalFileIO(), warehouse);
    const names = (await catalog.listTables([PAGILA.namespace])).map((id) => id.name).sort();
    expect(names).toEqual((await publicTables(PAGILA)).sort());
    expect(
      names.filter((n) => n.startsWith('payment_')),
      'leaf partitions must not become tables',
    ).toEqual([]);
    const { rows } = await client(PAGILA).query<{ leaves: string }>(
      `SELECT count(*)::text AS leaves FROM pg_catalog.pg_partition_tree('public.payment') WHERE isleaf`,
    );
    const payment = firstRun(PAGILA).details.find((d) => d.table === 'payment');
    // Each leaf is read on its own, so there is at least one copy partition per leaf.
    expect(payment?.partitions.total).toBeGreaterThanOrEqual(Number(rows[0]!.leaves));
    expect(Number(rows[0]!.leaves)).toBeGreaterThan(1);
  });

  it('splits a table larger than the partition size into page ranges', () => {
    const rental = firstRun(PAGILA).details.find((d) => d.table === 'rental');
    expect(rental?.partitions.total).toBeGreaterThan(1);
  });
});

describe('running the same migration again', () => {
  const secondRuns = new Map<string, MigrationReport>();

  beforeAll(async () => {
    for (const dataset of DATASETS) secondRuns.set(dataset.database, await migrate(dataset));
  }, 240_000);

  it.each(DATASETS)('replaces the data of every $database table with one copy of the source rows', async (dataset) => {
    const report = secondRuns.get(dataset.database)!;
    expect(report.runtimeStatus, report.lastError ?? '').toBe('Completed');
    expect(report.id, 'a finished run is not resumed: the repeat is a new run').not.toBe(firstRun(dataset).id);
    expect(failuresOf(report), 'tables that did not commit').toBe('');
    const problems: string[] = [];
    for (const detail of report.details) {
      const expected = await sourceCount(dataset, detail.table);
      const state = await loadIcebergTable(warehouse, [dataset.namespace], detail.table);
      const read = await duckCount(state.files);
      if (state.recordCount !== expected || read !== expected) {
        problems.push(`${detail.table}: source ${expected}, manifests ${state.recordCount}, DuckDB ${read}`);
      }
      if (state.snapshot?.summary['icebridge.run-id'] !== report.id) problems.push(`${detail.table}: the current snapshot is not the second run's`);
      const stale = state.files.filter((f) => !path.basename(f).startsWith(report.id));
      if (stale.length > 0) problems.push(`${detail.table}: the snapshot still references files of another run: ${stale.join(', ')}`);
    }
    expect(problems.join('\n')).toBe('');
  });

  it.each([
    { dataset: PAGILA, table: 'payment' },
    { dataset: PAGILA, table: 'rental' },
    { dataset: CHINOOK, table: 'PlaylistTrack' },
  ])('leaves $table row for row equal to the source', async ({ dataset, table }) => {
    const state = await loadIcebergTable(warehouse, [dataset.namespace], table);
    const result = await compareTable(client(dataset), duck.connection, { schema: 'public', table }, state);
    expect(result.explanation).toBe('');
    expect(result.sourceRows).toBeGreaterThan(0);
  });
});
