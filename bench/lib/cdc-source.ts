/**
 * The source side of the change capture benchmark: a stored procedure that writes the benchmark's change mix
 * into `bench.orders` server-side (fast enough to make a million changes in a minute or so), copies of the run's
 * slot so every drain reads the same changes, and `pg_recvlogical`, PostgreSQL's own client, as the source's rate.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Client } from 'pg';
import { ORDERS, ORDERS_ROW_SQL } from './migrate-postgres';

/** Server flags for logical decoding with room for the benchmark's slot copies (one per drain). */
export function logicalFlags(slots: number): string[] {
  return ['-c', 'wal_level=logical', '-c', `max_replication_slots=${slots}`, '-c', `max_wal_senders=${slots}`, '-c', 'synchronous_commit=off'];
}

const TABLE = `${ORDERS.schema}.${ORDERS.table}`;

/**
 * Creates `bench.make_changes(total, min_tx, max_tx)`: `total` row changes on `orders`, 25% inserts of new keys,
 * 15% deletes of the oldest live keys, 60% updates of random live keys, in transactions of min_tx to max_tx
 * changes, each committed before the next. The live keys are always the contiguous range [delete_from, next_id),
 * kept in `bench.change_state`, so every delete and update hits a row and consecutive calls continue the series.
 */
export async function createChangeProcedure(client: Client): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${ORDERS.schema}.change_state`);
  await client.query(`CREATE TABLE ${ORDERS.schema}.change_state (next_id bigint NOT NULL, delete_from bigint NOT NULL, last_lsn pg_lsn)`);
  await client.query(`INSERT INTO ${ORDERS.schema}.change_state SELECT coalesce(max(id), 0) + 1, coalesce(min(id), 1), NULL FROM ${TABLE}`);
  await client.query(`CREATE OR REPLACE PROCEDURE ${ORDERS.schema}.make_changes(total bigint, min_tx int, max_tx int)
LANGUAGE plpgsql AS $$
DECLARE
  done bigint := 0;
  size int;
  n_ins int;
  n_del int;
  n_upd int;
  updated bigint;
  nid bigint;
  dfrom bigint;
BEGIN
  WHILE done < total LOOP
    SELECT next_id, delete_from INTO nid, dfrom FROM ${ORDERS.schema}.change_state;
    size := least(total - done, min_tx + floor(random() * (max_tx - min_tx + 1))::int);
    n_ins := round(size * 0.25);
    n_del := round(size * 0.15);
    n_upd := size - n_ins - n_del;
    INSERT INTO ${TABLE} SELECT ${ORDERS_ROW_SQL} FROM generate_series(nid, nid + n_ins - 1) AS g;
    DELETE FROM ${TABLE} WHERE id >= dfrom AND id < dfrom + n_del;
    -- Random live keys; a key drawn twice is updated once, so the count is taken from the statement.
    UPDATE ${TABLE} SET amount = amount + 0.01, status = 'shipped', shipped_on = coalesce(shipped_on, date '2024-01-01')
      WHERE id IN (SELECT dfrom + n_del + floor(random() * (nid + n_ins - dfrom - n_del))::bigint FROM generate_series(1, n_upd));
    GET DIAGNOSTICS updated = ROW_COUNT;
    -- A position after every change of the transaction and before its commit record: see makeChanges.
    UPDATE ${ORDERS.schema}.change_state SET next_id = nid + n_ins, delete_from = dfrom + n_del, last_lsn = pg_current_wal_insert_lsn();
    done := done + n_ins + n_del + updated;
    COMMIT;
  END LOOP;
