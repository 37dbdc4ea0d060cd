/**
 * Reads manifests written by any Iceberg writer (v1 or v2), decoding with the writer schema from the file and
 * resolving fields by field id. Values are returned as stored: null sequence numbers stay null (inheritance is
 * the caller's job); v1 files, which have no sequence number columns, read as 0 as the spec says.
 */
import { type DataFile, DataFileContent, type ManifestEntry, ManifestEntryStatus } from '../spec/manifest';
import type { Value } from '../spec/values';
import { type AvroSchema, namedTypes, optionalBranch, resolveNamed } from './avro-schema';
import { corruptAvro } from './binary';
import { iterateContainer, readContainerHeader } from './container';
import type { AvroDatum, AvroRecord } from './datum';
import { WriterRecord, elementRecordOf, recordOf } from './manifest-schema';
import { partitionValueConverter } from './partition-values';

/** Entries and header metadata of a manifest file. */
export interface ReadManifestResult {
  entries: ManifestEntry[];
  /** Header key-value metadata (schema, partition-spec, format-version, content, ... and avro.*). */
  metadata: Record<string, string>;
}

const FILE_FORMATS = new Set<DataFile['fileFormat']>(['PARQUET', 'AVRO', 'ORC']);
const ENTRY_STATUSES: ReadonlySet<number> = new Set([ManifestEntryStatus.Existing, ManifestEntryStatus.Added, ManifestEntryStatus.Deleted]);

/** Decodes a manifest file. */
export function readManifest(bytes: Uint8Array): ReadManifestResult {
  const header = readContainerHeader(bytes);
  const decodeEntry = entryDecoder(header.schema);
  const entries: ManifestEntry[] = [];
  let index = 0;
  for (const datum of iterateContainer(bytes, header)) entries.push(decodeEntry(datum as AvroRecord, index++));
  return { entries, metadata: header.metadata };
}

type EntryDecoder = (record: AvroRecord, index: number) => ManifestEntry;

function entryDecoder(schema: AvroSchema): EntryDecoder {
  const named = namedTypes(schema);
  const entry = new WriterRecord(recordOf(schema, named, 'manifest_entry'));
  const status = entry.requireName(0, 'status');
  const snapshotId = entry.name(1, 'snapshot_id');
  const sequenceNumber = entry.name(3, 'sequence_number');
  const fileSequenceNumber = entry.name(4, 'file_sequence_number');
  const dataFileField = entry.field(2, 'data_file');
  if (!dataFileField) throw corruptAvro('manifest_entry has no data_file field');
  const decodeFile = dataFileDecoder(new WriterRecord(recordOf(dataFileField.type, named, 'data_file')), named);
  const dataFile = dataFileField.name;
  // No sequence number column means a v1 manifest, whose sequence numbers are 0 by the spec.
  const v1 = sequenceNumber === undefined;

  return (record, index) => {
    const statusValue = record[status] as number;
    if (!ENTRY_STATUSES.has(statusValue)) {
      throw corruptAvro(`manifest entry ${index} has invalid status ${statusValue}`);
    }
    return {
      status: statusValue,
      snapshotId: optionalLong(record, snapshotId),
      sequenceNumber: v1 ? 0n : optionalLong(record, sequenceNumber),
      fileSequenceNumber: v1 && fileSequenceNumber === undefined ? 0n : optionalLong(record, fileSequenceNumber),
      dataFile: decodeFile(record[dataFile] as AvroRecord, index),
    };
  };
}

function optionalLong(record: AvroRecord, name: string | undefined): bigint | null {
  if (name === undefined) return null;
  const value = record[name];
  return value === null || value === undefined ? null : (value as bigint);
}

