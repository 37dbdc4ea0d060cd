/** Converts manifest-list records to and from the JSON-safe form activities return. */
import { ManifestContent, type ManifestFile, UNASSIGNED_SEQUENCE_NUMBER } from '../iceberg/spec/manifest';
import type { ManifestRef } from './contracts';

/** The JSON-safe form of a manifest written by a worker (ids and sequence numbers still unassigned). */
export function toManifestRef(manifest: ManifestFile): ManifestRef {
  return {
    path: manifest.manifestPath,
    length: String(manifest.manifestLength),
    partitionSpecId: manifest.partitionSpecId,
    addedFilesCount: manifest.addedFilesCount,
    addedRowsCount: String(manifest.addedRowsCount),
    partitions: (manifest.partitions ?? []).map((s) => ({
      containsNull: s.containsNull,
      ...(s.containsNan === undefined ? {} : { containsNan: s.containsNan }),
      ...(s.lowerBound ? { lowerBound: Buffer.from(s.lowerBound).toString('base64') } : {}),
      ...(s.upperBound ? { upperBound: Buffer.from(s.upperBound).toString('base64') } : {}),
    })),
  };
}

/** Back to a manifest-list record for a fast append. */
export function fromManifestRef(ref: ManifestRef): ManifestFile {
  return {
    manifestPath: ref.path,
    manifestLength: BigInt(ref.length),
    partitionSpecId: ref.partitionSpecId,
    content: ManifestContent.Data,
    sequenceNumber: UNASSIGNED_SEQUENCE_NUMBER,
    minSequenceNumber: UNASSIGNED_SEQUENCE_NUMBER,
    addedSnapshotId: UNASSIGNED_SEQUENCE_NUMBER,
    addedFilesCount: ref.addedFilesCount,
    existingFilesCount: 0,
    deletedFilesCount: 0,
    addedRowsCount: BigInt(ref.addedRowsCount),
    existingRowsCount: 0n,
    deletedRowsCount: 0n,
    partitions: ref.partitions.map((s) => ({
      containsNull: s.containsNull,
      ...(s.containsNan === undefined ? {} : { containsNan: s.containsNan }),
      ...(s.lowerBound ? { lowerBound: Buffer.from(s.lowerBound, 'base64') } : {}),
      ...(s.upperBound ? { upperBound: Buffer.from(s.upperBound, 'base64') } : {}),
    })),
  };
}
