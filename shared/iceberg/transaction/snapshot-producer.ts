/**
 * Turns a set of manifest changes into a new snapshot on top of the table's current one: assigns the snapshot
 * id and sequence number, writes the manifest list, computes the summary, and states the commit's requirements.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeManifestList } from '../avro/manifest-list';
import type { Table } from '../catalog/catalog';
import type { FileIO } from '../io/file-io';
import { type DataFile, DataFileContent, type ManifestFile } from '../spec/manifest';
import { MAIN_BRANCH, type Snapshot, type SnapshotOperation, type SnapshotSummary } from '../spec/snapshot';
import { type TableMetadata, currentSchema, currentSnapshot } from '../spec/table-metadata';
import type { CommitPlan } from './commit-retry';

/** Summary key under which every snapshot records the operation id that produced it. */
export const OPERATION_ID_PROPERTY = 'icebridge.operation-id';

/** Counts a change adds to or removes from the table. */
export interface ChangeCounts {
  files: number;
  records: bigint;
  bytes: bigint;
}

/** Delete files a change adds or removes, by kind, with the deletes they hold. */
export interface DeleteCounts {
  positionFiles: number;
  equalityFiles: number;
  positionDeletes: bigint;
  equalityDeletes: bigint;
  bytes: bigint;
}

/** No delete files. */
export const NO_DELETES: Readonly<DeleteCounts> = Object.freeze({ positionFiles: 0, equalityFiles: 0, positionDeletes: 0n, equalityDeletes: 0n, bytes: 0n });

/** The delete counts of some files (data files among them are not counted). */
export function deleteCounts(files: readonly DataFile[]): DeleteCounts {
  const out: DeleteCounts = { ...NO_DELETES };
  for (const file of files) {
    if (file.content === DataFileContent.PositionDeletes) {
      out.positionFiles++;
      out.positionDeletes += file.recordCount;
    } else if (file.content === DataFileContent.EqualityDeletes) {
      out.equalityFiles++;
      out.equalityDeletes += file.recordCount;
    } else continue;
    out.bytes += file.fileSizeInBytes;
  }
  return out;
}

/** What a snapshot changes, relative to its parent. */
export interface SnapshotChange {
  operation: SnapshotOperation;
  /** Manifests new in this snapshot; unassigned ids/sequence numbers are set to the snapshot's. */
  newManifests: ManifestFile[];
  /** Manifests of the parent carried over unchanged. */
  keptManifests: ManifestFile[];
  /** Data files added and removed. */
  added: ChangeCounts;
  deleted: ChangeCounts;
  /** Delete files added and removed (none when absent). */
  addedDeletes?: DeleteCounts;
  removedDeletes?: DeleteCounts;
  /** Partitions touched (for changed-partition-count). */
  changedPartitions: number;
  /** Extra summary properties, e.g. a run id. */
  properties?: Record<string, string>;
}

/** Identity of the snapshot being produced, stable across retries. */
export interface SnapshotIdentity {
  snapshotId: bigint;
  operationId: string;
}

/** A fresh positive 63-bit snapshot id. */
export function newSnapshotId(): bigint {
  return randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn || 1n;
}

/** The snapshot made by the operation with this id, if the table has it. */
export function findSnapshotByOperation(metadata: TableMetadata, operationId: string): Snapshot | undefined {
  return metadata.snapshots.find((s) => s.summary[OPERATION_ID_PROPERTY] === operationId);
}

