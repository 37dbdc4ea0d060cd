/**
 * Migration benchmark: how fast icebridge moves a PostgreSQL table into Iceberg, against the pipeline a data
 * engineer would build by hand (COPY as CSV piped into DuckDB writing zstd Parquet) and against PostgreSQL's raw
 * binary COPY to nowhere, the ceiling of any reader, read by Node's `pg` and by psql (what the server emits to a C
 * client, the baseline the copy's target is set against); where the migration's and the verification's wall time
 * goes, from icebridge's own activity spans; and how long `icebridge verify --level full` of the table
 * icebridge just wrote takes next to that migration. Every run happens in a fresh child process whose peak RSS
 * is read from the kernel; candidates take turns within each round so drifting machine load hits all alike.
 * Last, `verify --level quick` of every Pagila table (a sample database of many small, varied tables).
 * The partitioned lines migrate the same table into an Iceberg table partitioned so each copy keeps many
 * writers open (bucket[16] of id by default), once within the writer buffer budget of a 2 GB instance and once
 * with a budget too large to matter, for their peak RSS.
 *
 * Then what the server spends on the raw COPY, column by column (its CPU for COPY of the first k columns), and what
 * the machine's cores allow: each line's wall time were both cores busy throughout, against its target.
 *
 *   npx tsx bench/migrate.ts [--rows N] [--runs R] [--only icebridge,verify,partitioned,reader,duckdb,csv,raw,psql,cli,columns]
 *                            [--settings 128:2,64:2] [--partition-spec 'bucket[16](id)'] [--profile DIR] [--no-pagila]
 *
 * Defaults: 2,000,000 rows, 3 runs, icebridge's default setting (256 MB partitions, 2 activities) plus three others.
 * From 5,000,000 rows on: 1 run of the default setting only, to show peak RSS does not grow with the table.
 */
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PartitionFieldRequest } from '../shared/iceberg/transaction/table-evolution';
import type { CandidateKind, MigrateJob } from './lib/migrate-candidates';
import { buildProduct } from './lib/built-code';
import { type PagilaQuick, benchPagilaQuick, printPagilaQuick } from './lib/pagila';
import { type BenchPostgres, ORDERS, createOrdersTable, ordersHeapBytes, startBenchPostgres } from './lib/migrate-postgres';
import { type Series, type Summary, megabytes, phaseTable, resultsTable, secondsPerMillionRows, summarize, verdict } from './lib/migrate-report';
import { findPsql } from '../test/integration/support/postgres';
import { type JobMeasurement, runJobInChild } from './lib/migrate-runner';
import { median } from './lib/measure';
import { type ServerColumnCosts, serverColumnCosts, serverColumnLines } from './lib/server-columns';

/** One icebridge setting: heap MB per copy partition and copyPartition activities at once. */
export interface IcebridgeSetting {
  partitionMb: number;
  activities: number;
}

/** Command-line options of the migration benchmark. */
export interface MigrateBenchOptions {
  rows: number;
  runs: number;
  only: BenchKind[];
  /** Partition spec of the partitioned lines. */
  partitionSpec: PartitionFieldRequest[];
  /** The first is the default (what `icebridge migrate` does without flags); the rest are tried beside it. */
  settings: IcebridgeSetting[];
  /** Where to write CPU profiles of the icebridge and verify runs, when set. */
  profileDir?: string;
  /** Whether to time `verify --level quick` of the Pagila sample database after the rounds. */
  pagila: boolean;
}

/** A line of the benchmark (a candidate, or icebridge into a partitioned target), or the server's COPY by column. */
export type BenchKind = CandidateKind | 'partitioned' | 'columns';

const KINDS: readonly BenchKind[] = ['icebridge', 'verify', 'partitioned', 'reader', 'duckdb', 'csv', 'raw', 'psql', 'cli', 'columns'];
const DEFAULT_PARTITION_SPEC: PartitionFieldRequest[] = [{ source: 'id', transform: 'bucket[16]' }];
/** The partitioned lines: the default 2 GB instance, and a memory so large its writer budget never binds. */
const PARTITIONED_MEMORY_MB = [
  { mb: 2048, label: 'writer budget of a 2 GB instance' },
  { mb: 65536, label: 'no effective writer budget' },
] as const;
const DEFAULT_SETTING: IcebridgeSetting = { partitionMb: 256, activities: 2 };
/** From this size on, defaults switch to one run of the default setting (see parseMigrateArgs). */
const LARGE_ROWS = 5_000_000;
const USAGE =
  'usage: tsx bench/migrate.ts [--rows N] [--runs R] [--only icebridge,verify,partitioned,reader,duckdb,csv,raw,psql,cli,columns] ' +
  "[--settings MB:ACTIVITIES,...] [--partition-spec 'TRANSFORM(COLUMN),...'] [--profile DIR] [--no-pagila]";

