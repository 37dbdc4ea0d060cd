/**
 * Which snapshots of a table may be expired. Kept, whatever their age: the current snapshot and its newest
 * `retainLast` ancestors, every snapshot a branch or tag names, every snapshot younger than the cutoff, every
 * snapshot a caller says is needed, and, for a needed snapshot that is found by walking the ancestry from the
 * current snapshot (a position), every ancestor between the two: expiring one between would cut the walk short.
 * Pure: the expiry itself is `expireSnapshots`.
 */
import type { TableMetadata } from '../spec/table-metadata';
import { ancestorsOf } from '../spec/table-metadata';

/** Options of planSnapshotExpiry. */
export interface SnapshotExpiryOptions {
  /** Snapshots created before this time (ms since 1970) may be expired. */
  cutoffMs: number;
  /** The newest ancestors of the current snapshot always kept (at least 1: the current one). */
  retainLast: number;
  /** Snapshots something still needs (a sync's position, a replay's, a restore's). */
  needed?: ReadonlyMap<bigint, NeededSnapshot>;
}

/** Why a snapshot must stay, and whether its reader reaches it through the current snapshot's ancestry. */
export interface NeededSnapshot {
  reason: string;
  keepAncestry: boolean;
}

/** The plan: what goes, and what stays for a reason other than its age. */
export interface SnapshotExpiryPlan {
  expire: bigint[];
  /** Snapshots older than the cutoff that are kept, and why. */
  kept: Array<{ snapshotId: bigint; reason: string }>;
}

/** Plans the expiry of a table's old snapshots; see the module comment for the rule. */
export function planSnapshotExpiry(metadata: TableMetadata, options: SnapshotExpiryOptions): SnapshotExpiryPlan {
  const reasons = new Map<bigint, string>();
  const keep = (id: bigint, reason: string): void => {
    if (!reasons.has(id)) reasons.set(id, reason);
  };
  const ancestry = ancestorsOf(metadata, metadata['current-snapshot-id']);
  ancestry.slice(0, Math.max(1, options.retainLast)).forEach((s, i) => keep(s['snapshot-id'], i === 0 ? 'current' : `one of the last ${options.retainLast}`));
  for (const [name, ref] of Object.entries(metadata.refs)) keep(ref['snapshot-id'], `named by ${ref.type} ${name}`);
  const needed = options.needed ?? new Map<bigint, NeededSnapshot>();
  let deepest = -1;
  ancestry.forEach((s, i) => {
    if (needed.get(s['snapshot-id'])?.keepAncestry === true) deepest = i;
  });
  for (const [id, { reason }] of needed) keep(id, reason);
  for (let i = 0; i <= deepest; i++)
    keep(ancestry[i]!['snapshot-id'], `between the current snapshot and one needed (${needed.get(ancestry[deepest]!['snapshot-id'])!.reason})`);
  const expire: bigint[] = [];
  const kept: SnapshotExpiryPlan['kept'] = [];
  for (const snapshot of metadata.snapshots) {
    if (snapshot['timestamp-ms'] >= options.cutoffMs) continue;
    const reason = reasons.get(snapshot['snapshot-id']);
    if (reason === undefined) expire.push(snapshot['snapshot-id']);
    else kept.push({ snapshotId: snapshot['snapshot-id'], reason });
  }
  return { expire, kept };
}
