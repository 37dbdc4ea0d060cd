/**
 * The rolling Parquet data-file writer. Rows are shredded synchronously into per-column page buffers; full pages
 * are compressed at once; a row group is flushed to the FileIO output stream when the buffered bytes reach the
 * row-group size, and a new file is started when the current one reaches the target size. Memory is therefore
 * bounded by the row-group size (plus one open page per column) however many rows are written, provided callers
 * await the promise `write` returns when it flushes.
 */
import { ValidationError } from '../../errors';
import type { FileIO, OutputStream } from '../io/file-io';
import { stringifyJson } from '../spec/json';
import { type DataFile, DataFileContent } from '../spec/manifest';
import type { Schema } from '../spec/schema';
import type { ColumnBatch } from '../spec/column-batch';
import type { Row, Value } from '../spec/values';
import { ByteBuffer } from './byte-buffer';
import type { ColumnChunkResult, ColumnWriter, PageContext } from './column-writer';
import { FileMetricsCollector, chunkStatistics } from './metrics';
import { type LeafColumn, toParquetSchema } from './parquet-schema';
import { type ColumnChunk, CompressionCodec, Encoding, type FileMetaData, type RowGroup, type SchemaElement, encodeFileMetaData } from './parquet-thrift';
import { createPageCompressor } from './compression';
import { RowShredder } from './shredder';
import { createColumnWriter } from './value-columns';

/** Written into every footer's created_by; keep in step with package.json. */
export const CREATED_BY = 'icebridge version 0.1.0';

/** The four bytes that open and close every Parquet file. */
export const PARQUET_MAGIC = Buffer.from('PAR1', 'latin1');

const MIB = 1024 * 1024;
/** Row-group size when none is given: bounds one writer's memory. */
export const DEFAULT_ROW_GROUP_SIZE_IN_BYTES = 32 * MIB;
/**
 * Rows per row group when no limit is given, as DuckDB writes them. A reader skips a row group whose column
 * statistics rule out its filter (readDataFile's `keepRowGroup`), so a row group is the smallest piece a key range
 * reads of a file whose keys reach into the next range's; one row group per file meant the whole file.
 */
export const DEFAULT_ROW_GROUP_ROWS = 122_880;
/** Bytes handed to the output stream per write, so small page buffers do not each cost a system call. */
const WRITE_BATCH_BYTES = 4 * MIB;
/** Rows between checks of page fullness and buffered bytes. */
const CHECK_INTERVAL_ROWS = 8;

/** Options of a DataFileWriter. */
export interface DataFileWriterOptions {
  io: FileIO;
  schema: Schema;
  /** A fresh, unique location for each data file this writer starts. */
  newLocation(): string;
  /** Partition tuple recorded on every DataFile (default: unpartitioned). */
  partition?: Value[];
  /** Start a new file once the current one reaches this size (default 128 MiB). */
  targetFileSizeInBytes?: number;
  /** Buffered bytes at which a row group is flushed; bounds memory (default 32 MiB). */
  rowGroupSizeInBytes?: number;
  /** Rows at which a row group is flushed, whatever its bytes (default DEFAULT_ROW_GROUP_ROWS). */
  rowGroupRows?: number;
  /** Uncompressed value bytes per page (default 1 MiB). */
  pageSizeInBytes?: number;
  /** Page compression (default zstd). */
  compression?: 'zstd' | 'uncompressed';
  /** zstd level (default 3). */
  zstdLevel?: number;
  /** Length of string (code points) and binary (bytes) lower/upper bounds in the metrics (default 16). */
  boundLength?: number;
}

interface OpenFile {
  location: string;
  /** Size the file will have once every scheduled row group is written. */
  planned: number;
  rows: number;
  rowGroups: RowGroup[];
  metrics: FileMetricsCollector;
  out?: OutputStream;
}

/** Writes rows into one or more Parquet data files and reports them as Iceberg DataFile records. */
export class DataFileWriter {
  private readonly options: DataFileWriterOptions;
  private readonly elements: SchemaElement[];
  private readonly leaves: LeafColumn[];
  private readonly columns: ColumnWriter[];
  private readonly shredder: RowShredder;
  private readonly codec: CompressionCodec;
  private readonly targetFileSize: number;
  private readonly rowGroupSize: number;
  private readonly rowGroupRows: number;
  private readonly schemaJson: string;

  private file: OpenFile | undefined;
  private readonly finished: DataFile[] = [];
  private readonly opened: OutputStream[] = [];
  private pending: Promise<void> = Promise.resolve();
  private failure: unknown;
  private closed = false;
  /** close() finished: the files are the caller's and abort() must not touch them. */
  private completed = false;

