/**
 * Runs copyPartition on worker threads. Decoding the COPY stream and encoding Parquet keep one JavaScript thread
 * busy per partition, so partitions copied at once only use more than one core when each has a thread of its own.
 * The pool holds at most one worker per activity slot and per core, runs one task per worker and queues the rest.
 * Each worker runs under a heap limit and a writer buffer budget, its share of the instance's memory, so a copy
 * that needs more fails by itself (retryable) instead of the process running out of memory with every copy in it.
 *
 * The contract stays that of copyPartition: same input and result, errors rebuilt as the same class with the same
 * code and retryable flag, progress re-emitted in this thread. A worker that dies mid-copy fails that copy with a
 * retryable error and is replaced by the next task; idle workers do not keep the process alive and retire after a
 * while. When no worker can be started at all (or ICEBRIDGE_COPY_WORKERS=0) the copy runs in this thread instead.
 *
 * The same threads verify a table's key ranges (verifyRowRangeOnWorker): a range's Iceberg side (decoding, hashing,
 * aggregates) keeps one JavaScript thread busy as a copy does, so ranges verified at once use more than one core
 * only when each has a thread of its own.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { type ResourceLimits, SHARE_ENV, Worker, threadId } from 'node:worker_threads';
import { RESOURCE_SETTING_NAMES, loadResourceSettings } from '../config/resource-settings';
import type { Settings } from '../config/settings';
import { IcebridgeError, ValidationError, errorMessage } from '../errors';
import { MEMORY_SCHEME } from '../iceberg/io/memory-file-io';
import { setDefaultBufferBudget } from '../iceberg/writer/buffer-budget';
import type { ConnectionGate } from '../postgres/connection-gate';
import type { RowRangeResult } from '../verify/contracts';
import type { VerifyRowRangeInput } from '../verify/steps/plan-verification';
import { verifyRowRange } from '../verify/steps/verify-table';
import type { CopyPartitionInput, CopyPartitionResult } from './contracts';
import { copyPartition } from './copy-partition';
import { type FromWorkerMessage, type ToWorkerMessage, type WorkerTaskMessage, deserializeError } from './copy-worker-messages';
import { budgetedPoolOptions, copyResources } from './copy-resources';
import { type RunEnvironment, type SharedInstanceLimits, instanceConnectionGate } from '../run/environment';

/** Error code of a copy whose worker thread died; retryable (the next attempt gets a new worker). */
export const COPY_WORKER_CRASHED = 'COPY_WORKER_CRASHED';

/** Error code of a copy whose worker thread passed its heap limit; retryable, and the process is unharmed. */
export const COPY_WORKER_OUT_OF_MEMORY = 'COPY_WORKER_OUT_OF_MEMORY';

const DEFAULT_IDLE_TIMEOUT_IN_MS = 10_000;

/** Thrown by CopyWorkerPool.copy when no worker thread can be started; the copy never began. */
export class CopyWorkerStartError extends Error {}

/** Options of CopyWorkerPool. */
export interface CopyWorkerPoolOptions {
  /** Worker threads at most. */
  size: number;
  /** Module the workers run; defaults to copy-worker beside this module (.ts from source, .js when compiled). */
  entry?: string;
  /** An idle worker is stopped after this long (default 10 s: its heap is memory the process keeps); a later copy starts a new one. */
  idleTimeoutInMs?: number;
  /** Heap limits of each worker (Node's `resourceLimits`); none by default. */
  resourceLimits?: ResourceLimits;
  /** Bytes a copy's open Parquet writers may buffer together in a worker; the writer's default when absent. */
  writerBufferBytes?: number;
  /** The cap on source connections the workers share; the instance's by default. */
  connectionGate?: ConnectionGate;
}

/** What a copy worker receives as its workerData. */
export interface CopyWorkerData extends SharedInstanceLimits {
  writerBufferBytes?: number;
}

/** Options of CopyWorkerPool.copy. */
export interface WorkerCopyOptions {
  /** Rows copied so far, and the id of the thread copying them. */
  onProgress?: (rows: number, threadId: number) => void;
  abortSignal?: AbortSignal;
}

interface Task {
  id: number;
  message: WorkerTaskMessage;
  options: WorkerCopyOptions;
  resolve(result: CopyPartitionResult | RowRangeResult): void;
  reject(error: unknown): void;
  onAbort?: () => void;
}

