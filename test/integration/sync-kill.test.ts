/**
 * `icebridge sync` killed with SIGKILL and run again: after its first commit at an unplanned moment, between a
 * batch's commits and its confirm, and between reading a batch and applying it. The rerun until caught up must
 * leave every table equal to the source row for row, with no change applied twice (inserts of keys the table
 * already held would show as duplicate keys and extra rows) and none lost. Confirming before applying (the test
 * switch, through the child's environment) must make the same checks fail.
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

/**
 * Writes transactions of every kind until stopped: three new keys; the previous transaction's first key moved to
 * another key, its second deleted and inserted again, its third counted up; an original row counted up and another
 * deleted. Each is one round trip, so the stream gets thousands of small transactions.
 */
function startWriter(table: string, state: { next: number; transactions: number }): { stop(): Promise<number> } {
  let running = true;
  const done = withClient(url, async (client) => {
    while (running) {
      const t = state.transactions;
      const [a, b, c] = [state.next, state.next + 1, state.next + 2];
      const statements = [`INSERT INTO ${table} VALUES (${a}, ${t % 7}, 0, 'new'), (${b}, 1, 0, 'new'), (${c}, 2, 0, 'new')`];
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

/** What a killed-and-resumed sync left: the final run's exit, and the checks' findings. */
interface Outcome {
  finalCode: number | null;
  finalErr: string;
  verifyStatus: string;
  sourceRows: number;
  icebergRows: number;
  duplicateKeys: string[];
  differingRows: number;
  /** At the hold between a batch's commits and its confirm: what the table and the slot held. */
  betweenCommitAndConfirm: { applied: Lsn; confirmed: Lsn };
}

/** Kills the child with SIGKILL (its whole group) and checks that it was the kill that ended it. */
async function kill(run: CliRun, what: string): Promise<void> {
  killGroup(run);
  const ended = await run.exited;
  expect(ended.signal, `${what}: the sync died of SIGKILL, not of its own accord\n${ended.stderr}`).toBe('SIGKILL');
}

/** A sync of the run until killed, with a writer behind it so it never runs out of changes. */
async function killedRun(
  table: string,
  runId: string,
  warehouse: string,
  writerState: { next: number; transactions: number },
  options: StartSyncOptions,
  killWhen: (run: CliRun) => Promise<void>,
): Promise<void> {
  const writer = startWriter(table, writerState);
  const run = startSync(['--run', runId, '--source', url, '--warehouse', warehouse, '--flush-interval-ms', '100'], options);
  try {
    await killWhen(run);
  } finally {
    killGroup(run);
    await writer.stop();
  }
  await kill(run, table);
}

/** Stops when the child wrote its hold marker; fails early when the child ended instead. */
function atMarker(marker: string): (run: CliRun) => Promise<void> {
  return async (run) => {
    await waitFor(`the sync to hold (${marker})`, async () => {
      if (run.child.exitCode !== null) throw new Error(`the sync ended before it held:\n${run.output().stderr}`);
      return existsSync(marker) ? true : undefined;
    });
  };
}

async function killedAndResumed(table: string, confirmBeforeApply: boolean): Promise<Outcome> {
  await withClient(url, async (client) => {
    await client.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, bucket int NOT NULL, counter int NOT NULL, note text)`);
    await client.query(`INSERT INTO ${table} SELECT g, g % 7, 0, 'original ' || g FROM generate_series(1, ${ROWS}) g`);
  });
  const warehouse = path.join(workDir, `warehouse-${table}`);
  const runId = await migrateCdc(url, 'public', [table], warehouse, workDir);
  const writerState = { next: 1_000_000, transactions: 0 };
  const backlog = startWriter(table, writerState);
  await waitFor('the backlog', async () => (writerState.transactions >= BACKLOG ? true : undefined));
  await backlog.stop();
  const switches = { confirmBeforeApply };

  // 1. At an unplanned moment after the sync's first commit.
  const handedOver = await tableApplied(warehouse, 'public', table);
  await killedRun(table, runId, warehouse, writerState, switches, async (run) => {
    await waitFor('the first commit of the sync', async () => {
      if (run.child.exitCode !== null) throw new Error(`the sync ended before its first commit:\n${run.output().stderr}`);
      return (await tableApplied(warehouse, 'public', table)) > handedOver ? true : undefined;
    });
  });

  // 2. Between the commits of a batch and its confirm.
  const afterCommit = path.join(workDir, `${table}-after-apply`);
  let between: Outcome['betweenCommitAndConfirm'] | undefined;
  await killedRun(table, runId, warehouse, writerState, { ...switches, hold: { at: 'after-apply', batch: 1, marker: afterCommit } }, async (run) => {
    await atMarker(afterCommit)(run);
    between = { applied: await tableApplied(warehouse, 'public', table), confirmed: await slotConfirmed(url, runId) };
  });

  // 3. Between reading the second batch of a run and applying it (the first one applied and confirmed).
  const beforeApply = path.join(workDir, `${table}-before-apply`);
  await killedRun(table, runId, warehouse, writerState, { ...switches, hold: { at: 'before-apply', batch: 2, marker: beforeApply } }, async (run) => {
    await atMarker(beforeApply)(run);
    // A confirmation sent before the commits must have reached the server for the kill to lose anything.
    if (confirmBeforeApply) {
      const applied = await tableApplied(warehouse, 'public', table);
      await waitFor('the early confirmation to reach the slot', async () => ((await slotConfirmed(url, runId)) > applied ? true : undefined));
    }
  });

  const final = await startSync(['--run', runId, '--source', url, '--warehouse', warehouse, '--until-caught-up', '--flush-interval-ms', '100']).exited;
  const [expected, actual] = await Promise.all([
    sourceRows(url, table, COLUMNS, true),
    icebergRows(await localCatalog(warehouse).loadTable({ namespace: ['public'], name: table }), COLUMNS, true),
  ]);
  const verification = await verifyFull(url, warehouse, 'public', table);
  return {
    finalCode: final.code,
    finalErr: final.stderr,
    verifyStatus: verification.status,
    sourceRows: expected.lines.length,
    icebergRows: actual.lines.length,
    duplicateKeys: duplicateKeys(actual).slice(0, 5),
    differingRows: rowDifferences(expected, actual).count,
    betweenCommitAndConfirm: between!,
  };
}

describe('icebridge sync killed with SIGKILL', () => {
  it('resumes after each kill: the table equals the source row for row, every change applied once', async () => {
    const outcome = await killedAndResumed('ledger', false);
    // The second kill came where the table held a batch the slot had not been told of.
    expect(outcome.betweenCommitAndConfirm.applied).toBeGreaterThan(outcome.betweenCommitAndConfirm.confirmed);
    expect(outcome.finalCode, outcome.finalErr).toBe(0);
    expect(outcome.duplicateKeys, 'keys the Iceberg table holds twice').toEqual([]);
    expect(outcome.icebergRows).toBe(outcome.sourceRows);
    expect(outcome.differingRows).toBe(0);
    expect(outcome.verifyStatus).toBe('ok');
  }, 600_000);

  it('confirming before applying loses the changes of a kill, and the checks say so', async () => {
    const outcome = await killedAndResumed('ledger_lost', true);
    const exact = outcome.finalCode === 0 && outcome.verifyStatus === 'ok' && outcome.icebergRows === outcome.sourceRows && outcome.differingRows === 0;
    expect(exact, `a lost batch went unnoticed: ${JSON.stringify({ ...outcome, betweenCommitAndConfirm: undefined })}`).toBe(false);
  }, 600_000);
});
