/**
 * A scratch benchmark setting: an embedded PostgreSQL holding the `orders` table of `rows` rows, migrated into a
 * local warehouse, for benchmarks of what comes after a migration (restore, the router). Everything is removed
 * afterwards.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runMigration } from '../../cli/support/run-migration';
import { type BenchPostgres, ORDERS, createOrdersTable, startBenchPostgres } from './migrate-postgres';

/** The setting `work` runs in. */
export interface MigratedOrders {
  /** A scratch folder of the run (removed afterwards). */
  dir: string;
  pg: BenchPostgres;
  /** The warehouse `orders` was migrated into. */
  warehouse: string;
}

/** Runs `work` on a freshly migrated `orders` table of `rows` rows, then stops the server and removes the folder. */
export async function withMigratedOrders<T>(label: string, rows: number, work: (setting: MigratedOrders) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), `icebridge-bench-${label}-`));
  // mkdtemp makes it 0700; the server runs as the postgres user and has to reach its data directory inside.
  await chmod(dir, 0o755);
  const pg = await startBenchPostgres(dir);
  try {
    const client = await pg.connect();
    await createOrdersTable(client, rows);
    await client.end();
    const warehouse = path.join(dir, 'warehouse');
    const report = await runMigration({
      input: { sourceSchema: ORDERS.schema, namespace: ORDERS.schema, tables: [ORDERS.table], concurrency: 2, verify: 'none' },
      sourceUrl: pg.url,
      warehouse,
      stateDir: path.join(dir, 'state'),
    });
    if (report.runtimeStatus !== 'Completed' || report.tables.failed > 0) throw new Error(`migration failed: ${report.lastError ?? ''}`);
    return await work({ dir, pg, warehouse });
  } finally {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
