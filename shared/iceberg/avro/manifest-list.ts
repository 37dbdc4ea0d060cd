/** Writes and reads manifest lists: Avro container files of `manifest_file` records (spec "Manifest Lists"). */
import { ValidationError } from '../../errors';
import { type FieldSummary, ManifestContent, type ManifestFile, UNASSIGNED_SEQUENCE_NUMBER } from '../spec/manifest';
import { type AvroSchema, namedTypes } from './avro-schema';
import { corruptAvro } from './binary';
import { type AvroCodecName, iterateContainer, readContainerHeader, writeContainer } from './container';
import type { AvroRecord } from './datum';
import { WriterRecord, elementRecordOf, manifestFileSchema, recordOf } from './manifest-schema';

/** Options of {@link writeManifestList}. */
export interface WriteManifestListOptions {
  /** Id of the snapshot the list belongs to. */
  snapshotId: bigint;
  /** Parent snapshot id; absent or null for the first snapshot. */
  parentSnapshotId?: bigint | null;
  /** The snapshot's (optimistic) sequence number, given to manifests added by this snapshot. */
  sequenceNumber: bigint;
  /** Block compression; deflate by default. */
  codec?: AvroCodecName;
}

/**
 * Encodes a v2 manifest list. Manifests added by this snapshot whose sequence numbers are still
 * UNASSIGNED_SEQUENCE_NUMBER get the snapshot's sequence number, as the spec requires of a list writer.
 */
export function writeManifestList(files: ManifestFile[], options: WriteManifestListOptions): Uint8Array {
  const { snapshotId, sequenceNumber } = options;
  const parent = options.parentSnapshotId ?? null;
  const records = files.map((file, i) => manifestFileRecord(file, snapshotId, sequenceNumber, i));
  return writeContainer(manifestFileSchema(), records, {
    codec: options.codec ?? 'deflate',
    metadata: {
      'snapshot-id': snapshotId.toString(),
      'parent-snapshot-id': parent === null ? 'null' : parent.toString(),
      'sequence-number': sequenceNumber.toString(),
      'format-version': '2',
    },
  });
}

function assign(value: bigint, file: ManifestFile, snapshotId: bigint, commitSequence: bigint, field: string, where: string): bigint {
  if (value !== UNASSIGNED_SEQUENCE_NUMBER) return value;
  // Only a manifest written for this very commit may still wait for its number; anything older is a bug upstream.
  if (file.addedSnapshotId !== snapshotId) {
    throw new ValidationError(`${where}: ${field} is unassigned but the manifest was added by snapshot ${file.addedSnapshotId}, not ${snapshotId}`);
  }
  return commitSequence;
}

function manifestFileRecord(file: ManifestFile, snapshotId: bigint, commitSequence: bigint, index: number): AvroRecord {
  const where = `manifest list entry ${index} (${file.manifestPath})`;
  if (file.content !== ManifestContent.Data && file.content !== ManifestContent.Deletes) {
    throw new ValidationError(`${where}: content must be 0 (data) or 1 (deletes), got ${String(file.content)}`);
  }
  return {
    manifest_path: file.manifestPath,
    manifest_length: file.manifestLength,
    partition_spec_id: file.partitionSpecId,
    content: file.content,
    sequence_number: assign(file.sequenceNumber, file, snapshotId, commitSequence, 'sequenceNumber', where),
    min_sequence_number: assign(file.minSequenceNumber, file, snapshotId, commitSequence, 'minSequenceNumber', where),
    added_snapshot_id: file.addedSnapshotId,
    added_files_count: file.addedFilesCount,
    existing_files_count: file.existingFilesCount,
    deleted_files_count: file.deletedFilesCount,
    added_rows_count: file.addedRowsCount,
    existing_rows_count: file.existingRowsCount,
    deleted_rows_count: file.deletedRowsCount,
    partitions:
      file.partitions?.map((s) => ({
        contains_null: s.containsNull,
        contains_nan: s.containsNan ?? null,
        lower_bound: s.lowerBound ?? null,
        upper_bound: s.upperBound ?? null,
      })) ?? null,
    key_metadata: file.keyMetadata ?? null,
  };
}

