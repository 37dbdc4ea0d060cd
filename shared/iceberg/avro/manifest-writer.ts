/** Writes v2 manifests: Avro container files of `manifest_entry` records (spec "Manifests"). */
import { ValidationError } from '../../errors';
import { type DataFile, DataFileContent, type ManifestEntry, ManifestContent, ManifestEntryStatus, UNASSIGNED_SEQUENCE_NUMBER } from '../spec/manifest';
import type { PartitionSpec } from '../spec/partition-spec';
import type { Schema } from '../spec/schema';
import type { StructType } from '../spec/types';
import { stringifyJson } from '../spec/json';
import { type AvroRecordSchema, namedTypes } from './avro-schema';
import { type AvroCodecName, writeContainer } from './container';
import type { AvroDatum, AvroRecord } from './datum';
import { checkPartitionType, manifestEntrySchema } from './manifest-schema';
import { type PartitionValueConverter, partitionValueConverter } from './partition-values';

/** Options of {@link writeManifest}. */
export interface WriteManifestOptions {
  /** The table schema the files were written with (stored in the header). */
  schema: Schema;
  /** The partition spec the files were written with. */
  spec: PartitionSpec;
  /** The spec's partition type; its field ids are the partition field ids. */
  partitionType: StructType;
  /** Whether the manifest tracks data files or delete files. */
  content: ManifestContent;
  /** Block compression; deflate by default. */
  codec?: AvroCodecName;
}

/** Encodes manifest entries as a v2 manifest file. */
export function writeManifest(entries: ManifestEntry[], options: WriteManifestOptions): Uint8Array {
  const { schema, spec, partitionType, content } = options;
  checkPartitionType(
    partitionType,
    spec.fields.map((f) => f['field-id']),
  );
  if (content !== ManifestContent.Data && content !== ManifestContent.Deletes) {
    throw new ValidationError(`manifest content must be 0 (data) or 1 (deletes), got ${String(content)}`);
  }
  const avroSchema = manifestEntrySchema(partitionType);
  const toPartition = partitionEncoder(avroSchema, partitionType);
  const records = entries.map((entry, i) => entryRecord(entry, content, toPartition, i));
  return writeContainer(avroSchema, records, {
    codec: options.codec ?? 'deflate',
    metadata: {
      schema: stringifyJson(schema),
      'schema-id': String(schema['schema-id']),
      'partition-spec': stringifyJson(spec.fields),
      'partition-spec-id': String(spec['spec-id']),
      'format-version': '2',
      content: content === ManifestContent.Data ? 'data' : 'deletes',
    },
  });
}

type PartitionEncoder = (values: DataFile['partition'], where: string) => AvroRecord;

function partitionEncoder(entrySchema: AvroRecordSchema, partitionType: StructType): PartitionEncoder {
  const named = namedTypes(entrySchema);
  const partition = named.get('r102') as AvroRecordSchema;
  const names = partition.fields.map((f) => f.name);
  const converters: PartitionValueConverter[] = partition.fields.map((f, i) => partitionValueConverter(f.type, named, partitionType.fields[i]!.name));
  return (values, where) => {
    if (!Array.isArray(values) || values.length !== names.length) {
      throw new ValidationError(`${where}: partition has ${Array.isArray(values) ? values.length : 'no'} values, the spec has ${names.length} fields`);
    }
    const out: AvroRecord = {};
    for (let i = 0; i < names.length; i++) out[names[i]!] = converters[i]!.toDatum(values[i]!);
    return out;
  };
}

function sequenceNumber(entry: ManifestEntry, value: bigint | null, field: string, where: string): bigint | null {
  const unassigned = value === null || value === UNASSIGNED_SEQUENCE_NUMBER;
  if (!unassigned) return value;
  // Spec: only added entries inherit; existing and deleted entries keep the numbers they were given.
  if (entry.status === ManifestEntryStatus.Added) return null;
  throw new ValidationError(`${where}: ${field} is required for an entry with status ${ManifestEntryStatus[entry.status]}`);
}

function entryRecord(entry: ManifestEntry, content: ManifestContent, toPartition: PartitionEncoder, index: number): AvroRecord {
  const file = entry.dataFile;
  const where = `manifest entry ${index} (${file?.filePath ?? 'no data file'})`;
  if (entry.status !== ManifestEntryStatus.Existing && entry.status !== ManifestEntryStatus.Added && entry.status !== ManifestEntryStatus.Deleted) {
    throw new ValidationError(`${where}: invalid status ${String(entry.status)}`);
  }
  const isData = file.content === DataFileContent.Data;
  if (file.content === DataFileContent.EqualityDeletes && (file.equalityIds === undefined || file.equalityIds.length === 0)) {
    throw new ValidationError(`${where}: an equality delete file needs its equality field ids`);
  }
  if (file.content !== DataFileContent.PositionDeletes && file.referencedDataFile !== undefined) {
    throw new ValidationError(`${where}: only a position delete file refers to a data file`);
  }
  if (isData !== (content === ManifestContent.Data)) {
    throw new ValidationError(
      `${where}: a ${isData ? 'data' : 'delete'} file cannot be listed in a ${content === ManifestContent.Data ? 'data' : 'delete'} manifest`,
    );
  }
  return {
    status: entry.status,
    snapshot_id: entry.snapshotId ?? null,
    sequence_number: sequenceNumber(entry, entry.sequenceNumber, 'sequenceNumber', where),
    file_sequence_number: sequenceNumber(entry, entry.fileSequenceNumber, 'fileSequenceNumber', where),
    data_file: dataFileRecord(file, toPartition, where),
  };
}

function dataFileRecord(file: DataFile, toPartition: PartitionEncoder, where: string): AvroRecord {
  return {
    content: file.content,
    file_path: file.filePath,
    file_format: file.fileFormat,
    partition: toPartition(file.partition, where),
    record_count: file.recordCount,
    file_size_in_bytes: file.fileSizeInBytes,
    column_sizes: mapEntries(file.columnSizes),
    value_counts: mapEntries(file.valueCounts),
    null_value_counts: mapEntries(file.nullValueCounts),
    nan_value_counts: mapEntries(file.nanValueCounts),
    lower_bounds: mapEntries(file.lowerBounds),
    upper_bounds: mapEntries(file.upperBounds),
    key_metadata: file.keyMetadata ?? null,
    split_offsets: file.splitOffsets ?? null,
    equality_ids: file.equalityIds ?? null,
    sort_order_id: file.sortOrderId ?? null,
    referenced_data_file: file.referencedDataFile ?? null,
  };
}

/** A field-id keyed map as the array of key/value records the spec's Avro mapping requires. */
function mapEntries(map: Map<number, AvroDatum> | undefined): AvroRecord[] | null {
  if (map === undefined || map === null) return null;
  const out: AvroRecord[] = [];
  for (const [key, value] of map) out.push({ key, value });
  return out;
}
