/**
 * commitTable: every partition's manifest, read from the receipts the copies left, in ONE snapshot that replaces
 * whatever the table held before, so the table mirrors the source as of this run. Keyed by run id and
 * execution: a second call finds the snapshot and returns it. Afterwards, files of this execution that the
 * snapshot does not reference (retried or duplicated copies, the receipts) are removed, and so are the files of the
 * executions the table gave up (its snapshot was lost); nothing of another run or of any other execution of the
 * same run id is ever touched.
 */
import { CDC_LSN_PROPERTY } from '../cdc/lsn';
import type { Catalog } from '../iceberg/catalog/catalog';
import { snapshotById } from '../iceberg/spec/table-metadata';
import { liveEntries, snapshotManifests } from '../iceberg/transaction/manifest-files';
import { findSnapshotByOperation } from '../iceberg/transaction/snapshot-producer';
import { overwrite } from '../iceberg/transaction/table-operations';
import type { CommitTableInput, CommitTableResult } from './contracts';
import { fromManifestRef } from './manifest-ref';
import { executionPrefix, readReceipts } from './partition-receipts';
import { assertNotCancelled } from './cancellation';
import { mapBounded } from '../concurrency';

/** Summary property naming the run that produced a snapshot. */
export const RUN_ID_PROPERTY = 'icebridge.run-id';
/** Summary property with the partition checksums, `index:checksum` comma-separated. */
export const CHECKSUMS_PROPERTY = 'icebridge.partition-checksums';
/** Summary property naming the source table. */
export const SOURCE_PROPERTY = 'icebridge.source-table';

/** Files deleted at once by the cleanup after a commit. */
const DELETE_CONCURRENCY = 32;

/** Operation id of one execution of a run's commit to one table. */
export function migrationOperationId(runId: string, execution: string): string {
  return `migrate:${runId}:${execution}`;
}

/** Commits the partitions' manifests in one snapshot and cleans up this execution's unreferenced files. */
export async function commitTable(catalog: Catalog, input: CommitTableInput): Promise<CommitTableResult> {
  const id = { namespace: input.table.target.namespace, name: input.table.target.name };
  const operationId = migrationOperationId(input.runId, input.execution);
  const loaded = await catalog.loadTable(id);
  const location = loaded.metadata.location;
  let snapshot = findSnapshotByOperation(loaded.metadata, operationId);
  let created = false;
  if (!snapshot) {
    // A cancelled run commits nothing more: a table whose copies finished just before the cancel stays as it was.
    await assertNotCancelled(catalog, input.runId);
    // Only before the commit: once it stands, the receipts may already have been cleaned up.
    const receipts = await readReceipts(catalog.io, location, input.runId, input.execution, input.partitions);
    const result = await overwrite(catalog, id, {
      deleteWhere: () => true,
      manifests: receipts.flatMap((r) => (r.manifest ? [fromManifestRef(r.manifest)] : [])),
      operationId,
      properties: {
        [RUN_ID_PROPERTY]: input.runId,
        [SOURCE_PROPERTY]: `${input.table.source.schema}.${input.table.source.name}`,
        [CHECKSUMS_PROPERTY]: receipts.map((r) => `${r.partition}:${r.checksum.slice(0, 16)}`).join(','),
        // The change stream's applier applies only transactions ending after this point.
        ...(input.table.sourceSnapshot?.cdc ? { [CDC_LSN_PROPERTY]: input.table.sourceSnapshot.cdc.lsn } : {}),
      },
    });
    snapshot = snapshotById(result.table.metadata, result.snapshotId);
    created = result.created;
  }
  if (!snapshot) throw new Error(`the snapshot of ${operationId} is not in the table after its commit`);
  const live = await liveEntries(catalog.io, snapshot);
  const referenced = new Set([...live.map((e) => e.entry.dataFile.filePath), ...(await snapshotManifests(catalog.io, snapshot)).map((m) => m.manifestPath)]);
  // Executions given up for a lost snapshot belong to this run and table too; nothing of theirs is referenced.
  for (const execution of [input.execution, ...(input.abandoned ?? [])]) {
    await removeUnreferenced(catalog, location, executionPrefix(input.runId, execution), referenced);
  }
  const rows = live.reduce((n, e) => n + Number(e.entry.dataFile.recordCount), 0);
  return { snapshotId: String(snapshot['snapshot-id']), rows, files: live.length, created };
}

/** Deletes files named with `prefix` (one execution's) that the snapshot does not reference. */
async function removeUnreferenced(catalog: Catalog, tableLocation: string, prefix: string, referenced: Set<string>): Promise<void> {
  const doomed: string[] = [];
  for (const folder of ['data/', 'metadata/']) {
    // Incomplete files too: a copy killed mid-write leaves one behind on local disk.
    for await (const file of catalog.io.list(`${tableLocation}/${folder}`, { includeIncomplete: true })) {
      const name = file.location.slice(file.location.lastIndexOf('/') + 1);
      if ((name.startsWith(prefix) || name.startsWith(`.${prefix}`)) && !referenced.has(file.location)) doomed.push(file.location);
    }
  }
  // A bounded number at once: the receipts alone are one file per partition, 16,384 for a 1 TiB table.
  await mapBounded(doomed, DELETE_CONCURRENCY, (location) => catalog.io.delete(location));
}
