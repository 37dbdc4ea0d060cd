/**
 * Cancelling a migration across processes and instances: a marker object in the warehouse, under the run's own
 * prefix, that running copies look for every few seconds. Terminating orchestrations stops what they schedule;
 * the marker stops the copies already running, wherever they run.
 */
import { performance } from 'node:perf_hooks';
import { IcebridgeError } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';

/** How often a copy looks for the marker at most: one small read per interval, whatever the row rate. */
export const CANCELLATION_CHECK_INTERVAL_MS = 2_000;

/** The run was cancelled: its copies stop, and nothing more of it is written. */
export class RunCancelledError extends IcebridgeError {
  constructor(runId: string) {
    super('RUN_CANCELLED', `the migration ${runId} was cancelled`);
  }
}

/**
 * Where the run's marker lives: `<warehouse>/.icebridge/runs/<runId>/cancel-requested`. A leading dot keeps it
 * out of namespace listings (Hadoop treats such paths as hidden).
 */
export function cancellationMarker(catalog: Catalog, runId: string): string {
  return `${catalog.tableLocation({ namespace: ['.icebridge', 'runs'], name: runId })}/cancel-requested`;
}

/** Marks the run cancelled; its running copies stop at their next check. */
export async function requestCancellation(catalog: Catalog, runId: string, requestedAt: Date): Promise<void> {
  const marker = JSON.stringify({ runId, requestedAt: requestedAt.toISOString() });
  await catalog.io.write(cancellationMarker(catalog, runId), new TextEncoder().encode(marker));
}

/** Removes the run's marker, before a fresh run with the same id starts. */
export async function clearCancellation(catalog: Catalog, runId: string): Promise<void> {
  await catalog.io.delete(cancellationMarker(catalog, runId));
}

/** Throws RunCancelledError when the run's marker is there: one read, for a step taken once (a commit). */
export async function assertNotCancelled(catalog: Catalog, runId: string): Promise<void> {
  if (await catalog.io.stat(cancellationMarker(catalog, runId))) throw new RunCancelledError(runId);
}

/**
 * A check to call as often as convenient: it looks for the marker on its first call and then at most every
 * `intervalInMs`, and throws RunCancelledError once the marker is there.
 */
export function cancellationCheck(catalog: Catalog, runId: string, intervalInMs = CANCELLATION_CHECK_INTERVAL_MS): () => Promise<void> {
  let checkedAt = -Infinity;
  return async () => {
    const now = performance.now();
    if (now - checkedAt < intervalInMs) return;
    checkedAt = now;
    await assertNotCancelled(catalog, runId);
  };
}
