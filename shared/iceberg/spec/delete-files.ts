/**
 * Row-level delete files (spec "Delete Formats"): the reserved schema of position delete files, the schema of an
 * equality delete file, and the rules that say which delete files apply to which data file (spec "Scan Planning").
 */
import { ValidationError } from '../../errors';
import { type DataFile, DataFileContent } from './manifest';
import type { PartitionSpec } from './partition-spec';
import type { Schema } from './schema';
import type { NestedField } from './types';

/** Reserved field id of `file_path` in position delete files. */
export const DELETE_FILE_PATH_FIELD_ID = 2147483546;
/** Reserved field id of `pos` in position delete files. */
export const DELETE_FILE_POS_FIELD_ID = 2147483545;

/** The schema every position delete file is written with: the data file's location and the row's position in it. */
export const POSITION_DELETE_SCHEMA: Schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: DELETE_FILE_PATH_FIELD_ID, name: 'file_path', required: true, type: 'string' },
    { id: DELETE_FILE_POS_FIELD_ID, name: 'pos', required: true, type: 'long' },
  ],
};

/** A delete file as a scan sees it: the file, its data sequence number and the spec it was written with. */
export interface DeleteFileEntry {
  file: DataFile;
  /** Data sequence number of the delete file. */
  sequenceNumber: bigint;
  specId: number;
  /** True when that spec has no partition fields: the delete then applies across every partition. */
  global: boolean;
}

/** A data file as a scan sees it, for the purpose of matching delete files to it. */
export interface DataFileRef {
  file: DataFile;
  sequenceNumber: bigint;
  specId: number;
}

/**
 * Whether a delete file applies to a data file. Position deletes apply to data files with a data sequence number
 * <= their own, equality deletes to those with one strictly <; both only in the same partition (spec id and
 * values) unless the delete's spec is unpartitioned. A position delete naming its one data file applies to no other.
 */
export function deleteApplies(deletion: DeleteFileEntry, data: DataFileRef): boolean {
  const { file } = deletion;
  if (file.content === DataFileContent.PositionDeletes) {
    if (deletion.sequenceNumber < data.sequenceNumber) return false;
    if (file.referencedDataFile !== undefined && file.referencedDataFile !== data.file.filePath) return false;
  } else if (file.content === DataFileContent.EqualityDeletes) {
    if (deletion.sequenceNumber <= data.sequenceNumber) return false;
  } else {
    return false;
  }
  if (deletion.global) return true;
  return deletion.specId === data.specId && samePartition(file.partition, data.file.partition);
}

/**
 * Whether a delete file written with this spec applies across partitions: the spec has no fields. As in the Java
 * implementation, a spec of void fields still ties its deletes to the spec (their data files' values are null too).
 */
export function isUnpartitioned(spec: PartitionSpec): boolean {
  return spec.fields.length === 0;
}

/** The schema of an equality delete file: the table's top-level primitive fields with these ids, in schema order. */
export function equalityDeleteSchema(schema: Schema, equalityIds: readonly number[]): Schema {
  if (equalityIds.length === 0) throw new ValidationError('an equality delete needs at least one equality field id');
  const fields: NestedField[] = [];
  for (const id of equalityIds) {
    const field = schema.fields.find((f) => f.id === id);
    // Nested equality fields are allowed by the spec; neither our writer nor our reader builds keys from them yet.
    if (!field) throw new ValidationError(`equality field id ${id} is not a top-level column of schema ${schema['schema-id']}`);
    if (typeof field.type !== 'string') throw new ValidationError(`equality field ${field.name} must be a primitive column, not ${field.type.type}`);
    fields.push(field);
  }
  return { type: 'struct', 'schema-id': schema['schema-id'], fields: [...new Set(fields)].sort((a, b) => schema.fields.indexOf(a) - schema.fields.indexOf(b)) };
}

function samePartition(a: DataFile['partition'], b: DataFile['partition']): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x instanceof Uint8Array && y instanceof Uint8Array) {
      if (Buffer.compare(x, y) !== 0) return false;
    } else if (x !== y) return false;
  }
  return true;
}
