/**
 * Fixtures for migration suites that run the whole path (PostgreSQL → orchestrations → Iceberg): a generated
 * source schema, an exact canonical form of every row on both sides, the `icebridge` command as a child process,
 * and read-only views of the warehouse and of the local host's state directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Client } from 'pg';
import { parseJournal, restoreInstance, type RestoredInstance } from '../../../cli/local-host/journal';
import { EventType, type HistoryEvent } from '../../../cli/local-host/history-events';
import type { Table } from '../../../shared/iceberg/catalog/catalog';
import { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../../shared/iceberg/io';
import { scanToArray } from '../../../shared/iceberg/scan/table-scan';
import type { Snapshot } from '../../../shared/iceberg/spec/snapshot';
import { currentSchema } from '../../../shared/iceberg/spec/table-metadata';
import { decimalToString, type Value } from '../../../shared/iceberg/spec/values';
import { liveEntries, snapshotManifests } from '../../../shared/iceberg/transaction/manifest-files';
import { CHECKSUMS_PROPERTY, RUN_ID_PROPERTY } from '../../../shared/migrate/commit-table';
import type { ActivityOutcome, CopyPartitionInput, CopyPartitionSummary } from '../../../shared/migrate/contracts';
import type { MigrateTableInput } from '../../../orchestrators/migrate-table';

/** Repository root, the working directory of every spawned command. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
const TSX = path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const CLI = path.join(REPO_ROOT, 'cli', 'main.ts');

/** Rows of the keyed `orders` table: about 35 MB of heap, so 1 MB copy partitions give a few dozen of them. */
export const ORDERS_ROWS = 300_000;
/** Distinct rows of the keyless `events` table; each is stored twice (and the generator repeats values too). */
export const EVENT_ROWS = 20_000;

/**
 * The source schema. Values are derived from the row number so a failure can be reproduced, and they reach the
 * corners that lose data when handled loosely: microseconds in timestamps, decimals with trailing zeros and signs,
 * text with quotes, backslashes, tabs, newlines and non-ASCII letters, NULLs, NaN, ±Infinity and -0 in doubles.
 */
export const FIXTURE_SQL = `
CREATE TABLE orders (
  id          bigint PRIMARY KEY,
  customer_id integer NOT NULL,
  amount      numeric(12,2) NOT NULL,
  status      text NOT NULL,
  note        text,
  created_at  timestamptz NOT NULL,
  shipped_on  date,
  weight_kg   double precision,
  gift        boolean NOT NULL
);
INSERT INTO orders
SELECT g,
       ((g * 7919) % 50000 + 1)::integer,
       CASE WHEN g % 13 = 0 THEN -((g % 100000) / 100.0) ELSE (g * 104729 % 10000000) / 100.0 END,
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'returned'])[g % 5 + 1],
       CASE g % 10
         WHEN 0 THEN NULL
         WHEN 1 THEN 'Grüße "quoted" \\ back' || E'\\t' || 'tab' || E'\\n' || 'line ' || g
         WHEN 2 THEN ''
         ELSE md5(g::text)
       END,
       timestamptz '2021-03-14 01:59:26.535897+00' + g * interval '37 seconds' + (g * 7 % 1000000) * interval '1 microsecond',
       CASE WHEN g % 17 = 0 THEN NULL ELSE date '1999-12-31' + ((g % 9000)::integer - 3000) END,
       CASE
         WHEN g % 50000 = 1 THEN 'NaN'::float8
         WHEN g % 50000 = 2 THEN 'Infinity'::float8
         WHEN g % 50000 = 3 THEN '-Infinity'::float8
         WHEN g % 50000 = 4 THEN '-0'::float8
         WHEN g % 23 = 0 THEN NULL
         ELSE (g % 10007) / 7.0::float8
       END,
       g % 3 = 0
FROM generate_series(1::bigint, ${ORDERS_ROWS}) AS g;

CREATE TABLE events (
  kind    text NOT NULL,
  payload text,
  amount  numeric(10,3),
  at      timestamptz
);
INSERT INTO events
SELECT 'kind-' || (g % 7),
       CASE WHEN g % 5 = 0 THEN NULL ELSE 'p' || (g % 1000) END,
       (g % 500) * 1.5,
       timestamptz '2024-02-29 12:00:00.123456+00' + (g % 300) * interval '1 minute'
FROM generate_series(1, ${EVENT_ROWS}) AS g, generate_series(1, 2) AS copy;

ANALYZE orders;
ANALYZE events;
`;

