/**
 * Writing and reading manifests for a table: a manifest of new data files (as parallel workers write them
 * before any snapshot exists) and the live entries of a snapshot with v2 sequence-number inheritance applied.
 */
import { randomUUID } from 'node:crypto';
import { readManifest } from '../avro/manifest-reader';
import { writeManifest } from '../avro/manifest-writer';
import { readManifestList } from '../avro/manifest-list';
import type { FileIO } from '../io/file-io';
import { compareValues } from '../spec/compare';
import { serializeValue } from '../spec/conversions';
import { ValidationError } from '../../errors';
import {
  type DataFile,
  DataFileContent,
  type FieldSummary,
  ManifestContent,
  type ManifestEntry,
  ManifestEntryStatus,
  type ManifestFile,
  UNASSIGNED_SEQUENCE_NUMBER,
} from '../spec/manifest';
import type { PartitionSpec } from '../spec/partition-spec';
import { partitionType } from '../spec/partition-type';
import type { Schema } from '../spec/schema';
import type { Snapshot } from '../spec/snapshot';
import { type TableMetadata, currentSchema, specById } from '../spec/table-metadata';
import type { PrimitiveType, StructType } from '../spec/types';

/** Location of a new manifest under the table's metadata folder; unique per call. */
export function newManifestLocation(metadata: TableMetadata, label = 'm0'): string {
  return `${metadata.location}/metadata/${randomUUID()}-${label}.avro`;
}

/** Options of writeDataManifest. */
export interface WriteDataManifestOptions {
  /** Partition spec the files were written with; the table's default spec when absent. */
  specId?: number;
  /** Where to write; a fresh unique name under metadata/ when absent. */
  location?: string;
}

/**
 * Writes one manifest of ADDED data files whose snapshot id and sequence numbers are left to be inherited from
 * the snapshot that commits it, and returns its manifest-list record (ids unassigned until the commit).
 */
export async function writeDataManifest(io: FileIO, metadata: TableMetadata, files: DataFile[], options: WriteDataManifestOptions = {}): Promise<ManifestFile> {
  const spec = specById(metadata, options.specId ?? metadata['default-spec-id']);
  const schema = currentSchema(metadata);
  const entries: ManifestEntry[] = files.map((dataFile) => ({
    status: ManifestEntryStatus.Added,
    snapshotId: null,
    sequenceNumber: null,
    fileSequenceNumber: null,
    dataFile,
  }));
  return writeManifestFile(io, schema, spec, entries, options.location ?? newManifestLocation(metadata));
}

/**
 * Writes one manifest of ADDED delete files (position or equality deletes, content 1) whose snapshot id and
 * sequence numbers are inherited from the snapshot that commits it, and returns its manifest-list record.
 */
export async function writeDeleteManifest(
  io: FileIO,
  metadata: TableMetadata,
  files: DataFile[],
  options: WriteDataManifestOptions = {},
): Promise<ManifestFile> {
  for (const file of files) {
    if (file.content === DataFileContent.Data) throw new ValidationError(`${file.filePath} is a data file, not a delete file`);
  }
  return writeDataManifest(io, metadata, files, options);
}

/**
 * Writes entries as a manifest and describes it for a manifest list (counts and partition summaries). A manifest
 * holds data files or delete files, never both; its content follows from its entries (data when there are none).
 */
export async function writeManifestFile(
  io: FileIO,
  schema: Schema,
  spec: PartitionSpec,
  entries: ManifestEntry[],
  location: string,
  addedSnapshotId: bigint = UNASSIGNED_SEQUENCE_NUMBER,
): Promise<ManifestFile> {
  const type = partitionType(spec, schema);
  const content = entries.length > 0 && entries[0]!.dataFile.content !== DataFileContent.Data ? ManifestContent.Deletes : ManifestContent.Data;
  const bytes = writeManifest(entries, { schema, spec, partitionType: type, content });
  await io.write(location, bytes);
  const count = (status: ManifestEntryStatus) => entries.filter((e) => e.status === status);
  const rows = (list: ManifestEntry[]) => list.reduce((sum, e) => sum + e.dataFile.recordCount, 0n);
  const explicitSeqs = entries.map((e) => e.sequenceNumber).filter((s): s is bigint => s !== null && s >= 0n);
  return {
    manifestPath: location,
    manifestLength: BigInt(bytes.length),
    partitionSpecId: spec['spec-id'],
    content,
    sequenceNumber: UNASSIGNED_SEQUENCE_NUMBER,
    minSequenceNumber:
      explicitSeqs.length > 0 && explicitSeqs.length === entries.length ? explicitSeqs.reduce((a, b) => (a < b ? a : b)) : UNASSIGNED_SEQUENCE_NUMBER,
    addedSnapshotId,
    addedFilesCount: count(ManifestEntryStatus.Added).length,
    existingFilesCount: count(ManifestEntryStatus.Existing).length,
    deletedFilesCount: count(ManifestEntryStatus.Deleted).length,
    addedRowsCount: rows(count(ManifestEntryStatus.Added)),
    existingRowsCount: rows(count(ManifestEntryStatus.Existing)),
    deletedRowsCount: rows(count(ManifestEntryStatus.Deleted)),
    partitions: partitionSummaries(
      type,
      entries.filter((e) => e.status !== ManifestEntryStatus.Deleted).map((e) => e.dataFile),
    ),
  };
}