/** Writes the manifest list for `change` on top of `base` and returns the commit plan that adds the snapshot. */
export async function planSnapshot(
  io: FileIO,
  base: Table,
  identity: SnapshotIdentity,
  change: SnapshotChange,
  attempt: number,
  nowMs: number,
): Promise<CommitPlan> {
  const metadata = base.metadata;
  const parent = currentSnapshot(metadata);
  const sequenceNumber = metadata['last-sequence-number'] + 1n;
  const newManifests = change.newManifests.map((m) => ({
    ...m,
    addedSnapshotId: identity.snapshotId,
    sequenceNumber,
    minSequenceNumber: m.minSequenceNumber < 0n ? sequenceNumber : m.minSequenceNumber,
  }));
  const manifestListLocation = `${metadata.location}/metadata/snap-${identity.snapshotId}-${attempt}-${randomUUID()}.avro`;
  const listBytes = writeManifestList([...newManifests, ...change.keptManifests], {
    snapshotId: identity.snapshotId,
    parentSnapshotId: parent?.['snapshot-id'] ?? null,
    sequenceNumber,
  });
  await io.write(manifestListLocation, listBytes);
  const snapshot: Snapshot = {
    'snapshot-id': identity.snapshotId,
    'sequence-number': sequenceNumber,
    'timestamp-ms': Math.max(nowMs, metadata['last-updated-ms']),
    'manifest-list': manifestListLocation,
    summary: summarize(change, parent, identity.operationId),
    'schema-id': currentSchema(metadata)['schema-id'],
  };
  if (parent) snapshot['parent-snapshot-id'] = parent['snapshot-id'];
  return {
    requirements: [
      { type: 'assert-table-uuid', uuid: metadata['table-uuid'] },
      { type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': parent?.['snapshot-id'] ?? null },
    ],
    updates: [
      { action: 'add-snapshot', snapshot },
      { action: 'set-snapshot-ref', 'ref-name': MAIN_BRANCH, type: 'branch', 'snapshot-id': identity.snapshotId },
    ],
    attemptFiles: [manifestListLocation],
  };
}

function summarize(change: SnapshotChange, parent: Snapshot | undefined, operationId: string): SnapshotSummary {
  const summary: Record<string, string> = { ...(change.properties ?? {}) };
  const put = (key: string, value: number | bigint) => {
    if (value !== 0 && value !== 0n) summary[key] = String(value);
  };
  const added = change.addedDeletes ?? NO_DELETES;
  const removed = change.removedDeletes ?? NO_DELETES;
  // Key names as the spec's snapshot summary and the Java implementation write them; file sizes count delete files.
  put('added-data-files', change.added.files);
  put('added-delete-files', added.positionFiles + added.equalityFiles);
  put('added-position-delete-files', added.positionFiles);
  put('added-equality-delete-files', added.equalityFiles);
  put('added-records', change.added.records);
  put('added-position-deletes', added.positionDeletes);
  put('added-equality-deletes', added.equalityDeletes);
  put('added-files-size', change.added.bytes + added.bytes);
  put('deleted-data-files', change.deleted.files);
  put('removed-delete-files', removed.positionFiles + removed.equalityFiles);
  put('removed-position-delete-files', removed.positionFiles);
  put('removed-equality-delete-files', removed.equalityFiles);
  put('deleted-records', change.deleted.records);
  put('removed-position-deletes', removed.positionDeletes);
  put('removed-equality-deletes', removed.equalityDeletes);
  put('removed-files-size', change.deleted.bytes + removed.bytes);
  summary['changed-partition-count'] = String(change.changedPartitions);
  const total = (key: string, delta: bigint) => {
    const before = parent ? parent.summary[key] : '0';
    // Totals are only meaningful when the parent carried them too (tables written by others may not).
    if (before !== undefined && /^\d+$/.test(before)) summary[key] = String(BigInt(before) + delta);
  };
  total('total-records', change.added.records - change.deleted.records);
  total('total-files-size', change.added.bytes + added.bytes - change.deleted.bytes - removed.bytes);
  total('total-data-files', BigInt(change.added.files - change.deleted.files));
  total('total-delete-files', BigInt(added.positionFiles + added.equalityFiles - removed.positionFiles - removed.equalityFiles));
  total('total-position-deletes', added.positionDeletes - removed.positionDeletes);
  total('total-equality-deletes', added.equalityDeletes - removed.equalityDeletes);
  summary[OPERATION_ID_PROPERTY] = operationId;
  return { ...summary, operation: change.operation } as SnapshotSummary;
}
