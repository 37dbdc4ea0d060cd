/**
 * Writes row-level delete files as Parquet through the data-file writer: position delete files (`file_path`,
 * `pos` with the reserved field ids, sorted by file then position, as the spec requires) and equality delete
 * files (the equality columns of the deleted rows, with the table's field ids). The DataFile records returned
 * carry the delete content, so a row delta lists them in a delete manifest.
 */
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../../errors';
import type { FileIO } from '../io/file-io';
import { DataFileWriter } from '../parquet/data-file-writer';
import { POSITION_DELETE_SCHEMA, equalityDeleteSchema } from '../spec/delete-files';
import { type DataFile, DataFileContent } from '../spec/manifest';
import { partitionPath } from '../spec/partition-path';
import { partitionType } from '../spec/partition-type';
import type { Schema } from '../spec/schema';
import { type TableMetadata, currentSchema, specById } from '../spec/table-metadata';
import type { Row, Value } from '../spec/values';

/** One deleted row: the data file's location exactly as its manifest entry spells it, and the row's position. */
export interface PositionDelete {
  filePath: string;
  pos: bigint;
}

/** Where and under which partition a delete file is written. */
export interface DeleteFileOptions {
  /** Partition tuple of the data files the deletes apply to (empty for an unpartitioned spec). */
  partition?: Value[];
  /** Spec of that partition tuple; the table's default spec when absent. */
  specId?: number;
  /** Start of the file name; a fresh uuid by default. Callers put a run or batch id here. */
  filePrefix?: string;
}

/**
 * Writes one position delete file for `deletes` (sorted and de-duplicated here) and returns its DataFile. When
 * every delete points into one data file, the file says so (referenced_data_file), so readers skip it elsewhere.
 */
export async function writePositionDeletes(
  io: FileIO,
  metadata: TableMetadata,
  deletes: readonly PositionDelete[],
  options: DeleteFileOptions = {},
): Promise<DataFile> {
  if (deletes.length === 0) throw new ValidationError('a position delete file needs at least one delete');
  const sorted = [...deletes].sort((a, b) => (a.filePath < b.filePath ? -1 : a.filePath > b.filePath ? 1 : a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : 0));
  const rows: Row[] = [];
  for (const d of sorted) {
    if (d.pos < 0n) throw new ValidationError(`position ${d.pos} in ${d.filePath} is negative`);
    const last = rows[rows.length - 1];
    if (last && last[0] === d.filePath && last[1] === d.pos) continue;
    rows.push([d.filePath, d.pos]);
  }
  // Exact file_path bounds: a reader whose lower and upper bound are equal knows the one file the deletes touch.
  const file = await writeOne(io, metadata, POSITION_DELETE_SCHEMA, rows, options, 'pos-deletes', 1 << 20);
  const paths = new Set(rows.map((r) => r[0] as string));
  const out: DataFile = { ...file, content: DataFileContent.PositionDeletes };
  if (paths.size === 1) out.referencedDataFile = sorted[0]!.filePath;
  return out;
}

/**
 * Writes one equality delete file: every data row older than the file whose values in the `equalityIds` columns
 * equal one of `rows` (null matching null) is deleted. `rows` hold those columns only, in schema order.
 */
export async function writeEqualityDeletes(
  io: FileIO,
  metadata: TableMetadata,
  equalityIds: readonly number[],
  rows: readonly Row[],
  options: DeleteFileOptions = {},
): Promise<DataFile> {
  if (rows.length === 0) throw new ValidationError('an equality delete file needs at least one row');
  const schema = equalityDeleteSchema(currentSchema(metadata), equalityIds);
  for (const field of schema.fields) {
    // Floating-point equality is not a key: NaN and -0.0 would match differently in different readers.
    if (field.type === 'float' || field.type === 'double') throw new ValidationError(`equality field ${field.name} must not be floating point`);
  }
  const file = await writeOne(io, metadata, schema, rows, options, 'eq-deletes', undefined);
  return { ...file, content: DataFileContent.EqualityDeletes, equalityIds: schema.fields.map((f) => f.id) };
}

async function writeOne(
  io: FileIO,
  metadata: TableMetadata,
  schema: Schema,
  rows: readonly Row[],
  options: DeleteFileOptions,
  kind: string,
  boundLength: number | undefined,
): Promise<DataFile> {
  const spec = specById(metadata, options.specId ?? metadata['default-spec-id']);
  const partition = options.partition ?? [];
  if (partition.length !== spec.fields.length) {
    throw new ValidationError(`the partition tuple has ${partition.length} values; spec ${spec['spec-id']} has ${spec.fields.length} fields`);
  }
  const folder =
    spec.fields.length === 0
      ? `${metadata.location}/data`
      : `${metadata.location}/data/${partitionPath(spec, partitionType(spec, currentSchema(metadata)), partition)}`;
  const location = `${folder}/${options.filePrefix ?? randomUUID()}-${kind}.parquet`;
  // One file whatever its size: a delete file is read whole by every reader it applies to.
  const writer = new DataFileWriter({
    io,
    schema,
    partition,
    newLocation: () => location,
    targetFileSizeInBytes: Number.MAX_SAFE_INTEGER,
    ...(boundLength === undefined ? {} : { boundLength }),
  });
  try {
    await writer.writeRows([...rows]);
    const files = await writer.close();
    return files[0]!;
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
