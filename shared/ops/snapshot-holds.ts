/**
 * The snapshots of a table that change capture, reverse replay or a restore still needs, so maintenance never
 * expires them (the rule, for operators: README.md, "Maintenance"):
 *
 * - the hand-over of `migrate --cdc` (the newest snapshot recording both a change-capture position and a run id):
 *   it names the run, and so the slot, the table is synced from (`changeCaptureRun`); the snapshots between it
 *   and the current one stay only until the run is recorded as a table property (`icebridge.cdc.run-id`);
 * - the newest snapshot recording a change-capture position: a sync resumes from it (`appliedLsn`);
 * - the newest one change capture itself wrote (not a compaction's), where a replay starts by default, and the
 *   snapshot a replay recorded in `icebridge.replay.snapshot-id`;
 * - the snapshot a restore in progress reads (`RestoreHold`, gathered from the task hub by the job's start).
 *
 * planSnapshotExpiry also keeps every ancestor between the current snapshot and those found through the ancestry
 * (positions, and a restore's point in time).
 */
import { CDC_LSN_PROPERTY } from '../cdc/lsn';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import { type TableMetadata, ancestorsOf } from '../iceberg/spec/table-metadata';
import { RUN_ID_PROPERTY } from '../migrate/commit-table';
import { REPLAY_SNAPSHOT_PROPERTY } from '../replay/replay-tables';
import { chooseSnapshot } from '../restore/snapshot-choice';
import { CDC_RUN_PROPERTY } from '../sync/applied-lsn';
import type { NeededSnapshot } from '../iceberg/maintenance/snapshot-retention';
import type { RestoreHold } from './scheduled-job';

/** The snapshots of the table that must stay, each with the reason and whether its ancestry must stay too. */
export function neededSnapshots(metadata: TableMetadata, id: TableIdentifier, restores: readonly RestoreHold[] = []): Map<bigint, NeededSnapshot> {
  const needed = new Map<bigint, NeededSnapshot>();
  const add = (snapshotId: bigint | undefined, reason: string, keepAncestry: boolean): void => {
    if (snapshotId === undefined) return;
    const known = needed.get(snapshotId);
    needed.set(snapshotId, { reason: known?.reason ?? reason, keepAncestry: keepAncestry || known?.keepAncestry === true });
  };
  const ancestry = ancestorsOf(metadata, metadata['current-snapshot-id']);
  // Looked for among all snapshots, not only the ancestry: once the snapshots between it and the current one are
  // expired (after the run was recorded as a table property) it is no longer an ancestor, and must still stay.
  const recordedRun = metadata.properties[CDC_RUN_PROPERTY];
  const handovers = metadata.snapshots.filter(
    (s) =>
      s.summary[CDC_LSN_PROPERTY] !== undefined &&
      s.summary[RUN_ID_PROPERTY] !== undefined &&
      (recordedRun === undefined || s.summary[RUN_ID_PROPERTY] === recordedRun),
  );
  const handover =
    ancestry.find((s) => handovers.includes(s)) ??
    handovers.sort((a, b) => (b['sequence-number'] > a['sequence-number'] ? 1 : b['sequence-number'] < a['sequence-number'] ? -1 : 0))[0];
  add(handover?.['snapshot-id'], 'change capture hand-over', recordedRun === undefined);
  add(ancestry.find((s) => s.summary[CDC_LSN_PROPERTY] !== undefined)?.['snapshot-id'], 'newest change capture position', true);
  add(
    ancestry.find((s) => s.summary[CDC_LSN_PROPERTY] !== undefined && s.summary.operation !== 'replace')?.['snapshot-id'],
    'where a replay starts by default',
    true,
  );
  const replayed = metadata.properties[REPLAY_SNAPSHOT_PROPERTY];
  if (replayed !== undefined && /^-?\d+$/.test(replayed)) add(BigInt(replayed), 'replay position', true);
  for (const hold of restores) {
    if (hold.namespace !== id.namespace.join('.') || (hold.tables !== undefined && !hold.tables.includes(id.name))) continue;
    try {
      const asOf = 'snapshotId' in hold.asOf ? { snapshotId: BigInt(hold.asOf.snapshotId) } : hold.asOf;
      add(chooseSnapshot(metadata, asOf, id.name)['snapshot-id'], 'a restore in progress', 'timestampMs' in asOf);
    } catch {
      // The restore names no snapshot of this table: it will fail on its own, nothing here to keep.
    }
  }
  return needed;
}
