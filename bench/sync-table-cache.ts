/**
 * What the syncBatch activity saves by keeping sync tables open between batches: opening a table of N rows
 * (its key index built by a scan of the key column) against taking it from the process's cache (one metadata
 * read). An unpartitioned table on an in-memory FileIO, so storage latency is left out and the figure is the
 * index's own cost.
 *
 *   npx tsx bench/sync-table-cache.ts [--rows 1000000]
 */
import { performance } from 'node:perf_hooks';
import { SyncTableCache } from '../functions/activities/sync-table-cache';
import { HadoopCatalog } from '../shared/iceberg/catalog/hadoop-catalog';
import { MemoryFileIO } from '../shared/iceberg/io/memory-file-io';
import { DataFileWriter } from '../shared/iceberg/parquet/data-file-writer';
import { createSchema } from '../shared/iceberg/spec/schema';
import { currentSchema } from '../shared/iceberg/spec/table-metadata';
import type { Row } from '../shared/iceberg/spec/values';
import { fastAppend } from '../shared/iceberg/transaction/table-operations';

const at = process.argv.indexOf('--rows');
const ROWS = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;
const ID = { namespace: ['public'], name: 'items' };
const SOURCE = { schema: 'public', name: 'items' };
const SHAPE = { keyColumns: ['id'], rowColumns: ['id', 'v', 'note'] };

async function main(): Promise<void> {
  const catalog = new HadoopCatalog(new MemoryFileIO(), 'memory://warehouse');
  const schema = createSchema([
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'v', required: true, type: 'int' },
    { id: 3, name: 'note', required: false, type: 'string' },
  ]);
  await catalog.createTable(ID, { schema });
  const metadata = (await catalog.loadTable(ID)).metadata;
  let n = 0;
  const writer = new DataFileWriter({
    io: catalog.io,
    schema: currentSchema(metadata),
    partition: [],
    newLocation: () => `${metadata.location}/data/d${++n}.parquet`,
  });
  for (let start = 0; start < ROWS; start += 100_000) {
    const rows: Row[] = [];
    for (let i = start; i < Math.min(ROWS, start + 100_000); i++) rows.push([BigInt(i), i, `row ${i}`]);
    await writer.writeRows(rows);
  }
  await fastAppend(catalog, ID, { dataFiles: await writer.close() });
  const env = { catalog };
  const cache = new SyncTableCache();
  const figures: string[] = [];
  for (let round = 1; round <= 3; round++) {
    const session = cache.session();
    const began = performance.now();
    await session.open(env, ID, SOURCE, SHAPE);
    const ms = performance.now() - began;
    figures.push(`batch ${round}: ${session.reused === 1 ? 'reused' : 'built'} in ${ms.toFixed(1)} ms`);
    await session.keep(catalog, { tables: [{ table: 'public.items', appliedLsn: undefined, changesApplied: 0 }], failed: [] });
  }
  console.log(`sync table open, ${ROWS.toLocaleString('en')} rows, in-memory FileIO\n  ${figures.join('\n  ')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
