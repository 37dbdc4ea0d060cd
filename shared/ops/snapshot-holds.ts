/**
 * The snapshots of a table that change capture, reverse replay or a restore still needs, so maintenance never
 * expires them (the rule: docs/operations.md#what-maintenance-keeps):
 *
 * - the hand-over of `migrate --cdc` (the newest snapshot recording both a change-capture position and a run id):
 *   it names the run, and so the slot, the table is synced from (`changeCaptureRun`);
 * - the newest snapshot recording a change-capture position: a sync resumes from it (`appliedLsn`);
 * - the newest one change capture itself wrote (not a compaction's), where a replay starts by default, and the
 *   snapshot a replay recorded in `icebridge.replay.snapshot-id`;
 * - the snapshot a restore in progress reads (`RestoreHold`, gathered from the task hub by the job's start).
 *
 * planSnapshotExpiry then also keeps every ancestor between the current snapshot and these.
 */
import { CDC_LSN_PROPERTY } from '../cdc/lsn';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import { type TableMetadata, ancestorsOf } from '../iceberg/spec/table-metadata';
import { RUN_ID_PROPERTY } from '../migrate/commit-table';
import { REPLAY_SNAPSHOT_PROPERTY } from '../replay/replay-tables';
import { chooseSnapshot } from '../restore/snapshot-choice';
import type { RestoreHold } from './scheduled-job';

/** The snapshots of the table that must stay, each with the reason. */
export function neededSnapshots(metadata: TableMetadata, id: TableIdentifier, restores: readonly RestoreHold[] = []): Map<bigint, string> {
  const needed = new Map<bigint, string>();
  const add = (snapshotId: bigint | undefined, reason: string): void => {
    if (snapshotId !== undefined && !needed.has(snapshotId)) needed.set(snapshotId, reason);
  };
  const ancestry = ancestorsOf(metadata, metadata['current-snapshot-id']);
  add(ancestry.find((s) => s.summary[CDC_LSN_PROPERTY] !== undefined && s.summary[RUN_ID_PROPERTY] !== undefined)?.['snapshot-id'], 'change capture hand-over');
  add(ancestry.find((s) => s.summary[CDC_LSN_PROPERTY] !== undefined)?.['snapshot-id'], 'newest change capture position');
  add(
    ancestry.find((s) => s.summary[CDC_LSN_PROPERTY] !== undefined && s.summary.operation !== 'replace')?.['snapshot-id'],
    'where a replay starts by default',
  );
  const replayed = metadata.properties[REPLAY_SNAPSHOT_PROPERTY];
  if (replayed !== undefined && /^-?\d+$/.test(replayed)) add(BigInt(replayed), 'replay position');
  for (const hold of restores) {
    if (hold.namespace !== id.namespace.join('.') || (hold.tables !== undefined && !hold.tables.includes(id.name))) continue;
    try {
      const asOf = 'snapshotId' in hold.asOf ? { snapshotId: BigInt(hold.asOf.snapshotId) } : hold.asOf;
      add(chooseSnapshot(metadata, asOf, id.name)['snapshot-id'], 'a restore in progress');
    } catch {
      // The restore names no snapshot of this table: it will fail on its own, nothing here to keep.
    }
  }
  return needed;
}
