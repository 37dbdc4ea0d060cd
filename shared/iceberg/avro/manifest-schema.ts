/**
 * Avro schemas of manifests (`manifest_entry`, spec "Manifests") and manifest lists (`manifest_file`, spec
 * "Manifest Lists") for format v2, named and ordered as the Java implementation writes them, and the
 * look-ups readers use to find a writer's fields by field id.
 */
import { ValidationError } from '../../errors';
import type { StructType } from '../spec/types';
import { type AvroArraySchema, type AvroField, type AvroRecordSchema, type AvroSchema, avroSchemaForType, optionalBranch, resolveNamed } from './avro-schema';
import { corruptAvro } from './binary';

function required(id: number, name: string, type: AvroSchema): AvroField {
  return { name, type, 'field-id': id };
}

function optionalField(id: number, name: string, type: AvroSchema): AvroField {
  return { name, type: ['null', type], default: null, 'field-id': id };
}

function intKeyedMap(keyId: number, valueId: number, valueType: AvroSchema): AvroArraySchema {
  return {
    type: 'array',
    logicalType: 'map',
    items: {
      type: 'record',
      name: `k${keyId}_v${valueId}`,
      fields: [required(keyId, 'key', 'int'), required(valueId, 'value', valueType)],
    },
  };
}

function list(elementId: number, items: AvroSchema): AvroArraySchema {
  return { type: 'array', items, 'element-id': elementId };
}

/** The v2 `manifest_entry` schema for a partition type whose fields carry the partition field ids. */
export function manifestEntrySchema(partitionType: StructType): AvroRecordSchema {
  const partition = avroSchemaForType(partitionType, 'r102');
  const dataFile: AvroRecordSchema = {
    type: 'record',
    name: 'r2',
    fields: [
      required(134, 'content', 'int'),
      required(100, 'file_path', 'string'),
      required(101, 'file_format', 'string'),
      required(102, 'partition', partition),
      required(103, 'record_count', 'long'),
      required(104, 'file_size_in_bytes', 'long'),
      optionalField(108, 'column_sizes', intKeyedMap(117, 118, 'long')),
      optionalField(109, 'value_counts', intKeyedMap(119, 120, 'long')),
      optionalField(110, 'null_value_counts', intKeyedMap(121, 122, 'long')),
      optionalField(137, 'nan_value_counts', intKeyedMap(138, 139, 'long')),
      optionalField(125, 'lower_bounds', intKeyedMap(126, 127, 'bytes')),
      optionalField(128, 'upper_bounds', intKeyedMap(129, 130, 'bytes')),
      optionalField(131, 'key_metadata', 'bytes'),
      optionalField(132, 'split_offsets', list(133, 'long')),
      optionalField(135, 'equality_ids', list(136, 'int')),
      optionalField(140, 'sort_order_id', 'int'),
      optionalField(143, 'referenced_data_file', 'string'),
    ],
  };
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      required(0, 'status', 'int'),
      optionalField(1, 'snapshot_id', 'long'),
      optionalField(3, 'sequence_number', 'long'),
      optionalField(4, 'file_sequence_number', 'long'),
      required(2, 'data_file', dataFile),
    ],
  };
}

/** The v2 `manifest_file` schema of manifest lists. */
export function manifestFileSchema(): AvroRecordSchema {
  const fieldSummary: AvroRecordSchema = {
    type: 'record',
    name: 'r508',
    fields: [
      required(509, 'contains_null', 'boolean'),
      optionalField(518, 'contains_nan', 'boolean'),
      optionalField(510, 'lower_bound', 'bytes'),
      optionalField(511, 'upper_bound', 'bytes'),
    ],
  };
  return {
    type: 'record',
    name: 'manifest_file',
    fields: [
      required(500, 'manifest_path', 'string'),
      required(501, 'manifest_length', 'long'),
      required(502, 'partition_spec_id', 'int'),
      required(517, 'content', 'int'),
      required(515, 'sequence_number', 'long'),
      required(516, 'min_sequence_number', 'long'),
      required(503, 'added_snapshot_id', 'long'),
      required(504, 'added_files_count', 'int'),
      required(505, 'existing_files_count', 'int'),
      required(506, 'deleted_files_count', 'int'),
      required(512, 'added_rows_count', 'long'),
      required(513, 'existing_rows_count', 'long'),
      required(514, 'deleted_rows_count', 'long'),
      optionalField(507, 'partitions', list(508, fieldSummary)),
      optionalField(519, 'key_metadata', 'bytes'),
    ],
  };
}

/**
 * A writer's record schema with its fields found by Iceberg field id, falling back to names for files
 * written without ids (or by older writers that named fields differently).
 */
export class WriterRecord {
  private readonly byId = new Map<number, AvroField>();
  private readonly byName = new Map<string, AvroField>();

  constructor(readonly schema: AvroRecordSchema) {
    for (const field of schema.fields) {
      const id = field['field-id'];
      if (typeof id === 'number') this.byId.set(id, field);
      this.byName.set(field.name, field);
    }
  }

  /** The writer field for an id, or undefined when the file does not have it. */
  field(id: number, ...names: string[]): AvroField | undefined {
    const found = this.byId.get(id);
    if (found) return found;
    for (const name of names) {
      const field = this.byName.get(name);
      // A field carrying a different id is another column that happens to share the name.
      if (field && (field['field-id'] === undefined || field['field-id'] === id)) return field;
    }
    return undefined;
  }

  /** The writer field name for an id, or undefined when the file does not have it. */
  name(id: number, ...names: string[]): string | undefined {
    return this.field(id, ...names)?.name;
  }

  /** The writer field name for an id; throws naming the field when the file does not have it. */
  requireName(id: number, ...names: string[]): string {
    const name = this.name(id, ...names);
    if (name === undefined) throw corruptAvro(`record ${this.schema.name} has no field ${id} (${names[0] ?? '?'})`);
    return name;
  }
}

/** The record schema of a field's type, looking through a [null, T] union and named references. */
export function recordOf(schema: AvroSchema, named: Map<string, AvroSchema>, what: string): AvroRecordSchema {
  const resolved = resolveNamed(optionalBranch(schema) ?? schema, named);
  if (typeof resolved !== 'object' || Array.isArray(resolved) || resolved.type !== 'record') {
    throw corruptAvro(`${what} is not a record in the writer schema`);
  }
  return resolved;
}

/** The record schema of a list's elements, looking through [null, T] unions and named references. */
export function elementRecordOf(schema: AvroSchema, named: Map<string, AvroSchema>, what: string): AvroRecordSchema {
  const resolved = resolveNamed(optionalBranch(schema) ?? schema, named);
  if (typeof resolved !== 'object' || Array.isArray(resolved) || resolved.type !== 'array') {
    throw corruptAvro(`${what} is not an array in the writer schema`);
  }
  return recordOf(resolved.items, named, `${what} element`);
}

/** Checks the partition type matches the spec: same number of fields, same field ids, in order. */
export function checkPartitionType(partitionType: StructType, specFieldIds: number[]): void {
  const ids = partitionType.fields.map((f) => f.id);
  if (ids.length !== specFieldIds.length || ids.some((id, i) => id !== specFieldIds[i])) {
    throw new ValidationError(`partition type field ids [${ids.join(', ')}] do not match the partition spec's field ids [${specFieldIds.join(', ')}]`);
  }
  for (const field of partitionType.fields) {
    if (typeof field.type !== 'string') throw new ValidationError(`partition field ${field.name} must have a primitive type`);
  }
}