/** Creates and fills the fixture tables in the database `url` points at. */
export async function loadFixture(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(FIXTURE_SQL);
  });
}

/** Runs `fn` with a fresh connection, closed afterwards. */
export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * One column in a form both sides can render exactly: PostgreSQL computes `sql` (text, or NULL), and the Iceberg
 * value is turned into the same text by `render`. Anything the reader returns in another shape renders as a
 * visible marker, so a type slip shows up as a mismatch instead of passing by coincidence.
 */
export interface CanonicalColumn {
  name: string;
  sql: string;
  render(value: Value): string | null;
}

// eslint-disable-next-line @typescript-eslint/no-base-to-string -- names whatever arrived, even a map
const unexpected = (value: Value): string => `<unexpected ${typeof value} ${String(value)}>`;
const renderLong = (value: Value): string | null => (value === null ? null : typeof value === 'bigint' ? value.toString() : unexpected(value));
const renderInt = (value: Value): string | null =>
  value === null ? null : typeof value === 'number' && Number.isInteger(value) ? String(value) : unexpected(value);
const renderString = (value: Value): string | null => (value === null ? null : typeof value === 'string' ? value : unexpected(value));
const renderBoolean = (value: Value): string | null => (value === null ? null : typeof value === 'boolean' ? String(value) : unexpected(value));
const renderDecimal =
  (scale: number) =>
  (value: Value): string | null =>
    value === null ? null : typeof value === 'bigint' ? decimalToString(value, scale) : unexpected(value);
/** Doubles are compared bit for bit (the IEEE 754 bytes), so -0 and the infinities cannot hide; NaN is NaN. */
const renderDouble = (value: Value): string | null => {
  if (value === null) return null;
  if (typeof value !== 'number') return unexpected(value);
  if (Number.isNaN(value)) return 'NaN';
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleBE(value);
  return bytes.toString('hex');
};
const doubleSql = (column: string): string => `CASE WHEN ${column} = 'NaN'::float8 THEN 'NaN' ELSE encode(float8send(${column}), 'hex') END`;
// extract(epoch ...) is numeric (exact to the microsecond) since PostgreSQL 14, so this is the exact µs count.
const microsSql = (column: string): string => `(extract(epoch FROM ${column}) * 1000000)::bigint::text`;

/** The keyed table's columns. */
export const ORDERS_COLUMNS: CanonicalColumn[] = [
  { name: 'id', sql: 'id::text', render: renderLong },
  { name: 'customer_id', sql: 'customer_id::text', render: renderInt },
  { name: 'amount', sql: 'amount::text', render: renderDecimal(2) },
  { name: 'status', sql: 'status', render: renderString },
  { name: 'note', sql: 'note', render: renderString },
  { name: 'created_at', sql: microsSql('created_at'), render: renderLong },
  { name: 'shipped_on', sql: `(shipped_on - date '1970-01-01')::text`, render: renderInt },
  { name: 'weight_kg', sql: doubleSql('weight_kg'), render: renderDouble },
  { name: 'gift', sql: 'gift::text', render: renderBoolean },
];

/** The keyless table's columns. */
export const EVENTS_COLUMNS: CanonicalColumn[] = [
  { name: 'kind', sql: 'kind', render: renderString },
  { name: 'payload', sql: 'payload', render: renderString },
  { name: 'amount', sql: 'amount::text', render: renderDecimal(3) },
  { name: 'at', sql: microsSql('at'), render: renderLong },
];

/** A table as compared: one canonical line (JSON of the column texts) per row, in a stated order. */
export interface CanonicalRows {
  /** Key of each row (the first column's text) when the table has one, in row order. */
  keys: string[];
  lines: string[];
}

/**
 * Every row of a source table in canonical form: ordered by the first column (numerically) when `keyed`,
 * otherwise sorted as text, so a multiset compares equal regardless of physical order.
 */
