/**
 * The position a table has applied changes up to, read from its own snapshots: the applier records the last
 * applied transaction's end LSN in the summary of the commit that holds its changes, so the table, not the slot,
 * is the authority on what was applied (a confirmation can be lost, a commit cannot be half made).
 */
import { CDC_LSN_PROPERTY, type Lsn, parseLsn } from '../cdc/lsn';
import { type TableMetadata, currentSnapshot, snapshotById } from '../iceberg/spec/table-metadata';

/**
 * The applied LSN of a table: the property of the current snapshot or of its nearest ancestor that has one
 * (commits of other writers, e.g. a compaction, carry none); undefined when no change was ever applied.
 */
export function appliedLsn(metadata: TableMetadata): Lsn | undefined {
  const seen = new Set<bigint>();
  for (let snapshot = currentSnapshot(metadata); snapshot !== undefined;) {
    const text = snapshot.summary[CDC_LSN_PROPERTY];
    if (text !== undefined) return parseLsn(text);
    const parent = snapshot['parent-snapshot-id'];
    // Expired ancestors end the walk; a cycle would be a corrupt table, not a reason to loop.
    if (parent === undefined || seen.has(parent)) return undefined;
    seen.add(parent);
    snapshot = snapshotById(metadata, parent);
  }
  return undefined;
}