/** Parses argv; throws with a usage message on anything it does not understand. */
export function parseMigrateArgs(argv: string[]): MigrateBenchOptions {
  const options: MigrateBenchOptions = {
    rows: 2_000_000,
    runs: 3,
    only: [...KINDS],
    pagila: true,
    partitionSpec: DEFAULT_PARTITION_SPEC,
    settings: [DEFAULT_SETTING, { partitionMb: 64, activities: 2 }, { partitionMb: 128, activities: 2 }, { partitionMb: 256, activities: 3 }],
  };
  const positive = (flag: string, text: string | undefined): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${flag} needs a positive integer, got ${String(text)}\n${USAGE}`);
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    if (flag === '--rows') options.rows = positive(flag, value());
    else if (flag === '--runs') options.runs = positive(flag, value());
    else if (flag === '--profile') options.profileDir = path.resolve(value() ?? '.');
    else if (flag === '--no-pagila') options.pagila = false;
    else if (flag === '--partition-spec') options.partitionSpec = parsePartitionSpec(String(value()));
    else if (flag === '--only') {
      const names = String(value())
        .split(',')
        .map((s) => s.trim());
      const unknown = names.filter((n) => !(KINDS as readonly string[]).includes(n));
      if (unknown.length > 0) throw new Error(`unknown candidate(s) ${unknown.join(', ')}; known: ${KINDS.join(', ')}`);
      options.only = KINDS.filter((k) => names.includes(k));
      if (options.only.includes('verify') && !options.only.includes('icebridge'))
        throw new Error(`verify times the verification of icebridge's table: --only needs icebridge with it\n${USAGE}`);
    } else if (flag === '--settings') {
      options.settings = String(value())
        .split(',')
        .map((pair) => {
          const [mb, activities] = pair.split(':');
          return { partitionMb: positive('--settings partition MB', mb), activities: positive('--settings activities', activities ?? '2') };
        });
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  // Big tables are for showing memory stays flat, not for ratios: one run of the default setting, unless asked.
  if (options.rows >= LARGE_ROWS) {
    if (!argv.some((a) => a.startsWith('--runs'))) options.runs = 1;
    if (!argv.some((a) => a.startsWith('--settings'))) options.settings = [DEFAULT_SETTING];
  }
  return options;
}

/** `bucket[16](id),day(created_at)` → partition field requests. */
function parsePartitionSpec(text: string): PartitionFieldRequest[] {
  return text.split(/,(?![^(]*\))/).map((field) => {
    const match = /^\s*([a-z]+(?:\[\d+\])?)\((\w+)\)\s*$/.exec(field);
    if (!match) throw new Error(`--partition-spec needs TRANSFORM(COLUMN) fields, got ${JSON.stringify(field)}\n${USAGE}`);
    return { source: match[2]!, transform: match[1]! };
  });
}

function specLabel(spec: PartitionFieldRequest[]): string {
  return spec.map((f) => `${f.transform}(${f.source})`).join(', ');
}

function settingLabel(s: IcebridgeSetting): string {
  return `${s.partitionMb} MB partitions, ${s.activities} activit${s.activities === 1 ? 'y' : 'ies'}`;
}

interface Entry {
  series: Series;
  job: Omit<MigrateJob, 'workDir'>;
}

/** Runs one job in its child and adds its figures to the series; throws (after setting series.error) when it fails. */
async function runEntry(
  entry: Entry,
  job: MigrateJob,
  execArgv: string[],
  timeoutInMs: number,
  postgres: BenchPostgres,
  rows: number,
): Promise<JobMeasurement> {
  try {
    // The command line's server CPU would mix its migration's with its verification's: none is reported.
    const measured = await runJobInChild(job, { timeoutInMs, execArgv, ...(job.kind === 'cli' ? {} : { serverCpuMs: postgres.cpuMs }) });
    const what = job.kind === 'verify' ? 'compared' : 'read';
    if (measured.rows !== rows) throw new Error(`${what} ${measured.rows} rows, expected ${rows}`);
    entry.series.runs.push(measured);
    return measured;
  } catch (error) {
    entry.series.error = error instanceof Error ? error.message : String(error);
    throw error;
  }
}

