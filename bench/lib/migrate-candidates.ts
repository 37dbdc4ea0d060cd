/**
 * The timed jobs of the migration benchmark, each run once per child process: icebridge's migration, the
 * COPY-CSV-into-DuckDB pipeline a data engineer would reach for, PostgreSQL's raw COPY as the upper bound (read by
 * Node's `pg` and by psql, a C client, see process-candidates.ts), `icebridge verify` of a table a migration just
 * wrote, and the `icebridge` command end to end (process-candidates.ts).
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { PartitionFieldRequest } from '../../shared/iceberg/transaction/table-evolution';
import { builtModule } from './built-code';
import { type PhaseTiming, recordPhases } from './phase-timings';
import { runCli, runPsqlToNull } from './process-candidates';

/** Which pipeline a job runs. */
export type CandidateKind = 'icebridge' | 'reader' | 'duckdb' | 'csv' | 'raw' | 'psql' | 'cli' | 'verify';

/** A job kind: a candidate, or the untimed migration of a whole schema that a verification then reads. */
export type JobKind = CandidateKind | 'migrate-schema';

/** Everything a child needs to run one job; JSON-safe (it travels on the command line). */
export interface MigrateJob {
  kind: JobKind;
  sourceUrl: string;
  schema: string;
  table: string;
  /** A fresh directory the job may write into; the parent removes it. */
  workDir: string;
  /** icebridge only: heap bytes per copy partition. */
  partitionSizeInBytes?: number;
  /** icebridge only: copyPartition activities run at once. */
  maxConcurrentActivities?: number;
  /** icebridge only: a small table migrated first, untimed, to load the code. */
  warmupTable?: string;
  /** icebridge only: the Iceberg table's partition spec (many open writers per copy), e.g. bucket[16] of id. */
  partitionSpec?: PartitionFieldRequest[];
  /** Environment settings of the child (e.g. ICEBRIDGE_INSTANCE_MEMORY_MB), applied before the job runs. */
  env?: Record<string, string>;
  /** verify only: the warehouse the table was migrated to, and the level. */
  verify?: VerifyJob;
  /** psql only: the psql executable. */
  psql?: string;
}

/** What a verify job checks: `icebridge verify --level <level>` of `table` (every table of the schema when ''). */
export interface VerifyJob {
  warehouse: string;
  level: 'quick' | 'full';
  /** Verified first, untimed, so loading the code and the first connection are not in the figure. */
  warmup?: { warehouse: string; table: string };
}

/** What one job measured, from inside the child. */
export interface JobResult {
  rows: number;
  /** Wall time of the timed part. */
  wallMs: number;
  /** User + system CPU of the child (all its threads) during the timed part. */
  cpuMs: number;
  /** RSS of the child just before the timed part: modules loaded, nothing read yet. */
  baselineRssBytes: number;
  /** Epoch ms at which the timed part started, to line the parent's RSS samples up with it. */
  startedAtMs: number;
  /** Bytes written (Parquet files, manifests and metadata), or streamed for the COPY-only jobs. */
  outputBytes: number;
  files?: number;
  /** icebridge: partitions the planner made. */
  partitions?: number;
  /** Untimed warm-up before the timed part (a tiny migration or verification on loaded code), for the report's notes. */
  startupMs?: number;
  /** icebridge and verify: from the process's start until the command's code was loaded (node, tsx, imports). */
  loadMs?: number;
  /** icebridge and verify: wall time of the timed part per activity, from icebridge's own activity spans. */
  phases?: PhaseTiming[];
  /** migrate-schema: tables committed. */
  tables?: number;
}

/** Runs one job and returns its figures; throws when the job fails or its output is incomplete. */
export async function runJob(job: MigrateJob): Promise<JobResult> {
  for (const [name, value] of Object.entries(job.env ?? {})) process.env[name] = value;
  switch (job.kind) {
    case 'icebridge':
      return runIcebridge(job);
    case 'reader':
      return runReaderOnly(job);
    case 'duckdb':
      return runDuckDbPipeline(job);
    case 'csv':
      return runCopyToNull(job, 'csv');
    case 'raw':
      return runCopyToNull(job, 'binary');
    case 'psql':
      return runPsqlToNull(job);
    case 'cli':
      return runCli(job);
    case 'verify':
      return runVerify(job);
    case 'migrate-schema':
      return runMigrateSchema(job);
  }
}

/** What a timed job returns besides the clock's figures. */
type TimedValue = { rows: number; outputBytes: number; files?: number; partitions?: number; tables?: number };

