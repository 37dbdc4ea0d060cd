/**
 * A whole migration into an `abfss://` warehouse on Azurite (started here), with copy workers on: Pagila's every
 * table of schema public is migrated through the local host, with the storage credentials coming from the
 * settings exactly as on Azure. The warehouse is then downloaded with the Azure SDK itself (not our FileIO) and
 * judged without our Iceberg code: avsc reads the manifests, DuckDB the data files, and every row is compared
 * with PostgreSQL.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { threadId as mainThreadId } from 'node:worker_threads';
import { BlobServiceClient } from '@azure/storage-blob';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { createFileIO } from '../../shared/iceberg/io';
import { currentSchema } from '../../shared/iceberg/spec/table-metadata';
import type { MigrationReport } from '../../shared/migrate/migration-status';
import { COPY_WORKERS_SETTING } from '../../shared/migrate/copy-resources';
import { onCopyProgress } from '../../shared/telemetry/copy-progress';
import { type AzuriteInstance, startAzurite } from './support/azurite';
import { type DuckDb, compareTable, openDuckDb, prepareComparisonSession, sourceRowCount } from './support/compare';
import { dataFileProblems, readTableIndependently } from './support/independent-metadata';
import { PAGILA_SQL, type PostgresInstance, startPostgres } from './support/postgres';

const FILESYSTEM = 'lake';
const ACCOUNT = 'devstoreaccount1';
const ROOT = `abfss://${FILESYSTEM}@${ACCOUNT}.dfs.core.windows.net/`;
const WAREHOUSE = `${ROOT}warehouse`;
const NAMESPACE = 'pagila';
/** Small partitions, so the larger tables are copied as several partitions, on several worker threads. */
const PARTITION_SIZE_IN_BYTES = 1 << 20;

let pg: PostgresInstance;
let azurite: AzuriteInstance;
let workDir: string;
let mirror: string;
let client: Client;
let duck: DuckDb;
let report: MigrationReport;
const copyThreads = new Set<number>();
const savedEnv: Record<string, string | undefined> = {};

/** Local path of a location in the downloaded copy of the warehouse. */
function mirrored(location: string): string {
  if (!location.startsWith(ROOT)) throw new Error(`${location} is not under ${ROOT}`);
  return path.join(mirror, ...location.slice(ROOT.length).split('/').map(decodeURIComponent));
}

/** Downloads every blob of the filesystem with the Azure SDK, keeping the folder layout. */
async function downloadWarehouse(): Promise<number> {
  const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(FILESYSTEM);
  let count = 0;
  for await (const blob of container.listBlobsFlat({ prefix: 'warehouse/' })) {
    const target = path.join(mirror, ...blob.name.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, await container.getBlobClient(blob.name).downloadToBuffer());
    count++;
  }
  return count;
}

