/**
 * Change capture end to end under a live writer: writers insert, update (keys and partitions included) and delete
 * in the benchmark's `orders` table and in a Pagila subset with foreign keys (customer, rental and the partitioned
 * payment) WHILE migrate --cdc copies them; `icebridge sync` then runs as a child process under the same writers
 * and is killed with SIGKILL; the writers stop and a rerun catches up. Every table must then verify exact at full
 * level. Without the hand-over's snapshot (the copy reading another moment than the slot's), the same run must
 * fail. ICEBRIDGE_CDC_LIVE_ROWS sizes `orders` (default 100,000; 2,000,000 for the benchmark's size).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ORDERS, createOrdersTable } from '../../bench/lib/migrate-postgres';
import { handoverTestSwitches } from '../../shared/migrate/cdc-handover';
import { expectExact, migrateCdc, tableApplied, verifyFull, waitFor } from './support/cdc-proof';
import { killGroup, withClient } from './support/migration-fixtures';
import { PAGILA_SQL, type PostgresInstance, startPostgres } from './support/postgres';
import { startSync } from './support/sync-process';

const ORDERS_ROWS = Number(process.env.ICEBRIDGE_CDC_LIVE_ROWS ?? 100_000);
const PAGILA = ['customer', 'rental', 'payment'];

let pg: PostgresInstance;
let url: string;
let workDir: string;

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('live');
  await pg.loadSqlFile('live', PAGILA_SQL);
  await withClient(url, (client) => createOrdersTable(client, ORDERS_ROWS));
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-cdc-live-'));
}, 1_800_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

afterEach(() => {
  handoverTestSwitches.adoptSlotSnapshot = true;
  delete handoverTestSwitches.afterSlotCreated;
});

/** A writer: one round trip per transaction, until stopped; `transactions` counts the committed ones. */
interface Writer {
  transactions(): number;
  stop(): Promise<number>;
}

function startWriter(name: string, transaction: (t: number) => string): Writer {
  let running = true;
  let committed = 0;
  const done = withClient(url, async (client) => {
    while (running) {
      await client.query(`BEGIN; ${transaction(committed)}; COMMIT`);
      committed++;
    }
  }).catch((error: unknown) => {
    throw new Error(`the ${name} writer failed: ${String(error)}`);
  });
  return {
    transactions: () => committed,
    stop: async () => {
      running = false;
      await done;
      return committed;
    },
  };
}

/** orders: a new order, one paid, one moved to another key, one deleted; every tenth a 50-row update. */
function ordersTransaction(t: number): string {
  const table = `${ORDERS.schema}.${ORDERS.table}`;
  const pick = (prime: number, salt: number): number => 1 + ((t * prime + salt) % ORDERS_ROWS);
  const id = 10_000_000 + t;
  const statements = [
    `INSERT INTO ${table} VALUES (${id}, md5('${id}')::uuid, ${1 + (t % 250_000)}, ${(t % 100_000) / 100}, 'pending', now(), NULL, ${t % 2 === 0}, 'live ${t}', ARRAY['live'], jsonb_build_object('t', ${t}))`,
    `UPDATE ${table} SET status = 'paid', amount = amount + 1, attrs = attrs || '{"touched": true}' WHERE id = ${pick(7919, 0)}`,
    `UPDATE ${table} SET id = id + 100000000, note = 'moved' WHERE id = ${pick(104_729, 5)}`,
    `DELETE FROM ${table} WHERE id = ${pick(15_485_863, 11)}`,
  ];
  if (t % 10 === 0) statements.push(`UPDATE ${table} SET note = 'bulk ${t}' WHERE id BETWEEN ${pick(31, 3)} AND ${pick(31, 3) + 49}`);
  return statements.join('; ');
}

/**
 * Pagila: a rental and its payment (foreign keys), a customer's email, a payment moved a month on (another key and
 * another partition), a returned rental; now and then a payment deleted, a customer added and an earlier one removed.
 */
function pagilaTransaction(t: number): string {
  const customer = 1 + (t % 599);
  const statements = [
    `WITH r AS (INSERT INTO public.rental (rental_date, inventory_id, customer_id, staff_id) VALUES (now(), ${1 + ((t * 37) % 4581)}, ${customer}, ${1 + (t % 2)}) RETURNING rental_id)
     INSERT INTO public.payment (customer_id, staff_id, rental_id, amount, payment_date)
     SELECT ${customer}, 1, rental_id, ${(t % 1000) / 100}, timestamptz '2022-0${1 + (t % 6)}-15 12:00:00+00' + ${t % 100_000} * interval '1 second' FROM r`,
    `UPDATE public.customer SET email = 'live${t}@example.com' WHERE customer_id = ${customer}`,
    `UPDATE public.payment SET payment_date = payment_date + interval '20 days' WHERE payment_id = ${1 + ((t * 7919) % 32_098)} AND payment_date < '2022-07-01'`,
    `UPDATE public.rental SET return_date = now() WHERE rental_id = ${1 + ((t * 104_729) % 16_049)}`,
  ];
  if (t % 5 === 0) statements.push(`DELETE FROM public.payment WHERE payment_id = ${1 + ((t * 15_485_863) % 32_098)}`);
  if (t % 7 === 0) {
    statements.push(`INSERT INTO public.customer (store_id, first_name, last_name, address_id, active) VALUES (1, 'Live', 'Writer ${t}', 1, 1)`);
    statements.push(`DELETE FROM public.customer WHERE first_name = 'Live' AND last_name = 'Writer ${t - 14}'`);
  }
  return statements.join('; ');
}

