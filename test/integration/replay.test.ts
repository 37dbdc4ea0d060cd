/**
 * Reverse replay against real servers: two tables (a parent and a child with a foreign key, many types) migrated
 * with --cdc; a copy of the source database is taken as it was at the copy; the source then changes (inserts,
 * updates, a key change, deletes, a truncate of the child), the sync carries the changes into Iceberg, and a
 * compaction rewrites files. Replaying Iceberg into the copy from the copy's snapshot makes the copy exact against
 * Iceberg (verify full), a second replay changes nothing, and a replay that skips deletes is caught.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactCommand } from '../../cli/commands/compact';
import { replayCommand } from '../../cli/commands/replay';
import { syncCommand } from '../../cli/commands/sync';
import { runMigration } from '../../cli/support/run-migration';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { currentSnapshot } from '../../shared/iceberg/spec/table-metadata';
import { connectPostgres } from '../../shared/postgres/connection';
import { describeTable } from '../../shared/postgres/introspect';
import { REPLAY_SNAPSHOT_PROPERTY, type TableReplay, replayIntoPostgres } from '../../shared/replay/replay-tables';
import { snapshotChanges } from '../../shared/replay/snapshot-changes';
import { inTransaction, upsertWith } from '../../shared/router/postgres-side';
import { tableShape } from '../../shared/router/table-shape';
import type { RunEnvironment } from '../../shared/run/environment';
import { verifyTable } from '../../shared/verify/steps/verify-table';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let source: string;
let copy: string;
let partial: string;
let workDir: string;
let warehouse: string;
let runId: string;
/** Each table's snapshot as migrated: where PostgreSQL's copy stands. */
const migrated: Record<string, bigint> = {};
const quiet = { write: () => true };

/** A database made from another (which must have no sessions open). */
async function cloneDatabase(from: string, name: string): Promise<string> {
  const admin = source.replace(/\/replay_source$/, '/postgres');
  await withClient(admin, (client) => client.query(`CREATE DATABASE ${name} TEMPLATE ${from}`));
  return source.replace(/\/replay_source$/, `/${name}`);
}

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  source = await pg.createDatabase('replay_source');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-replay-'));
  warehouse = path.join(workDir, 'warehouse');
  await withClient(source, async (client) => {
    await client.query(`CREATE TABLE parent (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), at timestamptz, tags text[], doc jsonb, blob bytea)`);
    await client.query(`CREATE TABLE child (id bigint PRIMARY KEY, parent_id int NOT NULL REFERENCES parent(id), note text, day date, token uuid)`);
    await client.query(
      `INSERT INTO parent SELECT g, 'parent ' || g, g * 1.5, '2024-01-01+00'::timestamptz + g * interval '1 day', ARRAY['t' || g], jsonb_build_object('g', g), decode(md5(g::text), 'hex') FROM generate_series(1, 300) g`,
    );
    await client.query(`INSERT INTO child SELECT g, 1 + g % 300, 'child ' || g, DATE '2020-01-01' + g, md5(g::text)::uuid FROM generate_series(1, 2000) g`);
  });
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['parent', 'child'], verify: 'none', cdc: true },
    sourceUrl: source,
    warehouse,
    stateDir: path.join(workDir, 'state'),
  });
  if (report.runtimeStatus !== 'Completed' || report.cdc === undefined) throw new Error(`migration failed: ${report.lastError ?? ''}`);
  runId = report.id;
  const catalog = new HadoopCatalog(new LocalFileIO(), warehouse);
  for (const table of ['parent', 'child']) {
    migrated[`public.${table}`] = currentSnapshot((await catalog.loadTable({ namespace: ['public'], name: table })).metadata)!['snapshot-id'];
  }
  // Copies of PostgreSQL as it was when Iceberg took over.
  copy = await cloneDatabase('replay_source', 'replay_copy');
  partial = await cloneDatabase('replay_source', 'replay_partial');
  await withClient(source, async (client) => {
    await client.query(
      `INSERT INTO parent SELECT g, 'new parent ' || g, g, now(), ARRAY['n', NULL], '{"new": true}', '\\x00ff' FROM generate_series(301, 320) g`,
    );
    await client.query(`UPDATE parent SET price = price + 0.01, tags = tags || 'changed'::text WHERE id % 7 = 0`);
    await client.query(`UPDATE child SET id = id + 100000 WHERE id % 50 = 0`);
    await client.query(`DELETE FROM child WHERE id % 9 = 0`);
    await client.query(`INSERT INTO child SELECT 200000 + g, 301 + g % 20, 'new child', NULL, NULL FROM generate_series(1, 100) g`);
    await client.query(`DELETE FROM child WHERE parent_id = 5`);
    await client.query(`DELETE FROM parent WHERE id = 5`);
    // Children moved to another parent, then their old parent deleted: the replay must write before it deletes.
    await client.query(`UPDATE child SET parent_id = 6 WHERE parent_id = 7`);
    await client.query(`DELETE FROM parent WHERE id = 7`);
  });
  const sync = await syncCommand(
    ['--run', runId, '--source', source, '--warehouse', warehouse, '--until-caught-up', '--flush-interval-ms', '200'],
    quiet,
    quiet,
    {},
  );
  if (sync !== 0) throw new Error(`sync exited ${sync}`);
  if ((await compactCommand(['--warehouse', warehouse, '--tables', 'child'], quiet, quiet)) !== 0) throw new Error('compact failed');
}, 300_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function envOf(url: string): RunEnvironment {
  return { connectSource: () => connectPostgres(url), catalog: new HadoopCatalog(new LocalFileIO(), warehouse) } as RunEnvironment;
}