/** The verify job for the table the icebridge run in `workDir` migrated (see runIcebridge's directories). */
function verifyJob(job: Omit<MigrateJob, 'workDir'>, workDir: string): MigrateJob {
  return {
    ...job,
    workDir: path.join(workDir, 'verify'),
    verify: {
      warehouse: path.join(workDir, 'timed', 'warehouse'),
      level: 'full',
      warmup: { warehouse: path.join(workDir, 'warmup', 'warehouse'), table: ORDERS.warmupTable },
    },
  };
}

function profileArgs(options: MigrateBenchOptions, entry: Entry, index: number, round: number): string[] {
  if (!options.profileDir || (entry.job.kind !== 'icebridge' && entry.job.kind !== 'verify')) return [];
  // A directory per run, default file names: every thread (the loader's too) writes a profile of its own.
  return ['--cpu-prof', `--cpu-prof-dir=${path.join(options.profileDir, `${entry.job.kind}-${index}-round${round}`)}`];
}

function plannedEntries(options: MigrateBenchOptions, sourceUrl: string): Entry[] {
  const base = { sourceUrl, schema: ORDERS.schema, table: ORDERS.table };
  const entries: Entry[] = [];
  if (options.only.includes('icebridge')) {
    options.settings.forEach((s, i) =>
      entries.push({
        series: { label: i === 0 ? 'a  icebridge' : '   icebridge', settings: settingLabel(s) + (i === 0 ? ' (default)' : ''), runs: [] },
        job: {
          ...base,
          kind: 'icebridge',
          warmupTable: ORDERS.warmupTable,
          partitionSizeInBytes: s.partitionMb * 1024 * 1024,
          maxConcurrentActivities: s.activities,
        },
      }),
    );
  }
  if (options.only.includes('partitioned')) {
    const s = options.settings[0]!;
    PARTITIONED_MEMORY_MB.forEach(({ mb, label }, i) =>
      entries.push({
        series: {
          label: i === 0 ? 'p  icebridge partitioned' : '   icebridge partitioned',
          settings: `${specLabel(options.partitionSpec)}, ${label}`,
          runs: [],
        },
        job: {
          ...base,
          kind: 'icebridge',
          warmupTable: ORDERS.warmupTable,
          partitionSizeInBytes: s.partitionMb * 1024 * 1024,
          maxConcurrentActivities: s.activities,
          partitionSpec: options.partitionSpec,
          env: { ICEBRIDGE_INSTANCE_MEMORY_MB: String(mb) },
        },
      }),
    );
  }
  if (options.only.includes('verify') && options.only.includes('icebridge')) {
    // Its job is completed per round with the warehouse the default setting's run just wrote (see verifyJob).
    entries.splice(1, 0, { series: { label: 'v  icebridge verify', settings: "--level full of (a)'s table", runs: [] }, job: { ...base, kind: 'verify' } });
  }
  if (options.only.includes('reader')) {
    entries.push({ series: { label: '   icebridge reader', settings: "(a)'s COPY decoding alone", runs: [] }, job: { ...base, kind: 'reader' } });
  }
  if (options.only.includes('duckdb')) {
    entries.push({ series: { label: 'b  COPY csv | DuckDB', settings: 'zstd Parquet via named pipe', runs: [] }, job: { ...base, kind: 'duckdb' } });
  }
  if (options.only.includes('csv')) {
    entries.push({ series: { label: '   COPY csv > null', settings: "(b)'s source half alone", runs: [] }, job: { ...base, kind: 'csv' } });
  }
  if (options.only.includes('raw')) {
    entries.push({ series: { label: 'c  COPY binary > null', settings: 'plain COPY table, Node pg', runs: [] }, job: { ...base, kind: 'raw' } });
  }
  if (options.only.includes('cli')) {
    entries.push({
      series: { label: 'e  icebridge command', settings: 'migrate --verify none, start-up included', runs: [] },
      job: { ...base, kind: 'cli' },
    });
  }
  if (options.only.includes('psql')) {
    const psql = findPsql();
    if (psql === undefined) console.log('psql not found (postgresql-client): the r line (psql binary COPY to /dev/null) is skipped');
    else
      entries.push({
        series: { label: 'r  psql \\copy binary', settings: `to /dev/null, ${psql}`, runs: [] },
        job: { ...base, kind: 'psql', psql },
      });
  }
  return entries;
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
}

