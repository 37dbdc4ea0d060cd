/**
 * What changed in an Iceberg table between two of its snapshots, by key: the rows to write (live at the later
 * snapshot in data files the earlier one did not have) and the keys to delete (live at the earlier snapshot in a
 * data file that was removed since, or that a delete file added since applies to, and live at the later snapshot
 * neither in a new file nor still in that one). Read
 * from the manifests and the files, so it covers row deltas, overwrites (TRUNCATE) and compactions alike; a
 * compaction shows up as its rows written again with the values they had. Keys are unique at every snapshot of a
 * keyed table, which is what makes "touched and not written again" mean deleted.
 */
import { ValidationError } from '../errors';
import type { FileIO } from '../iceberg/io/file-io';
import { type ScanPlan, planScan, readScan } from '../iceberg/scan/table-scan';
import { type TableMetadata, ancestorsOf, currentSnapshot } from '../iceberg/spec/table-metadata';
import type { Row, Value } from '../iceberg/spec/values';
import { renderForComparison } from '../postgres/text-rendering';
import { type RecordRow, type TableShape, keyNames, toRecord } from '../router/table-shape';

/** The changes of one table between two snapshots. */
export interface SnapshotChanges {
  /** The earlier snapshot (undefined: the table's beginning) and the later one. */
  from: bigint | undefined;
  to: bigint | undefined;
  /** Rows to insert or update, by key. */
  upserts: RecordRow[];
  /** Keys (values in key order) to delete. */
  deletes: Value[][];
}

/** Reads the changes of the table between `from` (an ancestor of `to`, or undefined) and `to` (default: current). */
export async function snapshotChanges(io: FileIO, metadata: TableMetadata, shape: TableShape, from: bigint | undefined, to?: bigint): Promise<SnapshotChanges> {
  const target = to ?? currentSnapshot(metadata)?.['snapshot-id'];
  if (target === undefined) return { from, to: undefined, upserts: [], deletes: [] };
  if (from !== undefined && !ancestorsOf(metadata, target).some((s) => s['snapshot-id'] === from)) {
    throw new ValidationError(
      `table ${shape.name}: snapshot ${from} is not an ancestor of snapshot ${target} (the table was rolled back, or the snapshot expired): replay needs the history between them`,
    );
  }
  const names = shape.mapping.columns.map((c) => c.name);
  const later = await planScan(io, metadata, { snapshotId: target, columns: names });
  const earlier = from === undefined ? undefined : await planScan(io, metadata, { snapshotId: from, columns: keyNames(shape) });
  const before = new Map((earlier?.tasks ?? []).map((t) => [t.dataFile.filePath, new Set(t.deletes.map((d) => d.file.filePath))]));
  const after = new Map(later.tasks.map((t) => [t.dataFile.filePath, new Set(t.deletes.map((d) => d.file.filePath))]));
  const added = later.tasks.filter((t) => !before.has(t.dataFile.filePath));
  // Files whose live rows at `from` may be gone at `to`: removed since, or reached by a delete file added since.
  const touched = (earlier?.tasks ?? []).filter((t) => {
    const now = after.get(t.dataFile.filePath);
    if (now === undefined) return true;
    const then = before.get(t.dataFile.filePath)!;
    return [...now].some((path) => !then.has(path));
  });
  const upserts: RecordRow[] = [];
  const written = new Set<string>();
  for await (const batch of readScan(io, { ...later, tasks: added })) {
    for (const row of batch) {
      upserts.push(toRecord(shape, row));
      written.add(
        keyText(
          shape,
          shape.key.map((i) => row[i] ?? null),
        ),
      );
    }
  }
  // A touched file that is still there keeps its rows that the new delete files do not name.
  const touchedPaths = new Set(touched.map((t) => t.dataFile.filePath));
  const kept = later.tasks.filter((t) => touchedPaths.has(t.dataFile.filePath));
  for await (const batch of readScan(io, { ...later, tasks: kept })) {
    for (const row of batch)
      written.add(
        keyText(
          shape,
          shape.key.map((i) => row[i] ?? null),
        ),
      );
  }
  const deletes: Value[][] = [];
  const deleted = new Set<string>();
  if (earlier !== undefined) {
    for await (const batch of readScan(io, { ...earlier, tasks: touched } satisfies ScanPlan)) {
      for (const row of batch) {
        const key: Value[] = (row as Row).map((v) => v);
        const text = keyText(shape, key);
        if (written.has(text) || deleted.has(text)) continue;
        deleted.add(text);
        deletes.push(key);
      }
    }
  }
  return { from, to: target, upserts, deletes };
}

/** A key as PostgreSQL prints its values, for comparing keys read from different files. */
function keyText(shape: TableShape, key: readonly Value[]): string {
  return JSON.stringify(shape.key.map((i, n) => renderForComparison(shape.mapping.columns[i]!.decode, key[n] ?? null)));
}
