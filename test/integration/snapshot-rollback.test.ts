/**
 * Per-table snapshot rollback against real servers: a table migrated twice is rolled back as of a time and the
 * move is audited (who, when, why, before, after); a table under change capture (migrate --cdc, then a sync that
 * committed changes) is refused while a replication connection holds its slot active, and once the slot is free the
 * rollback commit marks the table stopped for that slot with the position it goes back to.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotCommand } from '../../cli/commands/snapshot';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import { appHostJson, loadFunctionModules } from '../../cli/support/local-run';
import { syncCommand } from '../../cli/commands/sync';
import { runMigration } from '../../cli/support/run-migration';
import { CDC_LSN_PROPERTY, parseLsn } from '../../shared/cdc/lsn';
import { connectReplication } from '../../shared/cdc/replication-setup';
import { startReplication } from '../../shared/cdc/replication-stream';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { ManifestContent } from '../../shared/iceberg/spec/manifest';
import { ancestorsOf, snapshotById } from '../../shared/iceberg/spec/table-metadata';
import { snapshotManifests } from '../../shared/iceberg/transaction/manifest-files';
import { restoreTable } from '../../shared/restore/restore-table';
import { setCurrentSnapshot } from '../../shared/iceberg/transaction/snapshot-management';
import { handoverName } from '../../shared/migrate/handover-names';
import { connectPostgres } from '../../shared/postgres/connection';
import { describeTable } from '../../shared/postgres/introspect';
import { mapTable } from '../../shared/postgres/type-mapping';
import { TableAuditTrail } from '../../shared/restore/table-audit';
import { type RollbackEnvironment, SyncWritingError, rollbackTable } from '../../shared/restore/table-rollback';
import type { SyncResult } from '../../shared/sync/sync-loop';
import { CDC_STOPPED_PROPERTY_PREFIX } from '../../shared/sync/table-stop';
import { isSyncStopRequested } from '../../shared/run/sync-stop';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let url: string;
let dir: string;
let warehouse: string;
let env: RollbackEnvironment;
let cdcRun: string;

const PLAIN = { namespace: ['public'], name: 'plain' };
const ITEMS = { namespace: ['public'], name: 'items' };

async function migrate(tables: string[], cdc: boolean): Promise<string> {
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables, verify: 'none', ...(cdc ? { cdc: true } : {}) },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(dir, 'state'),
  });
  if (report.runtimeStatus !== 'Completed' || report.tables.failed > 0) throw new Error(`migration failed: ${report.lastError ?? ''}`);
  return report.id;
}

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('rollback');
  dir = await mkdtemp(path.join(tmpdir(), 'icebridge-rollback-'));
  warehouse = path.join(dir, 'warehouse');
  env = { catalog: new HadoopCatalog(new LocalFileIO(), warehouse), connectSource: () => connectPostgres(url) };
  await withClient(url, async (client) => {
    await client.query('CREATE TABLE plain (id int PRIMARY KEY, v text)');
    await client.query("INSERT INTO plain SELECT g, 'v' || g FROM generate_series(1, 50) g");
    await client.query('CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL)');
    await client.query('INSERT INTO items SELECT g, g FROM generate_series(1, 200) g');
  });
  await migrate(['plain'], false);
  await withClient(url, (client) => client.query('DELETE FROM plain WHERE id > 40'));
  await migrate(['plain'], false);
  cdcRun = await migrate(['items'], true);
  // A sync commits the changes made since the hand-over: the table's second snapshot, at a later position.
  await withClient(url, (client) => client.query('UPDATE items SET v = v + 1000 WHERE id <= 10'));
  const out: string[] = [];
  const code = await syncCommand(
    ['--run', cdcRun, '--source', url, '--warehouse', warehouse, '--until-caught-up', '--flush-interval-ms', '100'],
    { write: (t) => void out.push(t) },
    { write: (t) => void out.push(t) },
    {},
  );
  if (code !== 0) throw new Error(`sync failed: ${out.join('')}`);
}, 600_000);

afterAll(async () => {
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('rollback of a table', () => {
  it('moves the current snapshot back as of a time and records who, when, why, before and after', async () => {
    const table = await env.catalog.loadTable(PLAIN);
    const [current, first] = ancestorsOf(table.metadata, table.metadata['current-snapshot-id']);
    const result = await rollbackTable(env, {
      table: PLAIN,
      to: { timestampMs: first!['timestamp-ms'] },
      reason: 'rows 41-50 were deleted by mistake',
      actor: 'alice',
      now: () => new Date('2026-12-06T08:00:00Z'),
    });
    expect(result).toMatchObject({ changed: true, before: current!['snapshot-id'].toString(), after: first!['snapshot-id'].toString() });
    expect(result.changeCapture).toBeUndefined();
    const after = await env.catalog.loadTable(PLAIN);
    expect(after.metadata['current-snapshot-id']).toBe(first!['snapshot-id']);
    expect(await new TableAuditTrail(env.catalog, PLAIN).history()).toEqual([
      {
        at: '2026-12-06T08:00:00.000Z',
        actor: 'alice',
        action: 'rollback',
        reason: 'rows 41-50 were deleted by mistake',
        table: 'public.plain',
        before: current!['snapshot-id'].toString(),
        after: first!['snapshot-id'].toString(),
      },
    ]);
    // Again: already there, nothing committed or recorded.
    const again = await rollbackTable(env, { table: PLAIN, to: { snapshotId: first!['snapshot-id'] }, reason: 'again', actor: 'alice' });
    expect(again.changed).toBe(false);
    expect(await new TableAuditTrail(env.catalog, PLAIN).history()).toHaveLength(1);
    // The later snapshot is no ancestor of the current one now: a rollback only goes back.
    await expect(rollbackTable(env, { table: PLAIN, to: { snapshotId: current!['snapshot-id'] }, reason: 'forward', actor: 'alice' })).rejects.toThrow(
      /is not an ancestor of its current snapshot/,
    );
  });

  it('icebridge snapshot rollback: a time before the first snapshot fails naming the earliest; usage errors exit 2', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: { write: (t: string) => out.push(t) > 0 }, err: { write: (t: string) => err.push(t) > 0 } };
    const code = await snapshotCommand(
      ['rollback', '--warehouse', warehouse, '--table', 'public.plain', '--to', '2001-01-01T00:00:00Z', '--reason', 'test'],
      io.out,
      io.err,
      {},
    );
    expect(code).toBe(1);
    expect(err.join('')).toMatch(/has no snapshot as of 2001-01-01T00:00:00.000Z: the earliest available is \d+/);
    expect(await snapshotCommand(['rollback', '--warehouse', warehouse, '--table', 'plain', '--to', '1', '--reason', 'x'], io.out, io.err, {})).toBe(2);
    expect(await snapshotCommand(['rollback', '--warehouse', warehouse, '--table', 'public.plain', '--to', '1'], io.out, io.err, {})).toBe(2);
  });
});

describe('restore of a snapshot a sync wrote', () => {
  it('applies its delete files: the restored table equals the source the sync caught up with', async () => {
    const table = await env.catalog.loadTable(ITEMS);
    const current = table.metadata['current-snapshot-id']!;
    const manifests = await snapshotManifests(env.catalog.io, snapshotById(table.metadata, current)!);
    expect(manifests.some((m) => m.content === ManifestContent.Deletes)).toBe(true);
    const result = await restoreTable(
      { connectSource: () => connectPostgres(url), catalog: env.catalog },
      { table: { schema: 'public', name: 'items' }, asOf: { snapshotId: current }, mode: { into: 'items_restored' } },
    );
    expect(result.verification.status).toBe('ok');
    expect(result.rows).toBe('200');
    const differing = await withClient(url, async (client) => {
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM (SELECT * FROM items EXCEPT ALL SELECT * FROM items_restored UNION ALL (SELECT * FROM items_restored EXCEPT ALL SELECT * FROM items)) d',
      );
      return rows[0]!.n;
    });
    expect(differing).toBe('0');
  });
});

describe('rollback of a table under change capture', () => {
  const slot = () => handoverName(cdcRun);

  it('is refused while the run’s slot is active, and then goes through, marking the table stopped for the slot', async () => {
    const table = await env.catalog.loadTable(ITEMS);
    const [current, handover] = ancestorsOf(table.metadata, table.metadata['current-snapshot-id']);
    expect(current!.summary[CDC_LSN_PROPERTY]).toBeDefined();
    expect(parseLsn(current!.summary[CDC_LSN_PROPERTY]!)).toBeGreaterThan(parseLsn(handover!.summary[CDC_LSN_PROPERTY]!));

    // A consumer on the slot, as a running sync is.
    const replication = await connectReplication(url);
    const described = await withClient(url, (client) => describeTable(client, 'public', 'items'));
    const stream = await startReplication(replication, {
      slotName: slot(),
      publications: [slot()],
      startLsn: 0n,
      bindings: [{ table: described, mapping: mapTable(described) }],
    });
    const request = { table: ITEMS, to: { snapshotId: handover!['snapshot-id'] }, reason: 'bad batch', actor: 'bob' };
    try {
      const refused = rollbackTable(env, request);
      await expect(refused).rejects.toBeInstanceOf(SyncWritingError);
      await expect(rollbackTable(env, request)).rejects.toThrow(`replication slot ${slot()} is active`);
      // Asked to stop the sync: the stop marker is written, but this consumer is no Durable sync and keeps the slot.
      await expect(rollbackTable(env, { ...request, stopSync: { waitInMs: 300, pollInMs: 50 } })).rejects.toThrow(/still active after 300 ms/);
      expect(await isSyncStopRequested(env.catalog, `sync-${cdcRun}`)).toBe(true);
      // The CLI says the same, exit 1.
      const err: string[] = [];
      const code = await snapshotCommand(
        ['rollback', '--warehouse', warehouse, '--source', url, '--table', 'public.items', '--to', handover!['snapshot-id'].toString(), '--reason', 'x'],
        { write: () => true },
        { write: (t) => err.push(t) > 0 },
        {},
      );
      expect(code).toBe(1);
      expect(err.join('')).toContain(`refused: public.items is being written by a sync: replication slot ${slot()} is active`);
    } finally {
      await stream.close();
      await replication.end();
    }
    const unchanged = await env.catalog.loadTable(ITEMS);
    expect(unchanged.metadata['current-snapshot-id']).toBe(current!['snapshot-id']);
    expect(await new TableAuditTrail(env.catalog, ITEMS).history()).toEqual([]);

    const result = await rollbackTable(env, { ...request, now: () => new Date('2026-12-06T08:10:00Z') });
    expect(result.changeCapture).toMatchObject({ runId: cdcRun, slot: slot(), stopMark: `${CDC_STOPPED_PROPERTY_PREFIX}${slot()}` });
    const after = await env.catalog.loadTable(ITEMS);
    expect(after.metadata['current-snapshot-id']).toBe(handover!['snapshot-id']);
    const mark = JSON.parse(after.metadata.properties[`${CDC_STOPPED_PROPERTY_PREFIX}${slot()}`]!) as { reason: string; lsn: string; at: string };
    expect(mark).toEqual({
      reason: `rolled back from snapshot ${current!['snapshot-id']} to ${handover!['snapshot-id']} by bob: bad batch`,
      lsn: handover!.summary[CDC_LSN_PROPERTY],
      at: '2026-12-06T08:10:00.000Z',
    });
    expect(await new TableAuditTrail(env.catalog, ITEMS).history()).toEqual([expect.objectContaining({ actor: 'bob', stoppedSlot: slot() })]);

    // The run's sync honours the mark: the table is reported stopped with the rollback's reason and left alone.
    await withClient(url, (client) => client.query('UPDATE items SET v = v + 1 WHERE id = 1'));
    const out: string[] = [];
    const synced = await syncCommand(
      ['--run', cdcRun, '--source', url, '--warehouse', warehouse, '--until-caught-up', '--json'],
      { write: (t) => out.push(t) > 0 },
      { write: () => true },
      {},
    );
    expect(synced).toBe(1);
    expect((JSON.parse(out.join('')) as SyncResult).stoppedTables).toEqual([expect.objectContaining({ table: 'public.items', reason: mark.reason })]);
    expect((await env.catalog.loadTable(ITEMS)).metadata['current-snapshot-id']).toBe(handover!['snapshot-id']);
  });

  it('without a source, a table under change capture is refused: nobody could tell whether its sync writes', async () => {
    const table = await env.catalog.loadTable(ITEMS);
    const current = table.metadata['current-snapshot-id']!;
    const later = table.metadata.snapshots.find((s) => s['snapshot-id'] !== current)!;
    // Forward again (as undoing the rollback would), so there is something to roll back.
    await setCurrentSnapshot(env.catalog, ITEMS, later['snapshot-id']);
    await expect(rollbackTable({ catalog: env.catalog }, { table: ITEMS, to: { snapshotId: current }, reason: 'x', actor: 'x' })).rejects.toThrow(
      `public.items is kept in step by change capture (slot ${slot()}): the source database is needed`,
    );
    expect((await env.catalog.loadTable(ITEMS)).metadata['current-snapshot-id']).toBe(later['snapshot-id']);
  });
});

describe('POST /api/tables/{namespace}/{table}/rollback', () => {
  let host: LocalHost;
  let base: string;

  beforeAll(async () => {
    // The app reads its source and warehouse from settings, as on Azure.
    process.env.ICEBRIDGE_SOURCE_URL = url;
    process.env.ICEBRIDGE_WAREHOUSE = warehouse;
    // A rollback needs an operator: under a local host, the local token.
    process.env.ICEBRIDGE_LOCAL_TOKEN = 'rollback-test-token';
    host = await LocalHost.load(loadFunctionModules, { stateDir: path.join(dir, 'state-serve'), hostJson: appHostJson(), log: silentHostLog });
    base = (await host.listen(0)).url;
  }, 120_000);

  afterAll(async () => {
    await host?.close();
    delete process.env.ICEBRIDGE_LOCAL_TOKEN;
  });

  async function post(route: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${base}/api/tables/${route}/rollback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer rollback-test-token', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  it('rolls back as of a time with the caller as actor, 200; bad bodies 400, unknown tables 404', async () => {
    const table = await env.catalog.loadTable(PLAIN);
    const current = table.metadata['current-snapshot-id']!;
    const later = table.metadata.snapshots.find((s) => s['snapshot-id'] !== current)!;
    await setCurrentSnapshot(env.catalog, PLAIN, later['snapshot-id']);
    const first = table.metadata.snapshots.find((s) => s['snapshot-id'] === current)!;
    const answer = await post(
      'public/plain',
      { timestamp: new Date(first['timestamp-ms']).toISOString(), reason: 'over HTTP' },
      { 'x-icebridge-actor': 'carol@example.com' },
    );
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ changed: true, before: later['snapshot-id'].toString(), after: current.toString() });
    const history = await new TableAuditTrail(env.catalog, PLAIN).history();
    expect(history.find((e) => e.reason === 'over HTTP')).toMatchObject({ actor: 'carol@example.com', after: current.toString() });

    expect((await post('public/plain', { snapshotId: '1', timestamp: '2026-01-01T00:00:00Z', reason: 'x' })).status).toBe(400);
    expect((await post('public/plain', { snapshotId: 1, reason: 'x' })).status).toBe(400);
    expect((await post('public/plain', { snapshotId: '1' })).status).toBe(400);
    expect((await post('public/nope', { snapshotId: '1', reason: 'x' })).status).toBe(404);
    expect((await post('public/plain', { snapshotId: '1', reason: 'x' }, { authorization: 'Bearer wrong' })).status).toBe(401);
  });

  it('answers 409 naming the slot while a sync holds it', async () => {
    const table = await env.catalog.loadTable(ITEMS);
    const oldest = ancestorsOf(table.metadata, table.metadata['current-snapshot-id']).at(-1)!;
    const replication = await connectReplication(url);
    const described = await withClient(url, (client) => describeTable(client, 'public', 'items'));
    const stream = await startReplication(replication, {
      slotName: handoverName(cdcRun),
      publications: [handoverName(cdcRun)],
      startLsn: 0n,
      bindings: [{ table: described, mapping: mapTable(described) }],
    });
    try {
      const answer = await post('public/items', { snapshotId: oldest['snapshot-id'].toString(), reason: 'x' });
      expect(answer.status).toBe(409);
      expect(answer.json.reason).toContain(`replication slot ${handoverName(cdcRun)} is active`);
    } finally {
      await stream.close();
      await replication.end();
    }
  });
});