/** Per partition field: whether any file has a null (or NaN) value there, and the lowest and highest values. */
export function partitionSummaries(type: StructType, files: DataFile[]): FieldSummary[] {
  return type.fields.map((field, i) => {
    const fieldType = field.type as PrimitiveType;
    let containsNull = false;
    let containsNan = false;
    let lower: unknown;
    let upper: unknown;
    for (const file of files) {
      const value = file.partition[i] ?? null;
      if (value === null) containsNull = true;
      else if (typeof value === 'number' && Number.isNaN(value)) containsNan = true;
      else {
        if (lower === undefined || compareValues(fieldType, value, lower as never) < 0) lower = value;
        if (upper === undefined || compareValues(fieldType, value, upper as never) > 0) upper = value;
      }
    }
    const summary: FieldSummary = { containsNull };
    if (fieldType === 'float' || fieldType === 'double') summary.containsNan = containsNan;
    if (lower !== undefined) summary.lowerBound = serializeValue(fieldType, lower as never);
    if (upper !== undefined) summary.upperBound = serializeValue(fieldType, upper as never);
    return summary;
  });
}

/** The manifests of a snapshot (empty for none). */
export async function snapshotManifests(io: FileIO, snapshot: Snapshot | undefined): Promise<ManifestFile[]> {
  if (!snapshot) return [];
  return readManifestList(await io.read(snapshot['manifest-list']));
}

/** Entries of a manifest with snapshot ids and sequence numbers inherited from its manifest-list record. */
export async function manifestEntries(io: FileIO, manifest: ManifestFile): Promise<ManifestEntry[]> {
  const { entries } = readManifest(await io.read(manifest.manifestPath));
  return entries.map((entry) => inheritFromManifest(entry, manifest));
}

/** Applies the spec's inheritance rules for null snapshot ids and sequence numbers of ADDED entries. */
export function inheritFromManifest(entry: ManifestEntry, manifest: ManifestFile): ManifestEntry {
  const inherited = { ...entry };
  if (inherited.snapshotId === null) inherited.snapshotId = manifest.addedSnapshotId;
  if (inherited.status === ManifestEntryStatus.Added) {
    if (inherited.sequenceNumber === null) inherited.sequenceNumber = manifest.sequenceNumber;
    if (inherited.fileSequenceNumber === null) inherited.fileSequenceNumber = manifest.sequenceNumber;
  }
  return inherited;
}

/** A live entry of a snapshot and the manifest that lists it. */
export interface LiveEntry {
  manifest: ManifestFile;
  entry: ManifestEntry;
}

/** Live (not deleted) data files and delete files of a snapshot, with their entries. */
export async function liveFiles(io: FileIO, snapshot: Snapshot | undefined): Promise<{ data: LiveEntry[]; deletes: LiveEntry[] }> {
  const data: LiveEntry[] = [];
  const deletes: LiveEntry[] = [];
  for (const manifest of await snapshotManifests(io, snapshot)) {
    const into = manifest.content === ManifestContent.Data ? data : deletes;
    for (const entry of await manifestEntries(io, manifest)) {
      if (entry.status !== ManifestEntryStatus.Deleted) into.push({ manifest, entry });
    }
  }
  return { data, deletes };
}

/**
 * Live data files of a snapshot with their entries. Refuses a snapshot with live delete files: its data files'
 * record counts and contents are no longer its rows, and a caller that does not apply the deletes would count or
 * copy deleted rows (liveFiles and the scan apply them).
 */
export async function liveEntries(io: FileIO, snapshot: Snapshot | undefined): Promise<LiveEntry[]> {
  const { data, deletes } = await liveFiles(io, snapshot);
  if (deletes.length > 0) throw new DeleteFilesNotApplied(snapshot, deletes.length);
  return data;
}

/** A reader of data files alone met a snapshot with row-level delete files. */
export class DeleteFilesNotApplied extends ValidationError {
  constructor(snapshot: Snapshot | undefined, count: number) {
    super(
      `snapshot ${String(snapshot?.['snapshot-id'])} has ${count} row-level delete file(s): its data files alone, and their record counts, include deleted rows (read it through the scan, which applies the deletes)`,
    );
  }
}
