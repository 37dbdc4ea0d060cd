/**
 * DDL while tables are under change capture. ADD COLUMN during a running sync (and while it is stopped) evolves the
 * Iceberg table before the rows that carry the column, and the verifier's full comparison stays ok. A column added
 * with a default to a table that holds rows, a dropped, retyped or renamed column and a renamed table each stop
 * their own table with an error naming table and column, while another table of the same stream applies.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import type { Client } from 'pg';
import type { ChangeEvent, TableName } from '../../shared/cdc/change-decoder';
import type { Lsn } from '../../shared/cdc/lsn';
import { connectReplication } from '../../shared/cdc/replication-setup';
import { startReplication } from '../../shared/cdc/replication-stream';
import type { Catalog } from '../../shared/iceberg/catalog/catalog';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import type { TableIdentifier } from '../../shared/iceberg/catalog/table-identifier';
import { LocalFileIO } from '../../shared/iceberg/io';
import { currentSchema } from '../../shared/iceberg/spec/table-metadata';
import { handoverName } from '../../shared/migrate/handover-names';
import { connectPostgres } from '../../shared/postgres/connection';
import type { RunEnvironment } from '../../shared/run/environment';
import { appliedLsn } from '../../shared/sync/applied-lsn';
import { type ApplyResult, applyChanges, openSyncTable } from '../../shared/sync/apply-changes';
import { addSyncColumns, appliedColumns } from '../../shared/sync/evolve-table';
import { bindingFor, checkHeldTypes, describeSyncBinding } from '../../shared/sync/sync-binding';
import { type SyncProgress, runSync } from '../../shared/sync/sync-loop';
import type { TableVerification } from '../../shared/verify/contracts';
import { verifyTable } from '../../shared/verify/steps/verify-table';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let url: string;
let workDir: string;
const warehouse = (): string => path.join(workDir, 'warehouse');

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('syncddl');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-syncddl-'));
}, 300_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function env(): RunEnvironment {
  return { connectSource: () => connectPostgres(url), catalog: new HadoopCatalog(new LocalFileIO(), warehouse()), sourceUrl: url };
}

/** Migrates the tables with --cdc in one run; returns the run's slot and publication name. */
async function migrate(tables: string[]): Promise<string> {
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables, verify: 'none', cdc: true },
    sourceUrl: url,
    warehouse: warehouse(),
    stateDir: path.join(workDir, `state-${tables.join('-')}`),
  });
  if (report.runtimeStatus !== 'Completed' || report.cdc === undefined) throw new Error(`migration failed: ${report.lastError ?? ''}`);
  return handoverName(report.id);
}

async function sql(...statements: string[]): Promise<void> {
  await withClient(url, async (client) => {
    for (const statement of statements) await client.query(statement);
  });
}

async function verify(table: string): Promise<TableVerification> {
  return verifyTable(env(), { source: { schema: 'public', name: table }, target: { namespace: ['public'], name: table } }, { level: 'full' });
}

async function expectSame(table: string): Promise<void> {
  const result = await verify(table);
  expect({ status: result.status, error: result.error, rows: result.rows?.differences }).toEqual({ status: 'ok', error: undefined, rows: [] });
}

async function icebergColumns(table: string): Promise<string[]> {
  const { metadata } = await env().catalog.loadTable({ namespace: ['public'], name: table });
  return currentSchema(metadata).fields.map((f) => `${f.name}:${typeof f.type === 'string' ? f.type : f.type.type}`);
}

