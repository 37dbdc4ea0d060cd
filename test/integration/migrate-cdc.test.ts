/**
 * migrate --cdc hands a live table over to change capture with no gap and no overlap: the Iceberg table equals the
 * source as of the slot's consistent point, proven by streaming the slot from the recorded LSN and applying every
 * change to the copy, which must then equal the source now. Without the adopted snapshot the same check fails.
 * Real PostgreSQL with logical decoding, the real local host; nothing is mocked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrateCommand } from '../../cli/commands/migrate';
import { syncCommand } from '../../cli/commands/sync';
import { renderSummary } from '../../cli/support/summary';
import { runMigration } from '../../cli/support/run-migration';
import type { ChangeEvent } from '../../shared/cdc/change-decoder';
import { parseLsn } from '../../shared/cdc/lsn';
import { connectReplication } from '../../shared/cdc/replication-setup';
import { startReplication } from '../../shared/cdc/replication-stream';
import type { Value } from '../../shared/iceberg/spec/values';
import { handoverTestSwitches } from '../../shared/migrate/cdc-handover';
import { CDC_LSN_PROPERTY } from '../../shared/cdc/lsn';
import { handoverName } from '../../shared/migrate/handover-names';
import type { MigrationReport } from '../../shared/migrate/migration-status';
import { planMigration } from '../../shared/migrate/plan-migration';
import { releaseRunSnapshot } from '../../shared/migrate/run-snapshot';
import { connectPostgres } from '../../shared/postgres/connection';
import { describeTable } from '../../shared/postgres/introspect';
import { releaseSnapshots } from '../../shared/postgres/snapshot-holder';
import { mapTable } from '../../shared/postgres/type-mapping';
import type { RunEnvironment } from '../../shared/run/environment';
import { type CanonicalColumn, icebergRows, localCatalog, sourceRows, withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

const ROWS = 60_000;
/** The key the test writes between the slot's creation and the holder's start: after the consistent point. */
const WINDOW_KEY = 1_000_001;

let pg: PostgresInstance;
let url: string;
let workDir: string;

const renderInt = (value: Value): string | null => (value === null ? null : typeof value === 'number' ? String(value) : `<unexpected ${typeof value}>`);
const COLUMNS: CanonicalColumn[] = [
  { name: 'id', sql: 'id::text', render: renderInt },
  { name: 'v', sql: 'v::text', render: renderInt },
];

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('handover');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-cdc-'));
  await withClient(url, async (client) => {
    for (const table of ['items', 'items_unadopted', 'replayed']) {
      await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int NOT NULL)`);
      await client.query(`INSERT INTO ${table} SELECT g, g FROM generate_series(1, ${ROWS}) g`);
    }
    await client.query('CREATE TABLE bag (v int)');
  });
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

afterEach(() => {
  handoverTestSwitches.adoptSlotSnapshot = true;
  delete handoverTestSwitches.afterSlotCreated;
});

/** Inserts, updates and deletes rows of `table` until stopped, one small transaction at a time. */
function startWriter(table: string): { stop(): Promise<number> } {
  let running = true;
  let transactions = 0;
  const done = withClient(url, async (client) => {
    let next = 2_000_000;
    while (running) {
      const victim = 1 + Math.floor(Math.random() * ROWS);
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${table} VALUES ($1, $1)`, [next++]);
      await client.query(`UPDATE ${table} SET v = v + 1 WHERE id = $1`, [victim]);
      await client.query(`DELETE FROM ${table} WHERE id = $1`, [victim + 1]);
      await client.query('COMMIT');
      transactions++;
    }
  });
  return {
    stop: async () => {
      running = false;
      await done;
      return transactions;
    },
  };
}

/** Writes in the window between the slot's consistent point and the holder's adoption of its snapshot. */
function writeInWindow(table: string): void {
  handoverTestSwitches.afterSlotCreated = () =>
    withClient(url, async (client) => {
      await client.query(`INSERT INTO ${table} VALUES (${WINDOW_KEY}, 0)`);
      await client.query(`DELETE FROM ${table} WHERE id = 7`);
    });
}

async function migrateWithCdc(table: string): Promise<MigrationReport> {
  return runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: [table], partitionSizeInBytes: 1024 * 1024, verify: 'none', cdc: true },
    sourceUrl: url,
    warehouse: path.join(workDir, `warehouse-${table}`),
    stateDir: path.join(workDir, `state-${table}`),
  });
}

/** The same migration as `icebridge migrate --cdc … --json` runs it; its report, parsed. */
async function migrateWithCdcFlag(table: string): Promise<MigrationReport> {
  const out: string[] = [];
  const err: string[] = [];
  const argv = ['--cdc', '--source', url, '--warehouse', path.join(workDir, `warehouse-${table}`), '--tables', table, '--verify', 'none'];
  argv.push('--partition-size-mb', '1', '--state-dir', path.join(workDir, `state-${table}`), '--json');
  const status = await migrateCommand(argv, collect(out), collect(err), { env: {} });
  expect(status, err.join('')).toBe(0);
  return JSON.parse(out.join('')) as MigrationReport;
}