/** Decodes a manifest list written by any Iceberg writer; v1 lists read with content 0 and sequence numbers 0. */
export function readManifestList(bytes: Uint8Array): ManifestFile[] {
  const header = readContainerHeader(bytes);
  const named = namedTypes(header.schema);
  const file = new WriterRecord(recordOf(header.schema, named, 'manifest_file'));
  const n = {
    path: file.requireName(500, 'manifest_path'),
    length: file.requireName(501, 'manifest_length'),
    specId: file.requireName(502, 'partition_spec_id'),
    content: file.name(517, 'content'),
    sequence: file.name(515, 'sequence_number'),
    minSequence: file.name(516, 'min_sequence_number'),
    snapshot: file.requireName(503, 'added_snapshot_id'),
    addedFiles: file.name(504, 'added_files_count', 'added_data_files_count'),
    existingFiles: file.name(505, 'existing_files_count', 'existing_data_files_count'),
    deletedFiles: file.name(506, 'deleted_files_count', 'deleted_data_files_count'),
    addedRows: file.name(512, 'added_rows_count'),
    existingRows: file.name(513, 'existing_rows_count'),
    deletedRows: file.name(514, 'deleted_rows_count'),
    partitions: file.field(507, 'partitions'),
    keyMetadata: file.name(519, 'key_metadata'),
  };
  const summary = n.partitions ? summaryNames(n.partitions.type, named) : undefined;

  const out: ManifestFile[] = [];
  let index = 0;
  for (const datum of iterateContainer(bytes, header)) {
    const r = datum as AvroRecord;
    const where = `manifest list entry ${index++}`;
    const value = (name: string | undefined, what: string): number | bigint => {
      const v = name === undefined ? null : r[name];
      // v1 allowed null counts meaning "unknown, non-zero"; ManifestFile has no way to say that.
      if (v === null || v === undefined) throw corruptAvro(`${where} has no ${what}, which this reader cannot represent`);
      return v as number | bigint;
    };
    const count = (name: string | undefined, what: string): number => Number(value(name, what));
    const rows = (name: string | undefined, what: string): bigint => BigInt(value(name, what));
    const manifest: ManifestFile = {
      manifestPath: r[n.path] as string,
      manifestLength: r[n.length] as bigint,
      partitionSpecId: r[n.specId] as number,
      content: n.content === undefined ? ManifestContent.Data : (r[n.content] as ManifestContent),
      sequenceNumber: n.sequence === undefined ? 0n : (r[n.sequence] as bigint),
      minSequenceNumber: n.minSequence === undefined ? 0n : (r[n.minSequence] as bigint),
      addedSnapshotId: r[n.snapshot] as bigint,
      addedFilesCount: count(n.addedFiles, 'added_files_count'),
      existingFilesCount: count(n.existingFiles, 'existing_files_count'),
      deletedFilesCount: count(n.deletedFiles, 'deleted_files_count'),
      addedRowsCount: rows(n.addedRows, 'added_rows_count'),
      existingRowsCount: rows(n.existingRows, 'existing_rows_count'),
      deletedRowsCount: rows(n.deletedRows, 'deleted_rows_count'),
    };
    const partitions = n.partitions ? r[n.partitions.name] : null;
    if (partitions !== null && partitions !== undefined && summary) {
      manifest.partitions = (partitions as AvroRecord[]).map((s) => fieldSummary(s, summary));
    }
    const key = n.keyMetadata === undefined ? null : r[n.keyMetadata];
    if (key !== null && key !== undefined) manifest.keyMetadata = key as Uint8Array;
    out.push(manifest);
  }
  return out;
}

interface SummaryNames {
  containsNull: string;
  containsNan: string | undefined;
  lower: string | undefined;
  upper: string | undefined;
}

function summaryNames(partitionsType: AvroSchema, named: Map<string, AvroSchema>): SummaryNames {
  const s = new WriterRecord(elementRecordOf(partitionsType, named, 'partitions'));
  return {
    containsNull: s.requireName(509, 'contains_null'),
    containsNan: s.name(518, 'contains_nan'),
    lower: s.name(510, 'lower_bound'),
    upper: s.name(511, 'upper_bound'),
  };
}

function fieldSummary(r: AvroRecord, names: SummaryNames): FieldSummary {
  const out: FieldSummary = { containsNull: r[names.containsNull] as boolean };
  const nan = names.containsNan === undefined ? null : r[names.containsNan];
  if (nan !== null && nan !== undefined) out.containsNan = nan as boolean;
  const lower = names.lower === undefined ? null : r[names.lower];
  if (lower !== null && lower !== undefined) out.lowerBound = lower as Uint8Array;
  const upper = names.upper === undefined ? null : r[names.upper];
  if (upper !== null && upper !== undefined) out.upperBound = upper as Uint8Array;
  return out;
}