interface PoolWorker {
  worker: Worker;
  threadId: number;
  /** The worker loaded its modules and listens; a death before that means workers cannot start here. */
  ready: boolean;
  task?: Task;
  /** Stopped on purpose (idle, or the pool closed): its exit is not a crash. */
  retiring: boolean;
  /** The uncaught error the worker died of, if it reported one. */
  fatal?: unknown;
  idleTimer?: NodeJS.Timeout;
}

/** A small pool of copy worker threads; see the module comment. */
export class CopyWorkerPool {
  readonly size: number;
  private readonly entry: string;
  private readonly execArgv: string[] | undefined;
  private readonly idleTimeoutInMs: number;
  private readonly resourceLimits: ResourceLimits | undefined;
  private readonly workerData: CopyWorkerData;
  private readonly gate: ConnectionGate;
  private readonly workers = new Set<PoolWorker>();
  private readonly queue: Task[] = [];
  private nextTaskId = 1;
  private closed = false;
  /** Why workers cannot be started; set once, after which every copy is refused with CopyWorkerStartError. */
  private startFailure: string | undefined;

  constructor(options: CopyWorkerPoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1) throw new ValidationError(`a copy worker pool needs at least one worker, got ${options.size}`);
    this.size = options.size;
    this.entry = options.entry ?? defaultWorkerEntry();
    this.execArgv = workerExecArgv(this.entry);
    this.idleTimeoutInMs = options.idleTimeoutInMs ?? DEFAULT_IDLE_TIMEOUT_IN_MS;
    this.resourceLimits = options.resourceLimits;
    this.gate = options.connectionGate ?? instanceConnectionGate();
    this.workerData = {
      connectionGate: this.gate.buffer,
      ...(options.writerBufferBytes === undefined ? {} : { writerBufferBytes: options.writerBufferBytes }),
    };
  }

  /** Worker threads running now (busy or idle). */
  get threads(): number {
    return this.workers.size;
  }

  /** Why no worker can be started here, once that has happened. */
  get unavailable(): string | undefined {
    return this.startFailure;
  }

  /**
   * Copies one partition on a worker. Rejects with CopyWorkerStartError when no worker could be started (the
   * copy did not begin and may run elsewhere), and otherwise exactly as copyPartition would.
   */
  copy(settings: Readonly<Settings>, input: CopyPartitionInput, options: WorkerCopyOptions = {}): Promise<CopyPartitionResult> {
    return this.submit((taskId) => ({ type: 'copy', taskId, settings, input }), options) as Promise<CopyPartitionResult>;
  }

  /**
   * Verifies one key range of a table on a worker (verifyRowRange there, with its own source connection). Rejects
   * with CopyWorkerStartError when no worker could be started, and otherwise exactly as verifyRowRange would.
   */
  verifyRange(settings: Readonly<Settings>, input: VerifyRowRangeInput): Promise<RowRangeResult> {
    return this.submit((taskId) => ({ type: 'verify-range', taskId, settings, input }), {}) as Promise<RowRangeResult>;
  }

  private submit(message: (taskId: number) => WorkerTaskMessage, options: WorkerCopyOptions): Promise<CopyPartitionResult | RowRangeResult> {
    if (this.closed) return Promise.reject(new IcebridgeError(COPY_WORKER_CRASHED, 'the copy worker pool is closed', { retryable: true }));
    if (this.startFailure !== undefined) return Promise.reject(new CopyWorkerStartError(this.startFailure));
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an aborted call rejects with the signal's reason, whatever it is
    if (options.abortSignal?.aborted) return Promise.reject(options.abortSignal.reason);
    return new Promise<CopyPartitionResult | RowRangeResult>((resolve, reject) => {
      const id = this.nextTaskId++;
      const task: Task = { id, message: message(id), options, resolve, reject };
      const signal = options.abortSignal;
      if (signal) {
        task.onAbort = () => {
          const queued = this.queue.indexOf(task);
          if (queued >= 0) {
            this.queue.splice(queued, 1);
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an aborted call rejects with the signal's reason, whatever it is
            this.settle(task, () => reject(signal.reason));
            return;
          }
          // Running: the worker cancels its COPY and removes partial files, then answers; that answer settles it.
          const owner = [...this.workers].find((w) => w.task === task);
          owner?.worker.postMessage({ type: 'abort', taskId: id } satisfies ToWorkerMessage);
        };
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.queue.push(task);
      this.pump();
    });
  }

  /**
   * Starts workers until `count` run (at most the pool's size), so the first tasks find them loaded: loading a
   * worker's modules takes about a tenth of a second of one core, which a command can spend while it loads and
   * plans on the other.
   */
  warm(count: number): void {
    while (!this.closed && this.startFailure === undefined && this.workers.size < Math.min(count, this.size)) {
      const worker = this.start();
      if (!worker) return;
      this.idle(worker);
    }
  }

  /** Stops every worker; copies still queued or running fail with a retryable error. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new IcebridgeError(COPY_WORKER_CRASHED, 'the copy worker pool was closed while the copy ran', { retryable: true });
    for (const task of this.queue.splice(0)) this.settle(task, () => task.reject(error));
    await Promise.all(
      [...this.workers].map(async (w) => {
        w.retiring = true;
        const task = w.task;
        w.task = undefined;
        if (task) this.settle(task, () => task.reject(error));
        await w.worker.terminate();
      }),
    );
    this.workers.clear();
  }

  private pump(): void {
    const idle = (w: PoolWorker): boolean => w.task === undefined && !w.retiring;
    let started = false;
    while (this.queue.length > 0) {
      let target = [...this.workers].find(idle);
      if (!target) {
        if (this.workers.size >= this.size) return;
        target = this.start();
        if (!target) return;
        started = true;
      }
      this.assign(target, this.queue.shift()!);
    }
    // One warm spare: loading a worker's modules takes a noticeable part of a second, and copies usually come
    // in groups (a table's partitions fan out), so the next copy should find a worker loaded.
    if (started && this.workers.size < this.size && ![...this.workers].some(idle)) {
      const spare = this.start();
      if (spare) this.idle(spare);
    }
  }

  private assign(w: PoolWorker, task: Task): void {
    clearTimeout(w.idleTimer);
    w.idleTimer = undefined;
    w.task = task;
    w.worker.ref();
    // Posted at once even before the worker is ready: the message waits in its port until it listens.
    w.worker.postMessage(task.message satisfies ToWorkerMessage);
  }

  private start(): PoolWorker | undefined {
    let worker: Worker;
    try {
      worker = new Worker(this.entry, {
        ...(this.execArgv ? { execArgv: this.execArgv } : {}),
        ...(this.resourceLimits ? { resourceLimits: this.resourceLimits } : {}),
        env: SHARE_ENV,
        workerData: this.workerData,
      });
    } catch (error) {
      this.refuseAll(`a copy worker cannot be started: ${errorMessage(error)}`);
      return undefined;
    }
    const w: PoolWorker = { worker, threadId: worker.threadId, ready: false, retiring: false };
    this.workers.add(w);
    worker.on('message', (message: FromWorkerMessage) => this.onMessage(w, message));
    worker.on('error', (error) => {
      w.fatal = error;
    });
    worker.on('exit', (code) => this.onExit(w, code));
    return w;
  }

  private onMessage(w: PoolWorker, message: FromWorkerMessage): void {
    if (message.type === 'ready') {
      w.ready = true;
      return;
    }
    const task = w.task;
    if (!task || task.id !== message.taskId) return;
    if (message.type === 'progress') {
      try {
        task.options.onProgress?.(message.rows, w.threadId);
      } catch {
        // A failing progress display must not become an uncaught exception of this thread; the copy goes on.
      }
      return;
    }
    w.task = undefined;
    if (message.type === 'result') this.settle(task, () => task.resolve(message.result));
    else {
      const signal = task.options.abortSignal;
      // An aborted copy leaves with the caller's own reason, as copyPartition does in-process.
      this.settle(task, () => task.reject(signal?.aborted ? signal.reason : deserializeError(message.error)));
    }
    this.idle(w);
    this.pump();
  }

  private onExit(w: PoolWorker, code: number): void {
    this.workers.delete(w);
    clearTimeout(w.idleTimer);
    // A thread that died mid-copy could not close its connection's permit; nobody else will.
    this.gate.releaseThread(w.threadId);
    const task = w.task;
    w.task = undefined;
    if (w.retiring) return;
    const why = w.fatal !== undefined ? errorMessage(w.fatal) : `exit code ${code}`;
    if (!w.ready) {
      // Nothing of the task ran: it goes back to the queue, and refuseAll hands it to the caller to run elsewhere.
      if (task) this.queue.unshift(task);
      this.refuseAll(`a copy worker could not start (${why})`);
      return;
    }
    if (task) {
      const doing = describeTask(task.message);
      const limit = this.resourceLimits?.maxOldGenerationSizeMb;
      const budget =
        limit === undefined ? '' : ` (a heap of ${limit} MB: ${RESOURCE_SETTING_NAMES.instanceMemoryMb} shared among ${RESOURCE_SETTING_NAMES.activitySlots})`;
      const error =
        (w.fatal as { code?: unknown } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new IcebridgeError(
              COPY_WORKER_OUT_OF_MEMORY,
              `the worker thread ${doing} ran out of its memory${budget}; only this task stopped, and it may be retried`,
              { retryable: true },
            )
          : new IcebridgeError(COPY_WORKER_CRASHED, `the worker thread ${doing} stopped unexpectedly (${why})`, { retryable: true });
      this.settle(task, () => task.reject(error));
    }
    // A replacement starts when the next task needs one.
    this.pump();
  }

  private idle(w: PoolWorker): void {
    // An idle worker must not keep the process alive: a finished command exits without closing the pool.
    w.worker.unref();
    w.idleTimer = setTimeout(() => {
      w.retiring = true;
      void w.worker.terminate();
    }, this.idleTimeoutInMs);
    w.idleTimer.unref();
  }

  private refuseAll(reason: string): void {
    this.startFailure ??= reason;
    const error = new CopyWorkerStartError(this.startFailure);
    for (const task of this.queue.splice(0)) this.settle(task, () => task.reject(error));
  }

  private settle(task: Task, fn: () => void): void {
    if (task.onAbort) task.options.abortSignal?.removeEventListener('abort', task.onAbort);
    fn();
  }
}

/** What a task does, for a message about its worker: `copying public.orders partition 3`, `verifying public.orders key range 1`. */
function describeTask(message: WorkerTaskMessage): string {
  if (message.type === 'copy') {
    const { table, partition } = message.input;
    return `copying ${table.source.schema}.${table.source.name} partition ${partition.index}`;
  }
  const { request, range } = message.input;
  return `verifying ${request.source.schema}.${request.source.name} key range ${range.index}`;
}

/** The worker entry beside this module: copy-worker.ts when running from source, copy-worker.js when compiled. */
export function defaultWorkerEntry(): string {
  return path.join(__dirname, `copy-worker${path.extname(__filename) === '.ts' ? '.ts' : '.js'}`);
}

/**
 * Node options for a worker running `entry`. A compiled entry inherits this process's options (profiling flags
 * included). A TypeScript entry needs tsx, through its synchronous CommonJS hook: with `--import tsx` Node 20
 * loads the worker's entry through the ESM loader before tsx's asynchronously registered hooks are in place and
 * refuses the .ts extension, so ESM loader flags are left out and `--require tsx/cjs` is added.
 */
function workerExecArgv(entry: string): string[] | undefined {
  if (path.extname(entry) !== '.ts') return undefined;
  const inherited: string[] = [];
  const loaderFlags = new Set(['--import', '--loader', '--experimental-loader']);
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i]!;
    if (loaderFlags.has(arg)) i++;
    else if (![...loaderFlags].some((flag) => arg.startsWith(`${flag}=`))) inherited.push(arg);
  }
  return [...inherited, '--require', createRequire(__filename).resolve('tsx/cjs')];
}

