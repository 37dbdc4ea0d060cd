/**
 * Read cost of change capture, and what compaction gives back: an `orders` table on local disk receives changes
 * through the sync applier (60% updates, 25% inserts, 15% deletes, in batches as the sync loop makes them), then a
 * full scan is timed before and after `compactTable`. A program that prints figures, not a test:
 *
 *     npx tsx bench/compaction.ts [--rows 1000000] [--changes 1000000] [--batch 50000] [--runs 3]
 *     (or: npm run bench -- --compaction [...])
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ChangeEvent, RowChange } from '../shared/cdc/change-decoder';
import { HadoopCatalog } from '../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../shared/iceberg/io';
import { compactTable } from '../shared/iceberg/maintenance/compact';
import { planScan, readScan } from '../shared/iceberg/scan/table-scan';
import { createSchema } from '../shared/iceberg/spec/schema';
import { currentSnapshot } from '../shared/iceberg/spec/table-metadata';
import type { Row } from '../shared/iceberg/spec/values';
import { liveFiles } from '../shared/iceberg/transaction/manifest-files';
import { fastAppend } from '../shared/iceberg/transaction/table-operations';
import { TableWriter } from '../shared/iceberg/writer/table-writer';
import { applyChanges, openSyncTable } from '../shared/sync/apply-changes';
import { SYNC_CARRIED_PROPERTIES } from '../shared/sync/auto-compact';
import { median } from './lib/measure';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const ROWS = argument('rows', 1_000_000);
const CHANGES = argument('changes', 1_000_000);
const BATCH = argument('batch', 50_000);
const RUNS = Math.max(3, argument('runs', 3));
/** Changes per source transaction. */
const PER_TRANSACTION = 10;

const ID = { namespace: ['public'], name: 'orders' };
const SOURCE = { schema: 'public', name: 'orders' };
const SCHEMA = createSchema(
  [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'customer_id', required: true, type: 'int' },
    { id: 3, name: 'amount', required: true, type: 'decimal(12, 2)' },
    { id: 4, name: 'status', required: true, type: 'string' },
    { id: 5, name: 'created_at', required: true, type: 'timestamptz' },
    { id: 6, name: 'note', required: false, type: 'string' },
  ],
  0,
  [1],
);
const STATUSES = ['new', 'paid', 'shipped', 'delivered', 'cancelled'];

/** A deterministic pseudo-random sequence, so every run applies the same changes. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

function order(id: number, version: number): Row {
  return [
    BigInt(id),
    id % 50_000,
    BigInt((id * 37 + version * 11) % 1_000_000),
    STATUSES[(id + version) % 5]!,
    1_700_000_000_000_000n + BigInt(id) * 1_000_000n,
    version === 0 ? null : `v${version}`,
  ];
}

async function timeScan(catalog: HadoopCatalog): Promise<{ ms: number; rows: number; dataFiles: number; deleteFiles: number }> {
  const times: number[] = [];
  let rows = 0;
  const metadata = (await catalog.loadTable(ID)).metadata;
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    const plan = await planScan(catalog.io, metadata);
    rows = 0;
    for await (const batch of readScan(catalog.io, plan)) rows += batch.length;
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const { data, deletes } = await liveFiles(catalog.io, currentSnapshot(metadata));
  return { ms: median(times), rows, dataFiles: data.length, deleteFiles: deletes.length };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'icebridge-bench-compaction-'));
  try {
    const catalog = new HadoopCatalog(new LocalFileIO(), dir);
    const { metadata } = await catalog.createTable(ID, { schema: SCHEMA });
    const writer = new TableWriter({ io: catalog.io, metadata, filePrefix: 'copy' });
    for (let id = 1; id <= ROWS; id++) {
      const pending = writer.write(order(id, 0));
      if (pending) await pending;
    }
    await fastAppend(catalog, ID, { dataFiles: await writer.close(), properties: { 'icebridge.cdc.lsn': '0/1' } });
    const table = await openSyncTable({ catalog }, ID, SOURCE, { keyColumns: ['id'], rowColumns: SCHEMA.fields.map((f) => f.name) });

    // Live ids in an array (swap-remove on delete), so a random live key is one index away.
    const live = Array.from({ length: ROWS }, (_, i) => i + 1);
    let nextId = ROWS + 1;
    let lsn = 0x100n;
    const next = random(42);
    const counts = { update: 0, insert: 0, delete: 0 };
    const applyStart = process.hrtime.bigint();
    for (let done = 0; done < CHANGES;) {
      const events: ChangeEvent[] = [];
      const size = Math.min(BATCH, CHANGES - done);
      for (let t = 0; t < size; t += PER_TRANSACTION) {
        events.push({ kind: 'begin', finalLsn: lsn, commitTime: 0n, xid: 1 });
        for (let c = 0; c < Math.min(PER_TRANSACTION, size - t); c++) {
          const roll = next();
          let change: RowChange;
          if (roll < 0.6 && live.length > 0) {
            const id = live[Math.floor(next() * live.length)]!;
            change = { op: 'update', table: SOURCE, before: undefined, beforeKind: undefined, after: order(id, done + t + c + 1) };
            counts.update++;
          } else if (roll < 0.85 || live.length === 0) {
            const id = nextId++;
            live.push(id);
            change = { op: 'insert', table: SOURCE, after: order(id, 0) };
            counts.insert++;
          } else {
            const at = Math.floor(next() * live.length);
            const id = live[at]!;
            live[at] = live[live.length - 1]!;
            live.pop();
            change = { op: 'delete', table: SOURCE, before: [BigInt(id), null, null, null, null, null], beforeKind: 'key' };
            counts.delete++;
          }
          events.push({ kind: 'change', change });
        }
        lsn += 0x100n;
        events.push({ kind: 'commit', commitLsn: lsn - 8n, endLsn: lsn, commitTime: 0n });
      }
      await applyChanges({ catalog }, table, events);
      done += size;
    }
    const applyMs = Number(process.hrtime.bigint() - applyStart) / 1e6;

    const before = await timeScan(catalog);
    const compactStart = process.hrtime.bigint();
    const compacted = await compactTable(catalog, ID, { carriedProperties: SYNC_CARRIED_PROPERTIES });
    const compactMs = Number(process.hrtime.bigint() - compactStart) / 1e6;
    const after = await timeScan(catalog);
    if (before.rows !== live.length || after.rows !== live.length) throw new Error(`rows: expected ${live.length}, before ${before.rows}, after ${after.rows}`);

    const line = (label: string, s: typeof before): string =>
      `  ${label.padEnd(18)} ${String(s.dataFiles).padStart(6)} data files ${String(s.deleteFiles).padStart(6)} delete files ${s.ms.toFixed(0).padStart(8)} ms (median of ${RUNS})`;
    console.log(`read cost: a full scan of orders after ${CHANGES.toLocaleString('en')} changes, before and after compaction`);
    console.log(
      `  table: ${ROWS.toLocaleString('en')} rows, then ${counts.update} updates, ${counts.insert} inserts, ${counts.delete} deletes in batches of ${BATCH} (applied in ${(applyMs / 1000).toFixed(1)} s); ${live.length.toLocaleString('en')} rows after`,
    );
    console.log(line('before compaction', before));
    console.log(line('after compaction', after));
    console.log(`  compaction: ${compacted.rewrittenDataFiles} files rewritten into ${compacted.addedDataFiles} in ${(compactMs / 1000).toFixed(1)} s`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
