/**
 * Event store throughput: 100,000 row changes (a fifth of them inserts, the rest updates, over 20,000 aggregates of
 * a five-column table) applied by the event store sink in batches of 50,000, one transaction each: events, outbox
 * rows and snapshots written per second. Then the same batches replayed without a checkpoint (every event already
 * stored), and the inventory of the table. Embedded PostgreSQL, one process.
 *
 *   npx tsx bench/events.ts [--changes 100000] [--batch 50000]
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { eventStoreInventory } from '../shared/events/event-inventory';
import { EventStoreSink } from '../shared/events/event-store-sink';
import type { FanoutChange, FanoutTable } from '../shared/fanout/fanout-types';
import { migrateStateDatabase } from '../shared/state-db/migration-runner';
import { startBenchPostgres } from './lib/migrate-postgres';

/** Options of the event store benchmark. */
export interface EventsBenchmarkOptions {
  /** Row changes in all (default 100,000). */
  changes?: number;
  /** Changes per batch, one transaction each (default 50,000, the sync loop's largest). */
  batch?: number;
}

/** What the event store benchmark measured. */
export interface EventsBenchmarkResult {
  changes: number;
  batch: number;
  postgresVersion: string;
  /** Wall time of applying every batch (encoding, events, outbox, snapshots, checkpoint). */
  applyMs: number;
  eventsPerSecond: number;
  /** Wall time of applying every batch again with every event stored. */
  replayMs: number;
  /** Wall time of the table's inventory. */
  inventoryMs: number;
  aggregates: number;
}

const TABLE: FanoutTable = {
  schema: 'public',
  name: 'orders',
  entity: 'Order',
  key: ['order_id'],
  references: [],
  columns: [
    { name: 'order_id', type: 'long', nullable: false, sourceType: 'bigint' },
    { name: 'customer', type: 'uuid', nullable: false, sourceType: 'uuid' },
    { name: 'amount', type: 'decimal(12, 2)', nullable: false, sourceType: 'numeric(12,2)' },
    { name: 'status', type: 'string', nullable: false, sourceType: 'text' },
    { name: 'updated_at', type: 'timestamptz', nullable: false, sourceType: 'timestamptz' },
  ],
};
const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'];

/** The generated changes: change `i` is at position i + 1, on aggregate i mod a fifth of the total. */
function generate(total: number): FanoutChange[] {
  const aggregates = Math.max(1, Math.floor(total / 5));
  const changes: FanoutChange[] = [];
  for (let i = 0; i < total; i++) {
    const id = BigInt(i % aggregates);
    const customer = `00000000-0000-4000-8000-${(i % aggregates).toString(16).padStart(12, '0')}`;
    changes.push({
      table: TABLE,
      op: i < aggregates ? 'insert' : 'update',
      key: [id],
      row: [id, customer, BigInt(i * 137), STATUSES[i % STATUSES.length]!, 1_700_000_000_000_000n + BigInt(i) * 1_000_123n],
      position: BigInt(i + 1),
      index: 0,
      committedAt: 1_700_000_000_000,
      origin: 'stream',
    });
  }
  return changes;
}

/** Runs the benchmark on a scratch embedded PostgreSQL and returns its figures. */
export async function runEventsBenchmark(options: EventsBenchmarkOptions = {}): Promise<EventsBenchmarkResult> {
  const total = options.changes ?? 100_000;
  const batch = options.batch ?? 50_000;
  const dir = await mkdtemp(path.join(tmpdir(), 'icebridge-bench-events-'));
  // mkdtemp makes it 0700; the server runs as the postgres user and has to reach its data directory inside.
  await chmod(dir, 0o755);
  const pg = await startBenchPostgres(dir);
  try {
    const admin = await pg.connect();
    const sink = new EventStoreSink({ connect: () => pg.connect(), migrationId: 'bench', schema: 'icebridge' });
    try {
      await migrateStateDatabase(admin, { schema: 'icebridge' });
      await sink.prepare([TABLE]);
      const changes = generate(total);
      const batches = [];
      for (let at = 0; at < total; at += batch) {
        const part = changes.slice(at, at + batch);
        batches.push({ through: part[part.length - 1]!.position, changes: part });
      }
      let began = performance.now();
      for (const b of batches) await sink.apply(b);
      const applyMs = performance.now() - began;
      began = performance.now();
      for (const b of batches) await sink.apply({ through: undefined, changes: b.changes });
      const replayMs = performance.now() - began;
      began = performance.now();
      const inventory = await eventStoreInventory(admin, 'icebridge', TABLE);
      const inventoryMs = performance.now() - began;
      if (inventory.findings.length > 0 || inventory.figures.events !== total) throw new Error(`the event store does not hold the ${total} events exactly`);
      return {
        changes: total,
        batch,
        postgresVersion: pg.version,
        applyMs,
        eventsPerSecond: Math.round(total / (applyMs / 1000)),
        replayMs,
        inventoryMs,
        aggregates: Number(inventory.figures.aggregates),
      };
    } finally {
      await sink.close();
      await admin.end();
    }
  } finally {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

async function main(): Promise<void> {
  const r = await runEventsBenchmark({ changes: flag('--changes', 100_000), batch: flag('--batch', 50_000) });
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  console.log(
    `event store: ${r.changes.toLocaleString('en')} changes in batches of ${r.batch.toLocaleString('en')}, PostgreSQL ${r.postgresVersion}, ${cpus().length} cores`,
  );
  console.log(`  apply (events, outbox, snapshots, checkpoint): ${seconds(r.applyMs)} s, ${r.eventsPerSecond.toLocaleString('en')} events/s`);
  console.log(`  replay (every event already stored):          ${seconds(r.replayMs)} s`);
  console.log(`  inventory of ${r.aggregates.toLocaleString('en')} aggregates:               ${seconds(r.inventoryMs)} s`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