  private rowsInGroup = 0;
  private totalRows = 0;
  private bytesFlushed = 0;
  private lastBuffered = 0;
  private largestGrowth = 0;
  private rowsUntilCheck: number;
  private peakBuffered = 0;

  constructor(options: DataFileWriterOptions) {
    this.options = options;
    const { elements, leaves } = toParquetSchema(options.schema);
    this.elements = elements;
    this.leaves = leaves;
    const compression = options.compression ?? 'zstd';
    if (compression !== 'zstd' && compression !== 'uncompressed') throw new ValidationError(`unsupported compression ${String(compression)}`);
    this.codec = compression === 'zstd' ? CompressionCodec.ZSTD : CompressionCodec.UNCOMPRESSED;
    const context: PageContext = {
      compress: createPageCompressor(this.codec, options.zstdLevel ?? 3),
      body: new ByteBuffer(64 * 1024),
      header: new ByteBuffer(256),
    };
    const pageSize = positive(options.pageSizeInBytes ?? MIB, 'pageSizeInBytes');
    this.targetFileSize = positive(options.targetFileSizeInBytes ?? 128 * MIB, 'targetFileSizeInBytes');
    this.rowGroupSize = positive(options.rowGroupSizeInBytes ?? DEFAULT_ROW_GROUP_SIZE_IN_BYTES, 'rowGroupSizeInBytes');
    this.rowGroupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
    if (!Number.isSafeInteger(this.rowGroupRows) || this.rowGroupRows < 1)
      throw new ValidationError(`rowGroupRows must be a positive integer, got ${this.rowGroupRows}`);
    this.rowsUntilCheck = this.rowsToNextCheck();
    this.columns = leaves.map((leaf) => createColumnWriter(leaf, context, pageSize));
    this.shredder = new RowShredder(options.schema, this.columns);
    this.schemaJson = stringifyJson(options.schema);
  }

  /** Rows accepted so far. */
  get rowsWritten(): number {
    return this.totalRows;
  }

  /** Bytes of finished row groups and files plus what is buffered for the current row group. */
  get bytesWritten(): number {
    return this.bytesFlushed + this.bufferedBytes;
  }

  /** Bytes held in memory for the row group being built (an internal gauge, for tests and telemetry). */
  get bufferedBytes(): number {
    let total = 0;
    for (const column of this.columns) total += column.bufferedBytes();
    return total;
  }

  /** The largest `bufferedBytes` seen just before a flush decision (an internal gauge). */
  get peakBufferedBytes(): number {
    return this.peakBuffered;
  }

  /**
   * Adds one row (values in top-level field order). Returns nothing on the fast path; returns a promise when the
   * row completed a row group, which the caller should await before writing more (that is the back-pressure).
   * An invalid value throws a ValidationError naming the column; the writer is then unusable and must be aborted.
   */
  write(row: Row): Promise<void> | void {
    this.checkWritable();
    try {
      this.shredder.writeRow(row);
    } catch (error) {
      // Other columns may already hold part of this row, so the buffered data can no longer be trusted.
      this.failure = error;
      throw error;
    }
    this.rowsInGroup++;
    this.totalRows++;
    // Page and row-group limits are checked every few rows: the sums over all columns are the costliest part
    // of a row otherwise, and a page may overshoot its (soft) size by a few rows.
    if (--this.rowsUntilCheck > 0) return undefined;
    return this.checkLimits();
  }

  /**
   * Adds `rows[from..]` as `write` adds each, and in the same pages and row groups, a column at a time between
   * two checks of the limits: a column's writer takes a run of values in one call. Returns a promise when a row
   * group was flushed, which settles once the rest of the rows are written too (await it before writing more).
   */
  writeBatch(rows: readonly Row[], from = 0): Promise<void> | void {
    return this.writeRuns(rows.length, from, (start, end) => this.shredder.writeRows(rows, start, end));
  }

  /** writeBatch of the rows of a column batch (column-batch.ts), one vector per top-level field. */
  writeColumns(batch: ColumnBatch, from = 0): Promise<void> | void {
    return this.writeRuns(batch.rows, from, (start, end) => this.shredder.writeColumns(batch.columns, start, end));
  }

