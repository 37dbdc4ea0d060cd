/**
 * A cap on PostgreSQL connections held at once by one process, across its worker threads. Scale-out multiplies
 * connections by instances, so each instance holds at most a fixed number and waits for a free one beyond it.
 *
 * The permits live in a SharedArrayBuffer that every thread of the process attaches to: one Int32 cell per
 * permit, 0 when free, else the holder's thread id + 1. A worker thread that dies while holding permits (out of
 * memory, a native fault) cannot give them back itself, so its owner calls `releaseThread` for it.
 */
import { threadId } from 'node:worker_threads';
import { IcebridgeError } from '../errors';

/** Error code of a connection that found no free permit in time; retryable. */
export const CONNECTION_GATE_TIMEOUT = 'POSTGRES_CONNECTION_LIMIT';

/** Options of `ConnectionGate.acquire`. */
export interface AcquireConnectionOptions {
  /** Longest wait for a permit; defaults to 2 minutes, well inside the function timeout. */
  timeoutInMs?: number;
  abortSignal?: AbortSignal;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const DEFAULT_TIMEOUT_IN_MS = 120_000;
const FIRST_POLL_IN_MS = 5;
const LONGEST_POLL_IN_MS = 200;

/** A counting semaphore over a SharedArrayBuffer; see the module comment. */
export class ConnectionGate {
  private readonly cells: Int32Array;

  /** A new gate with `limit` permits, or one attached to another thread's `buffer`. */
  constructor(limitOrBuffer: number | SharedArrayBuffer) {
    const buffer = typeof limitOrBuffer === 'number' ? new SharedArrayBuffer(Math.max(1, Math.floor(limitOrBuffer)) * 4) : limitOrBuffer;
    this.cells = new Int32Array(buffer);
  }

  /** The shared memory other threads attach to. */
  get buffer(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }

  /** Permits in all. */
  get limit(): number {
    return this.cells.length;
  }

  /** Permits held now, by any thread. */
  get held(): number {
    let n = 0;
    for (let i = 0; i < this.cells.length; i++) if (Atomics.load(this.cells, i) !== 0) n++;
    return n;
  }

  /** Takes a permit without waiting; returns its release, or undefined when every permit is held. */
  tryAcquire(): (() => void) | undefined {
    const owner = threadId + 1;
    for (let i = 0; i < this.cells.length; i++) {
      if (Atomics.compareExchange(this.cells, i, 0, owner) === 0) {
        let released = false;
        return () => {
          if (released) return;
          released = true;
          Atomics.compareExchange(this.cells, i, owner, 0);
        };
      }
    }
    return undefined;
  }

  /** Waits for a permit (polling with growing, jittered pauses); a wait past the timeout is a retryable error. */
  async acquire(options: AcquireConnectionOptions = {}): Promise<() => void> {
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const now = options.now ?? Date.now;
    const deadline = now() + (options.timeoutInMs ?? DEFAULT_TIMEOUT_IN_MS);
    let pause = FIRST_POLL_IN_MS;
    for (;;) {
      options.abortSignal?.throwIfAborted();
      const release = this.tryAcquire();
      if (release) return release;
      if (now() >= deadline) {
        throw new IcebridgeError(
          CONNECTION_GATE_TIMEOUT,
          `all ${this.limit} PostgreSQL connections this instance may hold stayed in use for ${Math.round((options.timeoutInMs ?? DEFAULT_TIMEOUT_IN_MS) / 1000)} s (ICEBRIDGE_SOURCE_CONNECTIONS)`,
          { retryable: true },
        );
      }
      await sleep(pause / 2 + Math.random() * pause);
      pause = Math.min(LONGEST_POLL_IN_MS, pause * 2);
    }
  }

  /** Frees every permit held by thread `id` (a worker that died holding them); returns how many. */
  releaseThread(id: number): number {
    let n = 0;
    for (let i = 0; i < this.cells.length; i++) if (Atomics.compareExchange(this.cells, i, id + 1, 0) === id + 1) n++;
    return n;
  }
}
