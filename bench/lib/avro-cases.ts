/**
 * The Avro benchmark's files (bench/avro-container.ts): the product's manifest of `orders` data files and a commit's
 * manifest list, each with our writer's call and the same records in the form avsc's encoder takes.
 */
import { randomBytes } from 'node:crypto';
import { readManifestList, writeManifestList } from '../../shared/iceberg/avro/manifest-list';
import { readManifest } from '../../shared/iceberg/avro/manifest-reader';
import { manifestEntrySchema, manifestFileSchema } from '../../shared/iceberg/avro/manifest-schema';
import { writeManifest } from '../../shared/iceberg/avro/manifest-writer';
import { serializeValue } from '../../shared/iceberg/spec/conversions';
import { stringifyJson } from '../../shared/iceberg/spec/json';
import {
  type DataFile,
  DataFileContent,
  ManifestContent,
  type ManifestEntry,
  ManifestEntryStatus,
  type ManifestFile,
  UNASSIGNED_SEQUENCE_NUMBER,
} from '../../shared/iceberg/spec/manifest';
import type { PartitionSpec } from '../../shared/iceberg/spec/partition-spec';
import { partitionType } from '../../shared/iceberg/spec/partition-type';
import { newSnapshotId } from '../../shared/iceberg/transaction/snapshot-producer';
import { ORDERS_SCHEMA } from './orders-data';

// The product's case: a migration's data manifest of `orders` files partitioned by day(created_at), deflate.
const SPEC: PartitionSpec = { 'spec-id': 0, fields: [{ 'source-id': 6, 'field-id': 1000, name: 'created_at_day', transform: 'day' }] };
const PARTITION_TYPE = partitionType(SPEC, ORDERS_SCHEMA);
const DAY0 = 19_723; // 2024-01-01

/** Data files with the metrics our Parquet writer records: counts for every leaf, bounds for all but list elements. */
function dataFiles(count: number): DataFile[] {
  const leaves = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12];
  return Array.from({ length: count }, (_, i) => {
    const day = DAY0 + (i % 366);
    const rows = 250_000n + BigInt(i % 997);
    const firstId = BigInt(i) * 250_000n;
    const micros = BigInt(day) * 86_400_000_000n;
    const lower: [number, Uint8Array][] = [
      [1, serializeValue('long', firstId)],
      [2, randomBytes(16)],
      [3, serializeValue('int', i % 5000)],
      [4, serializeValue('decimal(12, 2)', 100n)],
      [5, serializeValue('string', 'cancelled')],
      [6, serializeValue('timestamptz', micros)],
      [7, serializeValue('date', day)],
      [8, serializeValue('boolean', false)],
      [9, serializeValue('string', 'a gift for a fri')],
      [11, serializeValue('string', '{"channel": "app')],
    ];
    const upper: [number, Uint8Array][] = [
      [1, serializeValue('long', firstId + rows - 1n)],
      [2, randomBytes(16)],
      [3, serializeValue('int', 99_000 + (i % 5000))],
      [4, serializeValue('decimal(12, 2)', 99_999_999n)],
      [5, serializeValue('string', 'shipped')],
      [6, serializeValue('timestamptz', micros + 86_399_999_999n)],
      [7, serializeValue('date', day + 30)],
      [8, serializeValue('boolean', true)],
      [9, serializeValue('string', 'wrap it nicely p')],
      [11, serializeValue('string', '{"channel": "web')],
    ];
    return {
      content: DataFileContent.Data,
      filePath: `abfss://lake@shopdata.dfs.core.windows.net/warehouse/public/orders/data/created_at_day=${day}/run-2024-07-01_x.9f1c2b.p${i}-0-00000.parquet`,
      fileFormat: 'PARQUET',
      partition: [day],
      recordCount: rows,
      fileSizeInBytes: 48_000_000n + BigInt(i * 37),
      columnSizes: new Map(leaves.map((id) => [id, 1_000_000n + BigInt(id * 1013 + i)])),
      valueCounts: new Map(leaves.map((id) => [id, id === 12 ? rows * 3n : rows])),
      nullValueCounts: new Map(leaves.map((id) => [id, id === 7 ? rows / 3n : id === 9 ? (rows * 9n) / 10n : 0n])),
      nanValueCounts: new Map(),
      lowerBounds: new Map(lower),
      upperBounds: new Map(upper),
      splitOffsets: [4n, 16_000_004n + BigInt(i), 32_000_004n + BigInt(i)],
    };
  });
}

