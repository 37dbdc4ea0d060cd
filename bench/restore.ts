/**
 * Restore throughput: the benchmark's orders table (bench/lib/migrate-postgres.ts) is migrated once, then restored
 * from its snapshot into a new table; the load (scan, encode, COPY) and the full verification that follows are
 * timed apart. Embedded PostgreSQL, local-disk warehouse, one process.
 *
 *   npx tsx bench/restore.ts [--rows 1000000]
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { HadoopCatalog } from '../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../shared/iceberg/io';
import { connectPostgres } from '../shared/postgres/connection';
import { restoreTable } from '../shared/restore/restore-table';
import { ORDERS } from './lib/migrate-postgres';
import { withMigratedOrders } from './lib/migrated-orders';

const at = process.argv.indexOf('--rows');
const ROWS = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;

async function main(): Promise<void> {
  await withMigratedOrders('restore', ROWS, async ({ pg, warehouse }) => {
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
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