/** Times `fn` with the child's own clock and CPU counters; with `phases`, also records icebridge's activity spans. */
async function timed(fn: () => Promise<TimedValue>, options: { phases?: boolean } = {}): Promise<JobResult> {
  const recorder = options.phases ? recordPhases() : undefined;
  const baselineRssBytes = process.memoryUsage.rss();
  const startedAtMs = Date.now();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const value = await fn();
  const ended = performance.now();
  const wallMs = ended - started;
  const cpu = process.cpuUsage(cpuBefore);
  const result: JobResult = { ...value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, baselineRssBytes, startedAtMs };
  // Span times are epoch times taken from performance.timeOrigin, as these are.
  if (recorder) result.phases = await recorder.stop(performance.timeOrigin + started, performance.timeOrigin + ended);
  return result;
}

/**
 * icebridge in-process through runMigration, the CLI's own entry below argument parsing. A small warm-up
 * migration runs first, untimed, so module loading (a running host has its modules loaded; a CLI start pays it
 * once, reported as startupMs) is not in the figure; the figure is the migration itself: plan, copy, commit and
 * the row-count check.
 */
async function runIcebridge(job: MigrateJob): Promise<JobResult> {
  const { runMigration } = (await import(builtModule('cli/support/run-migration'))) as typeof import('../../cli/support/run-migration');
  // The process's clock starts with the process: this is node's start, the loader and every import of the command.
  const loadMs = performance.now();
  const migrate = async (table: string, dir: string, partitionSizeInBytes?: number): Promise<{ rows: number; partitions: number }> => {
    await mkdir(path.join(dir, 'warehouse'), { recursive: true });
    const report = await runMigration({
      input: {
        sourceSchema: job.schema,
        namespace: job.schema,
        concurrency: 1,
        tables: [table],
        ...(partitionSizeInBytes !== undefined ? { partitionSizeInBytes } : {}),
        ...(job.partitionSpec !== undefined ? { tableConfig: { [job.table]: { partitionSpec: job.partitionSpec } } } : {}),
      },
      sourceUrl: job.sourceUrl,
      warehouse: path.join(dir, 'warehouse'),
      stateDir: path.join(dir, 'state'),
      ...(job.maxConcurrentActivities !== undefined ? { maxConcurrentActivities: job.maxConcurrentActivities } : {}),
    });
    const detail = report.details.find((t) => t.table === table);
    if (report.runtimeStatus !== 'Completed' || detail?.status !== 'committed') {
      throw new Error(`migration of ${table} did not commit: ${detail?.reason ?? report.lastError ?? report.runtimeStatus}`);
    }
    return { rows: detail.rows, partitions: detail.partitions.total };
  };
  const warmupStarted = performance.now();
  if (job.warmupTable !== undefined) await migrate(job.warmupTable, path.join(job.workDir, 'warmup'));
  const startupMs = performance.now() - warmupStarted;
  const dir = path.join(job.workDir, 'timed');
  const result = await timed(async () => ({ ...(await migrate(job.table, dir, job.partitionSizeInBytes)), outputBytes: 0 }), { phases: true });
  // Sized after the clock stopped: listing the warehouse is not part of migrating.
  const tableDir = path.join(dir, 'warehouse', job.schema, job.table);
  const data = await treeSize(path.join(tableDir, 'data'));
  const metadata = await treeSize(path.join(tableDir, 'metadata'));
  return { ...result, outputBytes: data.bytes + metadata.bytes, files: data.files, startupMs, loadMs };
}

/**
 * `icebridge verify` in-process through verifyCommand, the CLI command's own entry (argument parsing, the
 * verification and the JSON report included), so the figure is what a user waits for minus process start.
 * Anything but exit status 0 fails the job: the tables were just migrated and nobody touched them, so a
 * difference found here is a bug in the migration or in the verifier, never an outcome.
 */
async function runVerify(job: MigrateJob): Promise<JobResult> {
  const { verifyCommand } = (await import(builtModule('cli/commands/verify'))) as typeof import('../../cli/commands/verify');
  const loadMs = performance.now();
  const spec = job.verify;
  if (spec === undefined) throw new Error('a verify job needs its warehouse and level');
  const verify = async (warehouse: string, table: string, stateDir: string): Promise<{ rows: number; tables: number }> => {
    const out = new TextSink();
    const err = new TextSink();
    const argv = [
      '--source',
      job.sourceUrl,
      '--warehouse',
      warehouse,
      '--schema',
      job.schema,
      ...(table === '' ? [] : ['--tables', table]),
      '--level',
      spec.level,
      '--json',
      '--state-dir',
      stateDir,
    ];
    const status = await verifyCommand(argv, out.asWriteStream(), err.asWriteStream());
    if (status !== 0)
      throw new Error(
        `verify exited with status ${status} on a table nobody changed since it was migrated:\n${describeReport(out.text)}${err.text.trim() ? `\n${err.text.trim()}` : ''}`,
      );
    return countVerified(out.text, spec.level);
  };
  const warmupStarted = performance.now();
  if (spec.warmup !== undefined) await verify(spec.warmup.warehouse, spec.warmup.table, path.join(job.workDir, 'warmup-state'));
  const startupMs = performance.now() - warmupStarted;
  const result = await timed(async () => ({ ...(await verify(spec.warehouse, job.table, path.join(job.workDir, 'state'))), outputBytes: 0 }), {
    phases: true,
  });
  return { ...result, startupMs, loadMs };
}