  /** Rows [from, count) written by `write` in runs between two checks of the limits (see writeBatch). */
  private writeRuns(count: number, from: number, write: (from: number, to: number) => void): Promise<void> | void {
    this.checkWritable();
    let next = from;
    while (next < count) {
      const to = Math.min(count, next + this.rowsUntilCheck);
      try {
        write(next, to);
      } catch (error) {
        this.failure = error;
        throw error;
      }
      this.rowsInGroup += to - next;
      this.totalRows += to - next;
      this.rowsUntilCheck -= to - next;
      next = to;
      if (this.rowsUntilCheck > 0) break;
      const flushed = this.checkLimits();
      if (flushed) return next < count ? flushed.then(() => this.writeRuns(count, next, write)) : flushed;
    }
    return undefined;
  }

  private checkWritable(): void {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the first failure, rethrown exactly as it was caught
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new ValidationError('write after close() or abort()');
  }

  /** Rows until the next check: the check interval, or fewer so a check falls on the row-group row limit exactly (0 there). */
  private rowsToNextCheck(): number {
    return Math.min(CHECK_INTERVAL_ROWS, this.rowGroupRows - this.rowsInGroup);
  }

  /** Finishes full pages and flushes the row group or the file when the next interval could pass a limit. */
  private checkLimits(): Promise<void> | undefined {
    this.rowsUntilCheck = this.rowsToNextCheck();
    let buffered = 0;
    const columns = this.columns;
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i]!;
      if (column.pageFull()) column.finishPage();
      buffered += column.bufferedBytes();
    }
    const growth = buffered - this.lastBuffered;
    if (growth > this.largestGrowth) this.largestGrowth = growth;
    this.lastBuffered = buffered;
    if (buffered > this.peakBuffered) this.peakBuffered = buffered;
    // Flush before the next interval could push past a limit, judging it by the largest growth seen so far.
    const planned = this.file?.planned ?? 0;
    if (planned + buffered + this.largestGrowth >= this.targetFileSize) return this.flushRowGroup(true);
    if (buffered + this.largestGrowth > this.rowGroupSize || this.rowsUntilCheck <= 0) return this.flushRowGroup(false);
    return undefined;
  }

  /**
   * Ends the row group being built now, before it reaches the row-group size, and returns the write's promise
   * (await it like `write`'s). A memory budget shared by several writers calls this: the result is a smaller row
   * group, with every row kept. Nothing buffered: nothing happens.
   */
  flush(): Promise<void> | undefined {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the first failure, rethrown exactly as it was caught
    if (this.failure !== undefined) throw this.failure;
    if (this.closed || this.rowsInGroup === 0) return undefined;
    return this.flushRowGroup(false);
  }

  /** Writes many rows, awaiting flushes as they happen. */
  async writeRows(rows: readonly Row[]): Promise<void> {
    await this.writeBatch(rows);
  }

  /** Flushes and closes the last file; returns every file written, in order. No rows means no files. */
  async close(): Promise<DataFile[]> {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the first failure, rethrown exactly as it was caught
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new ValidationError('close() called twice (or after abort())');
    this.closed = true;
    if (this.rowsInGroup > 0) void this.flushRowGroup(true);
    // Not awaited here: the closing step joins this.pending, awaited next, and a failure lands in this.failure.
    else if (this.file) void this.schedule(this.closeFile(this.file));
    this.file = undefined;
    await this.pending;
    this.completed = true;
    return [...this.finished];
  }

  /**
   * Discards everything: open streams are aborted and files already finished by this writer are deleted. After a
   * successful close() it does nothing, since the files now belong to the caller.
   */
  async abort(): Promise<void> {
    if (this.completed) return;
    this.closed = true;
    this.failure ??= new ValidationError('writer was aborted');
    await this.pending.catch(() => undefined);
    await Promise.all(this.opened.map((out) => out.abort().catch(() => undefined)));
    await Promise.all(this.finished.map((file) => this.options.io.delete(file.filePath).catch(() => undefined)));
    this.finished.length = 0;
  }

  /** Takes the row group out of the columns (synchronously) and schedules writing it. */
  private flushRowGroup(roll: boolean): Promise<void> {
    const chunks = this.columns.map((column) => column.takeChunk());
    const rows = this.rowsInGroup;
    this.rowsInGroup = 0;
    this.lastBuffered = 0;
    this.rowsUntilCheck = this.rowsToNextCheck();
    const file = (this.file ??= this.openFile());
    const start = file.planned;
    const rowGroup = this.describeRowGroup(chunks, rows, start, file);
    file.rowGroups.push(rowGroup);
    file.rows += rows;
    file.planned += rowGroup.total_compressed_size!;
    this.bytesFlushed += rowGroup.total_compressed_size!;
    const pages = chunks.flatMap((chunk) => chunk.pages);
    let done = this.schedule(() => this.writePages(file, pages));
    if (roll || file.planned >= this.targetFileSize) {
      this.file = undefined;
      done = this.schedule(this.closeFile(file));
    }
    return done;
  }

  private openFile(): OpenFile {
    this.bytesFlushed += PARQUET_MAGIC.length;
    return {
      location: this.options.newLocation(),
      planned: PARQUET_MAGIC.length,
      rows: 0,
      rowGroups: [],
      metrics: new FileMetricsCollector(this.leaves, this.options.boundLength),
    };
  }

  private describeRowGroup(chunks: ColumnChunkResult[], rows: number, start: number, file: OpenFile): RowGroup {
    let offset = start;
    let uncompressed = 0;
    const columns: ColumnChunk[] = chunks.map((chunk, i) => {
      const leaf = this.leaves[i]!;
      file.metrics.add(i, chunk);
      // The dictionary page is PLAIN-encoded; levels are always RLE.
      const encodings = [...new Set([...(chunk.dictionaryPageSize > 0 ? [Encoding.PLAIN] : []), ...chunk.encodings, Encoding.RLE])];
      const column: ColumnChunk = {
        file_offset: offset,
        meta_data: {
          type: leaf.physicalType,
          encodings,
          path_in_schema: leaf.parquetPath,
          codec: this.codec,
          num_values: chunk.numValues,
          total_uncompressed_size: chunk.uncompressedSize,
          total_compressed_size: chunk.compressedSize,
          data_page_offset: offset + chunk.dictionaryPageSize,
          statistics: chunkStatistics(leaf, chunk),
        },
      };
      if (chunk.dictionaryPageSize > 0) column.meta_data!.dictionary_page_offset = offset;
      offset += chunk.compressedSize;
      uncompressed += chunk.uncompressedSize;
      return column;
    });
    return {
      columns,
      total_byte_size: uncompressed,
      num_rows: rows,
      file_offset: start,
      total_compressed_size: offset - start,
      ordinal: file.rowGroups.length,
    };
  }

  /** Chains `step` after the scheduled work; the returned promise is marked handled so an ignored one cannot crash. */
  private schedule(step: () => Promise<void>): Promise<void> {
    const next = this.pending.then(step);
    next.catch((error: unknown) => {
      this.failure ??= error;
    });
    this.pending = next;
    return next;
  }

  private async ensureOpen(file: OpenFile): Promise<OutputStream> {
    if (file.out) return file.out;
    const out = await this.options.io.create(file.location);
    file.out = out;
    this.opened.push(out);
    await out.write(PARQUET_MAGIC);
    return out;
  }

  private async writePages(file: OpenFile, pages: Buffer[]): Promise<void> {
    const out = await this.ensureOpen(file);
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (const page of pages) {
      batch.push(page);
      batchBytes += page.length;
      if (batchBytes >= WRITE_BATCH_BYTES) {
        await out.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes));
        batch = [];
        batchBytes = 0;
      }
    }
    if (batchBytes > 0) await out.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes));
  }

  private closeFile(file: OpenFile): () => Promise<void> {
    return async () => {
      const out = await this.ensureOpen(file);
      const footer = encodeFileMetaData(this.footer(file));
      const tail = Buffer.allocUnsafe(footer.length + 8);
      tail.set(footer, 0);
      tail.writeUInt32LE(footer.length, footer.length);
      PARQUET_MAGIC.copy(tail, footer.length + 4);
      await out.write(tail);
      const size = await out.close();
      this.opened.splice(this.opened.indexOf(out), 1);
      this.bytesFlushed += tail.length;
      this.finished.push({
        content: DataFileContent.Data,
        filePath: file.location,
        fileFormat: 'PARQUET',
        partition: this.options.partition ?? [],
        recordCount: BigInt(file.rows),
        fileSizeInBytes: BigInt(size),
        ...file.metrics.metrics(),
        splitOffsets: file.rowGroups.map((group) => BigInt(group.file_offset!)),
      });
    };
  }

  private footer(file: OpenFile): FileMetaData {
    return {
      version: 1,
      schema: this.elements,
      num_rows: file.rows,
      row_groups: file.rowGroups,
      key_value_metadata: [{ key: 'iceberg.schema', value: this.schemaJson }],
      created_by: CREATED_BY,
      column_orders: this.leaves.map(() => ({ TYPE_ORDER: {} })),
    };
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new ValidationError(`${name} must be a positive number, got ${value}`);
  return value;
}