function collect(into: string[]): { write(text: string): void } {
  return { write: (text) => void into.push(text) };
}

/** An int column's value as the canonical rows spell it. */
function keyText(value: unknown): string {
  if (typeof value !== 'number') throw new Error(`expected an int value, got ${typeof value}`);
  return String(value);
}

interface HandoverCheck {
  /** Changes that could not follow the copy: an insert of a key it holds, an update or delete of one it lacks. */
  problems: string[];
  inserts: number;
  deletes: number;
  copiedRows: number;
  /** Whether the copy with every streamed change applied equals the source now. */
  equalsSourceNow: boolean;
}

/**
 * Streams the slot from the recorded LSN up to a marker committed after the writer stopped, applies each change
 * to the Iceberg table's rows, and says what did not fit.
 */
async function checkHandover(table: string, report: MigrationReport): Promise<HandoverCheck> {
  const cdc = report.cdc!;
  const iceberg = await localCatalog(path.join(workDir, `warehouse-${table}`)).loadTable({ namespace: ['public'], name: table });
  const copied = await icebergRows(iceberg, COLUMNS, true);
  const rows = new Map(copied.lines.map((line) => JSON.parse(line) as [string, string]).map(([id, v]) => [id, v]));
  const copiedRows = rows.size;
  const marker = -1;
  await withClient(url, (client) => client.query(`INSERT INTO ${table} VALUES (${marker}, ${marker})`));
  const described = await withClient(url, (client) => describeTable(client, 'public', table));
  const replication = await connectReplication(url);
  const problems: string[] = [];
  let inserts = 0;
  let deletes = 0;
  try {
    const stream = await startReplication(replication, {
      slotName: cdc.slot,
      publications: [cdc.publication],
      startLsn: parseLsn(cdc.lsn),
      bindings: [{ table: described, mapping: mapTable(described) }],
    });
    let seenMarker = false;
    for await (const batch of stream.batches()) {
      for (const event of batch as ChangeEvent[]) {
        if (event.kind !== 'change') continue;
        const change = event.change;
        if (change.op === 'insert') {
          const [id, v] = change.after.map(keyText) as [string, string];
          if (rows.has(id)) problems.push(`insert of ${id}, which the copy already holds`);
          rows.set(id, v);
          inserts++;
          if (id === String(marker)) seenMarker = true;
        } else if (change.op === 'update') {
          const [id, v] = change.after.map(keyText) as [string, string];
          if (!rows.has(id)) problems.push(`update of ${id}, which the copy lacks`);
          rows.set(id, v);
        } else if (change.op === 'delete') {
          const id = keyText(change.before[0]);
          if (!rows.has(id)) problems.push(`delete of ${id}, which the copy lacks`);
          rows.delete(id);
          deletes++;
        }
      }
      if (seenMarker) break;
    }
    await stream.close();
  } finally {
    await replication.end().catch(() => undefined);
  }
  const now = await sourceRows(url, table, COLUMNS, true);
  const applied = [...rows].sort((a, b) => Number(a[0]) - Number(b[0])).map(([id, v]) => JSON.stringify([id, v]));
  return { problems, inserts, deletes, copiedRows, equalsSourceNow: JSON.stringify(applied) === JSON.stringify(now.lines) };
}

async function objectsOf(name: string): Promise<{ slots: number; publications: number }> {
  return withClient(url, async (client) => {
    const slots = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM pg_replication_slots WHERE slot_name = $1', [name]);
    const publications = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM pg_publication WHERE pubname = $1', [name]);
    return { slots: Number(slots.rows[0]!.n), publications: Number(publications.rows[0]!.n) };
  });
}

function testEnvironment(warehouse: string): RunEnvironment {
  return { connectSource: () => connectPostgres(url), catalog: localCatalog(warehouse), sourceUrl: url };
}