/** Collects what a command writes; handed to it where it expects a process stream. */
class TextSink extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    callback();
  }

  /** The sink typed as the stream verifyCommand takes; it only ever calls write() on it. */
  asWriteStream(): NodeJS.WriteStream {
    return this as unknown as NodeJS.WriteStream;
  }
}

/** The report's verdict per table, for a failure message a person can act on. */
function describeReport(json: string): string {
  try {
    const report = JSON.parse(json) as {
      tables?: Array<{ table: string; status: string; error?: string; rows?: { differing: string; differences: unknown[] } }>;
    };
    return (report.tables ?? [])
      .map(
        (t) =>
          `  ${t.table}: ${t.status}${t.error ? ` (${t.error})` : ''}` +
          `${t.rows && t.rows.differing !== '0' ? `, ${t.rows.differing} rows differ, first: ${JSON.stringify(t.rows.differences[0])}` : ''}`,
      )
      .join('\n');
  } catch {
    return json.slice(0, 2000);
  }
}

/** Rows the verification covered: compared row by row (full) or counted (quick), over every table. */
function countVerified(json: string, level: 'quick' | 'full'): { rows: number; tables: number } {
  const report = JSON.parse(json) as { tables: Array<{ counts?: { source: string }; rows?: { compared: string } }> };
  const rows = report.tables.reduce((n, t) => n + Number((level === 'full' ? t.rows?.compared : undefined) ?? t.counts?.source ?? 0), 0);
  return { rows, tables: report.tables.length };
}

/** Every table of a schema through runMigration, as `icebridge migrate` would; what a verification then reads. */
async function runMigrateSchema(job: MigrateJob): Promise<JobResult> {
  const { runMigration } = (await import(builtModule('cli/support/run-migration'))) as typeof import('../../cli/support/run-migration');
  const warehouse = path.join(job.workDir, 'warehouse');
  await mkdir(warehouse, { recursive: true });
  return timed(async () => {
    const report = await runMigration({
      input: { sourceSchema: job.schema, namespace: job.schema, concurrency: 2 },
      sourceUrl: job.sourceUrl,
      warehouse,
      stateDir: path.join(job.workDir, 'state'),
    });
    const failed = report.details.filter((t) => t.status !== 'committed');
    if (report.runtimeStatus !== 'Completed' || failed.length > 0) {
      throw new Error(
        `migration of ${job.schema} did not commit: ${failed.map((t) => `${t.table}: ${t.reason ?? t.status}`).join('; ') || report.lastError || report.runtimeStatus}`,
      );
    }
    return { rows: report.details.reduce((n, t) => n + t.rows, 0), tables: report.details.length, outputBytes: 0 };
  });
}

/**
 * icebridge's source half alone: its COPY reader decoding the whole table into rows that are dropped. Same
 * statement and server work as the raw COPY (c), so the difference between the two is the cost of decoding,
 * and the difference to (a) is what writing Parquet and the migration around it cost.
 */
