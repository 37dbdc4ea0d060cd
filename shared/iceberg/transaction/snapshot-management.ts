/** Moving the current snapshot (rollback, set current) and expiring old snapshots with their unreachable files. */
import { ValidationError } from '../../errors';
import type { Catalog, Table } from '../catalog/catalog';
import type { TableIdentifier } from '../catalog/table-identifier';
import { MAIN_BRANCH } from '../spec/snapshot';
import { ancestorsOf, snapshotById } from '../spec/table-metadata';
import { commitWithRetry } from './commit-retry';
import { manifestEntries, snapshotManifests } from './manifest-files';
import { ManifestEntryStatus } from '../spec/manifest';
import { type SnapshotOperationOptions, retryOptions } from './table-operations';

/** Options of rollbackTo. */
export interface RollbackOptions extends SnapshotOperationOptions {
  /** Table properties set in the same commit (e.g. a mark that keeps change capture off the rolled-back table). */
  tableProperties?: Record<string, string>;
}

/** Makes an ancestor of the current snapshot current again; data written after it stays in storage. */
export async function rollbackTo(catalog: Catalog, id: TableIdentifier, snapshotId: bigint, options: RollbackOptions = {}): Promise<Table> {
  return moveMain(catalog, id, snapshotId, true, options);
}

/** Makes any existing snapshot current (also one that is not an ancestor, e.g. to undo a rollback). */
export async function setCurrentSnapshot(catalog: Catalog, id: TableIdentifier, snapshotId: bigint, options: SnapshotOperationOptions = {}): Promise<Table> {
  return moveMain(catalog, id, snapshotId, false, options);
}

async function moveMain(catalog: Catalog, id: TableIdentifier, snapshotId: bigint, ancestorOnly: boolean, options: RollbackOptions): Promise<Table> {
  const properties = options.tableProperties ?? {};
  const hasProperties = Object.keys(properties).length > 0;
  return commitWithRetry(
    catalog,
    id,
    (base) => {
      if (!snapshotById(base.metadata, snapshotId)) throw new ValidationError(`snapshot ${snapshotId} does not exist`);
      const current = base.metadata['current-snapshot-id'];
      if (ancestorOnly && !ancestorsOf(base.metadata, current).some((s) => s['snapshot-id'] === snapshotId)) {
        throw new ValidationError(`snapshot ${snapshotId} is not an ancestor of the current snapshot ${String(current)}`);
      }
      return {
        requirements: [
          { type: 'assert-table-uuid', uuid: base.metadata['table-uuid'] },
          { type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': current ?? null },
        ],
        updates: [
          { action: 'set-snapshot-ref', 'ref-name': MAIN_BRANCH, type: 'branch', 'snapshot-id': snapshotId },
          // One commit: a reader never sees the moved table without its properties.
          ...(hasProperties ? [{ action: 'set-properties' as const, updates: properties }] : []),
        ],
      };
    },
    {
      ...retryOptions(options),
      isCommitted: (m) => m['current-snapshot-id'] === snapshotId && Object.entries(properties).every(([k, v]) => m.properties[k] === v),
    },
  );
}

/** Options of expireSnapshots. */
export interface ExpireSnapshotsOptions extends SnapshotOperationOptions {
  /** Expire snapshots created before this time. */
  olderThanMs?: number;
  /** Expire exactly these snapshots (they must not be current or referenced). */
  snapshotIds?: bigint[];
  /** Always keep this many most recent ancestors of the current snapshot (default 1). */
  retainLast?: number;
}

/** Result of expireSnapshots. */
export interface ExpireSnapshotsResult {
  table: Table;
  expiredSnapshotIds: bigint[];
  deletedFiles: string[];
}

/**
 * Removes old snapshots from the metadata, then deletes the manifest lists, manifests and data files that no
 * remaining snapshot references. Files are deleted only after the commit is known to have landed.
 */
export async function expireSnapshots(catalog: Catalog, id: TableIdentifier, options: ExpireSnapshotsOptions): Promise<ExpireSnapshotsResult> {
  const before = await catalog.loadTable(id);
  const retain = new Set(
    ancestorsOf(before.metadata, before.metadata['current-snapshot-id'])
      .slice(0, options.retainLast ?? 1)
      .map((s) => s['snapshot-id']),
  );
  for (const ref of Object.values(before.metadata.refs)) retain.add(ref['snapshot-id']);
  const explicit = options.snapshotIds ? new Set(options.snapshotIds) : undefined;
  for (const sid of explicit ?? []) {
    if (retain.has(sid)) throw new ValidationError(`snapshot ${sid} is current or referenced and cannot be expired`);
  }
  const expired = before.metadata.snapshots
    .filter((s) => !retain.has(s['snapshot-id']))
    .filter((s) => (explicit ? explicit.has(s['snapshot-id']) : options.olderThanMs !== undefined && s['timestamp-ms'] < options.olderThanMs))
    .map((s) => s['snapshot-id']);
  if (expired.length === 0) return { table: before, expiredSnapshotIds: [], deletedFiles: [] };
  const expiredSet = new Set(expired);
  const table = await commitWithRetry(
    catalog,
    id,
    (base) => {
      const present = expired.filter((sid) => snapshotById(base.metadata, sid));
      if (present.length === 0) return { alreadyCommitted: true };
      return {
        requirements: [{ type: 'assert-table-uuid', uuid: base.metadata['table-uuid'] }],
        updates: [{ action: 'remove-snapshots', 'snapshot-ids': present }],
      };
    },
    { ...retryOptions(options), isCommitted: (m) => expired.every((sid) => !snapshotById(m, sid)) },
  );
  const reachable = await referencedFiles(catalog, table, (s) => snapshotById(table.metadata, s) !== undefined, true);
  const candidates = await referencedFiles(catalog, before, (s) => expiredSet.has(s), false);
  const doomed = [...candidates].filter((file) => !reachable.has(file));
  await Promise.all(doomed.map((file) => catalog.io.delete(file)));
  return { table, expiredSnapshotIds: expired, deletedFiles: doomed.sort() };
}

async function referencedFiles(catalog: Catalog, table: Table, include: (snapshotId: bigint) => boolean, liveOnly: boolean): Promise<Set<string>> {
  const files = new Set<string>();
  const seenManifests = new Set<string>();
  for (const snapshot of table.metadata.snapshots) {
    if (!include(snapshot['snapshot-id'])) continue;
    files.add(snapshot['manifest-list']);
    for (const manifest of await snapshotManifests(catalog.io, snapshot)) {
      files.add(manifest.manifestPath);
      if (seenManifests.has(manifest.manifestPath)) continue;
      seenManifests.add(manifest.manifestPath);
      for (const entry of await manifestEntries(catalog.io, manifest)) {
        if (!liveOnly || entry.status !== ManifestEntryStatus.Deleted) files.add(entry.dataFile.filePath);
      }
    }
  }
  return files;
}