describe('migrate --cdc', () => {
  it('copies a table being written exactly as of the slot it creates, and sync --drop removes slot and publication', async () => {
    writeInWindow('items');
    const writer = startWriter('items');
    let report: MigrationReport;
    try {
      report = await migrateWithCdcFlag('items');
    } finally {
      expect(await writer.stop()).toBeGreaterThan(0);
    }
    expect(report.tables).toMatchObject({ total: 1, failed: 0 });
    const name = handoverName(report.id);
    expect(report.cdc).toMatchObject({ slot: name, publication: name, dropCommand: `icebridge sync --drop --run ${report.id}` });
    expect(await objectsOf(name)).toEqual({ slots: 1, publications: 1 });
    const iceberg = await localCatalog(path.join(workDir, 'warehouse-items')).loadTable({ namespace: ['public'], name: 'items' });
    const summary: Record<string, string> = iceberg.metadata.snapshots?.at(-1)?.summary ?? {};
    expect(summary[CDC_LSN_PROPERTY]).toBe(report.cdc!.lsn);

    const check = await checkHandover('items', report);
    expect(check.problems).toEqual([]);
    expect(check.equalsSourceNow).toBe(true);
    // The window's insert came through the stream, not the copy: the hand-over point is the slot's.
    expect(check.inserts).toBeGreaterThan(1);
    const sourceCount = await withClient(url, async (client) =>
      Number((await client.query<{ n: string }>('SELECT count(*)::text AS n FROM items')).rows[0]!.n),
    );
    expect(sourceCount).toBe(check.copiedRows + check.inserts - check.deletes);

    // The summary says where the stream starts, that the slot keeps WAL, and how to drop it.
    const summaryText = renderSummary(report);
    expect(summaryText).toContain(`slot ${name} and publication ${name}; the tables are complete up to LSN ${report.cdc!.lsn}`);
    expect(summaryText).toContain(
      `the slot keeps the source's WAL until it is consumed or dropped; to drop it and its publication: icebridge sync --drop --run ${report.id}`,
    );

    const out: string[] = [];
    const err: string[] = [];
    expect(await syncCommand(['--drop', '--run', report.id, '--source', url], collect(out), collect(err))).toBe(0);
    expect(out.join('')).toContain(`replication slot ${name}: dropped`);
    expect(await objectsOf(name)).toEqual({ slots: 0, publications: 0 });
  }, 600_000);

  it('fails the hand-over check when the copy does not read the slot snapshot', async () => {
    handoverTestSwitches.adoptSlotSnapshot = false;
    writeInWindow('items_unadopted');
    const report = await migrateWithCdc('items_unadopted');
    expect(report.tables).toMatchObject({ total: 1, failed: 0 });
    const check = await checkHandover('items_unadopted', report);
    expect(check.problems).toContain(`insert of ${WINDOW_KEY}, which the copy already holds`);
    expect(check.problems).toContain('delete of 7, which the copy lacks');
    await withClient(url, (client) => client.query(`SELECT pg_drop_replication_slot($1)`, [report.cdc!.slot]));
  }, 600_000);

  it('reuses the slot on a replayed planning, and makes it again when the snapshot it exported is gone or the slot is not the one it came from', async () => {
    const env = testEnvironment(path.join(workDir, 'warehouse-replayed'));
    const input = { runId: 'run-Replayed', sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['replayed'], cdc: true };
    const name = handoverName(input.runId);
    expect(name).toBe('icebridge_run_replayed');
    try {
      const first = await planMigration(env, input);
      const again = await planMigration(env, input);
      expect(again.snapshot).toEqual(first.snapshot);
      expect(first.snapshot?.cdc).toMatchObject({ slot: name, publication: name });
      expect(first.tables[0]!.sourceSnapshot?.cdc).toEqual(first.snapshot?.cdc);
      expect(await objectsOf(name)).toEqual({ slots: 1, publications: 1 });
      // The process that held the snapshot is gone: the old slot cannot prove a hand-over under a new snapshot.
      await releaseSnapshots(input.runId);
      await withClient(url, (client) => client.query('INSERT INTO replayed VALUES (-5, -5)'));
      const renewed = await planMigration(env, input);
      expect(renewed.snapshot?.id).not.toBe(first.snapshot?.id);
      expect(parseLsn(renewed.snapshot!.cdc!.lsn)).toBeGreaterThan(parseLsn(first.snapshot!.cdc!.lsn));
      expect(await objectsOf(name)).toEqual({ slots: 1, publications: 1 });
      // Another process planned again meanwhile: it made the slot again at a later point while this process still
      // holds the snapshot of the one before. Copying at the old point would lose what the new slot never sends.
      await withClient(url, async (client) => {
        await client.query('SELECT pg_drop_replication_slot($1)', [name]);
        await client.query('INSERT INTO replayed VALUES (-6, -6)');
        await client.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [name]);
      });
      await expect(planMigration(env, input)).rejects.toMatchObject({ code: 'CDC_SLOT_GONE', retryable: true });
      const fresh = await planMigration(env, input);
      expect(parseLsn(fresh.snapshot!.cdc!.lsn)).toBeGreaterThan(parseLsn(renewed.snapshot!.cdc!.lsn));
      expect(await objectsOf(name)).toEqual({ slots: 1, publications: 1 });
    } finally {
      await releaseRunSnapshot(env, input.runId);
      await withClient(url, async (client) => {
        await client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [name]);
        await client.query(`DROP PUBLICATION IF EXISTS ${name}`);
      });
    }
  }, 300_000);

  it('refuses a keyless table without REPLICA IDENTITY FULL, with the SQL that fixes it, creating nothing', async () => {
    const env = testEnvironment(path.join(workDir, 'warehouse-bag'));
    const input = { runId: 'run-bag', sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['bag'], cdc: true };
    await expect(planMigration(env, input)).rejects.toThrow('ALTER TABLE "public"."bag" REPLICA IDENTITY FULL;');
    expect(await objectsOf(handoverName(input.runId))).toEqual({ slots: 0, publications: 0 });
  }, 120_000);
});
