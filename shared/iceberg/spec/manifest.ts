/**
 * Manifest and manifest-list records (spec "Manifests" and "Manifest Lists"). These are Avro records on disk;
 * in memory they are camelCase with the spec's field names otherwise kept. 64-bit fields are `bigint`.
 */
import type { Value } from './values';

/** Content of a data or delete file (field 134). */
export enum DataFileContent {
  Data = 0,
  PositionDeletes = 1,
  EqualityDeletes = 2,
}

/** Status of a manifest entry (field 0). */
export enum ManifestEntryStatus {
  Existing = 0,
  Added = 1,
  Deleted = 2,
}

/** Content of a manifest (manifest list field 517). */
export enum ManifestContent {
  Data = 0,
  Deletes = 1,
}

/** A data file and the statistics readers use to prune it. Map keys are field ids. */
export interface DataFile {
  content: DataFileContent;
  filePath: string;
  fileFormat: 'PARQUET' | 'AVRO' | 'ORC';
  /** Partition tuple: one value per field of the partition spec, in spec order. */
  partition: Value[];
  recordCount: bigint;
  fileSizeInBytes: bigint;
  columnSizes?: Map<number, bigint>;
  valueCounts?: Map<number, bigint>;
  nullValueCounts?: Map<number, bigint>;
  nanValueCounts?: Map<number, bigint>;
  /** Single-value serialisation (spec Appendix D) of each column's lower bound. */
  lowerBounds?: Map<number, Uint8Array>;
  upperBounds?: Map<number, Uint8Array>;
  keyMetadata?: Uint8Array;
  splitOffsets?: bigint[];
  /** Field ids whose values identify the deleted rows (equality delete files only). */
  equalityIds?: number[];
  sortOrderId?: number;
  /** The one data file every row of a position delete file refers to, when there is only one (field 143). */
  referencedDataFile?: string;
}

/** One entry of a manifest. Null sequence numbers / snapshot id are inherited from the manifest list. */
export interface ManifestEntry {
  status: ManifestEntryStatus;
  snapshotId: bigint | null;
  sequenceNumber: bigint | null;
  fileSequenceNumber: bigint | null;
  dataFile: DataFile;
}

/** Summary of one partition field over a manifest's files (manifest list field 507). */
export interface FieldSummary {
  containsNull: boolean;
  containsNan?: boolean;
  lowerBound?: Uint8Array;
  upperBound?: Uint8Array;
}

/** One entry of a manifest list. */
export interface ManifestFile {
  manifestPath: string;
  manifestLength: bigint;
  partitionSpecId: number;
  content: ManifestContent;
  sequenceNumber: bigint;
  minSequenceNumber: bigint;
  addedSnapshotId: bigint;
  addedFilesCount: number;
  existingFilesCount: number;
  deletedFilesCount: number;
  addedRowsCount: bigint;
  existingRowsCount: bigint;
  deletedRowsCount: bigint;
  partitions?: FieldSummary[];
  keyMetadata?: Uint8Array;
}

/**
 * Sequence number placeholder for manifests written before their snapshot exists (e.g. by parallel workers);
 * the commit assigns the real one. Matches the Java implementation's UNASSIGNED_SEQ (-1).
 */
export const UNASSIGNED_SEQUENCE_NUMBER = -1n;
