/**
 * The worker side of data-file-thread.ts: encodes a batch's new rows into Parquet data files and writes them, so
 * the Parquet work of change capture runs beside the thread that reads the stream and folds the changes.
 */
import { parentPort } from 'node:worker_threads';
import { LocalFileIO } from '../iceberg/io/local-file-io';
import { TableWriter } from '../iceberg/writer/table-writer';
import { serializeError } from '../migrate/copy-worker-messages';
import type { DataFileTask, DataFileThreadReply } from './data-file-thread';

const io = new LocalFileIO();

async function write(task: DataFileTask): Promise<DataFileThreadReply> {
  const writer = new TableWriter({ io, metadata: task.metadata, filePrefix: task.filePrefix });
  try {
    await writer.writeRows(task.rows);
    return { id: task.id, files: await writer.close() };
  } catch (error) {
    await writer.abort().catch(() => undefined);
    return { id: task.id, error: serializeError(error) };
  }
}

parentPort!.on('message', (task: DataFileTask) => {
  void write(task).then((reply) => parentPort!.postMessage(reply));
});