interface Run {
  name: string;
  schema: string;
  tables: string[];
  warehouse: string;
  runId: string;
}

/** Migrates orders and the Pagila subset (or `only` one of them) with --cdc while the writers write; returns the runs. */
async function migrateUnderWriters(label: string, writers: Writer[], only?: string): Promise<Run[]> {
  const specs = [
    { name: 'orders', schema: ORDERS.schema, tables: [ORDERS.table], input: { partitionSizeInBytes: 4 * 1024 * 1024 } },
    { name: 'pagila', schema: 'public', tables: PAGILA, input: {} },
  ].filter((spec) => only === undefined || spec.name === only);
  // One after the other: the local host's settings (the warehouse among them) belong to the process.
  const runs: Run[] = [];
  for (const spec of specs) {
    const warehouse = path.join(workDir, `${label}-${spec.name}`);
    runs.push({ ...spec, warehouse, runId: await migrateCdc(url, spec.schema, spec.tables, warehouse, workDir, spec.input) });
  }
  for (const writer of writers) expect(writer.transactions(), 'the writers wrote during the copy').toBeGreaterThan(0);
  return runs;
}

/** Syncs every run as a child process until each table holds a change of it, then kills them all with SIGKILL. */
async function syncAndKill(runs: Run[]): Promise<void> {
  const handedOver = await Promise.all(runs.map((run) => Promise.all(run.tables.map((t) => tableApplied(run.warehouse, run.schema, t)))));
  const children = runs.map((run) => startSync(['--run', run.runId, '--source', url, '--warehouse', run.warehouse, '--flush-interval-ms', '200']));
  try {
    await waitFor(
      'a commit of the sync in every table',
      async () => {
        for (const [i, run] of runs.entries()) {
          if (children[i]!.child.exitCode !== null) throw new Error(`the sync of ${run.name} ended before the kill:\n${children[i]!.output().stderr}`);
          for (const [k, table] of run.tables.entries()) if ((await tableApplied(run.warehouse, run.schema, table)) <= handedOver[i]![k]!) return undefined;
        }
        return true;
      },
      600_000,
      100,
    );
  } finally {
    for (const child of children) killGroup(child);
  }
  for (const child of children) expect((await child.exited).signal).toBe('SIGKILL');
}

/** The rerun of every run until caught up: exit statuses and errors. */
async function catchUp(runs: Run[]): Promise<Array<{ code: number | null; stderr: string }>> {
  return Promise.all(runs.map((run) => startSync(['--run', run.runId, '--source', url, '--warehouse', run.warehouse, '--until-caught-up', '--json']).exited));
}

describe('change capture under a live writer', () => {
  it('copies while the writers write, syncs through a SIGKILL, and every table verifies exact', async () => {
    const started = Date.now();
    const writers = [startWriter('orders', ordersTransaction), startWriter('pagila', pagilaTransaction)];
    let runs: Run[];
    let written: number[];
    try {
      runs = await migrateUnderWriters('live', writers);
      const migrated = Date.now();
      await syncAndKill(runs);
      const killed = Date.now();
      written = [];
      for (const writer of writers) written.push(await writer.stop());
      const caughtUp = await catchUp(runs);
      for (const result of caughtUp) expect(result.code, result.stderr).toBe(0);
      const synced = Date.now();
      for (const run of runs) for (const table of run.tables) await expectExact(url, run.warehouse, run.schema, table);
      process.stdout.write(
        `cdc-live: ${ORDERS_ROWS} orders rows; migrate --cdc ${((migrated - started) / 1000).toFixed(1)} s, sync to the kill ` +
          `${((killed - migrated) / 1000).toFixed(1)} s, catch-up ${((synced - killed) / 1000).toFixed(1)} s, verify full ` +
          `${((Date.now() - synced) / 1000).toFixed(1)} s; writer transactions ${written.join(' + ')}\n`,
      );
    } finally {
      for (const writer of writers) await writer.stop().catch(() => undefined);
    }
  }, 3_600_000);

  it('without the hand-over snapshot, changes the writers made during the hand-over are applied twice or lost, and the run fails', async () => {
    handoverTestSwitches.adoptSlotSnapshot = false;
    const writers = [startWriter('pagila', (t) => pagilaTransaction(t + 5_000_000))];
    // The writers commit between the slot's consistent point and the copy's snapshot.
    handoverTestSwitches.afterSlotCreated = async () => {
      const seen = writers.map((w) => w.transactions());
      await waitFor('the writers to commit after the slot', async () => (writers.every((w, i) => w.transactions() >= seen[i]! + 3) ? true : undefined));
    };
    let runs: Run[];
    try {
      runs = await migrateUnderWriters('unadopted', writers, 'pagila');
    } finally {
      for (const writer of writers) await writer.stop();
    }
    const caughtUp = await catchUp(runs);
    const findings: string[] = [];
    for (const [i, run] of runs.entries()) {
      if (caughtUp[i]!.code !== 0) {
        findings.push(`${run.name}: sync exit ${caughtUp[i]!.code}`);
        continue;
      }
      for (const table of run.tables) {
        const result = await verifyFull(url, run.warehouse, run.schema, table);
        if (result.status !== 'ok') findings.push(`${run.schema}.${table}: ${result.status}`);
      }
    }
    expect(findings, 'runs whose hand-over read another moment than the slot').not.toEqual([]);
  }, 3_600_000);
});