/** A sync running in the background, and a barrier on its progress. */
function startSync(name: string): { until(test: (p: SyncProgress) => boolean): Promise<void>; stop(): Promise<Awaited<ReturnType<typeof runSync>>> } {
  const controller = new AbortController();
  let latest: SyncProgress | undefined;
  const waiters: Array<{ test: (p: SyncProgress) => boolean; resolve: () => void }> = [];
  const running = runSync(env(), {
    sourceUrl: url,
    slot: name,
    publication: name,
    flushIntervalMs: 100,
    signal: controller.signal,
    onProgress: (progress) => {
      latest = progress;
      for (const waiter of [...waiters]) {
        if (waiter.test(progress)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    },
  });
  return {
    until: (test) => {
      if (latest !== undefined && test(latest)) return Promise.resolve();
      const reached = new Promise<void>((resolve) => waiters.push({ test, resolve }));
      // A sync that ends (a failed table) before the point is reached fails the wait instead of hanging it.
      return Promise.race([
        reached,
        running.then((result) =>
          Promise.reject(new Error(`the sync ended first: ${JSON.stringify(result.stoppedTables.length > 0 ? result.stoppedTables : result.outcome)}`)),
        ),
      ]);
    },
    stop: async () => {
      controller.abort();
      return running;
    },
  };
}

function applied(progress: SyncProgress, table: string): number {
  return progress.tables.find((t) => t.table === `public.${table}`)?.changesApplied ?? 0;
}

describe('sync across ADD COLUMN', () => {
  it('evolves the Iceberg table before rows that carry the new column, during a running sync and across a stop', async () => {
    await sql(
      `CREATE TABLE grown (id int PRIMARY KEY, v int NOT NULL)`,
      `INSERT INTO grown SELECT g, g FROM generate_series(1, 500) g`,
      `CREATE TABLE fresh (id int PRIMARY KEY, v int)`,
    );
    const name = await migrate(['grown', 'fresh']);
    const sync = startSync(name);
    // Changes before the ADD COLUMN, applied with the shape the sync started with.
    await sql(`INSERT INTO grown SELECT g, g FROM generate_series(501, 520) g`, `UPDATE grown SET v = v + 1 WHERE id <= 10`);
    await sync.until((p) => applied(p, 'grown') >= 30);
    // In one transaction: the column, then rows of both shapes' worth (old rows updated, new rows with a value).
    await sql(
      `BEGIN`,
      `UPDATE grown SET v = v + 1 WHERE id = 11`,
      `ALTER TABLE grown ADD COLUMN extra text`,
      `INSERT INTO grown VALUES (1001, 1, 'added'), (1002, 2, NULL)`,
      `COMMIT`,
      `UPDATE grown SET extra = 'set ' || id WHERE id BETWEEN 20 AND 40`,
      `DELETE FROM grown WHERE id BETWEEN 100 AND 110`,
    );
    // A default on a table that is empty when the column is added: no existing row to give it to.
    await sql(`ALTER TABLE fresh ADD COLUMN flag int DEFAULT 7`, `INSERT INTO fresh (id, v) VALUES (1, 1), (2, 2)`, `INSERT INTO fresh VALUES (3, 3, 9)`);
    await sync.until((p) => applied(p, 'grown') >= 30 + 3 + 21 + 11 && applied(p, 'fresh') >= 3);
    const result = await sync.stop();
    expect(result.outcome, JSON.stringify(result.stoppedTables)).toBe('stopped');
    expect(await icebergColumns('grown')).toEqual(['id:int', 'v:int', 'extra:string']);
    expect(await icebergColumns('fresh')).toEqual(['id:int', 'v:int', 'flag:int']);
    await expectSame('grown');
    await expectSame('fresh');

    // While the sync is stopped: the catalog is ahead of the stream's start, the table takes the column on when
    // the stream reaches it, not before.
    await sql(
      `INSERT INTO grown VALUES (2001, 1, 'before')`,
      `ALTER TABLE grown ADD COLUMN score numeric(6, 2)`,
      `INSERT INTO grown VALUES (2002, 2, 'after', 12.5)`,
    );
    const caughtUp = await runSync(env(), { sourceUrl: url, slot: name, publication: name, flushIntervalMs: 100, untilCaughtUp: true });
    expect(caughtUp.outcome, JSON.stringify(caughtUp.stoppedTables)).toBe('caught-up');
    expect(await icebergColumns('grown')).toEqual(['id:int', 'v:int', 'extra:string', 'score:decimal(6, 2)']);
    await expectSame('grown');

    // A stop between a batch's schema commit and its rows' commit: the Iceberg table has the column, its rows and
    // the changes still to apply do not. The sync binds the applied columns and takes the column on again.
    await sql(
      `INSERT INTO grown VALUES (3000, 0, 'before', 2.5)`,
      `ALTER TABLE grown ADD COLUMN tag text`,
      `INSERT INTO grown VALUES (3001, 1, 'after', 3.5, 'tagged')`,
    );
    await addSyncColumns(env().catalog, { namespace: ['public'], name: 'grown' }, 'public.grown', [{ id: 0, name: 'tag', required: false, type: 'string' }]);
    const resumed = await runSync(env(), { sourceUrl: url, slot: name, publication: name, flushIntervalMs: 100, untilCaughtUp: true });
    expect(resumed.outcome, JSON.stringify(resumed.stoppedTables)).toBe('caught-up');
    expect(await icebergColumns('grown')).toEqual(['id:int', 'v:int', 'extra:string', 'score:decimal(6, 2)', 'tag:string']);
    await expectSame('grown');
  }, 300_000);
});

describe('sync across other DDL', () => {
  const tables = ['dropper', 'retyped', 'renamed', 'moved', 'defaulted', 'twice', 'identity', 'truncated', 'bystander'];

  it('stops each changed table with an error naming table and column, and the others apply', async () => {
    for (const table of tables) {
      await sql(`CREATE TABLE ${table} (id int PRIMARY KEY, n int, note text)`, `INSERT INTO ${table} SELECT g, g, 'row ' || g FROM generate_series(1, 50) g`);
    }
    const name = await migrate(tables);
    const outcomes = await applyEach(name, tables, async () => {
      await sql(
        `ALTER TABLE dropper DROP COLUMN note`,
        `INSERT INTO dropper VALUES (100, 100)`,
        `ALTER TABLE retyped ALTER COLUMN n TYPE bigint`,
        `INSERT INTO retyped VALUES (100, 100, 'x')`,
        `ALTER TABLE renamed RENAME COLUMN note TO remark`,
        `INSERT INTO renamed VALUES (100, 100, 'x')`,
        `ALTER TABLE moved RENAME TO moved_away`,
        `INSERT INTO moved_away VALUES (100, 100, 'x')`,
        `ALTER TABLE defaulted ADD COLUMN d int DEFAULT 5`,
        `INSERT INTO defaulted VALUES (100, 100, 'x', 6)`,
        // The catalog is read after both: it describes a later shape than the first Relation message.
        `ALTER TABLE twice ADD COLUMN a1 int`,
        `INSERT INTO twice VALUES (100, 100, 'x', 1)`,
        `ALTER TABLE twice ADD COLUMN a2 int`,
        `INSERT INTO twice VALUES (101, 101, 'y', 2, 3)`,
        `ALTER TABLE identity REPLICA IDENTITY FULL`,
        `UPDATE identity SET note = 'full' WHERE id = 1`,
        `ALTER TABLE truncated DROP COLUMN n`,
        `TRUNCATE truncated`,
        `INSERT INTO bystander VALUES (100, 100, 'x')`,
        `UPDATE bystander SET note = 'changed' WHERE id <= 5`,
      );
      return 11;
    });
    expect(outcomes.get('dropper')).toMatch(
      /^table public\.dropper changed in the source: column note was dropped; the sync cannot carry this change into the Iceberg table, so this table stops \(the others go on\): copy the table again/,
    );
    expect(outcomes.get('retyped')).toMatch(/^table public\.retyped changed in the source: column n changed type from integer to bigint;/);
    expect(outcomes.get('renamed')).toMatch(/^table public\.renamed changed in the source: column note was renamed to remark;/);
    expect(outcomes.get('moved')).toMatch(/^table public\.moved changed in the source: it was renamed to public\.moved_away;/);
    expect(outcomes.get('defaulted')).toMatch(
      /^table public\.defaulted changed in the source: column\(s\) d were added with a default \(or as an identity\), which PostgreSQL gives the 50 row\(s\) already in the table; an Iceberg v2 table has no initial default/,
    );
    expect(outcomes.get('twice')).toMatch(
      /^table public\.twice changed in the source: column\(s\) a1 were added, and it changed again since \(the catalog no longer describes the columns the stream sends\);/,
    );
    expect(outcomes.get('identity')).toMatch(/^table public\.identity changed in the source: its replica identity changed from \(id\) to \(id, n, note\);/);
    expect(outcomes.get('truncated')).toMatch(/^table public\.truncated changed in the source: column n was dropped;/);
    expect(outcomes.get('bystander')).toBe('applied');
    await expectSame('bystander');
    // Opened again (a sync starting after the DDL), the retyped column is refused rather than decoded as bigint
    // into the Iceberg table's int column.
    await withClient(url, async (client) => {
      await expect(openSyncMember(client, env().catalog, { namespace: ['public'], name: 'retyped' }, { schema: 'public', name: 'retyped' })).rejects.toThrow(
        /^table public\.retyped changed in the source: column n is long as the copy maps its type now, the Iceberg table holds int/,
      );
    });
  }, 300_000);
});

/** Opens one table as a sync starts: its binding as of the columns it has applied, its held types checked. */
async function openSyncMember(client: Client, catalog: Catalog, id: TableIdentifier, source: TableName) {
  const { metadata } = await catalog.loadTable(id);
  const binding = bindingFor(await describeSyncBinding(client, source), appliedColumns(metadata));
  checkHeldTypes(binding, metadata, source);
  const table = await openSyncTable({ catalog }, id, source, {
    keyColumns: binding.table.key.columns,
    rowColumns: binding.mapping.schema.fields.map((f) => f.name),
  });
  return { binding, table, metadata };
}

/**
 * Opens the tables (as a sync starts), runs `change` (which says how many transactions with row changes it made),
 * streams them and applies everything to each table on its own: 'applied', or the message of the error that
 * stopped the table.
 */
async function applyEach(name: string, tables: string[], change: () => Promise<number>): Promise<Map<string, string>> {
  const catalog = env().catalog;
  const client = await connectPostgres(url);
  const replication = await connectReplication(url);
  try {
    const members = [];
    for (const table of tables) {
      members.push(await openSyncMember(client, catalog, { namespace: ['public'], name: table }, { schema: 'public', name: table }));
    }
    const start = members.reduce<Lsn>((low, m) => {
      const lsn = appliedLsn(m.metadata)!;
      return lsn < low ? lsn : low;
    }, appliedLsn(members[0]!.metadata)!);
    const transactions = await change();
    const stream = await startReplication(replication, {
      slotName: name,
      publications: [name],
      startLsn: start,
      bindings: members.map((m) => m.binding),
      describeAgain: (source) => describeSyncBinding(client, source),
    });
    const events: ChangeEvent[] = [];
    const batches = stream.batches();
    while (events.filter((e) => e.kind === 'commit').length < transactions) {
      const next = await batches.next();
      if (next.done === true) throw new Error('the stream ended');
      events.push(...next.value);
    }
    await stream.close();
    const outcomes = new Map<string, string>();
    for (const [i, table] of tables.entries()) {
      const outcome: ApplyResult | Error = await applyChanges({ catalog }, members[i]!.table, events).catch((error: Error) => error);
      outcomes.set(table, outcome instanceof Error ? outcome.message : 'applied');
    }
    return outcomes;
  } finally {
    await replication.end().catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
