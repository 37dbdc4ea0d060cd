/**
 * `icebridge sync` killed with SIGKILL and run again: after its first commit at an unplanned moment, between one
 * table's commit of a batch and the next table's (the rerun starts where the slower table is, so the faster one is
 * sent that batch again), between a batch's last commit and its confirm, and between reading a batch and applying
 * it. The rerun until caught up must leave every table equal to the source row for row, with no change applied twice
 * (inserts of keys the table already held would show as duplicate keys and extra rows) and none lost. Confirming
 * before applying (the test switch, through the child's environment) must make the same checks fail.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lsn } from '../../shared/cdc/lsn';
import type { Value } from '../../shared/iceberg/spec/values';
import { migrateCdc, slotConfirmed, tableApplied, verifyFull, waitFor } from './support/cdc-proof';
import {
  type CanonicalColumn,
  type CliRun,
  duplicateKeys,
  icebergRows,
  killGroup,
  localCatalog,
  rowDifferences,
  sourceRows,
  withClient,
} from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';
import { type StartSyncOptions, startSync } from './support/sync-process';

const ROWS = 20_000;
/** Transactions written before the first sync, the backlog it starts on. */
const BACKLOG = 600;

let pg: PostgresInstance;
let url: string;
let workDir: string;

const renderLong = (value: Value): string | null => (value === null ? null : typeof value === 'bigint' ? value.toString() : `<unexpected ${typeof value}>`);
const renderInt = (value: Value): string | null => (value === null ? null : typeof value === 'number' ? String(value) : `<unexpected ${typeof value}>`);
const COLUMNS: CanonicalColumn[] = [
  { name: 'id', sql: 'id::text', render: renderLong },
  { name: 'bucket', sql: 'bucket::text', render: renderInt },
  { name: 'counter', sql: 'counter::text', render: renderInt },
  { name: 'note', sql: 'note', render: (v) => (v === null ? null : typeof v === 'string' ? v : `<unexpected ${typeof v}>`) },
];

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('killsync');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-sync-kill-'));
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** The writer's position: the next new key and the transactions committed. */
interface WriterState {
  next: number;
  transactions: number;
}

/**
 * Writes transactions of every kind into every table until stopped: three new keys; the previous transaction's
 * first key moved to another key, its second deleted and inserted again, its third counted up; an original row
 * counted up and another deleted. Each is one round trip, so the stream gets thousands of small transactions.
 */
function startWriter(tables: string[], state: WriterState): { stop(): Promise<number> } {
  let running = true;
  const done = withClient(url, async (client) => {
    while (running) {
      const t = state.transactions;
      const [a, b, c] = [state.next, state.next + 1, state.next + 2];
      const statements: string[] = [];
      for (const table of tables) {
        statements.push(`INSERT INTO ${table} VALUES (${a}, ${t % 7}, 0, 'new'), (${b}, 1, 0, 'new'), (${c}, 2, 0, 'new')`);
        if (t > 0) {
          const [pa, pb, pc] = [a - 3, a - 2, a - 1];
          statements.push(
            `UPDATE ${table} SET id = id + 50000000, note = 'moved' WHERE id = ${pa}`,
            `DELETE FROM ${table} WHERE id = ${pb}`,
            `INSERT INTO ${table} VALUES (${pb}, 9, 1, 'again')`,
            `UPDATE ${table} SET counter = counter + 1 WHERE id = ${pc}`,
          );
        }
        statements.push(
          `UPDATE ${table} SET counter = counter + 1 WHERE id = ${1 + ((t * 7919) % ROWS)}`,
          `DELETE FROM ${table} WHERE id = ${1 + ((t * 104729 + 13) % ROWS)}`,
        );
      }
      await client.query(`BEGIN; ${statements.join('; ')}; COMMIT`);
      state.next += 3;
      state.transactions++;
    }
  });
  return {
    stop: async () => {
      running = false;
      await done;
      return state.transactions;
    },
  };
}

