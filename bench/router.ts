/**
 * The routing library's read and write latency: `findById` on PostgreSQL and on Iceberg (p50 and p99 over random
 * keys of the benchmark's `orders` table), the overhead of a validated read (both sides read and compared), `save`
 * to PostgreSQL, and `save` with Iceberg as the primary: one writer at a time (each write waits for its own
 * micro-batch's commit; with the default 200 ms window, and with no window) and `--concurrent` writers at once
 * sharing micro-batches. The Iceberg table is the one `migrate` writes (files of up to 128 MiB, pruned by the
 * key's column bounds), on local disk.
 *
 *   npm run bench -- --router [--rows 2000000] [--lookups 300] [--writes 50] [--concurrent 32]
 */
import { mkdtemp } from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ICEBRIDGE_FLAGS, switchFlag } from '../shared/flags/feature-flag';
import { FlagEvaluator } from '../shared/flags/flag-evaluator';
import { LocalFlagStore } from '../shared/flags/local-flag-store';
import type { IcebergWriteSettings } from '../shared/router/iceberg-writer';
import { createRouter } from '../shared/router/router';
import { ORDERS } from './lib/migrate-postgres';
import { withMigratedOrders } from './lib/migrated-orders';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const ROWS = flag('rows', 2_000_000);
const LOOKUPS = flag('lookups', 300);
const WRITES = flag('writes', 50);
const WRITERS = flag('concurrent', 32);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  await withMigratedOrders('router', ROWS, async ({ dir, pg, warehouse }) => {
    const flags = async (names: string[]): Promise<FlagEvaluator> => {
      const store = new LocalFlagStore(path.join(await mkdtemp(path.join(dir, 'flags-')), 'flags.json'));
      for (const name of names) await store.put(switchFlag(name, true), undefined, 'absent');
      return new FlagEvaluator(store);
    };
    const keys = Array.from({ length: LOOKUPS }, (_, i) => BigInt(1 + ((i * 7_919_993) % ROWS)));
    const table = `${ORDERS.schema}.${ORDERS.table}`;
    const timeReads = async (names: string[]): Promise<number[]> => {
      const router = createRouter({ postgres: { url: pg.url, max: 2 }, warehouse, flags: await flags(names) });
      try {
        const repository = await router.table(table);
        for (const key of keys.slice(0, 10)) await repository.findById(key); // warm-up: code, metadata, pool
        const times: number[] = [];
        for (const key of keys) {
          const started = performance.now();
          if ((await repository.findById(key)) === undefined) throw new Error(`key ${key} not found`);
          times.push(performance.now() - started);
        }
        return times;
      } finally {
        await router.close();
      }
    };
    const line = (what: string, times: number[]): void =>
      console.log(`${what.padEnd(44)} p50 ${percentile(times, 50).toFixed(2).padStart(8)} ms   p99 ${percentile(times, 99).toFixed(2).padStart(8)} ms`);
    console.log(`router, ${ROWS.toLocaleString('en')} rows of ${table}, ${LOOKUPS} lookups of random keys`);
    const onPostgres = await timeReads([]);
    line('findById on PostgreSQL', onPostgres);
    line('findById on Iceberg', await timeReads([ICEBRIDGE_FLAGS.useIcebergStorage]));
    const validated = await timeReads([ICEBRIDGE_FLAGS.validateDualWrites]);
    line('findById validated (PostgreSQL primary)', validated);
    console.log(
      `${'validated read overhead over plain'.padEnd(44)} p50 ${(percentile(validated, 50) - percentile(onPostgres, 50)).toFixed(2).padStart(8)} ms   p99 ${(percentile(validated, 99) - percentile(onPostgres, 99)).toFixed(2).padStart(8)} ms`,
    );
    /** Latency of each save of `WRITES` rows (`concurrency` at a time), through a router with `names` on. */
    const timeSaves = async (names: string[], concurrency: number, settings?: IcebergWriteSettings): Promise<{ times: number[]; commits: number }> => {
      const router = createRouter({
        postgres: { url: pg.url, max: 2 },
        warehouse,
        flags: await flags(names),
        ...(settings ? { icebergWrites: settings } : {}),
      });
      try {
        const repository = await router.table(table);
        const writeKeys = Array.from({ length: Math.max(WRITES, concurrency) }, (_, i) => BigInt(1 + ((i * 7_919_993) % ROWS)));
        const rows = await Promise.all(writeKeys.map((key) => repository.findById(key)));
        await repository.save({ ...rows[0]!, note: 'warm-up' }); // warm-up: the key index is built at the first write
        const before = router.stats().icebergCommits;
        const times: number[] = [];
        for (let i = 0; i < rows.length; i += concurrency) {
          await Promise.all(
            rows.slice(i, i + concurrency).map(async (row) => {
              const started = performance.now();
              await repository.save({ ...row!, note: 'saved by the router benchmark' });
              times.push(performance.now() - started);
            }),
          );
        }
        return { times, commits: router.stats().icebergCommits - before };
      } finally {
        await router.close();
      }
    };
    line('save to PostgreSQL (PostgreSQL primary)', (await timeSaves([], 1)).times);
    const primary = [ICEBRIDGE_FLAGS.useIcebergAsPrimary];
    line('save to Iceberg, 1 writer, 200 ms window', (await timeSaves(primary, 1)).times);
    line('save to Iceberg, 1 writer, no window', (await timeSaves(primary, 1, { windowMs: 0 })).times);
    const shared = await timeSaves(primary, WRITERS);
    line(`save to Iceberg, ${WRITERS} writers, 200 ms window`, shared.times);
    console.log(`  (${shared.times.length} writes in ${shared.commits} commits)`);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
