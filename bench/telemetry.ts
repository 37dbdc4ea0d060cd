/**
 * What telemetry costs the copy: the benchmark's orders table (bench/lib/migrate-postgres.ts) migrated again and
 * again through the local host, with telemetry off (the API's no-op) and on (an SDK with a batching span
 * processor and a metric reader exporting every second, both to memory), in alternating order (off-on, on-off,
 * ...) so drift of a shared machine falls on both. Prints each run, the medians of copy throughput, the median of
 * each pair's on/off ratio (neighbouring runs share the machine's load), and the median CPU time this process
 * (copy workers included) spent per row: telemetry's cost is all in this process, and CPU time is not stretched by
 * waiting for a busy machine as wall time is.
 *
 *   npx tsx bench/telemetry.ts [--rows 500000] [--pairs 4] [--partition-mb 32]
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { metrics, trace } from '@opentelemetry/api';
import { InMemoryMetricExporter, AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { runMigration } from '../cli/support/run-migration';
import { median } from './lib/measure';
import { ORDERS, createOrdersTable, startBenchPostgres } from './lib/migrate-postgres';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const ROWS = option('--rows', 500_000);
const PAIRS = option('--pairs', 4);
const PARTITION_BYTES = option('--partition-mb', 32) * 1024 * 1024;

/** Telemetry on: SDK providers made global until the returned function ends them; what they saw is counted. */
function telemetryOn(): () => Promise<{ spans: number }> {
  const spans = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spans)] });
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 1000 });
  const meter = new MeterProvider({ readers: [reader] });
  trace.setGlobalTracerProvider(tracer);
  metrics.setGlobalMeterProvider(meter);
  return async () => {
    await Promise.all([tracer.forceFlush(), meter.forceFlush()]);
    const seen = { spans: spans.getFinishedSpans().length };
    await Promise.all([tracer.shutdown(), meter.shutdown()]);
    trace.disable();
    metrics.disable();
    return seen;
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'icebridge-bench-telemetry-'));
  await chmod(dir, 0o755);
  const pg = await startBenchPostgres(dir);
  try {
    const client = await pg.connect();
    await createOrdersTable(client, ROWS);
    await client.end();
    let run = 0;
    const migrate = async (table: string): Promise<{ ms: number; cpuMs: number }> => {
      run++;
      const began = performance.now();
      const cpu = process.cpuUsage();
      const report = await runMigration({
        input: {
          sourceSchema: ORDERS.schema,
          namespace: ORDERS.schema,
          tables: [table],
          concurrency: 1,
          partitionSizeInBytes: PARTITION_BYTES,
          verify: 'none',
        },
        sourceUrl: pg.url,
        warehouse: path.join(dir, `warehouse-${run}`),
        stateDir: path.join(dir, `state-${run}`),
      });
      if (report.runtimeStatus !== 'Completed' || report.tables.failed > 0) throw new Error(`migration failed: ${report.lastError ?? ''}`);
      const used = process.cpuUsage(cpu);
      return { ms: performance.now() - began, cpuMs: (used.user + used.system) / 1000 };
    };
    // Loads the code and starts the copy workers, untimed.
    await migrate(ORDERS.warmupTable);
    const rates: Record<'off' | 'on', number[]> = { off: [], on: [] };
    const cpuPerRow: Record<'off' | 'on', number[]> = { off: [], on: [] };
    const ratios: number[] = [];
    console.log(
      `telemetry cost: ${ROWS.toLocaleString('en')} rows of ${ORDERS.schema}.${ORDERS.table}, ${PAIRS} pairs, PostgreSQL ${pg.version}, ${cpus().length} cores`,
    );
    for (let pair = 0; pair < PAIRS; pair++) {
      for (const mode of pair % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        const end = mode === 'on' ? telemetryOn() : undefined;
        const { ms, cpuMs } = await migrate(ORDERS.table);
        const seen = end ? await end() : undefined;
        const rate = ROWS / (ms / 1000);
        rates[mode].push(rate);
        cpuPerRow[mode].push((cpuMs * 1000) / ROWS);
        console.log(
          `  ${mode.padEnd(3)} ${(ms / 1000).toFixed(2)} s  ${Math.round(rate).toLocaleString('en')} rows/s  CPU ${(cpuMs / 1000).toFixed(2)} s${seen ? `  (${seen.spans} spans)` : ''}`,
        );
      }
      ratios.push(rates.on.at(-1)! / rates.off.at(-1)!);
    }
    const off = median(rates.off);
    const on = median(rates.on);
    console.log(`median off: ${Math.round(off).toLocaleString('en')} rows/s`);
    console.log(`median on:  ${Math.round(on).toLocaleString('en')} rows/s (${(((on - off) / off) * 100).toFixed(1)}% against off)`);
    console.log(`median of the pairs' on/off throughput: ${((median(ratios) - 1) * 100).toFixed(1)}%`);
    const cpuOff = median(cpuPerRow.off);
    const cpuOn = median(cpuPerRow.on);
    console.log(`median CPU per row: off ${cpuOff.toFixed(2)} µs, on ${cpuOn.toFixed(2)} µs (${(((cpuOn - cpuOff) / cpuOff) * 100).toFixed(1)}%)`);
  } finally {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
