/**
 * Several committer PROCESSES append to one table at the same moment, on local disk and on a real Azurite:
 * every one must land exactly once (N new snapshots, each file referenced once), the table must scan to every
 * worker's row, and the losers' manifest lists must be gone. The workers' first attempts are held at a barrier
 * until all have planned on the same base, so the race is certain, not hoped for. Also on Azurite: a commit
 * whose write lands but whose answer is lost is recognised as done, not repeated, and leaves a readable table.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { AzureFileIO, createFileIO } from '../../shared/iceberg/io';
import type { FileIO, WriteFileOptions } from '../../shared/iceberg/io/file-io';
import { createSchema } from '../../shared/iceberg/spec/schema';
import { currentSnapshot } from '../../shared/iceberg/spec/table-metadata';
import { liveEntries } from '../../shared/iceberg/transaction/manifest-files';
import { OPERATION_ID_PROPERTY } from '../../shared/iceberg/transaction/snapshot-producer';
import { fastAppend } from '../../shared/iceberg/transaction/table-operations';
import { TableWriter } from '../../shared/iceberg/writer/table-writer';
import { checkTableIntegrity } from '../iceberg/transaction/table-integrity';
import { type AzuriteInstance, startAzurite } from './support/azurite';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const WORKER = path.join(__dirname, 'support', 'append-worker.ts');
const WORKERS = 6;
const id = { namespace: ['ns'], name: 'events' };
const schema = createSchema([{ id: 1, name: 'id', required: true, type: 'long' }]);

async function raceWorkers(warehouse: string, env: NodeJS.ProcessEnv): Promise<void> {
  // Workers start slowly on a busy machine; each waits at a file rendezvous so all commit at one moment.
  const syncDir = await mkdtemp(path.join(tmpdir(), 'icebridge-race-'));
  const running = Array.from({ length: WORKERS }, (_, i) =>
    run(process.execPath, [TSX, WORKER, warehouse, String(i), syncDir, String(WORKERS)], { env: { ...process.env, ...env }, cwd: ROOT }),
  );
  // A generous limit: it only stops a test whose workers died before saying they were ready.
  const deadline = Date.now() + 180_000;
  while ((await readdir(syncDir)).filter((f) => f.startsWith('ready-')).length < WORKERS) {
    if (Date.now() > deadline) throw new Error('workers did not get ready within 180 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await writeFile(path.join(syncDir, 'go'), '');
  const results = await Promise.all(running);
  await rm(syncDir, { recursive: true, force: true });
  const reports = results.map((r) => JSON.parse(r.stdout) as { created: boolean; attempts: number });
  for (const report of reports) expect(report.created).toBe(true);
  // Every first attempt built on the same base (the barrier), so all but one lost at least once.
  expect(reports.filter((r) => r.attempts > 1).length).toBeGreaterThanOrEqual(WORKERS - 1);
}

async function expectEveryWorkerOnce(catalog: HadoopCatalog): Promise<void> {
  const table = await catalog.loadTable(id);
  expect(table.metadata.snapshots).toHaveLength(WORKERS);
  expect(table.metadata.snapshots.map((s) => s.summary[OPERATION_ID_PROPERTY]).sort()).toEqual(Array.from({ length: WORKERS }, (_, i) => `worker-${i}`).sort());
  const live = await liveEntries(catalog.io, currentSnapshot(table.metadata));
  const paths = live.map((e) => e.entry.dataFile.filePath);
  expect(new Set(paths).size).toBe(paths.length);
  expect(paths.map((p) => p.slice(p.lastIndexOf('/') + 1)).sort()).toEqual(Array.from({ length: WORKERS }, (_, i) => `worker-${i}-00001.parquet`).sort());
  expect(table.version).toBe(WORKERS + 1);
  const integrity = await checkTableIntegrity(catalog, id);
  expect(integrity.problems).toEqual([]);
  expect(integrity.rows.map((r) => Number(r[0])).sort()).toEqual(Array.from({ length: WORKERS }, (_, i) => i));
}

describe('concurrent committers on local disk', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-concurrency-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`${WORKERS} processes append at once and each lands exactly once`, async () => {
    const warehouse = `file://${dir}/warehouse`;
    const catalog = new HadoopCatalog(createFileIO(warehouse), warehouse);
    await catalog.createTable(id, { schema });
    await raceWorkers(warehouse, {});
    await expectEveryWorkerOnce(catalog);
  }, 300_000);
});

describe('concurrent committers on Azurite', () => {
  let azurite: AzuriteInstance;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  it(`${WORKERS} processes append at once through If-None-Match and each lands exactly once`, async () => {
    const warehouse = 'abfss://lake@devstoreaccount1.dfs.core.windows.net/warehouse';
    const catalog = new HadoopCatalog(createFileIO(warehouse, { azure: { accounts: [{ connectionString: azurite.connectionString }] } }), warehouse);
    await catalog.createTable(id, { schema });
    await raceWorkers(warehouse, { ICEBRIDGE_TEST_AZURE_CONNECTION_STRING: azurite.connectionString });
    await expectEveryWorkerOnce(catalog);
  }, 300_000);

  it('a commit that landed but lost its answer is recognised, not repeated', async () => {
    const warehouse = 'abfss://lost@devstoreaccount1.dfs.core.windows.net/warehouse';
    const azure = new AzureFileIO({ accounts: [{ connectionString: azurite.connectionString }] });
    let faults = 0;
    // The real Azure write happens; then the caller sees a network failure instead of the answer.
    const io: FileIO = Object.assign(Object.create(azure) as FileIO, {
      write: async (location: string, data: Uint8Array, options?: WriteFileOptions) => {
        await azure.write(location, data, options);
        if (options?.exclusive && location.includes('/metadata/v2.') && faults++ === 0) throw new Error('ECONNRESET');
      },
    });
    const catalog = new HadoopCatalog(io, warehouse);
    await catalog.createTable(id, { schema });
    const writer = new TableWriter({ io, metadata: (await catalog.loadTable(id)).metadata });
    await writer.writeRows([[41n], [42n]]);
    const result = await fastAppend(catalog, id, { dataFiles: await writer.close(), operationId: 'lost-answer' });
    expect(faults).toBe(1);
    const table = await catalog.loadTable(id);
    expect(table.version).toBe(2);
    expect(table.metadata.snapshots).toHaveLength(1);
    expect(result.snapshotId).toBe(table.metadata.snapshots[0]!['snapshot-id']);
    // The manifest list of the snapshot that did commit must still be there: the table reads, nothing is orphaned.
    const integrity = await checkTableIntegrity(catalog, id);
    expect(integrity.problems).toEqual([]);
    expect(integrity.rows).toEqual([[41n], [42n]]);
  });
});