END $$`);
}

/** Where a call of make_changes left the WAL. */
export interface ChangesWritten {
  /**
   * A position inside the last transaction, after its changes and before its commit record: a consumer has
   * confirmed that transaction exactly when its confirmed position is at or past this one (a commit's end LSN is
   * past it, the previous commit's end before it), whatever else writes WAL meanwhile.
   */
  lastTransaction: string;
  /** The WAL insert position after the call: past the last commit. */
  walEnd: string;
}

/** Writes `total` changes in transactions of `minTx` to `maxTx` changes. */
export async function makeChanges(client: Client, total: number, minTx: number, maxTx: number): Promise<ChangesWritten> {
  await client.query(`CALL ${ORDERS.schema}.make_changes($1, $2, $3)`, [total, minTx, maxTx]);
  const result = await client.query<{ last: string; wal: string }>(
    `SELECT last_lsn::text AS last, pg_current_wal_insert_lsn()::text AS wal FROM ${ORDERS.schema}.change_state`,
  );
  return { lastTransaction: result.rows[0]!.last, walEnd: result.rows[0]!.wal };
}

/** Waits until a consumer streams the slot; returns how long that took. */
export async function waitForSlotActive(client: Client, slot: string, timeoutInMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutInMs) {
    const result = await client.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (result.rows[0]?.active === true) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`slot ${slot} was not streamed within ${timeoutInMs / 1000} s`);
}

/** Copies a logical slot at its current position (it must not be in use), so another consumer can drain the same changes. */
export async function copySlot(client: Client, from: string, to: string): Promise<void> {
  await client.query('SELECT pg_copy_logical_replication_slot($1, $2)', [from, to]);
}

/** Whether a slot's consumer has confirmed at least `lsn` ('X/Y'). */
export async function slotConfirmedPast(client: Client, slot: string, lsn: string): Promise<boolean> {
  const result = await client.query<{ past: boolean | null }>(
    'SELECT confirmed_flush_lsn >= $2::pg_lsn AS past FROM pg_replication_slots WHERE slot_name = $1',
    [slot, lsn],
  );
  return result.rows[0]?.past === true;
}

/** Bytes between the WAL insert position and what a slot's consumer confirmed; undefined for a missing slot. */
export async function slotLagBytes(client: Client, slot: string): Promise<number | undefined> {
  const result = await client.query<{ lag: string | null }>(
    'SELECT (pg_current_wal_insert_lsn() - confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  const lag = result.rows[0]?.lag;
  return lag === undefined || lag === null ? undefined : Number(lag);
}

/** Where the benchmark's server listens, for a client program (the password goes through the environment). */
export interface ConnectionTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** The connection target of a `postgres://user:password@host:port/db` URL. */
export function targetOf(url: string): ConnectionTarget {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: parsed.pathname.slice(1),
  };
}

/** The pg_recvlogical this machine has (Debian's postgresql-client). */
export const PG_RECVLOGICAL = process.env.PG_RECVLOGICAL ?? '/usr/bin/pg_recvlogical';

/** A pg_recvlogical run: wall time of the whole program, connection included, and its own CPU (user + system). */
export interface RecvlogicalRun {
  wallMs: number;
  cpuMs: number;
}

/**
 * Drains `slot` with pg_recvlogical to /dev/null up to `endLsn`, asking pgoutput for what the sync asks (protocol 1,
 * binary values; see startReplication): the source's own rate of decoding and sending these changes. It runs under
 * bash, whose `times` reports the program's CPU; throws with its stderr when it fails.
 */
export async function drainWithRecvlogical(target: ConnectionTarget, slot: string, publication: string, endLsn: string): Promise<RecvlogicalRun> {
  const args = [
    '--dbname',
    `host=${target.host} port=${target.port} user=${target.user} dbname=${target.database}`,
    '--slot',
    slot,
    '--start',
    '--endpos',
    endLsn,
    '--no-loop',
    '--file',
    '/dev/null',
    // No fsync of the output: /dev/null cannot be synced, and the sync's figure has no such cost either.
    '--fsync-interval',
    '0',
    '--option',
    'proto_version=1',
    '--option',
    `publication_names=${publication}`,
    '--option',
    'binary=true',
  ];
  const started = performance.now();
  const stdout = await new Promise<string>((resolve, reject) => {
    // `times` prints the shell's CPU, then its children's: the second line is pg_recvlogical's.
    const script = 'rc=0; "$0" "$@" || rc=$?; times; exit $rc';
    const child = spawn('bash', ['-c', script, PG_RECVLOGICAL, ...args], {
      env: { ...process.env, PGPASSWORD: target.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve(out) : reject(new Error(`pg_recvlogical exited with ${code ?? signal ?? '?'}: ${stderr.trim()}`)),
    );
  });
  const wallMs = performance.now() - started;
  const children = stdout.trim().split('\n')[1] ?? '';
  const cpuMs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
  return { wallMs, cpuMs };
}
