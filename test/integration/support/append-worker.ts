/**
 * One committer process for the concurrency tests: waits for a shared start time, writes one data file and
 * fast-appends it with its own operation id, then prints the snapshot id as JSON.
 * Usage: append-worker <warehouse> <index> <startAtMs>; Azure settings come from ICEBRIDGE_TEST_AZURE_CONNECTION_STRING.
 */
import { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import { createFileIO } from '../../../shared/iceberg/io';
import { DataFileContent } from '../../../shared/iceberg/spec/manifest';
import { fastAppend } from '../../../shared/iceberg/transaction/table-operations';

async function main(): Promise<void> {
  const [warehouse, index, startAt] = process.argv.slice(2);
  if (!warehouse || index === undefined || !startAt) throw new Error('usage: append-worker <warehouse> <index> <startAtMs>');
  const connectionString = process.env.ICEBRIDGE_TEST_AZURE_CONNECTION_STRING;
  const io = createFileIO(warehouse, connectionString ? { azure: { accounts: [{ connectionString }] } } : {});
  const catalog = new HadoopCatalog(io, warehouse);
  const id = { namespace: ['ns'], name: 'events' };
  const filePath = `${catalog.tableLocation(id)}/data/worker-${index}.parquet`;
  const bytes = Buffer.alloc(64, Number(index));
  await io.write(filePath, bytes);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
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
