/**
 * One committer process for the concurrency tests: writes one data file, says it is ready, waits for the
 * test's go signal (so every worker commits at the same moment however slowly processes started), then
 * fast-appends the file with its own operation id and prints the result as JSON.
 * Usage: append-worker <warehouse> <index> <syncDir>; Azure settings come from ICEBRIDGE_TEST_AZURE_CONNECTION_STRING.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import { createFileIO } from '../../../shared/iceberg/io';
import { DataFileContent } from '../../../shared/iceberg/spec/manifest';
import { fastAppend } from '../../../shared/iceberg/transaction/table-operations';

async function main(): Promise<void> {
  const [warehouse, index, syncDir] = process.argv.slice(2);
  if (!warehouse || index === undefined || !syncDir) throw new Error('usage: append-worker <warehouse> <index> <syncDir>');
  const connectionString = process.env.ICEBRIDGE_TEST_AZURE_CONNECTION_STRING;
  const io = createFileIO(warehouse, connectionString ? { azure: { accounts: [{ connectionString }] } } : {});
  const catalog = new HadoopCatalog(io, warehouse);
  const id = { namespace: ['ns'], name: 'events' };
  const filePath = `${catalog.tableLocation(id)}/data/worker-${index}.parquet`;
  const bytes = Buffer.alloc(64, Number(index));
  await io.write(filePath, bytes);
  await writeFile(path.join(syncDir, `ready-${index}`), '');
  const deadline = Date.now() + 60_000;
  while (!existsSync(path.join(syncDir, 'go'))) {
    if (Date.now() > deadline) throw new Error('no go signal within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const result = await fastAppend(catalog, id, {
    dataFiles: [{ content: DataFileContent.Data, filePath, fileFormat: 'PARQUET', partition: [], recordCount: 1n, fileSizeInBytes: BigInt(bytes.length) }],
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
