/**
 * What maintenance may expire, on a table history built by hand: a migrate --cdc hand-over, sync batches, a
 * compaction and a later overwrite. Each rule keeps exactly what it must: the newest snapshots, refs, the young,
 * the hand-over (and the history back to it until the run is recorded), the newest position, the replay's start
 * and recorded position, and a restore's snapshot (by id alone; by time with the history back to it).
 */
import { describe, expect, it } from 'vitest';
import { CDC_LSN_PROPERTY } from '../../shared/cdc/lsn';
import { planSnapshotExpiry } from '../../shared/iceberg/maintenance/snapshot-retention';
import type { Snapshot, SnapshotOperation } from '../../shared/iceberg/spec/snapshot';
import type { TableMetadata } from '../../shared/iceberg/spec/table-metadata';
import { RUN_ID_PROPERTY } from '../../shared/migrate/commit-table';
import { REPLAY_SNAPSHOT_PROPERTY } from '../../shared/replay/replay-tables';
import type { RestoreHold } from '../../shared/ops/scheduled-job';
import { neededSnapshots } from '../../shared/ops/snapshot-holds';
import { CDC_RUN_PROPERTY } from '../../shared/sync/applied-lsn';

const ID = { namespace: ['public'], name: 'items' };
const NOW = 100_000_000;

function snapshot(n: number, operation: SnapshotOperation, summary: Record<string, string> = {}): Snapshot {
  return {
    'snapshot-id': BigInt(n),
    ...(n > 1 ? { 'parent-snapshot-id': BigInt(n - 1) } : {}),
    'sequence-number': BigInt(n),
    'timestamp-ms': n * 1000,
    'manifest-list': `memory://t/metadata/snap-${n}.avro`,
    summary: { operation, ...summary },
  };
}

/** s1 hand-over, s2-s6 sync batches, s7 a compaction carrying the position, s8 another writer's overwrite (current). */
function history(properties: Record<string, string> = {}, extraRefs: Record<string, bigint> = {}): TableMetadata {
  const snapshots = [
    snapshot(1, 'overwrite', { [CDC_LSN_PROPERTY]: '0/10', [RUN_ID_PROPERTY]: 'run-1' }),
    ...[2, 3, 4, 5, 6].map((n) => snapshot(n, 'overwrite', { [CDC_LSN_PROPERTY]: `0/${n}0` })),
    snapshot(7, 'replace', { [CDC_LSN_PROPERTY]: '0/60' }),
    snapshot(8, 'overwrite'),
  ];
  const refs: TableMetadata['refs'] = { main: { 'snapshot-id': 8n, type: 'branch' } };
  for (const [name, id] of Object.entries(extraRefs)) refs[name] = { 'snapshot-id': id, type: 'tag' };
  // Only the fields the planner reads; the rest of a table's metadata plays no part in it.
  return { 'current-snapshot-id': 8n, snapshots, refs, properties } as unknown as TableMetadata;
}

function expired(metadata: TableMetadata, options: { restores?: RestoreHold[]; retainLast?: number; cutoffMs?: number; needs?: boolean } = {}): number[] {
  const plan = planSnapshotExpiry(metadata, {
    cutoffMs: options.cutoffMs ?? NOW,
    retainLast: options.retainLast ?? 1,
    ...(options.needs === false ? {} : { needed: neededSnapshots(metadata, ID, options.restores) }),
  });
  return plan.expire.map(Number).sort((a, b) => a - b);
}

const RECORDED = { [CDC_RUN_PROPERTY]: 'run-1' };

describe('planSnapshotExpiry with the snapshots maintenance must keep', () => {
  it('keeps only the current snapshot of a table nothing needs, and what is young, newest or named', () => {
    expect(expired(history(), { needs: false })).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(expired(history(), { needs: false, retainLast: 3 })).toEqual([1, 2, 3, 4, 5]);
    expect(expired(history(), { needs: false, cutoffMs: 3500 })).toEqual([1, 2, 3]);
    expect(expired(history({}, { audit: 2n }), { needs: false })).toEqual([1, 3, 4, 5, 6, 7]);
  });

  it('keeps the whole history back to the hand-over until the run is recorded in the table', () => {
    expect(expired(history())).toEqual([]);
  });

  it('then keeps the hand-over, the newest position and where a replay starts, with the history back to them', () => {
    // s7 holds the newest position, s6 is the newest snapshot change capture itself wrote.
    expect(expired(history(RECORDED))).toEqual([2, 3, 4, 5]);
    const plan = planSnapshotExpiry(history(RECORDED), { cutoffMs: NOW, retainLast: 1, needed: neededSnapshots(history(RECORDED), ID) });
    expect(plan.kept.find((k) => k.snapshotId === 1n)?.reason).toBe('change capture hand-over');
  });

  it("keeps a replay's recorded position and the history back to it", () => {
    expect(expired(history({ ...RECORDED, [REPLAY_SNAPSHOT_PROPERTY]: '3' }))).toEqual([2]);
  });

  it("keeps a restore's snapshot: by id that one, by time the one it resolves to and the history back to it", () => {
    expect(expired(history(RECORDED), { restores: [{ namespace: 'public', asOf: { snapshotId: '2' } }] })).toEqual([3, 4, 5]);
    expect(expired(history(RECORDED), { restores: [{ namespace: 'public', asOf: { timestampMs: 4500 } }] })).toEqual([2, 3]);
    // Another table's restore, or one naming no snapshot of this table, keeps nothing here.
    expect(expired(history(RECORDED), { restores: [{ namespace: 'public', tables: ['other'], asOf: { snapshotId: '2' } }] })).toEqual([2, 3, 4, 5]);
    expect(expired(history(RECORDED), { restores: [{ namespace: 'public', asOf: { snapshotId: '99' } }] })).toEqual([2, 3, 4, 5]);
  });

  it('still finds the hand-over once it is no longer an ancestor of the current snapshot', () => {
    const metadata = history(RECORDED);
    const cut = { ...metadata, snapshots: metadata.snapshots.filter((s) => ![2n, 3n, 4n, 5n].includes(s['snapshot-id'])) } as TableMetadata;
    expect(expired(cut)).toEqual([]);
  });
});
