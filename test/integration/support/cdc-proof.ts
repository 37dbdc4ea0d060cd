/**
 * What the end-to-end change capture suites share: a migrate --cdc run through the local host, the slot's and the
 * tables' positions, the verifier at full level, and polling for a condition another process brings about.
 */
import * as path from 'node:path';
import { expect } from 'vitest';
import { type RunMigrationOptions, runMigration } from '../../../cli/support/run-migration';
import { type Lsn, formatLsn, parseLsn } from '../../../shared/cdc/lsn';
import { handoverName } from '../../../shared/migrate/handover-names';
import { connectPostgres } from '../../../shared/postgres/connection';
import type { RunEnvironment } from '../../../shared/run/environment';
import { appliedLsn } from '../../../shared/sync/applied-lsn';
import type { TableVerification } from '../../../shared/verify/contracts';
import { verifyTable } from '../../../shared/verify/steps/verify-table';
import { localCatalog, withClient } from './migration-fixtures';

/** Migrates `tables` of `schema` with --cdc into `warehouse` (state under `workDir`); returns the run id. */
export async function migrateCdc(
  url: string,
  schema: string,
  tables: string[] | undefined,
  warehouse: string,
  workDir: string,
  input: Partial<RunMigrationOptions['input']> = {},
): Promise<string> {
  const report = await runMigration({
    input: { sourceSchema: schema, namespace: schema, concurrency: 2, ...(tables ? { tables } : {}), verify: 'none', ...input, cdc: true },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(workDir, `state-${path.basename(warehouse)}`),
  });
  if (report.runtimeStatus !== 'Completed' || report.cdc === undefined || report.tables.failed > 0) {
    const failed = report.details.filter((t) => t.status !== 'committed').map((t) => `${t.table}: ${t.reason ?? t.status ?? t.phase}`);
    throw new Error(`migrate --cdc into ${warehouse} failed: ${report.lastError ?? ''} ${failed.join('; ')}`);
  }
  return report.id;
}

/** The position the slot of `runId` has been told (confirmed_flush_lsn). */
export async function slotConfirmed(url: string, runId: string): Promise<Lsn> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ lsn: string | null }>(
      'SELECT confirmed_flush_lsn::text AS lsn FROM pg_catalog.pg_replication_slots WHERE slot_name = $1',
      [handoverName(runId)],
    );
    if (rows[0]?.lsn == null) throw new Error(`no replication slot ${handoverName(runId)}`);
    return parseLsn(rows[0].lsn);
  });
}

/**
 * The WAL insert position: past every commit that has returned. Not pg_current_wal_lsn(), the write position: with
 * synchronous_commit off (as the test servers run) a commit returns before its record is written, and the slot
 * passes the write position while that commit is not even decoded.
 */
export async function committedPosition(url: string): Promise<Lsn> {
  return withClient(url, async (client) =>
    parseLsn((await client.query<{ lsn: string }>('SELECT pg_catalog.pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn),
  );
}

/** Waits until the slot of `runId` has confirmed every commit that has returned: a sync running elsewhere caught up. */
export async function slotCaughtUp(url: string, runId: string, timeoutMs = 240_000): Promise<void> {
  const target = await committedPosition(url);
  await waitFor(
    `slot ${handoverName(runId)} to confirm ${formatLsn(target)}`,
    async () => ((await slotConfirmed(url, runId)) >= target ? true : undefined),
    timeoutMs,
    200,
  );
}

/** The position a table of the warehouse has applied changes up to (its snapshots' summaries). */
export async function tableApplied(warehouse: string, namespace: string, name: string): Promise<Lsn> {
  const table = await localCatalog(warehouse).loadTable({ namespace: [namespace], name });
  const lsn = appliedLsn(table.metadata);
  if (lsn === undefined) throw new Error(`${namespace}.${name} records no change capture position`);
  return lsn;
}

/** Verifies one table at full level (every row compared). */
export async function verifyFull(url: string, warehouse: string, schema: string, name: string): Promise<TableVerification> {
  const env = { connectSource: () => connectPostgres(url), catalog: localCatalog(warehouse) } as RunEnvironment;
  return verifyTable(env, { source: { schema, name }, target: { namespace: [schema], name } }, { level: 'full' });
}

/** Asserts that full verification finds the table exact. */
export async function expectExact(url: string, warehouse: string, schema: string, name: string): Promise<void> {
  const result = await verifyFull(url, warehouse, schema, name);
  expect({ table: `${schema}.${name}`, status: result.status, error: result.error, rows: result.rows?.differences.slice(0, 3) }).toEqual({
    table: `${schema}.${name}`,
    status: 'ok',
    error: undefined,
    rows: [],
  });
}

/** Polls `check` until it returns a value (not undefined); fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
