/**
 * ClickHouse load throughput: N rows of an orders-like table (key, timestamp, decimal, text, int) applied through
 * the ClickHouse sink as historical-load chunks (each chunk: a key lookup for the chunk, then one TabSeparated
 * INSERT), into Debian's clickhouse-server 18.16 started for the run; then one stream batch of updates of 10% of
 * the keys (which also writes each replaced row again as deleted). Rows per second, one process.
 *
 *   npx tsx bench/clickhouse.ts [--rows 200000] [--chunk 10000]
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { openClickHouse, queryTexts } from '../shared/clickhouse/clickhouse-connection';
import { ClickHouseSink } from '../shared/clickhouse/clickhouse-sink';
import type { FanoutChange, FanoutTable } from '../shared/fanout/fanout-types';
import type { Value } from '../shared/iceberg/spec/values';
import { startClickHouse } from '../test/integration/support/clickhouse-server';

const TABLE: FanoutTable = {
  schema: 'bench',
  name: 'orders',
  entity: 'Orders',
  key: ['id'],
  references: [],
  columns: [
    { name: 'id', type: 'long', nullable: false, sourceType: 'bigint' },
    { name: 'placed_at', type: 'timestamptz', nullable: false, sourceType: 'timestamptz' },
    { name: 'amount', type: 'decimal(12, 2)', nullable: true, sourceType: 'numeric(12,2)' },
    { name: 'note', type: 'string', nullable: true, sourceType: 'text' },
    { name: 'quantity', type: 'int', nullable: false, sourceType: 'integer' },
  ],
};

/** Figures of one run. */
export interface ClickHouseBenchResult {
  rows: number;
  loadRowsPerSecond: number;
  updateRowsPerSecond: number;
}

function orderRow(id: number, version: number): Value[] {
  const at = 1_672_531_200_000_000n + BigInt(id) * 60_000_000n;
  return [BigInt(id), at, BigInt(id * 7 + version) * 100n + 25n, `order ${id} note ${version}`, (id % 17) + version];
}

/** Loads `rows` rows in chunks of `chunk`, then updates a tenth of them in one batch; prints and answers rows/s. */
export async function benchClickHouseLoad(rows: number, chunk = 10_000): Promise<ClickHouseBenchResult> {
  const server = await startClickHouse({ database: 'bench' });
  const sink = ClickHouseSink.open(server.settings, { tables: { 'bench.orders': { sumColumns: ['amount'] } } });
  try {
    await sink.prepare([TABLE]);
    const began = performance.now();
    for (let start = 0; start < rows; start += chunk) {
      const changes: FanoutChange[] = [];
      for (let id = start; id < Math.min(rows, start + chunk); id++) {
        changes.push({
          table: TABLE,
          op: 'insert',
          key: [BigInt(id)],
          row: orderRow(id, 0),
          position: 1_000n,
          index: id,
          committedAt: 1_700_000_000_000,
          origin: 'load',
        });
      }
      await sink.apply({ through: undefined, changes });
    }
    const loadMs = performance.now() - began;
    const updates: FanoutChange[] = [];
    for (let id = 0; id < rows; id += 10) {
      updates.push({
        table: TABLE,
        op: 'update',
        key: [BigInt(id)],
        row: orderRow(id, 1),
        position: 2_000n,
        index: updates.length,
        committedAt: 1_700_000_100_000,
        origin: 'stream',
      });
    }
    const updateBegan = performance.now();
    await sink.apply({ through: 2_000n, changes: updates });
    const updateMs = performance.now() - updateBegan;
    const connection = openClickHouse(server.settings);
    const [[live]] = (await queryTexts(connection, 'SELECT count() FROM bench.bench__orders FINAL WHERE _deleted = 0 FORMAT TabSeparated')) as [[string]];
    await connection.close();
    const result = { rows, loadRowsPerSecond: Math.round(rows / (loadMs / 1000)), updateRowsPerSecond: Math.round(updates.length / (updateMs / 1000)) };
    console.log(
      `ClickHouse sink, ${rows.toLocaleString('en')} rows in chunks of ${chunk.toLocaleString('en')}, clickhouse-server 18.16, ${cpus().length} cores`,
    );
    console.log(`  load:    ${(loadMs / 1000).toFixed(1)} s, ${result.loadRowsPerSecond.toLocaleString('en')} rows/s`);
    console.log(
      `  updates: ${updates.length.toLocaleString('en')} in one batch, ${(updateMs / 1000).toFixed(1)} s, ${result.updateRowsPerSecond.toLocaleString('en')} rows/s`,
    );
    console.log(`  live rows after FINAL: ${live} (${Number(live) === rows ? 'exact' : 'NOT the rows loaded'})`);
    return result;
  } finally {
    await sink.close();
    await server.stop();
  }
}

if (require.main === module) {
  const flag = (name: string, fallback: number): number => {
    const at = process.argv.indexOf(name);
    return at > 0 ? Number(process.argv[at + 1]) : fallback;
  };
  benchClickHouseLoad(flag('--rows', 200_000), flag('--chunk', 10_000)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
