/**
 * copyPartition on worker threads: the copy really runs on another thread, writes byte for byte what the same copy
 * writes in the main thread, reports progress from there, and fails the way it fails in-process (same class, code,
 * retryable flag and message). A worker that dies fails its copy with a retryable error and is replaced; when no
 * worker can start the copy runs in the main thread and says so; a finished migration leaves nothing running.
 * Real PostgreSQL, the real warehouse on disk, the real worker entry (loaded through tsx from source).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { threadId as mainThreadId } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { Client } from 'pg';
import { freePort } from '../../cli/support/free-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { loadSettings, type Settings } from '../../shared/config/settings';
import { IcebridgeError, ValidationError } from '../../shared/errors';
import type { CopyPartitionInput, CopyPartitionResult, TablePlan } from '../../shared/migrate/contracts';
import { copyPartition } from '../../shared/migrate/copy-partition';
import { LocalFileIO } from '../../shared/iceberg/io/local-file-io';
import { readParquetFooter } from '../../shared/iceberg/parquet/parquet-reader';
import { budgetedPoolOptions } from '../../shared/migrate/copy-resources';
import { COPY_WORKER_CRASHED, COPY_WORKER_OUT_OF_MEMORY, CopyWorkerPool, copyPartitionOnWorker } from '../../shared/migrate/copy-worker-pool';
import { partitionAt } from '../../shared/postgres/partition-ranges';
import { ConnectionGate } from '../../shared/postgres/connection-gate';
import { environmentFromSettings, type RunEnvironment } from '../../shared/run/environment';
import { planMigration } from '../../shared/migrate/plan-migration';
import { planVerification } from '../../shared/verify/steps/plan-verification';
import { verifyRowRange } from '../../shared/verify/steps/verify-table';
import type { RowRangeResult } from '../../shared/verify/contracts';
import { onCopyProgress } from '../../shared/telemetry/copy-progress';
import { ORDERS_ROWS, REPO_ROOT, copyAttemptOf, filesUnder, loadFixture } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const DATABASE = 'copyworker';
const CRASHING_ENTRY = path.join(REPO_ROOT, 'test', 'fixtures', 'copy-worker-crashing.ts');
const HUNGRY_ENTRY = path.join(REPO_ROOT, 'test', 'fixtures', 'copy-worker-hungry.ts');

let pg: PostgresInstance;
let sourceUrl: string;
let workDir: string;
let warehouse: string;
let settings: Readonly<Settings>;
let env: RunEnvironment;
let orders: TablePlan;
const pools: CopyWorkerPool[] = [];

function pool(options: ConstructorParameters<typeof CopyWorkerPool>[0]): CopyWorkerPool {
  const created = new CopyWorkerPool(options);
  pools.push(created);
  return created;
}

beforeAll(async () => {
  pg = await startPostgres();
  sourceUrl = await pg.createDatabase(DATABASE);
  await loadFixture(sourceUrl);
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-copy-worker-'));
  warehouse = path.join(workDir, 'warehouse');
  settings = loadSettings({ ICEBRIDGE_SOURCE_URL: sourceUrl, ICEBRIDGE_WAREHOUSE: warehouse });
  env = environmentFromSettings(settings);
  // Plans (and creates) the Iceberg table; partitions of a few MB make each copy short but not trivial.
  const plan = await planMigration(env, {
    runId: 'plan',
    sourceSchema: 'public',
    namespace: 'public',
    concurrency: 1,
    tables: ['orders'],
    partitionSizeInBytes: 8 << 20,
  });
  orders = plan.tables[0]!;
  expect(orders.partitions.length, 'orders is split into several partitions').toBeGreaterThan(2);
}, 180_000);

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function inputFor(runId: string, partition = 1, columns = orders.columns): CopyPartitionInput {
  const { partitions, ...table } = orders;
  return { runId, execution: '0123456789abcdef', table: { ...table, columns }, partition: partitionAt(partitions, partition) };
}

/** The data files a copy wrote (named after its attempt), with the SHA-256 of each file's bytes. */
async function writtenFiles(result: CopyPartitionResult, runId: string): Promise<Array<{ name: string; sha256: string }>> {
  const attempt = copyAttemptOf(result.manifest!.path, runId)!.attempt;
  const files = (await filesUnder(path.join(warehouse, 'public', 'orders', 'data'))).filter((f) => copyAttemptOf(f, runId)?.attempt === attempt).sort();
  return Promise.all(
    files.map(async (f) => ({
      name: path.basename(f),
      sha256: createHash('sha256')
        .update(await readFile(f))
        .digest('hex'),
    })),
  );
}