function machineContext(postgres: BenchPostgres): string {
  const cpus = os.cpus();
  return [
    `machine: ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
      `node ${process.version}, PostgreSQL ${postgres.version} (embedded, default settings)`,
    `load average (1/5/15 min) at start: ${loadAverage()}; other work on this machine skews timings, so compare medians and ratios`,
  ].join('\n');
}

/** Runs the benchmark and prints its figures; returns 0, or 1 when a candidate failed. */
export async function runMigrateBench(options: MigrateBenchOptions): Promise<number> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'icebridge-migrate-bench-'));
  // mkdtemp makes it 0700; the server runs as the postgres user and has to reach its data directory inside.
  await chmod(root, 0o755);
  let postgres: BenchPostgres | undefined;
  // Ctrl-C must not leave a server running or gigabytes in /tmp.
  const interrupt = (): void => {
    void (async () => {
      await postgres?.stop().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
      process.exit(130);
    })();
  };
  process.once('SIGINT', interrupt);
  try {
    console.log(`Migration benchmark: ${options.rows.toLocaleString('en-US')} rows, ${options.runs} runs per candidate, work dir ${root}`);
    const building = performance.now();
    await buildProduct();
    console.log(`built dist/ (npm run build) in ${((performance.now() - building) / 1000).toFixed(1)} s: the candidates run the compiled code, as users do`);
    postgres = await startBenchPostgres(root);
    console.log(machineContext(postgres));
    const generated = performance.now();
    const client = await postgres.connect();
    try {
      await createOrdersTable(client, options.rows);
      console.log(
        `table ${ORDERS.schema}.${ORDERS.table}: ${options.rows.toLocaleString('en-US')} rows, heap ${megabytes(await ordersHeapBytes(client))}, ` +
          `generated with generate_series + VACUUM ANALYZE in ${((performance.now() - generated) / 1000).toFixed(1)} s`,
      );
    } finally {
      await client.end();
    }
    const entries = plannedEntries(options, postgres.url);
    // Generous: a stuck run should end the benchmark, a slow machine should not (5,000 rows/s at worst).
    const timeoutInMs = Math.max(10 * 60_000, options.rows / 5);
    if (options.profileDir) await mkdir(options.profileDir, { recursive: true });
    console.log('');
    const verify = entries.find((e) => e.job.kind === 'verify');
    const verified = entries.find((e) => e.job.kind === 'icebridge' && e.job.partitionSpec === undefined);
    for (let round = 1; round <= options.runs; round++) {
      const line: string[] = [];
      for (const [index, entry] of entries.entries()) {
        if (entry.series.error !== undefined || entry === verify) continue;
        const workDir = path.join(root, `run-${round}-${index}`);
        await mkdir(workDir, { recursive: true });
        try {
          const measured = await runEntry(entry, { ...entry.job, workDir }, profileArgs(options, entry, index, round), timeoutInMs, postgres, options.rows);
          line.push(
            `${entry.series.label.trim()}${entry.job.kind === 'icebridge' ? ` ${entry.job.partitionSizeInBytes! / 2 ** 20}:${entry.job.maxConcurrentActivities}` : ''} ${(measured.wallMs / 1000).toFixed(1)} s`,
          );
        } catch {
          line.push(`${entry.series.label.trim()} FAILED`);
        }
        // The table this run wrote is verified now, before its files go.
        if (verify && entry === verified && entry.series.error === undefined && verify.series.error === undefined) {
          try {
            await mkdir(path.join(workDir, 'verify'), { recursive: true });
            const checked = await runEntry(verify, verifyJob(verify.job, workDir), profileArgs(options, verify, 0, round), timeoutInMs, postgres, options.rows);
            line.push(`${verify.series.label.trim()} ${(checked.wallMs / 1000).toFixed(1)} s`);
          } catch {
            line.push(`${verify.series.label.trim()} FAILED`);
            console.log(
              `\n!!! icebridge verify --level full FAILED on a table nobody changed after migrating it: a bug in the migration or in the verifier.\n${verify.series.error}\n`,
            );
          }
        }
        await rm(workDir, { recursive: true, force: true });
      }
      console.log(`round ${round}/${options.runs} (load ${os.loadavg()[0]!.toFixed(2)}): ${line.join(', ')}`);
    }
    let columns: ServerColumnCosts | undefined;
    if (options.only.includes('columns')) {
      console.log(`\nThe server's CPU for the raw COPY, column by column (${options.runs} runs of each COPY) ...`);
      columns = await serverColumnCosts(postgres, options.runs);
    }
    let pagila: PagilaQuick | undefined;
    if (options.pagila) {
      console.log('\nPagila: loading the sample database into a PostgreSQL of its own, migrating every table (untimed) ...');
      pagila = await benchPagilaQuick({ runs: options.runs, dir: path.join(root, 'pagila'), timeoutInMs });
    }
    printResults(options, entries, columns);
    if (pagila) printPagilaQuick(pagila);
    console.log(`load average (1/5/15 min) at end: ${loadAverage()}`);
    return entries.some((e) => e.series.error !== undefined) || pagila?.error !== undefined ? 1 : 0;
  } finally {
    process.removeListener('SIGINT', interrupt);
    await postgres?.stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
}