export async function sourceRows(url: string, table: string, columns: CanonicalColumn[], keyed: boolean): Promise<CanonicalRows> {
  return withClient(url, async (client) => {
    // The text settings the comparison relies on, whatever the server defaults are.
    await client.query(`SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3`);
    const select = columns.map((c, i) => `${c.sql} AS c${i}`).join(', ');
    const { rows } = await client.query<Record<string, string | null>>({
      text: `SELECT ${select} FROM ${client.escapeIdentifier(table)}${keyed ? ` ORDER BY ${client.escapeIdentifier(columns[0]!.name)}` : ''}`,
    });
    const values = rows.map((row) => columns.map((_, i) => row[`c${i}`] ?? null));
    return canonical(values, keyed);
  });
}

/** Every row of the table's current snapshot in the same canonical form, columns matched by name. */
export async function icebergRows(table: Table, columns: CanonicalColumn[], keyed: boolean): Promise<CanonicalRows> {
  const fields = currentSchema(table.metadata).fields.map((f) => f.name);
  const positions = columns.map((c) => {
    const index = fields.indexOf(c.name);
    if (index < 0) throw new Error(`the Iceberg table has no column ${c.name}; it has ${fields.join(', ')}`);
    return index;
  });
  const rows = await scanToArray(new LocalFileIO(), table.metadata);
  const values = rows.map((row) => columns.map((c, i) => c.render(row[positions[i]!] ?? null)));
  if (keyed) values.sort((a, b) => compareIntegerText(a[0] ?? '', b[0] ?? ''));
  return canonical(values, keyed);
}

function canonical(values: Array<Array<string | null>>, keyed: boolean): CanonicalRows {
  const lines = values.map((v) => JSON.stringify(v));
  if (!keyed) lines.sort();
  return { keys: keyed ? values.map((v) => v[0] ?? '') : [], lines };
}

function compareIntegerText(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Differences between two canonical row lists: count and the first few, for an assertion message. */
export function rowDifferences(expected: CanonicalRows, actual: CanonicalRows, show = 3): { count: number; sample: string } {
  const differing: string[] = [];
  let count = Math.abs(expected.lines.length - actual.lines.length);
  const n = Math.min(expected.lines.length, actual.lines.length);
  for (let i = 0; i < n; i++) {
    if (expected.lines[i] !== actual.lines[i]) {
      count++;
      if (differing.length < show) differing.push(`#${i}\n  source:  ${expected.lines[i]}\n  iceberg: ${actual.lines[i]}`);
    }
  }
  const sizes = `source ${expected.lines.length} rows, iceberg ${actual.lines.length} rows`;
  return { count, sample: `${sizes}${differing.length > 0 ? `\n${differing.join('\n')}` : ''}` };
}

/** Keys that occur more than once (a keyed table must have none). */
export function duplicateKeys(rows: CanonicalRows): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const key of rows.keys) {
    if (seen.has(key)) duplicates.add(key);
    seen.add(key);
  }
  return [...duplicates];
}

/** The warehouse's catalog over the local disk. */
export function localCatalog(warehouse: string): HadoopCatalog {
  return new HadoopCatalog(new LocalFileIO(), warehouse);
}

/** Snapshots of a table that a given run committed (by the run id in the summary). */
export function snapshotsOfRun(table: Table, runId: string): Snapshot[] {
  return table.metadata.snapshots.filter((s) => s.summary[RUN_ID_PROPERTY] === runId);
}

/** Partition indexes listed in a snapshot's checksum summary (one entry per committed copy partition). */
export function committedPartitions(snapshot: Snapshot): number[] {
  const text = snapshot.summary[CHECKSUMS_PROPERTY] ?? '';
  return text === '' ? [] : text.split(',').map((entry) => Number(entry.split(':')[0]));
}

/** What a snapshot references: its manifests and its live data files (absolute paths). */
export async function snapshotFiles(snapshot: Snapshot): Promise<{ manifests: string[]; dataFiles: string[] }> {
  const io = new LocalFileIO();
  const manifests = (await snapshotManifests(io, snapshot)).map((m) => m.manifestPath);
  const dataFiles = (await liveEntries(io, snapshot)).map((e) => e.entry.dataFile.filePath);
  return { manifests, dataFiles };
}

/** Every file under a directory, recursively, hidden and temporary files included (absolute paths). */
export async function filesUnder(directory: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out;
}

