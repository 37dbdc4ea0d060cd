/**
 * Restore throughput: the benchmark's orders table (bench/lib/migrate-postgres.ts) is migrated once, then restored
 * from its snapshot into a new table; the load (scan, encode, COPY) and the full verification that follows are
 * timed apart. Embedded PostgreSQL, local-disk warehouse, one process.
 *
 *   npx tsx bench/restore.ts [--rows 1000000]
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runMigration } from '../cli/support/run-migration';
import { HadoopCatalog } from '../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../shared/iceberg/io';
import { connectPostgres } from '../shared/postgres/connection';
import { restoreTable } from '../shared/restore/restore-table';
import { ORDERS, createOrdersTable, startBenchPostgres } from './lib/migrate-postgres';

const at = process.argv.indexOf('--rows');
const ROWS = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'icebridge-bench-restore-'));
  // mkdtemp makes it 0700; the server runs as the postgres user and has to reach its data directory inside.
  await chmod(dir, 0o755);
  const pg = await startBenchPostgres(dir);
  try {
    const client = await pg.connect();
    await createOrdersTable(client, ROWS);
    await client.end();
    const warehouse = path.join(dir, 'warehouse');
    const migrated = await runMigration({
      input: { sourceSchema: ORDERS.schema, namespace: ORDERS.schema, tables: [ORDERS.table], concurrency: 1, verify: 'none' },
      sourceUrl: pg.url,
      warehouse,
      stateDir: path.join(dir, 'state'),
    });
    if (migrated.runtimeStatus !== 'Completed' || migrated.tables.failed > 0) throw new Error(`migration failed: ${migrated.lastError ?? ''}`);
    const env = { connectSource: () => connectPostgres(pg.url), catalog: new HadoopCatalog(new LocalFileIO(), warehouse) };
    const table = await env.catalog.loadTable({ namespace: [ORDERS.schema], name: ORDERS.table });
    const began = performance.now();
    const result = await restoreTable(env, {
      table: { schema: ORDERS.schema, name: ORDERS.table },
      asOf: { snapshotId: table.metadata['current-snapshot-id']! },
      mode: { into: `${ORDERS.table}_restored` },
    });
    const totalMs = performance.now() - began;
    const verifyMs = result.verification.durationMs;
    const loadMs = totalMs - verifyMs;
    const rate = (ms: number) => Math.round(ROWS / (ms / 1000)).toLocaleString('en');
    console.log(`restore of ${ROWS.toLocaleString('en')} rows (${ORDERS.schema}.${ORDERS.table}), PostgreSQL ${pg.version}, ${cpus().length} cores`);
    console.log(`  load (scan, encode, COPY, one transaction): ${(loadMs / 1000).toFixed(1)} s, ${rate(loadMs)} rows/s`);
    console.log(`  full verification:                          ${(verifyMs / 1000).toFixed(1)} s, ${rate(verifyMs)} rows/s`);
    console.log(`  exact: ${result.ok ? 'yes' : `NO (${result.verification.status})`}`);
  } finally {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
