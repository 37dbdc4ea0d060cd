/**
 * Rewrite files (Java's RewriteFiles): ONE `replace` snapshot that removes data files and the delete files that
 * applied only to them, and adds data files holding the same live rows. The rows do not change, so the commit must
 * refuse whatever would make them change: a rewritten file that a concurrent commit removed (its rows would come
 * back) or a delete file committed meanwhile against a rewritten file (the rows it deletes live on in the new
 * files, unseen by it). That is Java's `validateNoNewDeletesForDataFiles` and its check of the files to delete.
 */
import { IcebridgeError } from '../../errors';
import type { Catalog } from '../catalog/catalog';
import type { TableIdentifier } from '../catalog/table-identifier';
import type { FileIO } from '../io/file-io';
import { DeleteLoader } from '../scan/delete-filter';
import { type DataFileRef, type DeleteFileEntry, POSITION_DELETE_SCHEMA, deleteApplies, isUnpartitioned } from '../spec/delete-files';
import { type DataFile, DataFileContent, ManifestContent, type ManifestEntry, ManifestEntryStatus, type ManifestFile } from '../spec/manifest';
import type { Snapshot } from '../spec/snapshot';
import { type TableMetadata, currentSchema, currentSnapshot, snapshotById, specById } from '../spec/table-metadata';
import { manifestEntries, newManifestLocation, snapshotManifests, writeManifestFile } from '../transaction/manifest-files';
import { type ChangeCounts, deleteCounts, newSnapshotId, planSnapshot } from '../transaction/snapshot-producer';
import {
  type SnapshotOperationOptions,
  type SnapshotResult,
  commitSnapshotOperation,
  entryFigures,
  partitionKey,
  prepareOperation,
} from '../transaction/table-operations';

/** A concurrent commit changed what a rewrite read: committing it would lose or resurrect rows. Plan again. */
export class RewriteConflictError extends IcebridgeError {
  constructor(message: string) {
    super('REWRITE_CONFLICT', message, { retryable: true });
  }
}

/** Options of rewriteFiles. */
export interface RewriteFilesOptions extends SnapshotOperationOptions {
  /** The snapshot the rewrite read its rows from. */
  startingSnapshotId: bigint;
  /** Paths of the data files rewritten; each must still be live when the commit is made. */
  rewrittenDataFiles: ReadonlySet<string>;
  /** Paths of the delete files that were live in the starting snapshot (applied while reading). */
  startingDeleteFiles: ReadonlySet<string>;
  /** The new data files, holding exactly the live rows of the rewritten ones. */
  dataFiles: DataFile[];
  /**
   * Summary properties taken from the snapshot the commit builds on (or its nearest ancestor that has them), so a
   * reader of the current snapshot still finds them; read at each attempt, never from the starting snapshot.
   */
  carriedProperties?: readonly string[];
}