function dataFileDecoder(file: WriterRecord, named: Map<string, AvroSchema>): (record: AvroRecord, index: number) => DataFile {
  const content = file.name(134, 'content');
  const filePath = file.requireName(100, 'file_path');
  const fileFormat = file.requireName(101, 'file_format');
  const partitionField = file.field(102, 'partition');
  if (!partitionField) throw corruptAvro('data_file has no partition field');
  const partitionSchema = recordOf(partitionField.type, named, 'partition');
  const partitionNames = partitionSchema.fields.map((f) => f.name);
  const converters = partitionSchema.fields.map((f) => partitionValueConverter(f.type, named, f['iceberg-field-name'] ?? f.name));
  const recordCount = file.requireName(103, 'record_count');
  const fileSize = file.requireName(104, 'file_size_in_bytes');
  const columnSizesOf = mapReader<bigint>(file, named, 108, 'column_sizes');
  const valueCountsOf = mapReader<bigint>(file, named, 109, 'value_counts');
  const nullValueCountsOf = mapReader<bigint>(file, named, 110, 'null_value_counts');
  const nanValueCountsOf = mapReader<bigint>(file, named, 137, 'nan_value_counts');
  const lowerBoundsOf = mapReader<Uint8Array>(file, named, 125, 'lower_bounds');
  const upperBoundsOf = mapReader<Uint8Array>(file, named, 128, 'upper_bounds');
  const keyMetadata = file.name(131, 'key_metadata');
  const splitOffsets = file.name(132, 'split_offsets');
  const equalityIds = file.name(135, 'equality_ids');
  const sortOrderId = file.name(140, 'sort_order_id');
  const referencedDataFile = file.name(143, 'referenced_data_file');
  const partitionOf = (record: AvroRecord): Value[] => partitionNames.map((name, i) => converters[i]!.fromDatum(record[name] ?? null));

  return (record, index) => {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- whatever the datum is, the check below names it by its text
    const formatText = String(record[fileFormat]);
    const format = formatText.toUpperCase() as DataFile['fileFormat'];
    if (!FILE_FORMATS.has(format)) throw corruptAvro(`manifest entry ${index} has unsupported file format ${formatText}`);
    const out: DataFile = {
      content: content === undefined ? DataFileContent.Data : (record[content] as DataFileContent),
      filePath: record[filePath] as string,
      fileFormat: format,
      partition: partitionOf(record[partitionField.name] as AvroRecord),
      recordCount: record[recordCount] as bigint,
      fileSizeInBytes: record[fileSize] as bigint,
    };
    const columnSizes = columnSizesOf(record);
    if (columnSizes) out.columnSizes = columnSizes;
    const valueCounts = valueCountsOf(record);
    if (valueCounts) out.valueCounts = valueCounts;
    const nullValueCounts = nullValueCountsOf(record);
    if (nullValueCounts) out.nullValueCounts = nullValueCounts;
    const nanValueCounts = nanValueCountsOf(record);
    if (nanValueCounts) out.nanValueCounts = nanValueCounts;
    const lowerBounds = lowerBoundsOf(record);
    if (lowerBounds) out.lowerBounds = lowerBounds;
    const upperBounds = upperBoundsOf(record);
    if (upperBounds) out.upperBounds = upperBounds;
    const key = present(record, keyMetadata);
    if (key !== undefined) out.keyMetadata = key as Uint8Array;
    const splits = present(record, splitOffsets);
    if (splits !== undefined) out.splitOffsets = splits as bigint[];
    const ids = present(record, equalityIds);
    if (ids !== undefined) out.equalityIds = ids as number[];
    const order = present(record, sortOrderId);
    if (order !== undefined) out.sortOrderId = order as number;
    const referenced = present(record, referencedDataFile);
    if (referenced !== undefined) out.referencedDataFile = referenced as string;
    return out;
  };
}

function present(record: AvroRecord, name: string | undefined): AvroDatum | undefined {
  if (name === undefined) return undefined;
  const value = record[name];
  return value === null || value === undefined ? undefined : value;
}

/** Reads an int-keyed map column: an array of key/value records (or, from lenient writers, an Avro map). */
type MapReader<V> = (record: AvroRecord) => Map<number, V> | undefined;

function mapReader<V>(file: WriterRecord, named: Map<string, AvroSchema>, id: number, name: string): MapReader<V> {
  const field = file.field(id, name);
  if (!field) return () => undefined;
  const resolved = resolveNamed(optionalBranch(field.type) ?? field.type, named);
  const isAvroMap = typeof resolved === 'object' && !Array.isArray(resolved) && resolved.type === 'map';
  // The spec fixes the layout, not the names: the entry record's first field is the key, the second the value.
  const entry = isAvroMap ? undefined : elementRecordOf(field.type, named, name);
  const keyName = entry?.fields[0]?.name ?? 'key';
  const valueName = entry?.fields[1]?.name ?? 'value';
  return (record) => {
    const value = record[field.name];
    if (value === null || value === undefined) return undefined;
    const out = new Map<number, V>();
    if (value instanceof Map) {
      for (const [k, v] of value) out.set(Number(k), v as V);
    } else {
      for (const item of value as AvroRecord[]) out.set(item[keyName] as number, item[valueName] as V);
    }
    return out;
  };
}
