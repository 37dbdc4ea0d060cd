/**
 * The untouched Pagila and Chinook migrations verify clean at full level: every table of schema public, every
 * row, with the types these real schemas use (domains, an enum, arrays, tsvector, bytea, a partitioned table,
 * mixed-case identifiers).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import type { RunEnvironment } from '../../shared/run/environment';
import { connectPostgres } from '../../shared/postgres/connection';
import { verifyTables } from '../../shared/verify/steps/verify-table';
import { CHINOOK_SQL, PAGILA_SQL, type PostgresInstance, startPostgres } from './support/postgres';

const DATASETS = [
  { database: 'pagila', sqlFile: PAGILA_SQL, minRows: 45_000 },
  { database: 'chinook', sqlFile: CHINOOK_SQL, minRows: 15_000 },
];

let server: PostgresInstance;
let workDir: string;
const tablesOf = new Map<string, string[]>();

beforeAll(async () => {
  server = await startPostgres();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'icebridge-verify-datasets-'));
  for (const dataset of DATASETS) {
    await server.createDatabase(dataset.database);
    await server.loadSqlFile(dataset.database, dataset.sqlFile);
    const report = await runMigration({
      input: { sourceSchema: 'public', namespace: dataset.database, concurrency: 4, partitionSizeInBytes: 1 << 20 },
      sourceUrl: server.urlFor(dataset.database),
      warehouse: path.join(workDir, 'warehouse'),
      stateDir: path.join(workDir, `state-${dataset.database}`),
    });
    const failed = report.details.filter((d) => d.status !== 'committed');
    if (report.runtimeStatus !== 'Completed' || failed.length > 0) throw new Error(`${dataset.database}: ${JSON.stringify(failed)}`);
    tablesOf.set(
      dataset.database,
      report.details.map((d) => d.table),
    );
  }
}, 300_000);

afterAll(async () => {
  await server?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe.each(DATASETS)('the $database migration', (dataset) => {
  it('verifies clean at full level', async () => {
    const env: RunEnvironment = {
      connectSource: () => connectPostgres(server.urlFor(dataset.database)),
      catalog: new HadoopCatalog(new LocalFileIO(), path.join(workDir, 'warehouse')),
    };
    const tables = tablesOf.get(dataset.database) ?? [];
    const report = await verifyTables(
      env,
      {
        source: dataset.database,
        warehouse: 'warehouse',
        tables: tables.map((name) => ({ source: { schema: 'public', name }, target: { namespace: [dataset.database], name } })),
      },
      { level: 'full' },
    );
    const problems = report.tables
      .filter((t) => t.status !== 'ok')
      .map(
        (t) =>
          `${t.table}: ${t.error ?? ''} ${JSON.stringify({ schema: t.schema, counts: t.counts, aggregates: t.aggregates.filter((a) => !a.ok), rows: t.rows })}`,
      );
    expect(problems.join('\n')).toBe('');
    expect(report.ok).toBe(true);
    const compared = report.tables.reduce((n, t) => n + Number(t.rows?.compared ?? 0), 0);
    expect(compared).toBeGreaterThan(dataset.minRows);
  }, 180_000);
});
