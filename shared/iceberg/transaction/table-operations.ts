/**
 * The table operations that produce snapshots: fast append (of data files or of manifests written elsewhere)
 * and overwrite (replace some files with others). Each is one commit, retried on conflict, and recognisable by
 * its operation id so a retry after an unknown outcome never applies it twice.
 */
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../../errors';
import type { Catalog, Table } from '../catalog/catalog';
import type { TableIdentifier } from '../catalog/table-identifier';
import { type DataFile, DataFileContent, ManifestContent, type ManifestEntry, ManifestEntryStatus, type ManifestFile } from '../spec/manifest';
import { type DataFileRef, type DeleteFileEntry, deleteApplies, isUnpartitioned } from '../spec/delete-files';
import { currentSchema, currentSnapshot, specById } from '../spec/table-metadata';
import type { PrimitiveValue } from '../spec/values';
import { type CommitPlan, type CommitWithRetryOptions, commitWithRetry } from './commit-retry';
import { manifestEntries, newManifestLocation, snapshotManifests, writeDataManifest, writeManifestFile } from './manifest-files';
import { type ChangeCounts, deleteCounts, findSnapshotByOperation, newSnapshotId, planSnapshot } from './snapshot-producer';

/** Options shared by snapshot-producing operations. */
export interface SnapshotOperationOptions extends Pick<CommitWithRetryOptions, 'maxAttempts' | 'baseDelayInMs' | 'maxDelayInMs' | 'sleep'> {
  /** Identifies the operation across retries and re-runs; a committed snapshot with this id ends the call. */
  operationId?: string;
  /** Extra snapshot summary properties (e.g. a run id, partition checksums). */
  properties?: Record<string, string>;
  /** Clock; defaults to Date.now. */
  now?: () => number;
}

/** Options of fastAppend. */
export interface FastAppendOptions extends SnapshotOperationOptions {
  /** Data files to add; written into one new manifest. */
  dataFiles?: DataFile[];
  /** Manifests written elsewhere (entries ADDED with inherited ids), added as they are. */
  manifests?: ManifestFile[];
}

/** Result of a snapshot-producing operation. */
export interface SnapshotResult {
  table: Table;
  snapshotId: bigint;
  /** False when the table already had this operation's snapshot (a re-run). */
  created: boolean;
  /** Commit attempts made (1 when there was no conflict, 0 when nothing had to be committed). */
  attempts: number;
}

/** Adds files in one new snapshot without touching existing manifests. */
export async function fastAppend(catalog: Catalog, id: TableIdentifier, options: FastAppendOptions): Promise<SnapshotResult> {
  const prepared = await prepareOperation(catalog, id, options);
  if ('done' in prepared) return prepared.done;
  const { operationId, manifests } = prepared;
  for (const m of manifests) {
    if (m.content !== ManifestContent.Data)
      throw new ValidationError(`manifest ${m.manifestPath} lists delete files; a fast append adds data files (use rowDelta)`);
    if (m.deletedFilesCount > 0 || m.existingFilesCount > 0) {
      throw new ValidationError(`manifest ${m.manifestPath} has existing or deleted entries; a fast append adds only new files`);
    }
  }
  const added: ChangeCounts = {
    files: manifests.reduce((n, m) => n + m.addedFilesCount, 0),
    records: manifests.reduce((n, m) => n + m.addedRowsCount, 0n),
    bytes: 0n,
  };
  // File sizes are not in manifest-list records; read them from the manifests we add (small, once).
  const addedEntries = (await Promise.all(manifests.map((m) => manifestEntries(catalog.io, m)))).flat();
  added.bytes = addedEntries.reduce((n, e) => n + e.dataFile.fileSizeInBytes, 0n);
  const changedPartitions = new Set(addedEntries.map((e) => partitionKey(e))).size;
  const snapshotId = newSnapshotId();
  return commitSnapshotOperation(catalog, id, options, operationId, async (base, attempt) =>
    planSnapshot(
      catalog.io,
      base,
      { snapshotId, operationId },
      {
        operation: 'append',
        newManifests: manifests,
        keptManifests: await snapshotManifests(catalog.io, currentSnapshot(base.metadata)),
        added,
        deleted: { files: 0, records: 0n, bytes: 0n },
        changedPartitions,
        ...(options.properties ? { properties: options.properties } : {}),
      },
      attempt,
      (options.now ?? Date.now)(),
    ),
  );
}