let sharedPool: CopyWorkerPool | undefined;

let sharedPoolKey = '';

/** The process's pool for the current settings, or undefined when ICEBRIDGE_COPY_WORKERS is 0. */
export function sharedCopyWorkerPool(): CopyWorkerPool | undefined {
  const options = budgetedPoolOptions();
  if (options.size === 0) return undefined;
  // A changed setting gets a pool of its own; the old one's workers retire once idle.
  const key = JSON.stringify(options);
  if (!sharedPool || key !== sharedPoolKey) {
    sharedPool = new CopyWorkerPool(options);
    sharedPoolKey = key;
  }
  return sharedPool;
}

/** Worker threads a verification's key ranges run on: the shared pool's; none for a warehouse in memory, which a worker cannot read. */
export function rangeWorkerThreads(warehouse: string): number {
  return warehouse.startsWith(MEMORY_SCHEME) ? 0 : (sharedCopyWorkerPool()?.size ?? 0);
}

/** Starts `count` workers of the process's shared pool ahead of their tasks (CopyWorkerPool.warm); none when workers are off. */
export function warmCopyWorkers(count: number): void {
  sharedCopyWorkerPool()?.warm(count);
}

/** Options of copyPartitionOnWorker. */
export interface CopyPartitionOnWorkerOptions extends WorkerCopyOptions {
  /** The app's settings: a worker builds its own environment from them (the source URL never leaves in a log). */
  settings: Readonly<Settings>;
  /** The environment of this thread, for copies that run here. */
  environment: () => RunEnvironment;
  /** Pool to use, null for this thread; by default the process's shared pool (none when ICEBRIDGE_COPY_WORKERS=0). */
  pool?: CopyWorkerPool | null;
  /** Where a note goes when the copy runs in this thread because no worker could be started. */
  debug?: (message: string) => void;
}

