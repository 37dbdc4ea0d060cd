/**
 * The position a table has applied changes up to, read from its own snapshots: the applier records the last
 * applied transaction's end LSN in the summary of the commit that holds its changes, so the table, not the slot,
 * is the authority on what was applied (a confirmation can be lost, a commit cannot be half made).
 */
import { CDC_LSN_PROPERTY, type Lsn, parseLsn } from '../cdc/lsn';
import type { Catalog } from '../iceberg/catalog/catalog';
import { type TableMetadata, ancestorsOf, currentSnapshot, snapshotById } from '../iceberg/spec/table-metadata';
import { RUN_ID_PROPERTY } from '../migrate/commit-table';

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

/**
 * Whether the table committed changes of a transaction ending in (`after`, `upTo`]: a snapshot of its current
 * history records an applied position there (expired snapshots are not seen).
 */
export function appliedBetween(metadata: TableMetadata, after: Lsn, upTo: Lsn): boolean {
  return ancestorsOf(metadata, metadata['current-snapshot-id']).some((snapshot) => {
    const text = snapshot.summary[CDC_LSN_PROPERTY];
    if (text === undefined) return false;
    const lsn = parseLsn(text);
    return lsn > after && lsn <= upTo;
  });
}

/**
 * Table property naming the migrate --cdc run a table is under, recorded by maintenance before it expires the
 * snapshots between the current one and the hand-over (which would otherwise be the only record of the run).
 */
export const CDC_RUN_PROPERTY = 'icebridge.cdc.run-id';

/**
 * The migrate --cdc run the table is under: the newest snapshot of its history recording both a change-capture
 * position and a run id (the hand-over's commit; the applier's commits after it record positions only), else the
 * run recorded in the table's properties once that history was expired.
 */
export function changeCaptureRun(metadata: TableMetadata): { runId: string } | undefined {
  const handover = ancestorsOf(metadata, metadata['current-snapshot-id']).find(
    (s) => s.summary[CDC_LSN_PROPERTY] !== undefined && s.summary[RUN_ID_PROPERTY] !== undefined,
  );
  if (handover !== undefined) return { runId: handover.summary[RUN_ID_PROPERTY]! };
  const recorded = metadata.properties[CDC_RUN_PROPERTY];
  return recorded === undefined ? undefined : { runId: recorded };
}

/** The distinct migrate --cdc runs the tables of a namespace are under. */
export async function changeCaptureRuns(catalog: Catalog, namespace: string[]): Promise<string[]> {
  const runs = new Set<string>();
  for (const id of await catalog.listTables(namespace)) {
    const run = changeCaptureRun((await catalog.loadTable(id)).metadata);
    if (run !== undefined) runs.add(run.runId);
  }
  return [...runs].sort();
}
