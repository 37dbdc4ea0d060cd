/**
 * Stopping a sync across processes: a marker in the warehouse, under the sync's own prefix, that its batches look
 * for. A marker, not an external event: it reaches the batch already running (which an event raised to the
 * orchestration cannot), and it outlives the orchestration's continueAsNew, which drops events not yet handled.
 */
import type { Catalog } from '../iceberg/catalog/catalog';

/** How often a running batch looks for the marker: one small read per interval. */
export const SYNC_STOP_CHECK_INTERVAL_MS = 2_000;

/** `<warehouse>/.icebridge/syncs/<syncId>/stop-requested`, hidden from namespace listings by its leading dot. */
export function syncStopMarker(catalog: Catalog, syncId: string): string {
  return `${catalog.tableLocation({ namespace: ['.icebridge', 'syncs'], name: syncId })}/stop-requested`;
}

/** Asks the sync to stop: its running batch finishes the micro-batch it applies, confirms it, and no other starts. */
export async function requestSyncStop(catalog: Catalog, syncId: string, requestedAt: Date): Promise<void> {
  const marker = JSON.stringify({ syncId, requestedAt: requestedAt.toISOString() });
  await catalog.io.write(syncStopMarker(catalog, syncId), new TextEncoder().encode(marker));
}

/** Removes the marker, before a stopped sync is started again. */
export async function clearSyncStop(catalog: Catalog, syncId: string): Promise<void> {
  await catalog.io.delete(syncStopMarker(catalog, syncId));
}

/** Whether a stop of the sync was asked. */
export async function isSyncStopRequested(catalog: Catalog, syncId: string): Promise<boolean> {
  return (await catalog.io.stat(syncStopMarker(catalog, syncId))) !== undefined;
}
