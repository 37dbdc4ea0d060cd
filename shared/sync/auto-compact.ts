/**
 * Compaction while syncing: every batch adds a position delete file, and a reader applies them all, so once a
 * table holds more than a threshold of delete files the sync compacts it (between two of its own batches) and
 * rebuilds the table's key index, whose positions the rewrite changed. A compaction from elsewhere (`icebridge
 * compact`) racing the sync makes the sync's next row delta fail its check of the referenced data files; the
 * applier then rebuilds the index and applies the same batch once more (nothing of it was committed).
 */
import { CDC_LSN_PROPERTY } from '../cdc/lsn';
import type { ChangeEvent } from '../cdc/change-decoder';
import { type CompactOptions, type CompactResult, compactTable } from '../iceberg/maintenance/compact';
import { RewriteConflictError } from '../iceberg/maintenance/rewrite-files';
import { currentSnapshot } from '../iceberg/spec/table-metadata';
import { liveFiles } from '../iceberg/transaction/manifest-files';
import { MissingDataFilesError } from '../iceberg/transaction/row-delta';
import { type ApplyResult, type SyncEnvironment, type SyncTable, applyChanges } from './apply-changes';
import { buildKeyIndex } from './key-index';

/** Default number of delete files beyond which the sync compacts a table. */
export const DEFAULT_COMPACT_AFTER_DELETE_FILES = 32;

/** The summary properties every compaction of a synced table carries over: the applied LSN above all. */
export const SYNC_CARRIED_PROPERTIES: readonly string[] = [CDC_LSN_PROPERTY];

/** When the sync compacts a table. */
export interface CompactPolicy {
  /** Compact once the current snapshot has more delete files than this; 0 never compacts. Default 32. */
  afterDeleteFiles?: number | undefined;
  /** Passed to the compaction (target file size and the like). */
  compact?: Omit<CompactOptions, 'carriedProperties'>;
}

/**
 * Compacts the table when its current snapshot has more delete files than the policy allows, then rebuilds its key
 * index. A compaction that keeps losing to concurrent commits is left for a later batch; undefined when none ran.
 */
export async function maybeCompact(env: SyncEnvironment, table: SyncTable, policy: CompactPolicy = {}): Promise<CompactResult | undefined> {
  const threshold = policy.afterDeleteFiles ?? DEFAULT_COMPACT_AFTER_DELETE_FILES;
  if (threshold <= 0) return undefined;
  const { metadata } = await env.catalog.loadTable(table.id);
  const snapshot = currentSnapshot(metadata);
  const total = snapshot?.summary['total-delete-files'];
  const deleteFiles = total !== undefined && /^\d+$/.test(total) ? Number(total) : (await liveFiles(env.catalog.io, snapshot)).deletes.length;
  if (deleteFiles <= threshold) return undefined;
  let result: CompactResult;
  try {
    result = await compactTable(env.catalog, table.id, { ...policy.compact, carriedProperties: SYNC_CARRIED_PROPERTIES });
  } catch (error) {
    if (error instanceof RewriteConflictError) return undefined;
    throw error;
  }
  if (result.compacted) await rebuildIndex(env, table);
  return result;
}

/**
 * applyChanges, once more after rebuilding the key index when the row delta found its data files rewritten by a
 * concurrent compaction. The applier skips what the table already holds by LSN, so the second call is exact.
 */
export async function applyChangesAfterRewrite(env: SyncEnvironment, table: SyncTable, batch: readonly ChangeEvent[]): Promise<ApplyResult> {
  try {
    return await applyChanges(env, table, batch);
  } catch (error) {
    if (!(error instanceof MissingDataFilesError)) throw error;
    await rebuildIndex(env, table);
    return applyChanges(env, table, batch);
  }
}

/** Replaces the table's key index by one built from its current snapshot. */
async function rebuildIndex(env: SyncEnvironment, table: SyncTable): Promise<void> {
  const { metadata } = await env.catalog.loadTable(table.id);
  table.index = await buildKeyIndex(env.catalog.io, metadata, table.index.keyColumns);
  table.snapshotId = metadata['current-snapshot-id'];
}
