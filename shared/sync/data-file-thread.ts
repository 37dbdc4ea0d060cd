/**
 * A worker thread that writes change capture's new rows as Parquet data files (data-file-worker.ts). Encoding a
 * batch's rows was an eighth of the sync's main thread; handed over, it runs on the other core while the main
 * thread writes the batch's delete files and decodes the stream's next changes. Tables on local disk only: a
 * worker opens that store with nothing handed over, while Azure's settings may hold credentials that cannot cross
 * threads (and there the network, not encoding, bounds a batch); memory:// lives in the calling thread alone.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { IcebridgeError } from '../errors';
import { storageKindOf } from '../iceberg/io';
import type { DataFile } from '../iceberg/spec/manifest';
import type { TableMetadata } from '../iceberg/spec/table-metadata';
import type { Row } from '../iceberg/spec/values';
import { type SerializedError, deserializeError } from '../migrate/copy-worker-messages';
import { workerExecArgv } from '../migrate/copy-worker-pool';

/** A worker that stopped without answering: the batch is retried (the table reopened), never the table stopped. */
export const DATA_FILE_WORKER_FAILED = 'DATA_FILE_WORKER_FAILED';

/** One batch's rows to write. */
export interface DataFileTask {
  id: number;
  metadata: TableMetadata;
  filePrefix: string;
  rows: Row[];
}

/** The worker's answer to one task. */
export type DataFileThreadReply = { id: number; files: DataFile[] } | { id: number; error: SerializedError };

/** Writes rows as data files on a worker thread; `close` ends the thread. */
export class DataFileThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (files: DataFile[]) => void; reject: (error: Error) => void }>();

  /** Whether a worker can write to this table's store. */
  static canWrite(location: string): boolean {
    return storageKindOf(location) === 'local';
  }

  /** Starts the worker ahead of the first batch, so its start-up overlaps other work. */
  start(): void {
    if (this.worker !== undefined) return;
    const entry = path.join(__dirname, `data-file-worker${path.extname(__filename) === '.ts' ? '.ts' : '.js'}`);
    const execArgv = workerExecArgv(entry);
    const worker = new Worker(entry, execArgv ? { execArgv } : {});
    worker.unref();
    worker.on('message', (reply: DataFileThreadReply) => {
      const waiter = this.waiting.get(reply.id);
      if (waiter === undefined) return;
      this.waiting.delete(reply.id);
      if ('files' in reply) waiter.resolve(reply.files);
      else waiter.reject(deserializeError(reply.error));
    });
    const fail = (reason: string): void => {
      if (this.worker === worker) this.worker = undefined;
      const error = new IcebridgeError(DATA_FILE_WORKER_FAILED, `the data file writer thread ${reason}`, { retryable: true });
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    worker.on('error', (error) => fail(`failed: ${error.message}`));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    this.worker = worker;
  }

  /** Writes `rows` as data files of the table; resolves with their records once they are all written. */
  write(metadata: TableMetadata, filePrefix: string, rows: Row[]): Promise<DataFile[]> {
    this.start();
    const id = this.nextId++;
    return new Promise<DataFile[]>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker!.postMessage({ id, metadata, filePrefix, rows } satisfies DataFileTask);
    });
  }

  /** Ends the worker; a write still running fails as retryable. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }
}
