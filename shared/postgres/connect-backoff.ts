/**
 * Connecting when the server is out of connection slots. "too many connections" (SQLSTATE 53300) means other
 * clients hold every slot, typically other instances of a scaled-out app; the activity's own retries (a few
 * attempts in seconds) are too short for them to finish, so a connect backs off here for minutes, with jitter so
 * instances do not retry in lockstep, before failing as retryable.
 */
import { IcebridgeError } from '../errors';
import { sqlState } from './postgres-errors';

/** SQLSTATEs that mean "no slot now, try later": too_many_connections, cannot_connect_now (server starting). */
const NO_SLOT_SQLSTATES = new Set(['53300', '57P03']);

/** Options of `connectWithBackoff`. */
export interface ConnectBackoffOptions {
  /** Total time spent waiting between attempts before giving up; defaults to 3 minutes. */
  maxWaitInMs?: number;
  /** First pause's upper bound; doubles each attempt. Defaults to 1 s. */
  baseDelayInMs?: number;
  /** Upper bound of any one pause; defaults to 30 s. */
  maxDelayInMs?: number;
  abortSignal?: AbortSignal;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1), injected for tests. */
  random?: () => number;
}

/** True for a failure that says the server has no connection slot free now. */
export function isNoSlotError(error: unknown): boolean {
  const state = sqlState(error) ?? sqlState((error as { cause?: unknown } | null)?.cause);
  return state !== undefined && NO_SLOT_SQLSTATES.has(state);
}

/**
 * Calls `connect` until it succeeds, retrying only "no slot" failures with exponential backoff and jitter
 * (each pause uniform in [delay/2, delay]) within `maxWaitInMs`; any other failure is thrown at once.
 */
export async function connectWithBackoff<T>(connect: () => Promise<T>, options: ConnectBackoffOptions = {}): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const maxWait = options.maxWaitInMs ?? 180_000;
  const maxDelay = options.maxDelayInMs ?? 30_000;
  let delay = options.baseDelayInMs ?? 1_000;
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (error) {
      if (!isNoSlotError(error)) throw error;
      if (waited >= maxWait) {
        const message = error instanceof Error ? error.message : String(error);
        const code = error instanceof IcebridgeError ? error.code : 'POSTGRES_QUERY_FAILED';
        throw new IcebridgeError(code, `${message} (still no free connection after ${attempt} attempts over ${Math.round(waited / 1000)} s)`, {
          retryable: true,
          cause: error,
        });
      }
      options.abortSignal?.throwIfAborted();
      const pause = Math.min(maxWait - waited, Math.round(delay / 2 + random() * (delay / 2)));
      await sleep(pause);
      waited += pause;
      delay = Math.min(maxDelay, delay * 2);
    }
  }
}