/** The partition checksum as copyPartition defines it, recomputed from the files on disk. */
function checksumOf(files: Array<{ name: string; sha256: string }>): string {
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.name}:${f.sha256}\n`);
  return hash.digest('hex');
}

/** What a failed copy threw: class, code, retryable flag and message. */
async function failureOf(
  promise: Promise<unknown>,
): Promise<{ isIcebridge: boolean; isValidation: boolean; name: string; code?: string; retryable?: boolean; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the copy failed').toBeInstanceOf(Error);
  const e = error as Error;
  return {
    isIcebridge: e instanceof IcebridgeError,
    isValidation: e instanceof ValidationError,
    name: e.name,
    ...(e instanceof IcebridgeError ? { code: e.code, retryable: e.retryable } : {}),
    message: e.message,
  };
}

describe('copy workers', () => {
  it('copies on a worker thread exactly what the main thread writes: same rows, same bytes, same checksum', async () => {
    const workers = pool({ size: 1 });
    const progress: Array<{ rows: number; threadId: number }> = [];
    const onWorker = await workers.copy(settings, inputFor('worker'), { onProgress: (rows, threadId) => progress.push({ rows, threadId }) });
    const inProcess = await copyPartition(env, inputFor('inprocess'));

    const threads = new Set(progress.map((p) => p.threadId));
    expect(threads.size, 'progress came from one thread').toBe(1);
    expect([...threads][0], "that thread is not the test's own").not.toBe(mainThreadId);
    expect(progress.length, 'progress arrived batch by batch').toBeGreaterThan(1);
    expect(progress.at(-1)!.rows, 'the last progress report is the whole partition').toBe(onWorker.rows);

    expect(onWorker.rows, 'rows copied').toBeGreaterThan(10_000);
    const { manifest: m1, checksum: c1, attempt: a1, ...figures1 } = onWorker;
    const { manifest: m2, checksum: c2, attempt: a2, ...figures2 } = inProcess;
    expect(figures1, 'partition, files, rows and bytes').toEqual(figures2);
    expect(a1, 'each copy is an attempt of its own').not.toBe(a2);
    expect({ ...m1!, path: '' }, 'manifest figures and partition summaries').toEqual({ ...m2!, path: '', length: m1!.length });

    const workerFiles = await writtenFiles(onWorker, 'worker');
    const mainFiles = await writtenFiles(inProcess, 'inprocess');
    expect(
      workerFiles.map((f) => f.sha256),
      'the data files are byte-identical',
    ).toEqual(mainFiles.map((f) => f.sha256));
    expect(c1, "the worker's checksum is over the bytes it wrote").toBe(checksumOf(workerFiles));
    expect(c2, "the main thread's checksum is over the bytes it wrote").toBe(checksumOf(mainFiles));
  }, 120_000);

  it('starts workers ahead of the first tasks when warmed, at most its size, and the first copy runs on one', async () => {
    const full = pool({ size: 2 });
    full.warm(5);
    expect(full.threads, 'no more than the pool holds').toBe(2);
    const warmed = pool({ size: 2 });
    warmed.warm(1);
    warmed.warm(1);
    expect(warmed.threads, 'one worker, however often warmed').toBe(1);
    const threads = new Set<number>();
    const result = await warmed.copy(settings, inputFor('warmed'), { onProgress: (_rows, threadId) => threads.add(threadId) });
    expect(result.rows).toBeGreaterThan(0);
    expect([...threads].filter((t) => t === mainThreadId)).toEqual([]);
    // The copy took the warm worker: no second one was started for it, nor a spare behind it.
    expect(warmed.threads).toBe(1);
    const cold = pool({ size: 2 });
    await cold.copy(settings, inputFor('cold'));
    expect(cold.threads, 'a cold pool starts a worker for its first copy and a spare').toBe(2);
  }, 120_000);

  it('rebuilds errors thrown in a worker as the same class, code, retryable flag and message', async () => {
    const workers = pool({ size: 1 });
    // A plan that no longer matches the table: a ValidationError, not retryable.
    const stale = inputFor('stale', 0, [...orders.columns].reverse());
    const staleOnWorker = await failureOf(workers.copy(settings, stale));
    expect(staleOnWorker).toEqual(await failureOf(copyPartition(env, stale)));
    expect(staleOnWorker).toMatchObject({ isIcebridge: true, isValidation: true, code: 'INVALID_ARGUMENT', retryable: false });

    // A source that cannot be reached: retryable, naming host and port, never the password.
    const unreachable = loadSettings({ ICEBRIDGE_SOURCE_URL: `postgres://u:secret-pass@127.0.0.1:${await freePort()}/db`, ICEBRIDGE_WAREHOUSE: warehouse });
    const downOnWorker = await failureOf(workers.copy(unreachable, inputFor('down')));
    expect(downOnWorker).toEqual(await failureOf(copyPartition(environmentFromSettings(unreachable), inputFor('down'))));
    expect(downOnWorker).toMatchObject({ isIcebridge: true, isValidation: false, retryable: true });
    expect(downOnWorker.message).toContain('127.0.0.1');
    expect(downOnWorker.message).not.toContain('secret-pass');
    expect(workers.threads, 'a failed copy does not cost the worker').toBe(1);
  }, 60_000);

  it('fails a copy whose worker dies with a retryable error, and replaces the worker', async () => {
    const workers = pool({ size: 1, entry: CRASHING_ENTRY });
    const crashed = await failureOf(workers.copy(settings, inputFor('crash-1')));
    expect(crashed).toMatchObject({ isIcebridge: true, code: COPY_WORKER_CRASHED, retryable: true });
    expect(crashed.message).toContain('public.orders partition 1');
    expect(crashed.message).toContain('simulated fault in the copy worker');
    expect(workers.unavailable, 'a crash after start does not disable the pool').toBeUndefined();

    const threads = new Set<number>();
    const result = await workers.copy(settings, inputFor('after-crash'), { onProgress: (_rows, threadId) => threads.add(threadId) });
    expect(result.rows, 'the next copy runs on a new worker').toBeGreaterThan(0);
    expect(threads.size).toBe(1);
    expect([...threads][0]).not.toBe(mainThreadId);
  }, 60_000);

  it('fails only the copy whose worker passes its heap limit, retryable, and frees the connection it held', async () => {
    const gate = new ConnectionGate(2);
    // A 640 MB instance with two slots: (640 - 320) / 2 = 160 MB per copy, 120 of it heap.
    const budgeted = budgetedPoolOptions({ ICEBRIDGE_INSTANCE_MEMORY_MB: '640', ICEBRIDGE_ACTIVITY_SLOTS: '2' }, 1);
    expect(budgeted.size).toBe(1);
    const workers = pool({ ...budgeted, entry: HUNGRY_ENTRY, connectionGate: gate });
    const failed = await failureOf(workers.copy(settings, inputFor('hungry-1')));
    expect(failed).toMatchObject({ isIcebridge: true, code: COPY_WORKER_OUT_OF_MEMORY, retryable: true });
    expect(failed.message).toContain('public.orders partition 1 ran out of its memory (a heap of 120 MB');
    expect(gate.held, "the dead thread's connection permit is given back").toBe(0);

    const result = await workers.copy(settings, inputFor('after-oom'));
    expect(result.rows, 'the process and the pool go on; the next copy gets a new worker').toBeGreaterThan(0);
    expect(gate.held).toBe(0);
  }, 60_000);

  it('gives each worker its writer buffer budget: a partitioned copy ends its row groups early under a small one', async () => {
    const plan = await planMigration(env, {
      runId: 'plan-bucketed',
      sourceSchema: 'public',
      namespace: 'bucketed',
      concurrency: 1,
      tables: ['orders'],
      partitionSizeInBytes: 8 << 20,
      tableConfig: { orders: { partitionSpec: [{ source: 'id', transform: 'bucket[8]' }] } },
    });
    const { partitions, ...table } = plan.tables[0]!;
    const io = new LocalFileIO();
    const copied = async (runId: string, writerBufferBytes?: number): Promise<{ rows: number; files: number; rowGroups: number }> => {
      const workers = pool({ size: 1, ...(writerBufferBytes === undefined ? {} : { writerBufferBytes }) });
      const result = await workers.copy(settings, { runId, execution: '0123456789abcdef', table, partition: partitionAt(partitions, 0) });
      const attempt = copyAttemptOf(result.manifest!.path, runId)!.attempt;
      const files = (await filesUnder(path.join(warehouse, 'bucketed', 'orders', 'data'))).filter((f) => copyAttemptOf(f, runId)?.attempt === attempt);
      let rowGroups = 0;
      for (const file of files) rowGroups += (await readParquetFooter(io, file)).metadata.row_groups.length;
      return { rows: result.rows, files: files.length, rowGroups };
    };
    const roomy = await copied('roomy');
    const tight = await copied('tight', 256 * 1024);
    expect(roomy.files).toBe(8);
    expect(roomy.rowGroups, 'one row group per file when the buffers fit').toBe(8);
    expect(tight.rows).toBe(roomy.rows);
    expect(tight.files).toBe(8);
    expect(tight.rowGroups, 'row groups ended early in the worker').toBeGreaterThan(16);
  }, 60_000);

  it("stops a running copy on abort with the caller's reason, and the worker stays usable", async () => {
    const workers = pool({ size: 1 });
    const controller = new AbortController();
    const reason = new Error('stop now');
    const aborted = workers.copy(settings, inputFor('aborted', 2), {
      abortSignal: controller.signal,
      onProgress: () => controller.abort(reason),
    });
    await expect(aborted).rejects.toBe(reason);
    const result = await workers.copy(settings, inputFor('after-abort', 2));
    expect(result.rows).toBeGreaterThan(0);
    expect(workers.threads).toBe(1);
  }, 60_000);

  it('copies in the main thread, and says so, when no worker can start', async () => {
    const broken = pool({ size: 2, entry: path.join(workDir, 'no-such-worker.js') });
    const notes: string[] = [];
    const threads = new Set<number>();
    const result = await copyPartitionOnWorker(inputFor('fallback', 0), {
      settings,
      environment: () => env,
      pool: broken,
      onProgress: (_rows, threadId) => threads.add(threadId),
      debug: (message) => notes.push(message),
    });
    expect(result.rows).toBeGreaterThan(0);
    expect([...threads], 'progress came from the main thread').toEqual([mainThreadId]);
    expect(notes, 'the fallback is logged').toEqual([
      expect.stringMatching(/^copying public\.orders partition 0 in the main thread: a copy worker could not start/),
    ]);
    expect(broken.unavailable).toBeDefined();
  }, 60_000);

  it("runs the migration's copyPartition activities on worker threads, and on the main thread with ICEBRIDGE_COPY_WORKERS=0", async () => {
    const threadsOf = async (name: string): Promise<{ threads: Set<number>; rows: number }> => {
      const threads = new Set<number>();
      const stop = onCopyProgress((p) => threads.add(p.threadId ?? -1));
      try {
        const report = await runMigration({
          input: { sourceSchema: 'public', namespace: name, concurrency: 1, tables: ['orders'], partitionSizeInBytes: 8 << 20 },
          sourceUrl,
          warehouse,
          stateDir: path.join(workDir, `state-${name}`),
        });
        expect(
          report.details.map((t) => [t.table, t.status, t.reason ?? '']),
          `${name}: the table committed`,
        ).toEqual([['orders', 'committed', '']]);
        return { threads, rows: report.details[0]!.rows };
      } finally {
        stop();
      }
    };
    const workers = await threadsOf('workers');
    expect(workers.rows).toBe(ORDERS_ROWS);
    expect(workers.threads.size, 'the partitions were copied on worker threads').toBeGreaterThan(0);
    expect(
      [...workers.threads].filter((t) => t === mainThreadId || t < 0),
      'copies on the main thread',
    ).toEqual([]);

    process.env.ICEBRIDGE_COPY_WORKERS = '0';
    try {
      const main = await threadsOf('main');
      expect(main.rows).toBe(ORDERS_ROWS);
      expect([...main.threads]).toEqual([mainThreadId]);
    } finally {
      delete process.env.ICEBRIDGE_COPY_WORKERS;
    }
  }, 120_000);

  it('verifies a key range on a worker thread with the result the main thread gets, a changed row included', async () => {
    await runMigration({
      input: { sourceSchema: 'public', namespace: 'ranges', concurrency: 1, tables: ['orders'], partitionSizeInBytes: 8 << 20 },
      sourceUrl,
      warehouse,
      stateDir: path.join(workDir, 'state-ranges'),
    });
    const shownAs = { source: 'source', warehouse: 'warehouse' };
    const input = { verificationId: 'v', sourceSchema: 'public', namespace: 'ranges', tables: ['orders'], level: 'full' as const, concurrency: 1 };
    const plan = await planVerification(env, { ...input, rowsPerRange: Math.ceil(ORDERS_ROWS / 3) }, shownAs, { workerThreads: 2, sourceOnThisMachine: false });
    expect(plan.rangesAtOnce, 'one range per worker thread, at most one per core').toBe(Math.min(2, availableParallelism()));
    const local = await planVerification(env, input, shownAs, { workerThreads: 2, sourceOnThisMachine: true });
    expect(local.rangesAtOnce, "a core left to a local server's backends").toBe(Math.max(1, Math.min(2, availableParallelism() - 1)));
    const table = plan.tables[0]!;
    expect(table.ranges.length, 'orders is cut into key ranges').toBeGreaterThan(1);
    const { ranges, scanRanges, table: _name, ...request } = table;
    const workers = pool({ size: 1 });
    const admin = new Client({ connectionString: sourceUrl });
    await admin.connect();
    try {
      const range = ranges[1]!;
      const rangeInput = { request, range, options: { maxDifferences: 10, samples: 5 } };
      // Samples are drawn at random: their number is compared, the rest whole.
      const figures = ({ samples, ...rest }: RowRangeResult) => ({ ...rest, samples: samples.length });
      const clean = await workers.verifyRange(settings, rangeInput);
      expect(figures(clean), 'the same figures on a worker as in the main thread').toEqual(
        figures(await verifyRowRange(env, request, range, rangeInput.options)),
      );
      expect(clean.differing, 'a clean range').toBe('0');
      expect(Number(clean.compared), 'the range holds rows').toBeGreaterThan(10_000);

      // A row of that range changed in PostgreSQL: both threads find it, named by its key.
      const key = (await admin.query<{ id: string }>('SELECT min(id)::text AS id FROM public.orders WHERE id >= $1', [range.lo ?? '0'])).rows[0]!.id;
      await admin.query('UPDATE public.orders SET status = status || $2 WHERE id = $1', [key, ' (changed)']);
      const changed = await workers.verifyRange(settings, rangeInput);
      expect(changed.differing).toBe('1');
      expect(changed.differences.map((d) => d.key)).toEqual([{ id: key }]);
      expect(figures(changed), 'the same difference in the main thread').toEqual(figures(await verifyRowRange(env, request, range, rangeInput.options)));
      await admin.query("UPDATE public.orders SET status = replace(status, ' (changed)', '') WHERE id = $1", [key]);
    } finally {
      await admin.end();
    }
  }, 120_000);

  it('leaves nothing running once a migration is done: the process exits at once', async () => {
    // A plain Node process (no command-line backstop that exits on its own) migrating through the real activities.
    const script = `
      const { runMigration } = require(${JSON.stringify(path.join(REPO_ROOT, 'cli', 'support', 'run-migration.ts'))});
      const { onCopyProgress } = require(${JSON.stringify(path.join(REPO_ROOT, 'shared', 'telemetry', 'copy-progress.ts'))});
      const threads = new Set();
      onCopyProgress((p) => threads.add(p.threadId));
      runMigration(${JSON.stringify({
        input: { sourceSchema: 'public', namespace: 'exit', concurrency: 1, tables: ['orders'], partitionSizeInBytes: 8 << 20 },
        sourceUrl,
        warehouse,
        stateDir: path.join(workDir, 'state-exit'),
      })}).then((report) => {
        // One turn later, what still holds the event loop open (sockets, timers, worker threads) is listed here.
        setImmediate(() => process.stdout.write(JSON.stringify({
          status: report.runtimeStatus, threads: [...threads], resources: process.getActiveResourcesInfo(),
        })));
      });
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let reported!: () => void;
    // Resolves when the outcome is printed (the migration is over) or the process ends first.
    const done = new Promise<void>((resolve) => (reported = resolve));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (stdout.trimEnd().endsWith('}')) reported();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const closed = new Promise<{ code: number | null }>((resolve) => child.once('close', (code) => resolve({ code })));
    void closed.then(() => reported());
    await done;
    // Only a bound for a process that never exits (a worker thread left running): counted from the migration's
    // end, so however long the migration took on a busy machine does not count against it.
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([closed, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 60_000)))]);
    clearTimeout(timer);
    if (!exited) child.kill('SIGKILL');
    expect(exited, `the process exited by itself (stdout ${stdout}, stderr ${stderr.slice(-2000)})`).toBeDefined();
    expect(exited!.code, stderr.slice(-2000)).toBe(0);
    const outcome = JSON.parse(stdout) as { status: string; threads: number[]; resources: string[] };
    expect(outcome.status).toBe('Completed');
    expect(outcome.threads.length, 'copies ran on worker threads').toBeGreaterThan(0);
    expect(outcome.threads).not.toContain(0);
    // Exiting "at once" without a stopwatch: once the migration has returned, nothing it opens may still hold the
    // process (a pool's idle timer, a socket to PostgreSQL, a worker's port, a child process, a file handle). A
    // worker thread is not listed among these resources: the exit above covers it.
    const held = /^(Timeout|Immediate|TCPSocketWrap|TCPWrap|MessagePort|ProcessWrap|FileHandle)$/;
    expect(
      outcome.resources.filter((r) => held.test(r)),
      'resources still open after the migration',
    ).toEqual([]);
  }, 300_000);
});
