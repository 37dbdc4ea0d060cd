/**
 * Writes rows into a table's data folder under its default partition spec: rows are routed to one Parquet
 * writer per partition (`data/<partition path>/<prefix>-<n>.parquet`), with a bound on open writers so memory
 * stays bounded however many partitions the data touches.
 */
import { randomUUID } from 'node:crypto';
import type { FileIO } from '../io/file-io';
import { DataFileWriter, type DataFileWriterOptions } from '../parquet/data-file-writer';
import type { DataFile } from '../spec/manifest';
import { partitionPath } from '../spec/partition-path';
import { type Partitioner, compilePartitioner, partitionType } from '../spec/partition-type';
import type { StructType } from '../spec/types';
import { type TableMetadata, currentSchema, defaultSpec } from '../spec/table-metadata';
import type { Row, Value } from '../spec/values';

/** Options of TableWriter. */
export interface TableWriterOptions extends Omit<DataFileWriterOptions, 'io' | 'schema' | 'newLocation' | 'partition'> {
  io: FileIO;
  metadata: TableMetadata;
  /** Start of every file name; unique per writer by default. Callers put a run or partition id here. */
  filePrefix?: string;
  /** Partition writers kept open at once; the least recently used is closed beyond this (default 16). */
  maxOpenWriters?: number;
}

interface PartitionWriter {
  writer: DataFileWriter;
  lastUsed: number;
}

/** Routes rows to per-partition data-file writers and collects the DataFile records. */
export class TableWriter {
  private readonly open = new Map<string, PartitionWriter>();
  private readonly done: DataFile[] = [];
  private readonly partitioner: Partitioner | undefined;
  private readonly partitionType: StructType;
  private readonly prefix: string;
  private readonly maxOpen: number;
  private fileCounter = 0;
  private tick = 0;
  private rows = 0;

  constructor(private readonly options: TableWriterOptions) {
    const spec = defaultSpec(options.metadata);
    const schema = currentSchema(options.metadata);
    this.partitionType = partitionType(spec, schema);
    this.partitioner = spec.fields.length > 0 ? compilePartitioner(spec, schema) : undefined;
    this.prefix = options.filePrefix ?? randomUUID();
    this.maxOpen = Math.max(1, options.maxOpenWriters ?? 16);
  }

  /** Rows accepted so far. */
  get rowsWritten(): number {
    return this.rows;
  }

  /** Adds a row; returns a promise only when the caller must wait (a row group or file was flushed). */
  write(row: Row): Promise<void> | void {
    const partition = this.partitioner ? this.partitioner(row) : [];
    const key = this.partitioner ? partitionKey(partition) : '';
    let entry = this.open.get(key);
    const evicted = entry ? undefined : this.evictIfFull();
    if (!entry) {
      entry = { writer: this.newWriter(partition), lastUsed: 0 };
      this.open.set(key, entry);
    }
    entry.lastUsed = ++this.tick;
    this.rows++;
    const flushed = entry.writer.write(row);
    if (evicted && flushed) return Promise.all([evicted, flushed]).then(() => undefined);
    return evicted ?? flushed;
  }

  /** Writes many rows, honouring back-pressure. */
  async writeRows(rows: Row[]): Promise<void> {
    for (const row of rows) {
      const pending = this.write(row);
      if (pending) await pending;
    }
  }

  /** Closes every writer and returns all data files written. */
  async close(): Promise<DataFile[]> {
    const writers = [...this.open.values()];
    this.open.clear();
    for (const files of await Promise.all(writers.map((w) => w.writer.close()))) this.done.push(...files);
    return [...this.done];
  }

  /** Aborts every open writer (their partial files are removed); files of closed writers are left for the caller. */
  async abort(): Promise<void> {
    const writers = [...this.open.values()];
    this.open.clear();
    await Promise.all(writers.map((w) => w.writer.abort()));
  }

  private newWriter(partition: Value[]): DataFileWriter {
    const { io, metadata, filePrefix: _prefix, maxOpenWriters: _max, ...fileOptions } = this.options;
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
  return partition
    // -0 and 0 are different partition values (identity of a double), though String() prints both as "0".
    .map((v) => (v === null ? '\u0001' : v instanceof Uint8Array ? `b:${Buffer.from(v).toString('hex')}` : Object.is(v, -0) ? 'n:-0' : `${typeof v}:${String(v)}`))
    .join('\u0000');
}