/** Options of overwrite. */
export interface OverwriteOptions extends SnapshotOperationOptions {
  /**
   * Chooses the live data files to remove (evaluated against the snapshot the attempt builds on). Delete files are
   * not chosen: one is removed when no data file that stays is one it applies to (replacing a whole table drops
   * them all), so no deleted row comes back.
   */
  deleteWhere: (file: DataFile) => boolean;
  /** Data files to add in the same snapshot. */
  dataFiles?: DataFile[];
  /** Manifests of new files written elsewhere. */
  manifests?: ManifestFile[];
}

/** Replaces the chosen live files with new ones in one snapshot (operation overwrite, or delete when nothing is added). */
export async function overwrite(catalog: Catalog, id: TableIdentifier, options: OverwriteOptions): Promise<SnapshotResult> {
  const prepared = await prepareOperation(catalog, id, options);
  if ('done' in prepared) return prepared.done;
  const { operationId, manifests: addedManifests } = prepared;
  const addedEntries = (await Promise.all(addedManifests.map((m) => manifestEntries(catalog.io, m)))).flat();
  const snapshotId = newSnapshotId();
  return commitSnapshotOperation(catalog, id, options, operationId, async (base, attempt) => {
    const kept: ManifestFile[] = [];
    const rewritten: ManifestFile[] = [];
    const deleted: ChangeCounts = { files: 0, records: 0n, bytes: 0n };
    const removedDeleteFiles: DataFile[] = [];
    const partitions = new Set(addedEntries.map(partitionKey));
    const manifests = await Promise.all(
      (await snapshotManifests(catalog.io, currentSnapshot(base.metadata))).map(async (manifest) => ({
        manifest,
        live: (await manifestEntries(catalog.io, manifest)).filter((e) => e.status !== ManifestEntryStatus.Deleted),
      })),
    );
    const doomed = new Set<ManifestEntry>();
    const remaining: DataFileRef[] = [];
    for (const { manifest, live } of manifests) {
      if (manifest.content !== ManifestContent.Data) continue;
      for (const e of live) {
        if (options.deleteWhere(e.dataFile)) doomed.add(e);
        else remaining.push({ file: e.dataFile, sequenceNumber: e.sequenceNumber ?? 0n, specId: manifest.partitionSpecId });
      }
    }
    // A delete file goes once no remaining data file is one it applies to (the added ones come later, so none
    // is): dropping it earlier would bring deleted rows back.
    for (const { manifest, live } of manifests) {
      if (manifest.content === ManifestContent.Data) continue;
      const global = isUnpartitioned(specById(base.metadata, manifest.partitionSpecId));
      for (const e of live) {
        const entry: DeleteFileEntry = { file: e.dataFile, sequenceNumber: e.sequenceNumber ?? 0n, specId: manifest.partitionSpecId, global };
        if (!remaining.some((data) => deleteApplies(entry, data))) doomed.add(e);
      }
    }
    for (const { manifest, live } of manifests) {
      if (!live.some((e) => doomed.has(e))) {
        kept.push(manifest);
        continue;
      }
      // Rewritten entries keep their data sequence numbers explicitly: inheritance would re-date them.
      const next: ManifestEntry[] = live.map((e) =>
        doomed.has(e) ? { ...e, status: ManifestEntryStatus.Deleted, snapshotId } : { ...e, status: ManifestEntryStatus.Existing },
      );
      for (const e of live) {
        if (!doomed.has(e)) continue;
        partitions.add(partitionKey(e));
        if (e.dataFile.content !== DataFileContent.Data) {
          removedDeleteFiles.push(e.dataFile);
          continue;
        }
        deleted.files++;
        deleted.records += e.dataFile.recordCount;
        deleted.bytes += e.dataFile.fileSizeInBytes;
      }
      const spec = specById(base.metadata, manifest.partitionSpecId);
      const location = newManifestLocation(base.metadata, `m${attempt}`);
      rewritten.push(await writeManifestFile(catalog.io, currentSchema(base.metadata), spec, next, location, snapshotId));
    }
    const plan = await planSnapshot(
      catalog.io,
      base,
      { snapshotId, operationId },
      {
        operation: addedManifests.length === 0 ? 'delete' : deleted.files === 0 ? 'append' : 'overwrite',
        newManifests: [...addedManifests, ...rewritten],
        keptManifests: kept,
        added: entryFigures(addedEntries),
        deleted,
        removedDeletes: deleteCounts(removedDeleteFiles),
        changedPartitions: partitions.size,
        ...(options.properties ? { properties: options.properties } : {}),
      },
      attempt,
      (options.now ?? Date.now)(),
    );
    plan.attemptFiles = [...(plan.attemptFiles ?? []), ...rewritten.map((m) => m.manifestPath)];
    return plan;
  });
}

