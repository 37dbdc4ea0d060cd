/**
 * commitTable: every partition's manifest in ONE snapshot that replaces whatever the table held before, so the
 * table mirrors the source as of this run. Keyed by run id: a second call finds the snapshot and returns it.
 * Afterwards, files this run wrote that the snapshot does not reference (from retried or duplicated copies)
 * are removed.
 */
import type { HadoopCatalog } from '../iceberg/catalog/hadoop-catalog';
import { currentSnapshot, snapshotById } from '../iceberg/spec/table-metadata';
import { liveEntries, snapshotManifests } from '../iceberg/transaction/manifest-files';
import { overwrite } from '../iceberg/transaction/table-operations';
import type { CommitTableInput, CommitTableResult } from './contracts';
import { fromManifestRef } from './manifest-ref';

/** Summary property naming the run that produced a snapshot. */
export const RUN_ID_PROPERTY = 'icebridge.run-id';
/** Summary property with the partition checksums, `index:checksum` comma-separated. */
export const CHECKSUMS_PROPERTY = 'icebridge.partition-checksums';
/** Summary property naming the source table. */
export const SOURCE_PROPERTY = 'icebridge.source-table';

/** Operation id of a run's commit to one table. */
export function migrationOperationId(runId: string): string {
  return `migrate:${runId}`;
}

/** File-name prefix of everything one copy partition writes (run id first, so a run's files can be found). */
export function partitionFilePrefix(runId: string, partition: number, attempt: string): string {
  return `${runId}-p${String(partition).padStart(5, '0')}-${attempt}`;
}

/** Commits the partitions' manifests in one snapshot and cleans up this run's unreferenced files. */
export async function commitTable(catalog: HadoopCatalog, input: CommitTableInput): Promise<CommitTableResult> {
  const id = { namespace: input.table.target.namespace, name: input.table.target.name };
  const manifests = input.results.flatMap((r) => (r.manifest ? [fromManifestRef(r.manifest)] : []));
  const result = await overwrite(catalog, id, {
    deleteWhere: () => true,
    manifests,
    operationId: migrationOperationId(input.runId),
    properties: {
      [RUN_ID_PROPERTY]: input.runId,
      [SOURCE_PROPERTY]: `${input.table.source.schema}.${input.table.source.name}`,
      [CHECKSUMS_PROPERTY]: input.results.map((r) => `${r.partition}:${r.checksum.slice(0, 16)}`).join(','),
    },
  });
  const snapshot = snapshotById(result.table.metadata, result.snapshotId) ?? currentSnapshot(result.table.metadata);
  const live = await liveEntries(catalog.io, snapshot);
  await removeUnreferenced(catalog, catalog.tableLocation(id), input.runId, new Set([
    ...live.map((e) => e.entry.dataFile.filePath),
    ...(await snapshotManifests(catalog.io, snapshot)).map((m) => m.manifestPath),
  ]));
  const rows = live.reduce((n, e) => n + Number(e.entry.dataFile.recordCount), 0);
  return { snapshotId: String(result.snapshotId), rows, files: live.length, created: result.created };
}

async function removeUnreferenced(catalog: HadoopCatalog, tableLocation: string, runId: string, referenced: Set<string>): Promise<void> {
  const prefix = `${runId}-p`;
  const doomed: string[] = [];
  for (const folder of ['data/', 'metadata/']) {
    // Incomplete files too: a copy killed mid-write leaves one behind on local disk.
    for await (const file of catalog.io.list(`${tableLocation}/${folder}`, { includeIncomplete: true })) {
      const name = file.location.slice(file.location.lastIndexOf('/') + 1);
      if ((name.startsWith(prefix) || name.startsWith(`.${prefix}`)) && !referenced.has(file.location)) doomed.push(file.location);
    }
  }
  await Promise.all(doomed.map((location) => catalog.io.delete(location)));
}