/** One table's findings after the final run. */
interface TableOutcome {
  table: string;
  verifyStatus: string;
  sourceRows: number;
  icebergRows: number;
  duplicateKeys: string[];
  differingRows: number;
}

/** What a killed-and-resumed sync left: the final run's exit, the checks' findings, and what the holds saw. */
interface Outcome {
  finalCode: number | null;
  finalErr: string;
  tables: TableOutcome[];
  /** At the hold after the first table's commit of a batch: what each table held. */
  betweenTables: Lsn[];
  /** At the hold after the last table's commit of a batch: the last table's position and the slot's. */
  beforeConfirm: { applied: Lsn; confirmed: Lsn } | undefined;
  /** Runs that ended on their own before the kill (a table that misses a change stops the sync). */
  earlyExits: string[];
}

/** A sync of the run until killed with SIGKILL, with a writer behind it so it never runs out of changes. */
async function killedRun(
  tables: string[],
  runId: string,
  warehouse: string,
  writerState: WriterState,
  options: StartSyncOptions,
  killWhen: (run: CliRun) => Promise<void>,
): Promise<string | undefined> {
  const writer = startWriter(tables, writerState);
  const run = startSync(['--run', runId, '--source', url, '--warehouse', warehouse, '--flush-interval-ms', '100'], options);
  try {
    await killWhen(run);
  } finally {
    killGroup(run);
    await writer.stop();
  }
  const ended = await run.exited;
  return ended.signal === 'SIGKILL' ? undefined : `exit ${ended.code}: ${ended.stderr}`;
}

/** Waits until the child wrote its hold marker (true), or ended instead (false). */
async function held(run: CliRun, marker: string): Promise<boolean> {
  return waitFor(`the sync to hold (${marker})`, async () => (existsSync(marker) ? true : run.child.exitCode !== null ? false : undefined));
}