/** Files, records and bytes of manifest entries: the figures a snapshot summary adds or removes. */
export function entryFigures(entries: readonly ManifestEntry[]): { files: number; records: bigint; bytes: bigint } {
  return {
    files: entries.length,
    records: entries.reduce((n, e) => n + e.dataFile.recordCount, 0n),
    bytes: entries.reduce((n, e) => n + e.dataFile.fileSizeInBytes, 0n),
  };
}

/** The common end of a snapshot operation: commit the planned snapshot with retry, recognised by its operation id. */
export async function commitSnapshotOperation(
  catalog: Catalog,
  id: TableIdentifier,
  options: SnapshotOperationOptions,
  operationId: string,
  plan: (base: Table, attempt: number) => Promise<CommitPlan>,
): Promise<SnapshotResult> {
  let attempts = 0;
  const table = await commitWithRetry(
    catalog,
    id,
    (base, attempt) => {
      attempts = attempt;
      return plan(base, attempt);
    },
    { ...retryOptions(options), isCommitted: (m) => findSnapshotByOperation(m, operationId) !== undefined },
  );
  return { table, snapshotId: findSnapshotByOperation(table.metadata, operationId)!['snapshot-id'], created: true, attempts };
}

/**
 * The common start of a snapshot operation: its id, the finding that a previous call already committed it, and
 * the manifests it adds (data files given directly are written into one new manifest first).
 */
export async function prepareOperation(
  catalog: Catalog,
  id: TableIdentifier,
  options: SnapshotOperationOptions & { dataFiles?: DataFile[]; manifests?: ManifestFile[] },
): Promise<{ done: SnapshotResult } | { operationId: string; manifests: ManifestFile[] }> {
  const operationId = options.operationId ?? randomUUID();
  const start = await catalog.loadTable(id);
  const existing = findSnapshotByOperation(start.metadata, operationId);
  if (existing) return { done: { table: start, snapshotId: existing['snapshot-id'], created: false, attempts: 0 } };
  const manifests = [...(options.manifests ?? [])];
  if (options.dataFiles && options.dataFiles.length > 0) manifests.push(await writeDataManifest(catalog.io, start.metadata, options.dataFiles));
  return { operationId, manifests };
}

/** The retry settings of an operation's options, without undefined members. */
export function retryOptions(options: SnapshotOperationOptions): Omit<CommitWithRetryOptions, 'isCommitted'> {
  const out: Omit<CommitWithRetryOptions, 'isCommitted'> = {};
  if (options.maxAttempts !== undefined) out.maxAttempts = options.maxAttempts;
  if (options.baseDelayInMs !== undefined) out.baseDelayInMs = options.baseDelayInMs;
  if (options.maxDelayInMs !== undefined) out.maxDelayInMs = options.maxDelayInMs;
  if (options.sleep !== undefined) out.sleep = options.sleep;
  if (options.now !== undefined) out.now = options.now;
  return out;
}

/** A file's partition tuple as a string key (for counting changed partitions). */
export function partitionKey(entry: ManifestEntry): string {
  return `${entry.dataFile.partition.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v as PrimitiveValue))).join('\u0000')}`;
}