function printResults(options: MigrateBenchOptions, entries: Entry[], columns: ServerColumnCosts | undefined): void {
  const series = entries.map((e) => e.series);
  console.log(`\nResults (median of ${options.runs}; rows/s = rows / median wall time; start RSS = the process's RSS when the clock`);
  console.log('started, code loaded; peak RSS = highest VmHWM of the process over its whole life, across runs)\n');
  console.log(resultsTable(series));
  for (const line of [
    'a: in-process runMigration (plan, copy, commit, row-count check) in a child process, after an untimed warm-up',
    '   migration of 1,000 rows that loads the code (see warm-up below). a, v, p, e and the reader run dist/, the',
    '   compiled code users run (built at the start; tsx would make every imported binding a getter call).',
    'b: COPY (SELECT …) TO STDOUT (FORMAT csv) streamed through a named pipe into DuckDB read_csv → COPY TO Parquet',
    '   (zstd), in one process; nothing is staged on disk, so there is no separate "DuckDB alone" part to time.',
    "c: COPY table TO STDOUT (FORMAT binary) read by Node's pg (pg-copy-streams) into a discarding sink.",
    "r: psql -c \"\\copy table to '/dev/null' (format binary)\": what the server emits to a C client, the copy's baseline;",
    "   its node CPU is psql's own CPU (user + system, from the shell's times).",
    'e: the icebridge command as a user runs it (dist/cli/main.js, built first like every candidate), each a',
    '   process timed from start to exit: --version (node and the entry module), then migrate --tables orders --verify',
    "   none (the line's figure; node CPU is that process's), then verify --level full of what it wrote; below, each",
    '   split into its start-up (to its first activity), its activities and the rest, from the history its run journaled.',
    "   The RSS columns of r and e are the waiting benchmark process's, not psql's or the command's.",
    "v: icebridge verify --level full --json of (a)'s table right after (a) wrote it, in-process through verifyCommand",
    "   (the CLI command's own entry) in a child process, after an untimed verify of the warm-up table; it must exit 0.",
    `p: as a, into an Iceberg table partitioned by ${specLabel(options.partitionSpec)} (many open writers per copy), with the`,
    '   copy memory budget of ICEBRIDGE_INSTANCE_MEMORY_MB=2048 (the default), then with 65536 (a budget that never binds).',
    'icebridge reader: shared/postgres readRows over the whole table (the same COPY as c), rows decoded and dropped.',
    "node CPU: user+system of the candidate's process, all threads; server CPU: the PostgreSQL postmaster and its",
    '   backends during the run. On 2 cores, node CPU + server CPU ≈ 2 × wall means the machine is saturated.',
  ])
    console.log(`  ${line}`);
  for (const failed of series.filter((s) => s.error !== undefined)) console.log(`  ${failed.label.trim()} (${failed.settings}) failed: ${failed.error}`);
  const everyIcebridge = entries.filter((e) => e.job.kind === 'icebridge' && e.series.error === undefined);
  const icebridge = everyIcebridge.filter((e) => e.job.partitionSpec === undefined);
  const partitioned = everyIcebridge.filter((e) => e.job.partitionSpec !== undefined);
  const startup = icebridge.flatMap((e) => e.series.runs.map((r) => r.startupMs ?? 0));
  if (startup.length > 0)
    console.log(`  icebridge warm-up (module loading + 1,000-row migration, not timed): ${(Math.max(...startup) / 1000).toFixed(2)} s at most`);
  for (const e of everyIcebridge) {
    const run = e.series.runs[0];
    console.log(`  icebridge ${e.series.settings.replace(' (default)', '')}: ${run?.partitions ?? '?'} partitions, ${run?.files ?? '?'} data files`);
  }
  console.log('  RSS over the timed part, highest sample (every 200 ms) in each quarter of the run, MB, last run:');
  for (const s of series) {
    const quarters = s.runs[s.runs.length - 1]?.rssByQuarterBytes;
    if (quarters)
      console.log(
        `    ${`${s.label.trim()}, ${s.settings.replace(' (default)', '')}`.padEnd(62)} ${quarters.map((b) => (b === 0 ? '-' : (b / 2 ** 20).toFixed(0)).padStart(5)).join(' ')}`,
      );
  }

  for (const e of partitioned) {
    const p = summarize(e.series)!;
    console.log(`  partitioned, ${e.series.settings}: ${Math.round(p.rowsPerSecond).toLocaleString('en-US')} rows/s, peak RSS ${megabytes(p.peakRssBytes)}`);
  }
  const find = (kind: CandidateKind) => entries.find((e) => e.job.kind === kind && e.series.error === undefined);
  const a = icebridge[0] ? summarize(icebridge[0].series) : undefined;
  const best = icebridge.map((e) => ({ e, s: summarize(e.series)! })).sort((x, y) => y.s.rowsPerSecond - x.s.rowsPerSecond)[0];
  const b = find('duckdb') ? summarize(find('duckdb')!.series) : undefined;
  const c = find('raw') ? summarize(find('raw')!.series) : undefined;
  const r = find('psql') ? summarize(find('psql')!.series) : undefined;
  console.log('\nTargets (rows/s ratios; 2-core machine)');
  const ratios = (name: string, s: Summary, rss = true): void => {
    if (b)
      console.log(
        verdict(`${name} / b (DuckDB pipeline)`, `${(s.rowsPerSecond / b.rowsPerSecond).toFixed(3)} ×`, '≥ 1.5', s.rowsPerSecond >= 1.5 * b.rowsPerSecond),
      );
    if (r)
      console.log(
        verdict(`${name} / r (psql raw COPY)`, `${(s.rowsPerSecond / r.rowsPerSecond).toFixed(3)} ×`, '≥ 0.8', s.rowsPerSecond >= 0.8 * r.rowsPerSecond),
      );
    if (c)
      console.log(
        verdict(`${name} / c (pg raw COPY)`, `${(s.rowsPerSecond / c.rowsPerSecond).toFixed(3)} ×`, '≥ 0.6', s.rowsPerSecond >= 0.6 * c.rowsPerSecond),
      );
    if (rss) console.log(verdict(`${name} peak RSS`, megabytes(s.peakRssBytes), '≤ 512 MB', s.peakRssBytes <= 512 * 1024 * 1024));
  };
  if (a) ratios('a default', a);
  const e = find('cli') ? summarize(find('cli')!.series) : undefined;
  // e's peak RSS is that of the benchmark process waiting for the command, not the command's.
  if (e) ratios('e command', e, false);
  const budgeted = partitioned[0] ? summarize(partitioned[0].series) : undefined;
  if (budgeted) {
    const limit = 2048 * 1024 * 1024;
    console.log(verdict('p partitioned peak RSS (2 GB instance)', megabytes(budgeted.peakRssBytes), '≤ 2048 MB', budgeted.peakRssBytes <= limit));
  }
  if (best && icebridge.length > 1) {
    console.log(`  best icebridge setting: ${best.e.series.settings} at ${Math.round(best.s.rowsPerSecond).toLocaleString('en-US')} rows/s`);
    if (best.e !== icebridge[0]) ratios('a best', best.s);
  }
  const perMillionS = (ms: number): string => secondsPerMillionRows(ms, options.rows);
  const perMillion = (label: string, m: Summary | undefined): string | undefined =>
    m?.serverCpuMs === undefined ? undefined : `${label} ${perMillionS(m.cpuMs + m.serverCpuMs)}`;
  const cpu = [
    perMillion('a', a),
    best && best.e !== icebridge[0] ? perMillion('a best', best.s) : undefined,
    perMillion('b', b),
    perMillion('c', c),
    perMillion('r', r),
  ].filter((t): t is string => t !== undefined);
  const v = find('verify') ? summarize(find('verify')!.series) : undefined;
  if (a && v) {
    const ratio = v.wallMs / a.wallMs;
    console.log(verdict('v verify full / a migration', `${ratio.toFixed(2)} ×`, '≤ 1.0', ratio <= 1.0));
    console.log(verdict('v verify full peak RSS', megabytes(v.peakRssBytes), '≤ 512 MB', v.peakRssBytes <= 512 * 1024 * 1024));
    console.log(
      `  verify --level full: ${Math.round(v.rowsPerSecond).toLocaleString('en-US')} rows/s, ${(v.wallMs / 1000).toFixed(1)} s against ` +
        `${(a.wallMs / 1000).toFixed(1)} s to migrate (medians); peak RSS ${megabytes(v.peakRssBytes)}`,
    );
  }
  const command = find('cli');
  const commandVerify = command?.series.runs.map((run) => run.phases?.find((p) => p.phase.startsWith('icebridge verify'))?.wallMs ?? NaN);
  if (e && commandVerify && commandVerify.every((ms) => !Number.isNaN(ms))) {
    const ratio = median(commandVerify) / e.wallMs;
    console.log(verdict('e verify full / e migrate', `${ratio.toFixed(2)} ×`, '≤ 1.0', ratio <= 1.0));
  }
  const verifyCpu = perMillion('v', v);
  if (verifyCpu !== undefined) cpu.push(verifyCpu);
  if (cpu.length > 0) console.log(`\nCPU view, steadier than wall time under other load: node + server CPU s per million rows: ${cpu.join(', ')}`);
  const cores = os.cpus().length;
  // Were every core busy from start to end, a line would take its node + server CPU over the cores: no schedule
  // does better, so a target beyond this bound needs less CPU per row, not more overlap.
  const busy = (name: string, s: Summary | undefined, target: string, allowedWallMs: number, ratio: (wallMs: number) => string): string | undefined => {
    if (s?.serverCpuMs === undefined) return undefined;
    const cpuMs = s.cpuMs + s.serverCpuMs;
    return (
      `  ${name}: ${(cpuMs / cores / 1000).toFixed(2)} s = ${ratio(cpuMs / cores)}; ${target} allows ` +
      `${perMillionS(allowedWallMs * cores)} CPU-s per million rows, ${name} uses ${perMillionS(cpuMs)}`
    );
  };
  const bounds = [
    r && a ? busy('a', a, '0.8 × r', r.wallMs / 0.8, (ms) => `${(r.wallMs / ms).toFixed(2)} × r`) : undefined,
    a && v ? busy('v', v, '1.0 × a', a.wallMs, (ms) => `${(ms / a.wallMs).toFixed(2)} × a`) : undefined,
  ].filter((t): t is string => t !== undefined);
  if (bounds.length > 0) {
    console.log(`\nWhat ${cores} cores allow: each line's wall time were every core busy from start to end (node + server CPU / ${cores})`);
    for (const line of bounds) console.log(line);
  }
  if (columns) {
    console.log(`\nWhere the server's raw COPY goes: server CPU per million rows of COPY (SELECT … FROM ONLY ${ORDERS.schema}.${ORDERS.table}) TO STDOUT`);
    console.log('(FORMAT binary) of no column, then what each column adds to the columns before it; share of the whole row (medians)');
    for (const line of serverColumnLines(columns, options.rows)) console.log(line);
  }
  const split = [icebridge[0], find('verify'), find('cli')].filter((x): x is Entry => x !== undefined);
  if (split.length > 0) {
    console.log('\nWhere the time goes (medians; a and v: the wall time each activity covered, from its spans, activities may');
    console.log("overlap; e: each process from start to exit; percentages are of the line's timed run)");
    for (const x of split) console.log(phaseTable(`${x.series.label.trim()}, ${x.series.settings.replace(' (default)', '')}`, x.series.runs));
  }
  console.log(
    options.rows >= LARGE_ROWS
      ? 'Peak RSS must not grow with table size: compare the peak RSS above with a run at the default 2,000,000 rows.'
      : 'Peak RSS must not grow with table size: compare with one run at --rows 10000000.',
  );
}

if (require.main === module) {
  let options: MigrateBenchOptions;
  try {
    options = parseMigrateArgs(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
  runMigrateBench(options).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    },
  );
}