/**
 * copyPartition on a worker thread of the pool, or in this thread when workers are off, when the warehouse is
 * in memory (a worker would write into a memory of its own) or when no worker can be started here.
 */
export async function copyPartitionOnWorker(input: CopyPartitionInput, options: CopyPartitionOnWorkerOptions): Promise<CopyPartitionResult> {
  const { settings, onProgress, abortSignal } = options;
  const pool = options.pool === undefined ? sharedCopyWorkerPool() : (options.pool ?? undefined);
  if (pool && !settings.warehouse.startsWith(MEMORY_SCHEME)) {
    try {
      return await pool.copy(settings, input, { ...(onProgress ? { onProgress } : {}), ...(abortSignal ? { abortSignal } : {}) });
    } catch (error) {
      if (!(error instanceof CopyWorkerStartError)) throw error;
      options.debug?.(
        `copying ${input.table.source.schema}.${input.table.source.name} partition ${input.partition.index} in the main thread: ${error.message}`,
      );
    }
  }
  // Each copy in this thread gets the share of memory a worker would have had for its writers.
  setDefaultBufferBudget(copyResources(loadResourceSettings(), availableParallelism()).writerBufferBytes);
  return copyPartition(options.environment(), input, {
    ...(onProgress ? { onProgress: (rows: number) => onProgress(rows, threadId) } : {}),
    ...(abortSignal ? { abortSignal } : {}),
  });
}

