/**
 * Sizing work to the source, against a real PostgreSQL: a table whose data lives in TOAST is split by what a
 * copy reads (and every row is copied exactly once across its partitions), the server version is read, the
 * instance's connection cap holds with real connections, and "too many connections" is waited out.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionsBetween } from '../../shared/postgres/partition-ranges';
import { loadSettings } from '../../shared/config/settings';
import { copyPartition } from '../../shared/migrate/copy-partition';
import { connectUnderCap, environmentFromSettings, type RunEnvironment } from '../../shared/run/environment';
import { PAGE_SIZE } from '../../shared/postgres/partition-planner';
import { planMigration } from '../../shared/migrate/plan-migration';
import { connectPostgres } from '../../shared/postgres/connection';
import { ConnectionGate } from '../../shared/postgres/connection-gate';
import { describeTable, serverVersionNum } from '../../shared/postgres/introspect';
import { type PostgresInstance, startPostgres } from './support/postgres';

const DOCS = 1_500;
const MIB = 1024 * 1024;

let pg: PostgresInstance;
let sourceUrl: string;
let workDir: string;
let env: RunEnvironment;

beforeAll(async () => {
  pg = await startPostgres();
  sourceUrl = await pg.createDatabase('sizing');
  const client = new Client({ connectionString: sourceUrl });
  await client.connect();
  // About 12 MB of values stored out of line and uncompressed, on a few dozen heap pages.
  await client.query(`
    CREATE TABLE docs (id integer PRIMARY KEY, title text NOT NULL, body text NOT NULL);
    ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
    INSERT INTO docs SELECT g, 'doc ' || g, (SELECT string_agg(md5(g::text || ':' || k), '') FROM generate_series(1, 256) k)
      FROM generate_series(1, ${DOCS}) g;
    ANALYZE docs;
    CREATE ROLE limited LOGIN PASSWORD 'limited' CONNECTION LIMIT 1;
    GRANT ALL ON SCHEMA public TO limited;`);
  await client.end();
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-sizing-'));
  env = environmentFromSettings(loadSettings({ ICEBRIDGE_SOURCE_URL: sourceUrl, ICEBRIDGE_WAREHOUSE: path.join(workDir, 'warehouse') }));
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('partitions of a TOAST-heavy table', () => {
  it('are counted from heap and TOAST bytes, and together copy every row once', async () => {
    const source = await env.connectSource();
    const table = await describeTable(source, 'public', 'docs');
    expect(await serverVersionNum(source)).toBeGreaterThanOrEqual(170000);
    await source.end();
    const heapPages = table.stats.tableBytes / PAGE_SIZE;
    expect(table.stats.dataBytes!, 'the data is mostly out of line').toBeGreaterThan(50 * table.stats.tableBytes);
    expect(table.stats.tableBytes, 'the heap alone is below one partition').toBeLessThan(2 * MIB);

    const plan = await planMigration(env, {
      runId: 'toast',
      sourceSchema: 'public',
      namespace: 'public',
      concurrency: 1,
      tables: ['docs'],
      partitionSizeInBytes: 2 * MIB,
    });
    const docs = plan.tables[0]!;
    const expected = Math.min(heapPages, Math.ceil(table.stats.dataBytes! / (2 * MIB)));
    expect(docs.partitions.length).toBeGreaterThanOrEqual(expected - 1);
    expect(docs.partitions.length).toBeGreaterThanOrEqual(5);
    expect(plan.warnings).toBeUndefined();

    const { partitions, ...tablePlan } = docs;
    let rows = 0;
    for (const partition of partitionsBetween(partitions, 0, partitions.length))
      rows += (await copyPartition(env, { runId: 'toast', execution: '0123456789abcdef', table: tablePlan, partition })).rows;
    expect(rows).toBe(DOCS);
  }, 120_000);

  it('warns when the requested size is clamped', async () => {
    const plan = await planMigration(env, {
      runId: 'clamp',
      sourceSchema: 'public',
      namespace: 'public',
      concurrency: 1,
      tables: ['docs'],
      partitionSizeInBytes: 16 * 1024 * MIB,
    });
    expect(plan.warnings).toEqual([expect.stringContaining('clamped')]);
    expect(plan.tables[0]!.partitions).toHaveLength(1);
  });
});

describe('source connections', () => {
  it('are capped per instance: a connection beyond the cap waits until one ends', async () => {
    const gate = new ConnectionGate(1);
    const first = await connectUnderCap(() => connectPostgres(sourceUrl), gate);
    let second: Client | undefined;
    const pending = connectUnderCap(() => connectPostgres(sourceUrl), gate).then((c) => (second = c));
    // A round trip on the first connection; the second cannot have connected, since the only permit is held.
    await first.query('SELECT pg_sleep(0.2)');
    expect(second).toBeUndefined();
    expect(gate.held).toBe(1);
    await first.end();
    await pending;
    expect((await second!.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    await second!.end();
    await new Promise((resolve) => setImmediate(resolve));
    expect(gate.held).toBe(0);
  });

  it('waits out "too many connections" (SQLSTATE 53300) instead of failing at once', async () => {
    const limitedUrl = sourceUrl.replace(/\/\/[^@]*@/, '//limited:limited@');
    const holder = await connectPostgres(limitedUrl);
    const limitedEnv = environmentFromSettings(loadSettings({ ICEBRIDGE_SOURCE_URL: limitedUrl, ICEBRIDGE_WAREHOUSE: path.join(workDir, 'w2') }));
    const before = pg.logs().split('too many connections for role "limited"').length;
    let failure: unknown;
    const waiting = limitedEnv.connectSource().catch((e: unknown) => {
      failure = e;
      return undefined;
    });
    // Released only once the server has refused the waiting connect at least once.
    while (pg.logs().split('too many connections for role "limited"').length === before && failure === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await holder.end();
    const client = await waiting;
    expect(failure).toBeUndefined();
    expect((await client!.query<{ who: string }>('SELECT current_user AS who')).rows[0]!.who).toBe('limited');
    await client!.end();
  }, 60_000);
});
