/**
 * Writes rows into a table's data folder under its default partition spec: rows are routed to one Parquet
 * writer per partition (`data/<partition path>/<prefix>-<n>.parquet`), with a bound on open writers and a
 * budget on the bytes they buffer together, so memory stays bounded however many partitions the data touches.
 */
import { randomUUID } from 'node:crypto';
import type { FileIO } from '../io/file-io';
import { DEFAULT_ROW_GROUP_SIZE_IN_BYTES, DataFileWriter, type DataFileWriterOptions } from '../parquet/data-file-writer';
import type { DataFile } from '../spec/manifest';
import { partitionPath } from '../spec/partition-path';
import { type Partitioner, compilePartitioner, partitionType } from '../spec/partition-type';
import type { StructType } from '../spec/types';
import { type TableMetadata, currentSchema, defaultSpec } from '../spec/table-metadata';
import { type ColumnBatch, batchRows } from '../spec/column-batch';
import type { PrimitiveValue, Row, Value } from '../spec/values';
import { defaultBufferBudget } from './buffer-budget';

/** Rows between checks of the buffer budget: the check sums every open writer's columns. */
const BUDGET_CHECK_INTERVAL_ROWS = 256;

/** Options of TableWriter. */
export interface TableWriterOptions extends Omit<DataFileWriterOptions, 'io' | 'schema' | 'newLocation' | 'partition'> {
  io: FileIO;
  metadata: TableMetadata;
  /** Start of every file name; unique per writer by default. Callers put a run or partition id here. */
  filePrefix?: string;
  /** Partition writers kept open at once; the least recently used is closed beyond this (default 16). */
  maxOpenWriters?: number;
  /**
   * Bytes the open writers may buffer together (default: this thread's `defaultBufferBudget`). Beyond it the
   * writer buffering most ends its row group early: smaller row groups, never fewer rows.
   */
  bufferBudgetInBytes?: number;
}

interface PartitionWriter {
  writer: DataFileWriter;
  lastUsed: number;
}

/** Routes rows to per-partition data-file writers and collects the DataFile records. */
export class TableWriter {
  private readonly open = new Map<string, PartitionWriter>();
  /** An unpartitioned table's one writer, once open (also in `open`, under the key ''). */
  private single: PartitionWriter | undefined;
  private readonly done: DataFile[] = [];
  private readonly partitioner: Partitioner | undefined;
  private readonly partitionType: StructType;
  private readonly prefix: string;
  private readonly maxOpen: number;
  private readonly budget: number;
  private readonly rowGroupSize: number;
  private fileCounter = 0;
  private tick = 0;
  private rows = 0;
  private rowsUntilBudgetCheck = BUDGET_CHECK_INTERVAL_ROWS;
  private earlyFlushes = 0;

  constructor(private readonly options: TableWriterOptions) {
    const spec = defaultSpec(options.metadata);
    const schema = currentSchema(options.metadata);
    this.partitionType = partitionType(spec, schema);
    this.partitioner = spec.fields.length > 0 ? compilePartitioner(spec, schema) : undefined;
    this.prefix = options.filePrefix ?? randomUUID();
    this.maxOpen = Math.max(1, options.maxOpenWriters ?? 16);
    this.budget = options.bufferBudgetInBytes ?? defaultBufferBudget();
    this.rowGroupSize = options.rowGroupSizeInBytes ?? DEFAULT_ROW_GROUP_SIZE_IN_BYTES;
  }

  /** Bytes the open writers buffer now, together (an internal gauge, for tests and telemetry). */
  get bufferedBytes(): number {
    let total = 0;
    for (const entry of this.open.values()) total += entry.writer.bufferedBytes;
    return total;
  }

  /** Row groups ended early because the open writers together reached the buffer budget. */
  get budgetFlushes(): number {
    return this.earlyFlushes;
  }

  /** Rows accepted so far. */
  get rowsWritten(): number {
    return this.rows;
  }

  /** Adds a row; returns a promise only when the caller must wait (a row group or file was flushed). */
  write(row: Row): Promise<void> | void {
    if (this.partitioner === undefined) return this.writeUnpartitioned(row);
    const partition = this.partitioner(row);
    const key = partitionKey(partition);
    let entry = this.open.get(key);
    const evicted = entry ? undefined : this.evictIfFull();
    if (!entry) {
      entry = { writer: this.newWriter(partition), lastUsed: 0 };
      this.open.set(key, entry);
    }
    entry.lastUsed = ++this.tick;
    this.rows++;
    const flushed = entry.writer.write(row);
    // One writer whose row group fits the budget can never exceed it: with a single writer open the check is skipped.
    const budgeted = (this.open.size > 1 || this.budget < this.rowGroupSize) && --this.rowsUntilBudgetCheck <= 0 ? this.keepToBudget() : undefined;
    // No array per row on the hot path: most rows return nothing.
    if (budgeted) return Promise.all([evicted, flushed, budgeted]).then(() => undefined);
    if (evicted && flushed) return Promise.all([evicted, flushed]).then(() => undefined);
    return evicted ?? flushed;
  }