/** Commits a rewrite as one `replace` snapshot, validated against every commit made since the starting snapshot. */
export async function rewriteFiles(catalog: Catalog, id: TableIdentifier, options: RewriteFilesOptions): Promise<SnapshotResult> {
  const prepared = await prepareOperation(catalog, id, options);
  if ('done' in prepared) return prepared.done;
  const { operationId, manifests: addedManifests } = prepared;
  const addedEntries = (await Promise.all(addedManifests.map((m) => manifestEntries(catalog.io, m)))).flat();
  const snapshotId = newSnapshotId();
  // One loader for every attempt: a delete file is read once however often the commit is planned.
  const loader = new DeleteLoader(catalog.io, POSITION_DELETE_SCHEMA);
  return commitSnapshotOperation(catalog, id, options, operationId, async (base, attempt) => {
    const parent = currentSnapshot(base.metadata);
    if (!isAncestor(base.metadata, parent, options.startingSnapshotId)) {
      throw new RewriteConflictError(
        `snapshot ${options.startingSnapshotId}, which the rewrite read, is no longer in the table's history (a rollback?): its rows may not be the table's`,
      );
    }
    const manifests = await liveManifests(catalog.io, parent);
    const dataRefs: Array<DataFileRef & { entry: ManifestEntry }> = [];
    const deletes: Array<DeleteFileEntry & { entry: ManifestEntry }> = [];
    for (const { manifest, live } of manifests) {
      const global = isUnpartitioned(specById(base.metadata, manifest.partitionSpecId));
      for (const entry of live) {
        const ref = { file: entry.dataFile, sequenceNumber: entry.sequenceNumber ?? 0n, specId: manifest.partitionSpecId, entry };
        if (manifest.content === ManifestContent.Data) dataRefs.push(ref);
        else deletes.push({ ...ref, global });
      }
    }
    const livePaths = new Set(dataRefs.map((d) => d.file.filePath));
    const missing = [...options.rewrittenDataFiles].filter((path) => !livePaths.has(path));
    if (missing.length > 0) {
      throw new RewriteConflictError(
        `${missing.length} rewritten data file(s) were removed by a concurrent commit (e.g. ${missing[0]}): adding their rows again would resurrect them`,
      );
    }
    const rewritten = dataRefs.filter((d) => options.rewrittenDataFiles.has(d.file.filePath));
    const remaining = dataRefs.filter((d) => !options.rewrittenDataFiles.has(d.file.filePath));
    for (const d of deletes) {
      if (options.startingDeleteFiles.has(d.file.filePath)) continue;
      const hit = await firstAffected(loader, d, rewritten);
      if (hit) {
        throw new RewriteConflictError(
          `a delete file committed after the rewrite read the table (${d.file.filePath}) deletes rows of rewritten data file ${hit}: the new files would keep those rows`,
        );
      }
    }
    // A delete file read by the rewrite goes once it deletes nothing in a data file that stays; files added since
    // come later than it, so it cannot apply to them.
    const doomed = new Set<ManifestEntry>(rewritten.map((d) => d.entry));
    const removedDeleteFiles: DataFile[] = [];
    for (const d of deletes) {
      if (!options.startingDeleteFiles.has(d.file.filePath)) continue;
      if ((await firstAffected(loader, d, remaining)) === undefined) {
        doomed.add(d.entry);
        removedDeleteFiles.push(d.file);
      }
    }
    const partitions = new Set(addedEntries.map(partitionKey));
    const deleted: ChangeCounts = { files: 0, records: 0n, bytes: 0n };
    for (const d of rewritten) {
      partitions.add(partitionKey(d.entry));
      deleted.files++;
      deleted.records += d.file.recordCount;
      deleted.bytes += d.file.fileSizeInBytes;
    }
    const kept: ManifestFile[] = [];
    const changed: ManifestFile[] = [];
    for (const { manifest, live } of manifests) {
      if (!live.some((e) => doomed.has(e))) {
        kept.push(manifest);
        continue;
      }
      // Entries that stay keep their data sequence numbers explicitly: inheritance would re-date them.
      const next = live.map((e) =>
        doomed.has(e) ? { ...e, status: ManifestEntryStatus.Deleted, snapshotId } : { ...e, status: ManifestEntryStatus.Existing },
      );
      const spec = specById(base.metadata, manifest.partitionSpecId);
      changed.push(
        await writeManifestFile(catalog.io, currentSchema(base.metadata), spec, next, newManifestLocation(base.metadata, `r${attempt}`), snapshotId),
      );
    }
    const plan = await planSnapshot(
      catalog.io,
      base,
      { snapshotId, operationId },
      {
        operation: 'replace',
        newManifests: [...addedManifests, ...changed],
        keptManifests: kept,
        added: entryFigures(addedEntries),
        deleted,
        removedDeletes: deleteCounts(removedDeleteFiles),
        changedPartitions: partitions.size,
        properties: { ...carried(base.metadata, options.carriedProperties ?? []), ...(options.properties ?? {}) },
      },
      attempt,
      (options.now ?? Date.now)(),
    );
    plan.attemptFiles = [...(plan.attemptFiles ?? []), ...changed.map((m) => m.manifestPath)];
    return plan;
  });
}

/** The snapshot's manifests with their live entries. */
async function liveManifests(io: FileIO, snapshot: Snapshot | undefined): Promise<Array<{ manifest: ManifestFile; live: ManifestEntry[] }>> {
  return Promise.all(
    (await snapshotManifests(io, snapshot)).map(async (manifest) => ({
      manifest,
      live: (await manifestEntries(io, manifest)).filter((e) => e.status !== ManifestEntryStatus.Deleted),
    })),
  );
}

/**
 * The first data file of `files` whose rows the delete file deletes, if any. By the spec's rules first (sequence
 * numbers, partition, referenced file); then a position delete counts only if it names a position in that file,
 * since position deletes match by path and a file that merely could be named is not touched.
 */
async function firstAffected(loader: DeleteLoader, deletion: DeleteFileEntry, files: readonly DataFileRef[]): Promise<string | undefined> {
  for (const data of files) {
    if (!deleteApplies(deletion, data)) continue;
    if (deletion.file.content !== DataFileContent.PositionDeletes) return data.file.filePath;
    if ((await loader.deletedPositions(data.file.filePath, [deletion])).size > 0) return data.file.filePath;
  }
  return undefined;
}

/** Whether `snapshotId` is `snapshot` or one of its ancestors. */
function isAncestor(metadata: TableMetadata, snapshot: Snapshot | undefined, snapshotId: bigint): boolean {
  const seen = new Set<bigint>();
  for (let s = snapshot; s !== undefined && !seen.has(s['snapshot-id']);) {
    if (s['snapshot-id'] === snapshotId) return true;
    seen.add(s['snapshot-id']);
    const parent = s['parent-snapshot-id'];
    s = parent === undefined ? undefined : snapshotById(metadata, parent);
  }
  return false;
}

/** The values of `keys` in the current snapshot's summary, or its nearest ancestor's that has each. */
function carried(metadata: TableMetadata, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const seen = new Set<bigint>();
    for (let s = currentSnapshot(metadata); s !== undefined && !seen.has(s['snapshot-id']);) {
      const value = s.summary[key];
      if (value !== undefined) {
        out[key] = value;
        break;
      }
      seen.add(s['snapshot-id']);
      const parent = s['parent-snapshot-id'];
      s = parent === undefined ? undefined : snapshotById(metadata, parent);
    }
  }
  return out;
}
