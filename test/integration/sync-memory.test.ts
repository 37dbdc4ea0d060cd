/**
 * A running sync keeps nothing of the changes it has applied: after tens of megabytes of rows have gone through it,
 * its live heap (after a full collection) is about where it was. A loop that raced every stream batch against one
 * promise that never settles (the stop signal's) kept every batch reachable from that promise, for as long as the
 * sync ran.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { connectPostgres } from '../../shared/postgres/connection';
import type { RunEnvironment } from '../../shared/run/environment';
import { runSync } from '../../shared/sync/sync-loop';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const PAD = 10_240;

let pg: PostgresInstance;
let url: string;
let workDir: string;

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('syncmemory');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-syncmemory-'));
  await withClient(url, (client) => client.query('CREATE TABLE padded (id int PRIMARY KEY, pad text NOT NULL)'));
}, 300_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/**
 * Full collections until the heap stops shrinking, made available at run time (the test process is not started
 * with --expose-gc). One is not always enough: what a collection frees can let the next one free more (weak
 * references, finalizers, and objects released on the next turn of the event loop).
 */
async function collect(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let last = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 10; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= last - 64 * 1024) return;
    last = used;
  }
}

/** Inserts rows from..to-1 with a 10 KB value each, 100 rows a transaction. */
async function insert(from: number, to: number): Promise<void> {
  await withClient(url, async (client) => {
    for (let start = from; start < to; start += 100) {
      const end = Math.min(to, start + 100) - 1;
      await client.query(`INSERT INTO padded SELECT g, repeat(md5(g::text), ${PAD / 32}) FROM generate_series($1::int, $2::int) g`, [start, end]);
    }
  });
}

describe('a running sync', () => {
  it('keeps nothing of the batches it has applied', async () => {
    const warehouse = path.join(workDir, 'warehouse');
    const report = await runMigration({
      input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['padded'], verify: 'none', cdc: true },
      sourceUrl: url,
      warehouse,
      stateDir: path.join(workDir, 'state'),
    });
    if (report.runtimeStatus !== 'Completed' || report.cdc === undefined) throw new Error(`migration failed: ${report.lastError ?? ''}`);
    const env = { connectSource: () => connectPostgres(url), catalog: new HadoopCatalog(new LocalFileIO(), warehouse) } as RunEnvironment;
    const stop = new AbortController();
    let applied = 0;
    const running = runSync(env, {
      sourceUrl: url,
      slot: report.cdc.slot,
      publication: report.cdc.publication,
      flushIntervalMs: 100,
      // Batches of about 500 changes (5 MB): what is judged is that applied batches are not kept. The loop still
      // holds about one batch's worth between batches (up to the batch size; at the default 50,000 a loaded
      // machine gathered 2,600-3,500 of these 10 KB rows into the last batch, 26-35 MB, and the check failed by chance).
      maxBatchChanges: 500,
      signal: stop.signal,
      onProgress: (p) => (applied = p.changesApplied),
    });
    running.catch(() => undefined);
    /** Barrier: the sync has applied `count` changes (a generous deadline; a stuck sync fails the test). */
    const appliedAtLeast = async (count: number): Promise<void> => {
      const deadline = Date.now() + 240_000;
      while (applied < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(applied).toBeGreaterThanOrEqual(count);
    };
    try {
      // A first 40 MB warms the sync up: code reached for the first time (modules, compiled functions) is heap too,
      // and it is not what is judged. The second 40 MB must leave the heap where the first left it.
      await insert(1, 4001);
      await appliedAtLeast(4000);
      await collect();
      const before = process.memoryUsage().heapUsed;
      // 4,000 rows of 10 KB: 40 MB of values through the sync.
      await insert(4001, 8001);
      await appliedAtLeast(8000);
      await collect();
      const grown = process.memoryUsage().heapUsed - before;
      expect(grown).toBeLessThan(15 * 2 ** 20);
    } finally {
      stop.abort();
      await running.catch(() => undefined);
    }
    expect((await running).outcome).toBe('stopped');
  }, 300_000);
});