async function killedAndResumed(name: string, confirmBeforeApply: boolean): Promise<Outcome> {
  // Two tables in one run: the publication lists them in name order, and each batch is applied in that order.
  const tables = [`${name}_a`, `${name}_b`];
  await withClient(url, async (client) => {
    for (const table of tables) {
      await client.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, bucket int NOT NULL, counter int NOT NULL, note text)`);
      await client.query(`INSERT INTO ${table} SELECT g, g % 7, 0, 'original ' || g FROM generate_series(1, ${ROWS}) g`);
    }
  });
  const warehouse = path.join(workDir, `warehouse-${name}`);
  const runId = await migrateCdc(url, 'public', tables, warehouse, workDir);
  const applied = (table: string): Promise<Lsn> => tableApplied(warehouse, 'public', table);
  const writerState = { next: 1_000_000, transactions: 0 };
  const backlog = startWriter(tables, writerState);
  await waitFor('the backlog', async () => (writerState.transactions >= BACKLOG ? true : undefined));
  await backlog.stop();
  const switches = { confirmBeforeApply };
  const marker = (what: string): string => path.join(workDir, `${name}-${what}`);

  // 1. At an unplanned moment after the sync's first commit.
  const handedOver = await applied(tables[1]!);
  const earlyExits: Array<string | undefined> = [];
  earlyExits.push(
    await killedRun(tables, runId, warehouse, writerState, switches, async (run) => {
      await waitFor('the first commit of the sync', async () => {
        if (run.child.exitCode !== null) return false;
        return (await applied(tables[1]!)) > handedOver ? true : undefined;
      });
    }),
  );

  // 2. After the first table's commit of a batch, before the second table's.
  const betweenTables = marker('between-tables');
  let betweenPositions: Lsn[] = [];
  earlyExits.push(
    await killedRun(tables, runId, warehouse, writerState, { ...switches, hold: { at: 'after-apply', batch: 1, marker: betweenTables } }, async (run) => {
      if (await held(run, betweenTables)) betweenPositions = await Promise.all(tables.map(applied));
    }),
  );

  // 3. After the last table's commit of a batch, before the confirm.
  const beforeConfirm = marker('before-confirm');
  let confirmPositions: Outcome['beforeConfirm'] | undefined;
  earlyExits.push(
    await killedRun(tables, runId, warehouse, writerState, { ...switches, hold: { at: 'after-apply', batch: 2, marker: beforeConfirm } }, async (run) => {
      if (await held(run, beforeConfirm)) confirmPositions = { applied: await applied(tables[1]!), confirmed: await slotConfirmed(url, runId) };
    }),
  );

  // 4. Between reading the second batch of a run and applying it (the first one applied and confirmed).
  const beforeApply = marker('before-apply');
  earlyExits.push(
    await killedRun(tables, runId, warehouse, writerState, { ...switches, hold: { at: 'before-apply', batch: 2, marker: beforeApply } }, async (run) => {
      // A confirmation sent before the commits must have reached the server for the kill to lose anything.
      if ((await held(run, beforeApply)) && confirmBeforeApply) {
        const first = await applied(tables[0]!);
        await waitFor('the early confirmation to reach the slot', async () => ((await slotConfirmed(url, runId)) > first ? true : undefined));
      }
    }),
  );

  const final = await startSync(['--run', runId, '--source', url, '--warehouse', warehouse, '--until-caught-up', '--flush-interval-ms', '100']).exited;
  const outcomes: TableOutcome[] = [];
  for (const table of tables) {
    const [expected, actual] = await Promise.all([
      sourceRows(url, table, COLUMNS, true),
      icebergRows(await localCatalog(warehouse).loadTable({ namespace: ['public'], name: table }), COLUMNS, true),
    ]);
    outcomes.push({
      table,
      verifyStatus: (await verifyFull(url, warehouse, 'public', table)).status,
      sourceRows: expected.lines.length,
      icebergRows: actual.lines.length,
      duplicateKeys: duplicateKeys(actual).slice(0, 5),
      differingRows: rowDifferences(expected, actual).count,
    });
  }
  return {
    finalCode: final.code,
    finalErr: final.stderr,
    tables: outcomes,
    betweenTables: betweenPositions,
    beforeConfirm: confirmPositions,
    earlyExits: earlyExits.filter((e): e is string => e !== undefined),
  };
}

describe('icebridge sync killed with SIGKILL', () => {
  it('resumes after each kill: every table equals the source row for row, every change applied once', async () => {
    const outcome = await killedAndResumed('ledger', false);
    expect(outcome.earlyExits, 'runs that ended before they were killed').toEqual([]);
    // The second kill left the first table a batch ahead of the second, which the rerun sent the first one again.
    expect(outcome.betweenTables[0]).toBeGreaterThan(outcome.betweenTables[1]!);
    // The third came where the tables held a batch the slot had not been told of.
    expect(outcome.beforeConfirm!.applied).toBeGreaterThan(outcome.beforeConfirm!.confirmed);
    expect(outcome.finalCode, outcome.finalErr).toBe(0);
    for (const table of outcome.tables) {
      expect(table.duplicateKeys, `${table.table}: keys the Iceberg table holds twice`).toEqual([]);
      expect(table.icebergRows, table.table).toBe(table.sourceRows);
      expect(table.differingRows, table.table).toBe(0);
      expect(table.verifyStatus, table.table).toBe('ok');
    }
  }, 600_000);

  it('confirming before applying loses the changes of a kill, and the checks say so', async () => {
    const outcome = await killedAndResumed('lost', true);
    const exact =
      outcome.earlyExits.length === 0 &&
      outcome.finalCode === 0 &&
      outcome.tables.every((t) => t.verifyStatus === 'ok' && t.icebergRows === t.sourceRows && t.differingRows === 0 && t.duplicateKeys.length === 0);
    expect(exact, `a lost batch went unnoticed: ${JSON.stringify(outcome.tables)}`).toBe(false);
  }, 600_000);
});
