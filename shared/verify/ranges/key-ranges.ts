/**
 * Key ranges aligned with data files. Ranges of equal key width cut through data files, so a file straddling a
 * boundary is decoded once per range it touches. Here the boundaries are instead placed at data files' lower
 * bounds of the key column (read from the manifests' column metrics), so that when files do not overlap in key
 * (a table written in key order) every file is read by exactly one range.
 */
import type { FileIO } from '../../iceberg/io/file-io';
import { deserializeValue } from '../../iceberg/spec/conversions';
import { ManifestContent, ManifestEntryStatus } from '../../iceberg/spec/manifest';
import { type TableMetadata, currentSchema, currentSnapshot, schemaById, snapshotById } from '../../iceberg/spec/table-metadata';
import { manifestEntries, snapshotManifests } from '../../iceberg/transaction/manifest-files';
import type { KeyRange } from '../contracts';

/** A data file's lower and upper bound of the key column (null when it has none) and its record count. */
export interface KeyFileBounds {
  lower: bigint | null;
  upper: bigint | null;
  records: number;
}

/**
 * Groups files, in key order, into ranges whose boundaries are file lower bounds. A boundary is placed before a
 * file only when it is above the upper bound of every file before it, so no file has keys on both sides of a
 * boundary; overlapping files therefore merge into one group. The number of ranges aims at
 * ceil(total / rowsPerRange): each group aims at an equal share of the records not yet grouped (over the ranges
 * still to make, at most ceil(rest / rowsPerRange)) and closes before the next file when its size is then nearer
 * that share than it would be with the file (files are never split).
 * Ranges partition the whole int64 line (outer ranges open-ended). Returns [] when a file lacks a bound, when the
 * records fit one range, or when fewer than two ranges result; the caller then splits the key span evenly.
 */
export function rangesFromFiles(files: ReadonlyArray<KeyFileBounds>, rowsPerRange: number): KeyRange[] {
  if (!(rowsPerRange > 0)) return [];
  const known: Array<{ lower: bigint; upper: bigint; records: number }> = [];
  for (const { lower, upper, records } of files) {
    if (lower === null || upper === null) return [];
    known.push({ lower, upper, records });
  }
  const total = known.reduce((sum, f) => sum + f.records, 0);
  if (total <= rowsPerRange) return [];
  known.sort((a, b) => (a.lower !== b.lower ? (a.lower < b.lower ? -1 : 1) : a.upper < b.upper ? -1 : a.upper > b.upper ? 1 : 0));
  const planned = Math.ceil(total / rowsPerRange);
  const groups: Array<{ lo: bigint; rows: number }> = [{ lo: known[0]!.lower, rows: 0 }];
  let grouped = 0;
  let maxUpper = known[0]!.upper;
  for (const [i, file] of known.entries()) {
    const current = groups[groups.length - 1]!;
    const left = Math.min(planned - groups.length + 1, Math.ceil((total - grouped) / rowsPerRange));
    if (i > 0 && left > 1 && file.lower > maxUpper && file.lower > current.lo) {
      const share = (total - grouped) / left;
      if (current.rows >= share || 2 * current.rows + file.records > 2 * share) {
        grouped += current.rows;
        groups.push({ lo: file.lower, rows: 0 });
      }
    }
    groups[groups.length - 1]!.rows += file.records;
    if (file.upper > maxUpper) maxUpper = file.upper;
  }
  if (groups.length < 2) return [];
  return groups.map((g, index) => ({
    index,
    lo: index === 0 ? null : String(g.lo),
    hi: index === groups.length - 1 ? null : String(groups[index + 1]!.lo),
    estimatedRows: g.rows,
  }));
}

/**
 * Bounds of one int or long top-level column in every live data file of a snapshot (the current one when no id
 * is given), from the manifests alone. Files without records are left out (they hold no keys). Undefined when the
 * snapshot does not exist, the column is not an int or long column of the snapshot's schema, or the snapshot has
 * delete files.
 */
export async function keyFileBounds(
  io: FileIO,
  metadata: TableMetadata,
  snapshotId: bigint | undefined,
  fieldName: string,
): Promise<KeyFileBounds[] | undefined> {
  const snapshot = snapshotId === undefined ? currentSnapshot(metadata) : snapshotById(metadata, snapshotId);
  if (!snapshot) return undefined;
  const schema = snapshot['schema-id'] !== undefined ? schemaById(metadata, snapshot['schema-id']) : currentSchema(metadata);
  const field = schema.fields.find((f) => f.name === fieldName);
  if (!field || (field.type !== 'int' && field.type !== 'long')) return undefined;
  const type = field.type;
  // int bounds decode to numbers, long bounds to bigints (4-byte bounds of long columns promoted from int included).
  const decode = (bytes: Uint8Array | undefined): bigint | null => (bytes === undefined ? null : BigInt(deserializeValue(type, bytes) as number | bigint));
  const out: KeyFileBounds[] = [];
  for (const manifest of await snapshotManifests(io, snapshot)) {
    if (manifest.content !== ManifestContent.Data) return undefined;
    for (const { status, dataFile } of await manifestEntries(io, manifest)) {
      if (status === ManifestEntryStatus.Deleted || dataFile.recordCount === 0n) continue;
      out.push({
        lower: decode(dataFile.lowerBounds?.get(field.id)),
        upper: decode(dataFile.upperBounds?.get(field.id)),
        records: Number(dataFile.recordCount),
      });
    }
  }
  return out;
}
