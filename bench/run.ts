/**
 * `npm run bench`: the migration benchmark by default; `--writers` for the Parquet writer comparison instead,
 * `--copy-reader` for the COPY reader's decode throughput, `--compaction` for a full scan's cost after change
 * capture, before and after compaction, `--avro` for the Avro container comparison (ours against
 * avsc), `--router` for the routing library's latency, `--restore` for the restore's load and
 * verification throughput, `--cdc` for change capture (catch-up against pg_recvlogical, steady-state lag),
 * `--telemetry` for the copy's throughput with telemetry on against off, `--fanout` for the downstream systems one after
 * another (event store events/s, outbox to Kafka events/s on the mock cluster, ClickHouse load rows/s, Weaviate
 * upserts/s against the stand-in; `--events`, `--kafka`, `--clickhouse`, `--weaviate` for one of them), `--all` for migration and writers, one after the other. Remaining arguments go to the benchmark that runs;
 * with --all they go to the migration benchmark and the writer comparison keeps its defaults (the two take different
 * flags and sizes).
 *
 *   npm run bench -- [--writers | --copy-reader | --avro | --compaction | --router | --restore | --cdc | --telemetry | --fanout | --all] [benchmark flags]
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

type Which =
  'migrate' | 'writers' | 'copy-reader' | 'avro' | 'compaction' | 'router' | 'restore' | 'cdc' | 'telemetry' | 'events' | 'kafka' | 'clickhouse' | 'weaviate';

/** Splits our own flags from the ones the benchmarks take. */
function parse(argv: string[]): { which: Which[]; rest: string[] } {
  let which: Which[] = ['migrate'];
  const rest: string[] = [];
  for (const arg of argv) {
    if (arg === '--writers') which = ['writers'];
    else if (arg === '--copy-reader') which = ['copy-reader'];
    else if (arg === '--avro') which = ['avro'];
    else if (arg === '--compaction') which = ['compaction'];
    else if (arg === '--router') which = ['router'];
    else if (arg === '--restore') which = ['restore'];
    else if (arg === '--cdc') which = ['cdc'];
    else if (arg === '--telemetry') which = ['telemetry'];
    else if (arg === '--fanout') which = ['events', 'kafka', 'clickhouse', 'weaviate'];
    else if (arg === '--events') which = ['events'];
    else if (arg === '--kafka') which = ['kafka'];
    else if (arg === '--clickhouse') which = ['clickhouse'];
    else if (arg === '--weaviate') which = ['weaviate'];
    else if (arg === '--all') which = ['migrate', 'writers'];
    else rest.push(arg);
  }
  return { which, rest };
}

const SCRIPTS: Record<Which, string> = {
  migrate: path.join(__dirname, 'migrate.ts'),
  writers: path.join(__dirname, 'parquet-writers.ts'),
  'copy-reader': path.join(__dirname, 'copy-reader.ts'),
  avro: path.join(__dirname, 'avro-container.ts'),
  compaction: path.join(__dirname, 'compaction.ts'),
  router: path.join(__dirname, 'router.ts'),
  restore: path.join(__dirname, 'restore.ts'),
  cdc: path.join(__dirname, 'cdc.ts'),
  telemetry: path.join(__dirname, 'telemetry.ts'),
  events: path.join(__dirname, 'events.ts'),
  kafka: path.join(__dirname, 'kafka.ts'),
  clickhouse: path.join(__dirname, 'clickhouse.ts'),
  weaviate: path.join(__dirname, 'weaviate.ts'),
};

/** Each benchmark runs in a process of its own, as if started alone, so neither inherits the other's heap. */
function runScript(which: Which, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, SCRIPTS[which], ...args], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const { which, rest } = parse(process.argv.slice(2));
  let status = 0;
  for (const [i, name] of which.entries()) {
    if (i > 0) console.log('');
    const args = name === 'writers' && which.length > 1 ? [] : rest;
    status = Math.max(status, await runScript(name, args));
  }
  return status;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