  /** An unpartitioned table's row: no partition tuple, key or lookup per row (the copy's common case). */
  private writeUnpartitioned(row: Row): Promise<void> | void {
    this.rows++;
    const flushed = this.singleWriter().write(row);
    // One writer whose row group fits the budget can never exceed it: the check runs only for a smaller budget.
    const budgeted = this.budget < this.rowGroupSize && --this.rowsUntilBudgetCheck <= 0 ? this.keepToBudget() : undefined;
    if (budgeted) return flushed ? Promise.all([flushed, budgeted]).then(() => undefined) : budgeted;
    return flushed;
  }

  /** Writes many rows, honouring back-pressure: an unpartitioned table's writer takes them as a batch. */
  async writeRows(rows: readonly Row[]): Promise<void> {
    if (this.takesColumnBatches) {
      this.rows += rows.length;
      await this.singleWriter().writeBatch(rows);
      return;
    }
    for (const row of rows) {
      const pending = this.write(row);
      if (pending) await pending;
    }
  }

  /**
   * writeRows of a column batch (column-batch.ts): an unpartitioned table's writer takes its vectors as they are;
   * rows routed to partitions are taken as rows.
   */
  async writeColumns(batch: ColumnBatch): Promise<void> {
    if (this.takesColumnBatches) {
      this.rows += batch.rows;
      await this.singleWriter().writeColumns(batch);
      return;
    }
    await this.writeRows(batchRows(batch));
  }

  /**
   * Whether writeColumns takes a column batch as it is (an unpartitioned table's one writer, unless the budget is
   * below one row group: then it is checked every few rows, which a batch would skip); otherwise it makes rows of it,
   * and rows are the better form to read.
   */
  get takesColumnBatches(): boolean {
    return this.partitioner === undefined && this.budget >= this.rowGroupSize;
  }

  /** Closes every writer and returns all data files written. */
  async close(): Promise<DataFile[]> {
    const writers = [...this.open.values()];
    this.open.clear();
    this.single = undefined;
    for (const files of await Promise.all(writers.map((w) => w.writer.close()))) this.done.push(...files);
    return [...this.done];
  }

  /** Aborts every open writer (their partial files are removed); files of closed writers are left for the caller. */
  async abort(): Promise<void> {
    const writers = [...this.open.values()];
    this.open.clear();
    this.single = undefined;
    await Promise.all(writers.map((w) => w.writer.abort()));
  }

  /** An unpartitioned table's one writer, opened on first use. */
  private singleWriter(): DataFileWriter {
    if (this.single === undefined) {
      this.single = { writer: this.newWriter([]), lastUsed: 0 };
      this.open.set('', this.single);
    }
    return this.single.writer;
  }

  private newWriter(partition: Value[]): DataFileWriter {
    const { io, metadata, filePrefix: _prefix, maxOpenWriters: _max, bufferBudgetInBytes: _budget, ...fileOptions } = this.options;
    const dir = this.partitioner
      ? `${metadata.location}/data/${partitionPath(defaultSpec(metadata), this.partitionType, partition)}`
      : `${metadata.location}/data`;
    return new DataFileWriter({
      ...fileOptions,
      io,
      schema: currentSchema(metadata),
      partition,
      newLocation: () => `${dir}/${this.prefix}-${String(++this.fileCounter).padStart(5, '0')}.parquet`,
    });
  }

  /** Ends the largest row groups until the open writers' buffers fit the budget again. */
  private keepToBudget(): Promise<void> | undefined {
    this.rowsUntilBudgetCheck = BUDGET_CHECK_INTERVAL_ROWS;
    const sizes = [...this.open.values()].map((entry) => ({ writer: entry.writer, bytes: entry.writer.bufferedBytes }));
    let total = sizes.reduce((n, s) => n + s.bytes, 0);
    if (total <= this.budget) return undefined;
    sizes.sort((a, b) => b.bytes - a.bytes);
    const flushes: Promise<void>[] = [];
    for (const { writer, bytes } of sizes) {
      if (total <= this.budget) break;
      const flushed = writer.flush();
      if (flushed) {
        flushes.push(flushed);
        this.earlyFlushes++;
      }
      total -= bytes;
    }
    return flushes.length === 0 ? undefined : Promise.all(flushes).then(() => undefined);
  }

  private evictIfFull(): Promise<void> | undefined {
    if (this.open.size < this.maxOpen) return undefined;
    let oldestKey: string | undefined;
    let oldest = Infinity;
    for (const [key, entry] of this.open) {
      if (entry.lastUsed < oldest) {
        oldest = entry.lastUsed;
        oldestKey = key;
      }
    }
    const entry = this.open.get(oldestKey!)!;
    this.open.delete(oldestKey!);
    return entry.writer.close().then((files) => {
      this.done.push(...files);
    });
  }
}

function partitionKey(partition: Value[]): string {
  return (
    partition
      // -0 and 0 are different partition values (identity of a double), though String() prints both as "0".
      .map((v) =>
        v === null
          ? '\u0001'
          : v instanceof Uint8Array
            ? `b:${Buffer.from(v).toString('hex')}`
            : Object.is(v, -0)
              ? 'n:-0'
              : `${typeof v}:${String(v as PrimitiveValue)}`,
      )
      .join('\u0000')
  );
}