/** Options of verifyRowRangeOnWorker. */
export interface VerifyRowRangeOnWorkerOptions {
  /** The app's settings: a worker builds its own environment from them. */
  settings: Readonly<Settings>;
  /** The environment of this thread, for ranges verified here. */
  environment: () => RunEnvironment;
  /** Pool to use, null for this thread; by default the process's shared pool (none when ICEBRIDGE_COPY_WORKERS=0). */
  pool?: CopyWorkerPool | null;
  /** Where a note goes when the range is verified in this thread because no worker could be started. */
  debug?: (message: string) => void;
}

/**
 * verifyRowRange on a worker thread of the pool, or in this thread when workers are off, when the warehouse is in
 * memory or when no worker can be started here. The result is the same either way.
 */
export async function verifyRowRangeOnWorker(input: VerifyRowRangeInput, options: VerifyRowRangeOnWorkerOptions): Promise<RowRangeResult> {
  const { settings } = options;
  const pool = options.pool === undefined ? sharedCopyWorkerPool() : (options.pool ?? undefined);
  if (pool && !settings.warehouse.startsWith(MEMORY_SCHEME)) {
    try {
      return await pool.verifyRange(settings, input);
    } catch (error) {
      if (!(error instanceof CopyWorkerStartError)) throw error;
      options.debug?.(`${describeTask({ type: 'verify-range', taskId: 0, settings, input })} in the main thread: ${error.message}`);
    }
  }
  return verifyRowRange(options.environment(), input.request, input.range, input.options);
}
