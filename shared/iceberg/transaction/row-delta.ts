/**
 * Row delta (Java's RowDelta): data files and row-level delete files added in ONE snapshot, so a reader sees a
 * micro-batch of changes (deletes plus the rows that replace them) entirely or not at all. Existing manifests are
 * kept as they are; the new files' sequence numbers are inherited from the snapshot, which is what makes a delete
 * apply to older rows and not to the rows added beside it (see spec/delete-files.ts).
 */
import { type IcebridgeErrorOptions, ValidationError } from '../../errors';
import type { Catalog } from '../catalog/catalog';
import type { TableIdentifier } from '../catalog/table-identifier';
import { type DataFile, DataFileContent, type ManifestFile } from '../spec/manifest';
import type { SnapshotOperation } from '../spec/snapshot';
import { currentSnapshot } from '../spec/table-metadata';
import { liveFiles, manifestEntries, snapshotManifests, writeDeleteManifest } from './manifest-files';
import { type SnapshotOperationOptions, type SnapshotResult, commitSnapshotOperation, partitionKey, prepareOperation } from './table-operations';
import { deleteCounts, newSnapshotId, planSnapshot } from './snapshot-producer';

/**
 * A row delta's position deletes point into data files that are no longer live (Java's validateDataFilesExist):
 * a concurrent rewrite moved their rows elsewhere, so the deletes would miss them. Plan the deletes again.
 */
export class MissingDataFilesError extends ValidationError {
  constructor(message: string, options: IcebridgeErrorOptions = {}) {
    // Retryable: a writer whose positions point into files rewritten meanwhile reads the table again and succeeds.
    super(message, { retryable: true, ...options });
  }
}

/** Options of rowDelta. */
export interface RowDeltaOptions extends SnapshotOperationOptions {
  /** Data files to add (written into one new data manifest). */
  dataFiles?: DataFile[];
  /** Position and equality delete files to add (written into one new delete manifest). */
  deleteFiles?: DataFile[];
  /** Partition spec the delete files were written with; the table's default spec when absent. */
  deleteSpecId?: number;
  /**
   * Data files the position deletes point into. Each must still be live in the snapshot the commit builds on:
   * if a concurrent commit removed one, its rows may live on in another file and the delete would miss them, so
   * the row delta fails instead of committing. Files named by a delete file's referencedDataFile are checked too.
   */
  referencedDataFiles?: string[];
}

/** Adds data files and delete files in one snapshot: operation append, delete (deletes only) or overwrite (both). */
export async function rowDelta(catalog: Catalog, id: TableIdentifier, options: RowDeltaOptions): Promise<SnapshotResult> {
  const deleteFiles = options.deleteFiles ?? [];
  if (deleteFiles.length === 0 && (options.dataFiles ?? []).length === 0) throw new ValidationError('a row delta needs data files or delete files');
  for (const file of deleteFiles) {
    if (file.content === DataFileContent.Data) throw new ValidationError(`${file.filePath} is a data file; pass it in dataFiles`);
  }
  for (const file of options.dataFiles ?? []) {
    if (file.content !== DataFileContent.Data) throw new ValidationError(`${file.filePath} is a delete file; pass it in deleteFiles`);
  }
  const prepared = await prepareOperation(catalog, id, { ...options, manifests: [] });
  if ('done' in prepared) return prepared.done;
  const { operationId, manifests: dataManifests } = prepared;
  const start = await catalog.loadTable(id);
  const deleteManifests: ManifestFile[] =
    deleteFiles.length === 0
      ? []
      : [await writeDeleteManifest(catalog.io, start.metadata, deleteFiles, options.deleteSpecId === undefined ? {} : { specId: options.deleteSpecId })];
  const dataEntries = (await Promise.all(dataManifests.map((m) => manifestEntries(catalog.io, m)))).flat();
  const deleteEntries = (await Promise.all(deleteManifests.map((m) => manifestEntries(catalog.io, m)))).flat();
  const referenced = new Set(options.referencedDataFiles ?? []);
  for (const file of deleteFiles) if (file.referencedDataFile !== undefined) referenced.add(file.referencedDataFile);
  const operation: SnapshotOperation = deleteFiles.length === 0 ? 'append' : dataEntries.length === 0 ? 'delete' : 'overwrite';
  const snapshotId = newSnapshotId();
  return commitSnapshotOperation(catalog, id, options, operationId, async (base, attempt) => {
    const parent = currentSnapshot(base.metadata);
    if (referenced.size > 0) {
      const live = new Set([...(await liveFiles(catalog.io, parent)).data, ...dataEntries.map((entry) => ({ entry }))].map((e) => e.entry.dataFile.filePath));
      const gone = [...referenced].filter((path) => !live.has(path));
      if (gone.length > 0) {
        throw new MissingDataFilesError(
          `the deletes point into ${gone.length} data file(s) that are not live in the table (e.g. ${gone[0]}): a concurrent commit replaced them, or the path is wrong; the deletes must be planned again`,
        );
      }
    }
    return planSnapshot(
      catalog.io,
      base,
      { snapshotId, operationId },
      {
        operation,
        newManifests: [...dataManifests, ...deleteManifests],
        keptManifests: await snapshotManifests(catalog.io, parent),
        added: {
          files: dataEntries.length,
          records: dataEntries.reduce((n, e) => n + e.dataFile.recordCount, 0n),
          bytes: dataEntries.reduce((n, e) => n + e.dataFile.fileSizeInBytes, 0n),
        },
        deleted: { files: 0, records: 0n, bytes: 0n },
        addedDeletes: deleteCounts(deleteFiles),
        changedPartitions: new Set([...dataEntries, ...deleteEntries].map(partitionKey)).size,
        ...(options.properties ? { properties: options.properties } : {}),
      },
      attempt,
      (options.now ?? Date.now)(),
    );
  });
}