async function publicTables(): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname COLLATE "C"`,
  );
  return rows.map((r) => r.name);
}

beforeAll(async () => {
  [pg, azurite] = await Promise.all([startPostgres(), startAzurite()]);
  await pg.createDatabase('pagila');
  await pg.loadSqlFile('pagila', PAGILA_SQL);
  client = new Client({ connectionString: pg.urlFor('pagila') });
  await client.connect();
  await prepareComparisonSession(client);
  workDir = await mkdtemp(path.join(os.tmpdir(), 'icebridge-abfss-'));
  mirror = path.join(workDir, 'mirror');
  duck = await openDuckDb();
  // The activities (and the copy workers) read storage credentials from the settings, as on Azure.
  for (const name of ['ICEBRIDGE_STORAGE_CONNECTION_STRING', COPY_WORKERS_SETTING]) savedEnv[name] = process.env[name];
  process.env.ICEBRIDGE_STORAGE_CONNECTION_STRING = azurite.connectionString;
  process.env[COPY_WORKERS_SETTING] = '2';
  const stop = onCopyProgress((p) => copyThreads.add(p.threadId ?? mainThreadId));
  try {
    report = await runMigration({
      input: { sourceSchema: 'public', namespace: NAMESPACE, concurrency: 4, partitionSizeInBytes: PARTITION_SIZE_IN_BYTES, verify: 'quick' },
      sourceUrl: pg.urlFor('pagila'),
      warehouse: WAREHOUSE,
      stateDir: path.join(workDir, 'state'),
    });
  } finally {
    stop();
  }
  await downloadWarehouse();
}, 300_000);

afterAll(async () => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  duck?.close();
  await client?.end().catch(() => undefined);
  await Promise.all([pg?.stop(), azurite?.stop()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('a whole migration into an abfss:// warehouse on Azurite', () => {
  it('commits and verifies every table of schema public, with the copies on worker threads', async () => {
    const failed = report.details.filter((d) => d.status !== 'committed').map((d) => `${d.table}: ${d.reason ?? d.phase}`);
    expect(report.runtimeStatus, report.lastError ?? '').toBe('Completed');
    expect(failed).toEqual([]);
    expect(report.details.map((d) => d.table).sort()).toEqual(await publicTables());
    expect(
      report.details.filter((d) => d.verified !== 'ok').map((d) => `${d.table}: ${String(d.verified)}`),
      "tables the run's own verification did not pass",
    ).toEqual([]);
    expect(copyThreads.size, 'copies reported progress').toBeGreaterThan(0);
    expect([...copyThreads], 'no copy ran on the main thread').not.toContain(mainThreadId);
  });

  it('writes every table at abfss:// locations that our catalog loads from Azurite', async () => {
    const io = createFileIO(WAREHOUSE, { azure: { accounts: [{ connectionString: azurite.connectionString }] } });
    const catalog = new HadoopCatalog(io, WAREHOUSE);
    const names = (await catalog.listTables([NAMESPACE])).map((t) => t.name).sort();
    expect(names).toEqual(await publicTables());
    for (const name of names) {
      const table = await catalog.loadTable({ namespace: [NAMESPACE], name });
      expect(table.metadata.location).toBe(`${WAREHOUSE}/${NAMESPACE}/${name}`);
      for (const snapshot of table.metadata.snapshots) expect(snapshot['manifest-list'].startsWith(`${WAREHOUSE}/${NAMESPACE}/${name}/metadata/`)).toBe(true);
    }
  });

  it('holds exactly the source rows, judged by avsc, DuckDB and PostgreSQL on a downloaded copy', async () => {
    const io = createFileIO(WAREHOUSE, { azure: { accounts: [{ connectionString: azurite.connectionString }] } });
    const catalog = new HadoopCatalog(io, WAREHOUSE);
    const problems: string[] = [];
    let rows = 0;
    let multiFileTables = 0;
    for (const detail of report.details) {
      const independent = await readTableIndependently(path.join(mirror, 'warehouse'), [NAMESPACE], detail.table, { localPathOf: mirrored });
      problems.push(...independent.problems.map((p) => `${detail.table}: ${p}`));
      problems.push(...(await dataFileProblems(duck.connection, independent.files)).map((p) => `${detail.table}: ${p}`));
      const expected = await sourceRowCount(client, 'public', detail.table);
      const recorded = independent.files.reduce((n, f) => n + f.recordCount, 0n);
      if (recorded !== BigInt(expected)) problems.push(`${detail.table}: record_count sums to ${recorded}, the source has ${expected}`);
      if (independent.files.length > 1) multiFileTables++;
      const metadata = (await catalog.loadTable({ namespace: [NAMESPACE], name: detail.table })).metadata;
      const result = await compareTable(
        client,
        duck.connection,
        { schema: 'public', table: detail.table },
        {
          schema: currentSchema(metadata),
          files: independent.files.map((f) => f.path),
        },
      );
      if (!result.equal) problems.push(result.explanation);
      rows += result.sourceRows;
    }
    expect(problems.join('\n\n'), 'differences').toBe('');
    expect(rows, 'rows compared').toBeGreaterThan(45_000);
    expect(multiFileTables, 'tables copied as several partitions').toBeGreaterThan(0);
  });
});
