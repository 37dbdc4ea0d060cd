/** Snapshots, refs and the logs kept in table metadata (spec JSON shape, 64-bit ids as bigint). */

/** The operation a snapshot performed. */
export type SnapshotOperation = 'append' | 'replace' | 'overwrite' | 'delete';

/** Snapshot summary: the operation plus string properties (counts, custom keys such as a run id). */
export type SnapshotSummary = { operation: SnapshotOperation } & Record<string, string>;

/** One snapshot of a table. */
export interface Snapshot {
  'snapshot-id': bigint;
  'parent-snapshot-id'?: bigint;
  'sequence-number': bigint;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: SnapshotSummary;
  'schema-id'?: number;
}

/** A named branch or tag. */
export interface SnapshotRef {
  'snapshot-id': bigint;
  type: 'branch' | 'tag';
  'min-snapshots-to-keep'?: number;
  'max-snapshot-age-ms'?: number;
  'max-ref-age-ms'?: number;
}

/** Entry of the snapshot log: when a snapshot became current. */
export interface SnapshotLogEntry {
  'timestamp-ms': number;
  'snapshot-id': bigint;
}

/** Entry of the metadata log: an earlier metadata file. */
export interface MetadataLogEntry {
  'timestamp-ms': number;
  'metadata-file': string;
}

/** Name of the main branch. */
export const MAIN_BRANCH = 'main';