/** ADDED entries whose snapshot id and sequence numbers are inherited, as a copy writes them. */
function manifestEntries(count: number): ManifestEntry[] {
  return dataFiles(count).map((dataFile) => ({
    status: ManifestEntryStatus.Added,
    snapshotId: null,
    sequenceNumber: null,
    fileSequenceNumber: null,
    dataFile,
  }));
}

/** A commit's list: half the manifests kept from older snapshots, half added by this one (numbers unassigned). */
function manifestList(count: number, snapshotId: bigint): ManifestFile[] {
  const older = newSnapshotId();
  return Array.from({ length: count }, (_, i) => {
    const added = i >= count / 2;
    return {
      manifestPath: `abfss://lake@shopdata.dfs.core.windows.net/warehouse/public/orders/metadata/run-2024-07-01_x.9f1c2b.p${i}-0-m0.avro`,
      manifestLength: 9_000n + BigInt(i),
      partitionSpecId: 0,
      content: ManifestContent.Data,
      sequenceNumber: added ? UNASSIGNED_SEQUENCE_NUMBER : 7n,
      minSequenceNumber: added ? UNASSIGNED_SEQUENCE_NUMBER : 7n,
      addedSnapshotId: added ? snapshotId : older,
      addedFilesCount: 1,
      existingFilesCount: 0,
      deletedFilesCount: 0,
      addedRowsCount: 250_000n,
      existingRowsCount: 0n,
      deletedRowsCount: 0n,
      partitions: [{ containsNull: false, lowerBound: serializeValue('date', DAY0 + (i % 366)), upperBound: serializeValue('date', DAY0 + (i % 366)) }],
    };
  });
}

/** How longs reach avsc: JS numbers (its default type, raw schema JSON) or bigints (a Type with a bigint long). */
export type Longs = 'number' | 'bigint';

function long(value: bigint, longs: Longs): number | bigint {
  return longs === 'bigint' ? value : Number(value);
}

/** avsc wants Buffers for bytes; a view costs no copy. */
function buf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function mapArray<V, W>(map: Map<number, V> | undefined, to: (v: V) => W): { key: number; value: W }[] | null {
  return map === undefined ? null : [...map].map(([key, value]) => ({ key, value: to(value) }));
}

/** The record avsc writes for a manifest entry: the same fields and values our writer encodes. */
function avscEntry(entry: ManifestEntry, longs: Longs): Record<string, unknown> {
  const f = entry.dataFile;
  const optional = (v: bigint | null) => (v === null ? null : long(v, longs));
  const l = (v: bigint) => long(v, longs);
  return {
    status: entry.status,
    snapshot_id: optional(entry.snapshotId),
    sequence_number: optional(entry.sequenceNumber),
    file_sequence_number: optional(entry.fileSequenceNumber),
    data_file: {
      content: f.content,
      file_path: f.filePath,
      file_format: f.fileFormat,
      partition: { [PARTITION_TYPE.fields[0]!.name]: f.partition[0] },
      record_count: l(f.recordCount),
      file_size_in_bytes: l(f.fileSizeInBytes),
      column_sizes: mapArray(f.columnSizes, l),
      value_counts: mapArray(f.valueCounts, l),
      null_value_counts: mapArray(f.nullValueCounts, l),
      nan_value_counts: mapArray(f.nanValueCounts, l),
      lower_bounds: mapArray(f.lowerBounds, buf),
      upper_bounds: mapArray(f.upperBounds, buf),
      key_metadata: null,
      split_offsets: f.splitOffsets?.map(l) ?? null,
      equality_ids: null,
      sort_order_id: null,
    },
  };
}

