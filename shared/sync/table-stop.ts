/**
 * Stopping one table of a sync while the others go on. Once the slot is confirmed past a stopped table's changes
 * the server forgets them, so the stop is recorded in the Iceberg table itself (a table property, committed before
 * the batch is confirmed): every later sync of the same slot reads it and skips the table instead of applying
 * changes with a gap. The mark is per slot: a table copied again by a new `migrate --cdc` run (a new slot) is not
 * stopped for that run.
 */
import { CommitStateUnknownError, IcebridgeError, errorMessage } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import type { TableMetadata } from '../iceberg/spec/table-metadata';
import { setProperties } from '../iceberg/transaction/table-evolution';
import { boundedText } from '../text/bounded-text';

/** Prefix of the table property that marks a table stopped for one slot: `icebridge.cdc.stopped.<slot>`. */
export const CDC_STOPPED_PROPERTY_PREFIX = 'icebridge.cdc.stopped.';

/** Why and where a table stopped: it holds every change up to `lsn`, and none after it. */
export interface TableStop {
  reason: string;
  /** The position the table holds everything up to ('X/Y'); the changes after it are lost for it. */
  lsn: string;
  /** When the stop was recorded (ISO 8601). */
  at: string;
}

/** The property name of a slot's stop mark. */
export function stoppedProperty(slot: string): string {
  return `${CDC_STOPPED_PROPERTY_PREFIX}${slot}`;
}

/** The table's stop mark for `slot`, or undefined when it is not stopped for that slot. */
export function readTableStop(metadata: TableMetadata, slot: string): TableStop | undefined {
  const text = metadata.properties[stoppedProperty(slot)];
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<TableStop>;
    return { reason: String(parsed.reason ?? 'unknown'), lsn: String(parsed.lsn ?? '0/0'), at: String(parsed.at ?? '') };
  } catch {
    // A mark that cannot be read still stops the table: applying after a gap would be worse than a vague reason.
    return { reason: `unreadable stop mark: ${boundedText(text)}`, lsn: '0/0', at: '' };
  }
}

/**
 * Records the stop in the table (one commit setting the property). It must land before the slot is confirmed past
 * the table's changes; a failure here is thrown, and the caller must then not confirm.
 */
export async function recordTableStop(catalog: Catalog, id: TableIdentifier, slot: string, stop: TableStop): Promise<void> {
  await setProperties(catalog, id, { [stoppedProperty(slot)]: JSON.stringify(stop) });
}

/**
 * True for a failure that trying again may cure: a commit whose outcome is unknown, a commit conflict, a storage
 * or connection hiccup (every IcebridgeError marked retryable). Everything else stops the table at once: a change
 * that does not fit the table (a missing key, a key already held, a changed schema), a missing or corrupt file.
 */
export function isTransientApplyError(error: unknown): boolean {
  return error instanceof CommitStateUnknownError || (error instanceof IcebridgeError && error.retryable);
}

/** Error code of a transient failure that persisted through every attempt. */
export const APPLY_RETRIES_EXHAUSTED = 'SYNC_APPLY_RETRIES_EXHAUSTED';

/**
 * True for the error `withApplyRetries` throws when a transient failure persisted: the table is not broken, so it
 * is not stopped for good; the sync ends without confirming and the next run applies the batch again.
 */
export function isRetriesExhausted(error: unknown): boolean {
  return error instanceof IcebridgeError && error.code === APPLY_RETRIES_EXHAUSTED;
}

/** Options of `withApplyRetries`. */
export interface ApplyRetryOptions {
  /** Attempts in all, including the first; defaults to 5. */
  attempts?: number;
  /** Pause before the first retry, doubled for each one after; defaults to 1 s (15 s over 5 attempts). */
  baseDelayInMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds, retrying transient failures (`isTransientApplyError`) a few times with a
 * growing pause. `beforeRetry` runs before each retry: a failed apply may have left the table ahead of the
 * caller's view of it (an unknown commit that did land), so the caller reopens the table there. A failure that
 * is not transient is thrown as it is; a transient one that outlasts the attempts as APPLY_RETRIES_EXHAUSTED.
 */
export async function withApplyRetries<T>(attempt: () => Promise<T>, beforeRetry: () => Promise<void>, options: ApplyRetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let delay = options.baseDelayInMs ?? 1000;
  for (let n = 1; ; n++) {
    try {
      if (n > 1) await beforeRetry();
      return await attempt();
    } catch (error) {
      if (!isTransientApplyError(error)) throw error;
      if (n >= attempts) throw new IcebridgeError(APPLY_RETRIES_EXHAUSTED, `${errorMessage(error)} (still failing after ${n} attempts)`, { cause: error });
      await sleep(delay);
      delay *= 2;
    }
  }
}
