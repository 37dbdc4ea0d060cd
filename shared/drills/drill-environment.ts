/**
 * What every drill is given and the checks they share: the source and warehouse, a way to run a migration (the
 * caller's: the CLI runs the real orchestrations through its local host), a temporary directory for the scratch
 * flag store, and the proofs used by more than one drill (a migrated table verifies exact, two PostgreSQL tables
 * hold the same rows).
 */
import type { Client } from 'pg';
import type { MigrationReport } from '../migrate/migration-status';
import type { RunEnvironment } from '../run/environment';
import { verifyTable } from '../verify/steps/verify-table';
import { check } from './drill-steps';
import type { Scratch } from './scratch';

/** One migration a drill asks for: tables of the scratch schema into the namespace of the same name. */
export interface DrillMigration {
  schema: string;
  namespace: string;
  tables: string[];
}

/** What a drill runs against. */
export interface DrillEnvironment {
  /** The source database and the warehouse's catalog. */
  env: RunEnvironment;
  /** Runs a migration to its end (no verification: the drills verify themselves) and returns its report. */
  migrate(request: DrillMigration): Promise<MigrationReport>;
  /** A directory of the drill's own (the scratch flags file and its audit trail go here); the caller removes it. */
  tempDir: string;
  /** Who the audit entries name. */
  actor: string;
}

/**
 * Makes a drill do the wrong thing at its recovery step (skip the rollback, load a restore with a row missing,
 * skip the flag rollback), to prove the drill then fails and names the step. Never set outside tests.
 */
export interface DrillOptions {
  sabotageRecovery?: boolean;
}

/** Migrates scratch tables, records the run for cleanup and returns the report; throws unless every table committed. */
export async function migrateScratch(drill: DrillEnvironment, scratch: Scratch, tables: string[], allowFailures = false): Promise<MigrationReport> {
  const report = await drill.migrate({ schema: scratch.name, namespace: scratch.name, tables });
  scratch.runs.push(report.id);
  if (!allowFailures) {
    check(
      report.runtimeStatus === 'Completed' && report.tables.failed === 0 && report.tables.done === tables.length,
      `migration ${report.id} ended ${report.runtimeStatus} with ${report.tables.failed} failed table(s)${report.lastError ? `: ${report.lastError}` : ''}`,
    );
  }
  return report;
}

/** Verifies a scratch table at the full level against a PostgreSQL table; throws unless it is exact. */
export async function verifyExact(drill: DrillEnvironment, scratch: Scratch, icebergTable: string, sourceTable: string, snapshotId?: string): Promise<string> {
  const result = await verifyTable(
    drill.env,
    { source: { schema: scratch.name, name: sourceTable }, target: { namespace: [scratch.name], name: icebergTable }, ...(snapshotId ? { snapshotId } : {}) },
    { level: 'full' },
  );
  check(
    result.status === 'ok',
    `${scratch.name}.${icebergTable} against PostgreSQL ${sourceTable}: ${result.status}${result.error ? ` (${result.error})` : ''}`,
  );
  return `${icebergTable} exact against ${sourceTable} at the full level`;
}

/** The rows one table has and the other lacks, both ways, counted as multisets (0: the same rows). */
export async function rowDifference(client: Client, left: string, right: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ((TABLE ${left} EXCEPT ALL TABLE ${right}) UNION ALL (TABLE ${right} EXCEPT ALL TABLE ${left})) d`,
  );
  return Number(rows[0]!.n);
}

/** The current snapshot of a scratch Iceberg table, decimal. */
export async function currentSnapshot(drill: DrillEnvironment, scratch: Scratch, table: string): Promise<string> {
  const loaded = await drill.env.catalog.loadTable({ namespace: [scratch.name], name: table });
  const id = loaded.metadata['current-snapshot-id'];
  check(id !== undefined && id !== null, `${scratch.name}.${table} has no snapshot`);
  return id.toString();
}

/** Columns of several kinds, so a drill exercises more than one mapping on its way and back. */
export const SCRATCH_COLUMNS = `id int PRIMARY KEY, amount numeric(12,2), label text, happened timestamptz, day date, flag boolean, payload bytea, ref uuid, doc jsonb`;

/** Rows `from`..`to` of SCRATCH_COLUMNS, derived from the id so a second insert is reproducible. */
export function scratchRowsSql(table: string, from: number, to: number): string {
  return `INSERT INTO ${table} SELECT g, g * 1.25, 'row ' || g, timestamptz '2026-01-01 00:00:00Z' + g * interval '1 hour', date '2026-01-01' + g,
    g % 2 = 0, decode(md5(g::text), 'hex'), md5(g::text)::uuid, jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g))
    FROM generate_series(${from}, ${to}) g`;
}