async function runReaderOnly(job: MigrateJob): Promise<JobResult> {
  const { describeTable } = (await import(builtModule('shared/postgres/introspect'))) as typeof import('../../shared/postgres/introspect');
  const { mapTable } = (await import(builtModule('shared/postgres/type-mapping'))) as typeof import('../../shared/postgres/type-mapping');
  const { readRows } = (await import(builtModule('shared/postgres/copy-reader'))) as typeof import('../../shared/postgres/copy-reader');
  const { withSnapshotTransaction } = (await import(
    builtModule('shared/postgres/snapshot-transaction')
  )) as typeof import('../../shared/postgres/snapshot-transaction');
  const client = new Client({ connectionString: job.sourceUrl });
  try {
    return await timed(async () => {
      await client.connect();
      const source = await describeTable(client, job.schema, job.table);
      const mapping = mapTable(source);
      let rows = 0;
      await withSnapshotTransaction(client, async () => {
        for await (const batch of readRows(client, source, mapping)) rows += batch.length;
      });
      return { rows, outputBytes: 0 };
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Columns as DuckDB reads them from PostgreSQL's CSV; tags arrive as JSON text (see CSV_SELECT). */
const CSV_COLUMNS = {
  id: 'BIGINT',
  order_uuid: 'UUID',
  customer_id: 'INTEGER',
  amount: 'DECIMAL(12,2)',
  status: 'VARCHAR',
  created_at: 'TIMESTAMPTZ',
  shipped_on: 'DATE',
  is_gift: 'BOOLEAN',
  note: 'VARCHAR',
  tags: 'VARCHAR',
  attrs: 'VARCHAR',
} as const;

/**
 * PostgreSQL's CSV writes arrays as `{a,b}`, which DuckDB cannot cast to a list; array_to_json gives the JSON
 * form, which it can, so both pipelines write tags as a list of strings and attrs as JSON text.
 */
function csvSelect(job: MigrateJob): string {
  const columns = Object.keys(CSV_COLUMNS).map((name) => (name === 'tags' ? 'array_to_json(tags) AS tags' : name));
  return `SELECT ${columns.join(', ')} FROM ${job.schema}.${job.table}`;
}

/**
 * `COPY (SELECT …) TO STDOUT (FORMAT csv)` streamed into a named pipe that DuckDB reads with read_csv while it
 * writes zstd Parquet, all at once: the in-process equivalent of `psql -c "\copy …" | duckdb`. No temp CSV file
 * lands on disk. DuckDB's defaults (threads = cores, default row groups) are kept.
 */
async function runDuckDbPipeline(job: MigrateJob): Promise<JobResult> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const duck = await instance.connect();
  const fifo = path.join(job.workDir, 'orders.csv.fifo');
  const output = path.join(job.workDir, 'orders.parquet');
  await promisify(execFile)('mkfifo', [fifo]);
  const client = new Client({ connectionString: job.sourceUrl });
  try {
    const result = await timed(async () => {
      await client.connect();
      await client.query(`SET TimeZone = 'UTC'`);
      const columns = Object.entries(CSV_COLUMNS)
        .map(([name, type]) => `'${name}': '${type}'`)
        .join(', ');
      // allow_quoted_nulls=false: PostgreSQL writes NULL as an empty field and an empty string as "".
      const readCsv = `read_csv('${fifo}', header = false, auto_detect = false, allow_quoted_nulls = false, columns = {${columns}})`;
      const select = Object.keys(CSV_COLUMNS).map((name) => (name === 'tags' ? 'CAST(tags AS JSON)::VARCHAR[] AS tags' : name));
      const writing = duck.run(`COPY (SELECT ${select.join(', ')} FROM ${readCsv}) TO '${output}' (FORMAT parquet, COMPRESSION zstd)`);
      const copy = client.query(copyTo(`COPY (${csvSelect(job)}) TO STDOUT (FORMAT csv)`));
      const feeding = pipeline(copy, createWriteStream(fifo));
      try {
        await writing;
      } catch (error) {
        // DuckDB gave up; open the pipe's read end so a writer still blocked in open() or write() fails instead.
        copy.destroy();
        const release = await open(fifo, 'r+').catch(() => undefined);
        await feeding.catch(() => undefined);
        await release?.close();
        throw error;
      }
      await feeding;
      return { rows: copy.rowCount, outputBytes: (await stat(output)).size, files: 1 };
    });
    const counted = await duck.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet('${output}')`);
    const rows = Number(counted.getRows()[0]?.[0]);
    if (rows !== result.rows) throw new Error(`DuckDB wrote ${rows} rows of the ${result.rows} PostgreSQL sent`);
    return result;
  } finally {
    await client.end().catch(() => undefined);
    duck.closeSync();
    instance.closeSync();
  }
}

/** A sink that takes every chunk and keeps only its length. */
class CountingSink extends Writable {
  bytes = 0;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    callback();
  }
}

/**
 * PostgreSQL's own export speed: COPY to a sink that discards everything. Binary is what icebridge reads (and
 * the plain `COPY table` form, the cheapest the server has); CSV is the source half of the DuckDB pipeline.
 */
async function runCopyToNull(job: MigrateJob, format: 'binary' | 'csv'): Promise<JobResult> {
  const client = new Client({ connectionString: job.sourceUrl });
  try {
    return await timed(async () => {
      await client.connect();
      await client.query(`SET TimeZone = 'UTC'`);
      const sql = format === 'binary' ? `COPY ${job.schema}.${job.table} TO STDOUT (FORMAT binary)` : `COPY (${csvSelect(job)}) TO STDOUT (FORMAT csv)`;
      const copy = client.query(copyTo(sql));
      const sink = new CountingSink();
      await pipeline(copy, sink);
      return { rows: copy.rowCount, outputBytes: sink.bytes };
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function treeSize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    bytes += (await stat(path.join(entry.parentPath, entry.name))).size;
    files++;
  }
  return { bytes, files };
}
