/**
 * One committer process for the concurrency tests: writes one Parquet data file holding its index, says it is
 * ready, waits for the test's go signal (so every worker commits at the same moment however slowly processes
 * started), then fast-appends the file with its own operation id and prints the result as JSON.
 * Before its FIRST exclusive create of a metadata version it also says `planned-<index>` and waits until every
 * worker has planned: all first attempts then build on the same base version, so all but one lose that race
 * for certain, whatever the scheduling.
 * Usage: append-worker <warehouse> <index> <syncDir> <workers>; Azure settings come from ICEBRIDGE_TEST_AZURE_CONNECTION_STRING.
 */
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import { createFileIO } from '../../../shared/iceberg/io';
import type { FileIO, WriteFileOptions } from '../../../shared/iceberg/io/file-io';
import { fastAppend } from '../../../shared/iceberg/transaction/table-operations';
import { TableWriter } from '../../../shared/iceberg/writer/table-writer';

const WAIT_LIMIT_IN_MS = 120_000;

async function waitFor(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_IN_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${WAIT_LIMIT_IN_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function main(): Promise<void> {
  const [warehouse, index, syncDir, workers] = process.argv.slice(2);
  if (!warehouse || index === undefined || !syncDir || !workers) throw new Error('usage: append-worker <warehouse> <index> <syncDir> <workers>');
  const connectionString = process.env.ICEBRIDGE_TEST_AZURE_CONNECTION_STRING;
  const storage = createFileIO(warehouse, connectionString ? { azure: { accounts: [{ connectionString }] } } : {});
  let planned = false;
  const io: FileIO = {
    read: (location, options) => storage.read(location, options),
    readRange: (location, offset, length, options) => storage.readRange(location, offset, length, options),
    stat: (location, options) => storage.stat(location, options),
    create: (location, options) => storage.create(location, options),
    delete: (location, options) => storage.delete(location, options),
    list: (prefix, options) => storage.list(prefix, options),
    write: async (location: string, data: Uint8Array, options?: WriteFileOptions) => {
      if (options?.exclusive && !planned) {
        planned = true;
        await writeFile(path.join(syncDir, `planned-${index}`), '');
        await waitFor(() => readdirSync(syncDir).filter((f) => f.startsWith('planned-')).length >= Number(workers), 'not every worker planned');
      }
      return storage.write(location, data, options);
    },
  };
  const catalog = new HadoopCatalog(io, warehouse);
  const id = { namespace: ['ns'], name: 'events' };
  const writer = new TableWriter({ io, metadata: (await catalog.loadTable(id)).metadata, filePrefix: `worker-${index}` });
  await writer.writeRows([[BigInt(index)]]);
  const dataFiles = await writer.close();
  await writeFile(path.join(syncDir, `ready-${index}`), '');
  await waitFor(() => existsSync(path.join(syncDir, 'go')), 'no go signal');
  const result = await fastAppend(catalog, id, {
    dataFiles,
    operationId: `worker-${index}`,
    maxAttempts: 60,
    baseDelayInMs: 10,
    maxDelayInMs: 400,
  });
  process.stdout.write(`${JSON.stringify({ snapshotId: String(result.snapshotId), created: result.created, attempts: result.attempts })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
