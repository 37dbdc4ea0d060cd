/**
 * What a commit must leave behind, checked from the outside: the table reads through the scan at its current
 * snapshot, and every file under its `metadata/` and `data/` folders is referenced by the table (a metadata
 * version, the version hint, or a manifest list, manifest or data file of one of its snapshots). A file nothing
 * references is an orphan unless the caller names it as deliberately kept.
 */
import type { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import type { TableIdentifier } from '../../../shared/iceberg/catalog/table-identifier';
import { scanToArray } from '../../../shared/iceberg/scan/table-scan';
import type { Row } from '../../../shared/iceberg/spec/values';
import { manifestEntries, snapshotManifests } from '../../../shared/iceberg/transaction/manifest-files';

/** What checkTableIntegrity found. */
export interface TableIntegrity {
  /** Rows the scan read at the current snapshot (empty when it could not read). */
  rows: Row[];
  /** Readable descriptions of everything wrong; empty when the table is whole. */
  problems: string[];
  /** Files under metadata/ and data/ that nothing references, relative to the table location. */
  orphans: string[];
}

/** Options of checkTableIntegrity. */
export interface TableIntegrityOptions {
  /** Unreferenced files (relative to the table location) that the caller expects to remain. */
  keptOrphans?: readonly string[];
}

/** Loads the table, scans it and accounts for every file it owns. */
export async function checkTableIntegrity(catalog: HadoopCatalog, id: TableIdentifier, options: TableIntegrityOptions = {}): Promise<TableIntegrity> {
  const io = catalog.io;
  const table = await catalog.loadTable(id);
  const location = table.metadata.location.replace(/\/+$/, '');
  const relative = (file: string): string => decodeURI(file.startsWith(`${location}/`) ? file.slice(location.length + 1) : file);
  const problems: string[] = [];
  let rows: Row[] = [];
  try {
    rows = await scanToArray(io, table.metadata);
  } catch (error) {
    problems.push(`the current snapshot cannot be scanned: ${(error as Error).message}`);
  }

  const referenced = new Set<string>(['metadata/version-hint.text']);
  for (let v = 1; v <= table.version; v++) referenced.add(`metadata/v${v}.metadata.json`);
  for (const snapshot of table.metadata.snapshots) {
    referenced.add(relative(snapshot['manifest-list']));
    let manifests;
    try {
      manifests = await snapshotManifests(io, snapshot);
    } catch (error) {
      problems.push(`snapshot ${snapshot['snapshot-id']}: manifest list unreadable: ${(error as Error).message}`);
      continue;
    }
    for (const manifest of manifests) {
      referenced.add(relative(manifest.manifestPath));
      try {
        for (const entry of await manifestEntries(io, manifest)) referenced.add(relative(entry.dataFile.filePath));
      } catch (error) {
        problems.push(`snapshot ${snapshot['snapshot-id']}: manifest ${relative(manifest.manifestPath)} unreadable: ${(error as Error).message}`);
      }
    }
  }

  const present = new Set<string>();
  for (const folder of ['metadata', 'data']) {
    for await (const file of io.list(`${location}/${folder}/`)) present.add(relative(file.location));
  }
  const kept = new Set(options.keptOrphans ?? []);
  const orphans = [...present].filter((file) => !referenced.has(file)).sort();
  for (const orphan of orphans) if (!kept.has(orphan)) problems.push(`orphaned file: ${orphan}`);
  for (const file of kept) if (!present.has(file)) problems.push(`expected to be kept but gone: ${file}`);
  for (const file of [...referenced].sort()) {
    // A hint is optional; everything else the table names must exist.
    if (file !== 'metadata/version-hint.text' && !present.has(file)) problems.push(`referenced but missing: ${file}`);
  }
  return { rows, problems, orphans };
}
