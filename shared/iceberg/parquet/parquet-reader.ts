/**
 * Reading Parquet data files: the footer, and rows of a projection schema matched to the file by field id,
 * one row group at a time (only the projected column chunks are fetched).
 */
import { ValidationError } from '../../errors';
import type { FileIO } from '../io/file-io';
import type { ColumnMetrics } from '../spec/evaluators';
import type { Schema } from '../spec/schema';
import type { Row } from '../spec/values';
import { parseFileSchema } from './file-schema';
import { ColumnChunkReader } from './page-decoder';
import { type ColumnMetaData, type FileMetaData, decodeFileMetaData } from './parquet-thrift';
import { ProjectionPlan } from './record-assembler';
import { RowGroupMetrics } from './row-group-metrics';

/** A file's footer and size. */
export interface ParquetFooter {
  fileSize: number;
  metadata: FileMetaData;
}

/** Options of readParquetFooter. */
export interface ReadParquetFooterOptions {
  abortSignal?: AbortSignal;
}

/** Options of readDataFile. */
export interface ReadDataFileOptions {
  /**
   * Rows per yielded batch (default 1,000); a batch never spans row groups. Small batches die young: with 10,000
   * rows a batch outlived the young generation, and verification's scans spent twice as long in the collector.
   */
  batchSize?: number;
  /**
   * 64-bit integers (long, time, timestamps, decimals stored as INT32 or INT64) as a number when they are safe
   * integers and as a bigint otherwise, as the copy's decoder returns them, instead of always a bigint: for callers
   * whose code takes both (verification), which then skip a BigInt per value.
   */
  safeIntegers?: boolean;
  /**
   * The same row arrays batch after batch, each batch's rows valid until the next batch is asked for: for callers
   * that are done with a batch before they ask for the next and keep no row (verification), which then skip an
   * array per row and its collection.
   */
  reuseRows?: boolean;
  /**
   * Row groups are read only when this returns true of their column metrics (row-group-metrics.ts): a scan's
   * filter evaluated on them (InclusiveMetricsEvaluator) skips the row groups no row of which can match. The rows
   * of a skipped row group are not yielded at all, so a caller counting row positions must not skip any.
   */
  keepRowGroup?: (metrics: ColumnMetrics) => boolean;
  abortSignal?: AbortSignal;
}

const MAGIC = 'PAR1';
/** Bytes read from the end in one request, enough for most footers. */
const FOOTER_GUESS = 64 * 1024;

/** Reads and parses the footer (file metadata) of a Parquet file. */
export async function readParquetFooter(io: FileIO, location: string, options: ReadParquetFooterOptions = {}): Promise<ParquetFooter> {
  const signal = options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal };
  const info = await io.stat(location, signal);
  if (!info) throw new ValidationError(`Parquet file ${location} does not exist`);
  const fileSize = info.size;
  if (fileSize < 12) throw new ValidationError(`${location} is too small to be a Parquet file (${fileSize} bytes)`);
  const guess = Math.min(fileSize, FOOTER_GUESS);
  const tail = await io.readRange(location, fileSize - guess, guess, signal);
  const end = Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength);
  if (end.toString('latin1', guess - 4) !== MAGIC) throw new ValidationError(`${location} does not end with the Parquet magic bytes`);
  const footerLength = end.readUInt32LE(guess - 8);
  if (footerLength + 12 > fileSize) throw new ValidationError(`${location}: footer length ${footerLength} exceeds the file`);
  const footer =
    footerLength + 8 <= guess
      ? tail.subarray(guess - 8 - footerLength, guess - 8)
      : await io.readRange(location, fileSize - 8 - footerLength, footerLength, signal);
  try {
    return { fileSize, metadata: decodeFileMetaData(footer) };
  } catch (error) {
    throw new ValidationError(`${location}: unreadable Parquet footer: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Offset of a column chunk's first page (its dictionary page when it has one). */
function chunkStart(meta: ColumnMetaData): number {
  const dictionary = meta.dictionary_page_offset;
  // Some writers record 0 for "no dictionary"; a real dictionary page always precedes the data pages.
  return dictionary !== undefined && dictionary > 0 && dictionary < meta.data_page_offset ? dictionary : meta.data_page_offset;
}

/**
 * Reads the rows of a data file as `projection` (fields matched by id; absent fields are null; promoted types read
 * as the projection's type), in batches of at most `batchSize` rows.
 */
export async function* readDataFile(io: FileIO, location: string, projection: Schema, options: ReadDataFileOptions = {}): AsyncIterable<Row[]> {
  const batchSize = options.batchSize ?? 1_000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValidationError(`batchSize must be a positive integer, got ${batchSize}`);
  const signal = options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal };
  const { metadata } = await readParquetFooter(io, location, options);
  const fileSchema = parseFileSchema(metadata.schema);
  const plan = new ProjectionPlan(projection, fileSchema, options.safeIntegers === true, options.reuseRows === true);
  const keep = options.keepRowGroup;
  const metrics = keep && new RowGroupMetrics(projection, fileSchema);
  for (const group of metadata.row_groups) {
    const rows = group.num_rows;
    if (rows === 0 || (metrics && !keep(metrics.of(group)))) continue;
    const readers: ColumnChunkReader[] = [];
    for (const { leafIndex, spec } of plan.columns) {
      const chunk = group.columns[leafIndex];
      const meta = chunk?.meta_data;
      if (!meta) throw new ValidationError(`${location}: row group has no metadata for column ${spec.path}`);
      if (chunk.file_path) throw new ValidationError(`${location}: column chunks in other files are not supported`);
      const bytes = await io.readRange(location, chunkStart(meta), meta.total_compressed_size, signal);
      readers.push(new ColumnChunkReader(bytes, meta, spec));
    }
    plan.bind(readers);
    for (let done = 0; done < rows;) {
      let batch: Row[];
      try {
        batch = plan.readRows(Math.min(batchSize, rows - done));
        done += batch.length;
        if (done === rows) plan.verifyConsumed();
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        throw new ValidationError(`${location}: ${error.message}`, { cause: error });
      }
      yield batch;
    }
  }
}
