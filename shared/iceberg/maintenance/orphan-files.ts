/**
 * Orphan files: data files (`.parquet`) and manifests or manifest lists (`.avro`) under a table's location that no
 * snapshot of its current metadata references, left by commits that failed or were abandoned. Only files older
 * than a cutoff go: a commit in flight writes its files before the metadata that references them exists, so a
 * young unreferenced file may be about to become live. A migration copying for longer than the window leaves
 * receipts (`metadata/receipts/<runId>.<execution>.p<n>.json`) until it commits: files of an execution that has
 * receipts are kept whatever their age. Metadata files (`*.metadata.json`, `version-hint.text`) and anything else
 * are never touched here, and a file whose store gives no modification time is kept.
 */
import type { Catalog, Table } from '../catalog/catalog';
import type { TableIdentifier } from '../catalog/table-identifier';
import { ManifestEntryStatus } from '../spec/manifest';
import { manifestEntries, snapshotManifests } from '../transaction/manifest-files';

/** Options of removeOrphanFiles. */
export interface RemoveOrphanFilesOptions {
  /** Only files last written before this time (ms since 1970) may be removed. */
  olderThanMs: number;
  /** List what would be removed, remove nothing. */
  dryRun?: boolean;
}

/** What removeOrphanFiles found. */
export interface OrphanFilesResult {
  /** Unreferenced files old enough: removed, or with dryRun what would be. */
  removed: string[];
  /** Unreferenced files kept because they are younger than the cutoff (or their age is unknown). */
  young: number;
  /** Unreferenced files kept because the migration that wrote them has not committed yet (its receipts are there). */
  uncommitted: number;
  bytes: number;
}

const CANDIDATE = /\.(parquet|avro)$/;
/** A receipt's name: `<runId>.<execution>.p<n>.json`, the first two parts being the prefix of the execution's files. */
const RECEIPT = /\/metadata\/receipts\/([^/.]+\.[0-9a-f]{16}\.)[^/]*$/;

/** The same place whether written `file:///x` or `/x`. */
function normal(location: string): string {
  return location.replace(/^file:\/\//, '');
}

/**
 * Every file the table's snapshots reference: manifest lists, manifests, and data and delete files in any state
 * (with `liveOnly`, only those a snapshot reads: not the entries that record a file's removal).
 */
export async function referencedFiles(catalog: Catalog, table: Table, options: { liveOnly?: boolean } = {}): Promise<Set<string>> {
  const files = new Set<string>();
  const seen = new Set<string>();
  for (const snapshot of table.metadata.snapshots) {
    files.add(normal(snapshot['manifest-list']));
    for (const manifest of await snapshotManifests(catalog.io, snapshot)) {
      files.add(normal(manifest.manifestPath));
      if (seen.has(manifest.manifestPath)) continue;
      seen.add(manifest.manifestPath);
      for (const entry of await manifestEntries(catalog.io, manifest))
        if (options.liveOnly !== true || entry.status !== ManifestEntryStatus.Deleted) files.add(normal(entry.dataFile.filePath));
    }
  }
  return files;
}

/**
 * Removes the table's orphan files older than `olderThanMs`. The references are read after the listing, so a
 * file committed between the two is seen as referenced.
 */
export async function removeOrphanFiles(catalog: Catalog, id: TableIdentifier, options: RemoveOrphanFilesOptions): Promise<OrphanFilesResult> {
  const location = (await catalog.loadTable(id)).metadata.location.replace(/\/+$/, '');
  const listed = [];
  const executions = new Set<string>();
  for await (const file of catalog.io.list(`${location}/`)) {
    const receipt = RECEIPT.exec(file.location);
    if (receipt !== null) executions.add(receipt[1]!);
    else if (CANDIDATE.test(file.location)) listed.push(file);
  }
  const referenced = await referencedFiles(catalog, await catalog.loadTable(id));
  const result: OrphanFilesResult = { removed: [], young: 0, uncommitted: 0, bytes: 0 };
  for (const file of listed) {
    if (referenced.has(normal(file.location))) continue;
    const name = file.location.slice(file.location.lastIndexOf('/') + 1);
    if ([...executions].some((prefix) => name.startsWith(prefix))) {
      result.uncommitted++;
      continue;
    }
    if (file.lastModifiedMs === undefined || file.lastModifiedMs >= options.olderThanMs) {
      result.young++;
      continue;
    }
    result.removed.push(file.location);
    result.bytes += file.size;
  }
  if (!options.dryRun) for (const file of result.removed) await catalog.io.delete(file);
  result.removed.sort();
  return result;
}