/** The record avsc writes for a manifest-list entry, sequence numbers assigned as our writer assigns them. */
function avscManifestFile(file: ManifestFile, sequenceNumber: bigint, longs: Longs): Record<string, unknown> {
  const seq = (v: bigint) => long(v === UNASSIGNED_SEQUENCE_NUMBER ? sequenceNumber : v, longs);
  return {
    manifest_path: file.manifestPath,
    manifest_length: long(file.manifestLength, longs),
    partition_spec_id: file.partitionSpecId,
    content: file.content,
    sequence_number: seq(file.sequenceNumber),
    min_sequence_number: seq(file.minSequenceNumber),
    added_snapshot_id: long(file.addedSnapshotId, longs),
    added_files_count: file.addedFilesCount,
    existing_files_count: file.existingFilesCount,
    deleted_files_count: file.deletedFilesCount,
    added_rows_count: long(file.addedRowsCount, longs),
    existing_rows_count: long(file.existingRowsCount, longs),
    deleted_rows_count: long(file.deletedRowsCount, longs),
    partitions:
      file.partitions?.map((s) => ({
        contains_null: s.containsNull,
        contains_nan: s.containsNan ?? null,
        lower_bound: s.lowerBound ? buf(s.lowerBound) : null,
        upper_bound: s.upperBound ? buf(s.upperBound) : null,
      })) ?? null,
    key_metadata: null,
  };
}

/** One file to write both ways: our product call and avsc's input in both long representations. */
export interface Case {
  label: string;
  count: number;
  schema: object;
  /** The Iceberg header keys our writer puts in this kind of file, for avsc to write too. */
  metadata: Record<string, string>;
  ours: () => Uint8Array;
  /** Builds avsc's input from the same domain objects (timed on its own, outside avsc's write time). */
  prepare: (longs: Longs) => unknown[];
  /** The prepared input, built on first use and kept while the case lives. */
  records: (longs: Longs) => unknown[];
  /** Our product reader of this kind of file. */
  readDomain: (bytes: Uint8Array) => unknown;
  /** Whether to print the whole `avro.schema` of each writer (the list's is short enough to read). */
  dumpSchema: boolean;
}

function avscInput(prepare: (longs: Longs) => unknown[]): Pick<Case, 'prepare' | 'records'> {
  const kept = new Map<Longs, unknown[]>();
  const records = (longs: Longs): unknown[] => kept.get(longs) ?? kept.set(longs, prepare(longs)).get(longs)!;
  return { prepare, records };
}

/** The product's manifest of `count` ADDED data files, with avsc's input for it. */
export function manifestCase(count: number): Case {
  const entries = manifestEntries(count);
  return {
    label: `manifest, ${count.toLocaleString('en-US')} entries`,
    count,
    schema: manifestEntrySchema(PARTITION_TYPE),
    // The keys writeManifest writes, built the same way, so avsc's header can be compared byte for byte.
    metadata: {
      schema: stringifyJson(ORDERS_SCHEMA),
      'schema-id': String(ORDERS_SCHEMA['schema-id']),
      'partition-spec': stringifyJson(SPEC.fields),
      'partition-spec-id': String(SPEC['spec-id']),
      'format-version': '2',
      content: 'data',
    },
    ours: () => writeManifest(entries, { schema: ORDERS_SCHEMA, spec: SPEC, partitionType: PARTITION_TYPE, content: ManifestContent.Data }),
    ...avscInput((longs) => entries.map((e) => avscEntry(e, longs))),
    readDomain: (bytes) => readManifest(bytes).entries,
    dumpSchema: false,
  };
}

/** A commit's manifest list of `count` manifests, with avsc's input for it. */
export function listCase(count: number): Case {
  const snapshotId = newSnapshotId();
  const parent = newSnapshotId();
  const sequenceNumber = 8n;
  const files = manifestList(count, snapshotId);
  return {
    label: `manifest list, ${count.toLocaleString('en-US')} manifests`,
    count,
    schema: manifestFileSchema(),
    metadata: { 'snapshot-id': String(snapshotId), 'parent-snapshot-id': String(parent), 'sequence-number': String(sequenceNumber), 'format-version': '2' },
    ours: () => writeManifestList(files, { snapshotId, parentSnapshotId: parent, sequenceNumber }),
    ...avscInput((longs) => files.map((f) => avscManifestFile(f, sequenceNumber, longs))),
    readDomain: readManifestList,
    dumpSchema: true,
  };
}