async function differences(url: string, table: string): Promise<unknown> {
  const result = await verifyTable(
    envOf(url),
    { source: { schema: 'public', name: table }, target: { namespace: ['public'], name: table } },
    { level: 'full' },
  );
  return { status: result.status, error: result.error, rows: result.rows?.differences.length, counts: result.counts };
}

describe('reverse replay into PostgreSQL', () => {
  it('brings the copy up to Iceberg exactly, in one transaction, and a second replay changes nothing', async () => {
    expect(((await differences(copy, 'child')) as { status: string }).status).toBe('differs');
    // Every change here came through change capture, so the default start (its newest snapshot) is where the
    // tables stand now: the span is named, from the snapshots PostgreSQL's copy matches.
    const first = await replayIntoPostgres(envOf(copy), { schema: 'public', tables: ['child', 'parent'], fromSnapshotIds: migrated });
    expect(first.map((t) => t.table)).toEqual(['public.parent', 'public.child']);
    const child = first.find((t) => t.table === 'public.child')!;
    expect(child.deletes).toBeGreaterThan(200);
    expect(child.upserts).toBeGreaterThan(100);
    for (const table of ['parent', 'child']) expect(await differences(copy, table)).toMatchObject({ status: 'ok', rows: 0 });
    const catalog = envOf(copy).catalog;
    for (const table of ['parent', 'child']) {
      const { metadata } = await catalog.loadTable({ namespace: ['public'], name: table });
      expect(metadata.properties[REPLAY_SNAPSHOT_PROPERTY]).toBe(String(currentSnapshot(metadata)!['snapshot-id']));
    }
    const second = await replayIntoPostgres(envOf(copy), { schema: 'public', tables: ['parent', 'child'] });
    expect(second.map((t) => [t.upserts, t.deletes])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('is idempotent over the same span', async () => {
    const again = await replayIntoPostgres(envOf(copy), { schema: 'public', tables: ['parent', 'child'], fromSnapshotIds: migrated });
    expect(again.find((t) => t.table === 'public.child')!.deletes).toBeGreaterThan(200);
    for (const table of ['parent', 'child']) expect(await differences(copy, table)).toMatchObject({ status: 'ok', rows: 0 });
  });

  it('a replay that writes the rows but not the deletes is caught by the verification', async () => {
    const client = await connectPostgres(partial);
    try {
      // Every row written, parents first for the foreign key, and no delete.
      const catalog = envOf(partial).catalog;
      await inTransaction(client, async (tx) => {
        for (const table of ['parent', 'child']) {
          const shape = tableShape(await describeTable(tx as Client, 'public', table));
          const { metadata } = await catalog.loadTable({ namespace: ['public'], name: table });
          const changes = await snapshotChanges(catalog.io, metadata, shape, migrated[`public.${table}`]);
          for (const row of changes.upserts) await upsertWith(tx, shape, row);
        }
      });
    } finally {
      await client.end();
    }
    const seen = (await differences(partial, 'child')) as { status: string; rows: number };
    expect(seen.status).toBe('differs');
    expect(seen.rows).toBeGreaterThan(0);
  });

  it('icebridge replay: usage errors exit 2, a dry run reports and writes nothing', async () => {
    const capture = () => {
      let text = '';
      return { stream: { write: (t: string) => ((text += t), true) }, text: () => text };
    };
    const err = capture();
    expect(await replayCommand(['--warehouse', warehouse, '--source', copy, '--tables', 'parent,child', '--from-snapshot', '1'], quiet, err.stream, {})).toBe(
      2,
    );
    expect(err.text()).toContain('--from-snapshot takes a snapshot id, with exactly one table');
    const out = capture();
    const from = String(migrated['public.child']);
    expect(
      await replayCommand(
        ['--warehouse', warehouse, '--source', partial, '--tables', 'child', '--from-snapshot', from, '--dry-run', '--json'],
        out.stream,
        quiet,
        {},
      ),
    ).toBe(0);
    const [child] = JSON.parse(out.text()) as TableReplay[];
    expect(child!.deletes).toBeGreaterThan(0);
    expect(((await differences(partial, 'child')) as { status: string }).status).toBe('differs');
  });
});