/**
 * The copy attempt a data or manifest file belongs to: `<runId>.<execution>.p<partition>-<attempt>…`, parsed
 * from its name (receipts, `<runId>.<execution>.p<partition>.json`, belong to no attempt).
 */
export function copyAttemptOf(file: string, runId: string): { partition: number; attempt: string; execution: string } | undefined {
  const name = path.basename(file).replace(/^\./, '');
  if (!name.startsWith(`${runId}.`)) return undefined;
  const match = /^([0-9a-f]{16})\.p(\d{5})-([0-9a-f]+)[-.]/.exec(name.slice(runId.length + 1));
  return match ? { execution: match[1]!, partition: Number(match[2]), attempt: match[3]! } : undefined;
}

/** Instances of a local host's state directory as its journals describe them right now (read only). */
export async function readStateDir(stateDir: string): Promise<RestoredInstance[]> {
  const dir = path.join(stateDir, 'instances');
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.jsonl')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const instances: RestoredInstance[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    // A line being written while we read is torn; parseJournal leaves it out, as the host's own restore does.
    const { records } = parseJournal(await readFile(file, 'utf8').catch(() => ''), file);
    if (records.length > 0) instances.push(restoreInstance(records));
  }
  return instances;
}

/** The copyPartition activities of one table's orchestration: scheduled attempts and durable results. */
export interface CopyActivityLog {
  /** Partitions the table's plan has. */
  planned: number;
  /** Partitions scheduled (distinct indexes). */
  scheduled: Set<number>;
  /** Attempts scheduled, retries included. */
  attempts: number;
  /** Attempts that failed (each then retried or given up). */
  failures: Array<{ partition: number; reason: string }>;
  /** Successful results by partition index, as durably recorded. */
  completed: Map<number, CopyPartitionSummary>;
}

/** Reads the copyPartition history of the table orchestration whose input names `table` (source name). */
export function copyActivityLog(instances: RestoredInstance[], table: string): CopyActivityLog | undefined {
  const instance = instances.find((i) => i.meta.name === 'migrateTable' && (i.meta.input as Partial<MigrateTableInput>).table?.source.name === table);
  if (!instance) return undefined;
  const planned = (instance.meta.input as MigrateTableInput).table.partitions.length;
  const events: HistoryEvent[] = [...instance.history, ...instance.inbox.map((entry) => entry.event)];
  const partitionOf = new Map<number, number>();
  const log: CopyActivityLog = { planned, scheduled: new Set(), attempts: 0, failures: [], completed: new Map() };
  for (const event of events) {
    if (event.EventType === EventType.TaskScheduled && event.Name === 'copyPartition') {
      const input = JSON.parse(event.Input ?? 'null') as CopyPartitionInput;
      partitionOf.set(event.EventId, input.partition.index);
      log.scheduled.add(input.partition.index);
      log.attempts++;
    }
  }
  for (const event of events) {
    const partition = event.TaskScheduledId === undefined ? undefined : partitionOf.get(event.TaskScheduledId);
    if (partition === undefined) continue;
    if (event.EventType === EventType.TaskCompleted) {
      const outcome = JSON.parse(event.Result ?? 'null') as ActivityOutcome<CopyPartitionSummary>;
      if (outcome.ok) log.completed.set(partition, outcome.value);
      else log.failures.push({ partition, reason: outcome.reason });
    } else if (event.EventType === EventType.TaskFailed) {
      log.failures.push({ partition, reason: event.Reason ?? event.FailureDetails?.ErrorMessage ?? '' });
    }
  }
  return log;
}

/** A running `icebridge` command. */
export interface CliRun {
  child: ChildProcess;
  /** Output so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves when the process has exited. */
  exited: Promise<CliResult>;
}

/** How an `icebridge` command ended. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/**
 * Starts `icebridge <args>` from the sources, in its own process group: tsx runs the command in a child
 * process of its own, and a SIGKILL has to reach that one too (`killGroup`).
 */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const started = Date.now();
  const child = spawn(process.execPath, [TSX, CLI, ...args], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, elapsedMs: Date.now() - started }));
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Runs `icebridge <args>` to the end. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startCli(args, env).exited;
}

/** SIGKILLs the command's whole process group (ignored when it is already gone). */
export function killGroup(run: CliRun): void {
  try {
    process.kill(-run.child.pid!, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
