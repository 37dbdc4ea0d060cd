/**
 * `icebridge verify --level quick` of every table of Pagila, the sample database the integration tests load: many
 * small tables of varied types (domains, an enum, arrays, tsvector, bytea, a partitioned table), the other end
 * from one big generated table. Pagila gets a PostgreSQL of its own, started and loaded exactly as the
 * integration tests do it, so the orders benchmark's server and its figures stay as they were.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { PAGILA_SQL, startPostgres } from '../../test/integration/support/postgres';
import { median } from './measure';
import type { MigrateJob } from './migrate-candidates';
import { type JobMeasurement, runJobInChild } from './migrate-runner';
import { megabytes, verdict } from './migrate-report';

/** Figures of the Pagila step. */
export interface PagilaQuick {
  tables: number;
  rows: number;
  /** Untimed in the sense of the target: the migration the verification reads, shown for scale. */
  migrateMs: number;
  runs: JobMeasurement[];
  error?: string;
}

/** Options of benchPagilaQuick. */
export interface PagilaQuickOptions {
  runs: number;
  /** A fresh directory for the warehouse and state (removed by the caller with the rest). */
  dir: string;
  timeoutInMs: number;
}

/** Loads Pagila, migrates every table once, then times `verify --level quick` of all of them `runs` times. */
export async function benchPagilaQuick(options: PagilaQuickOptions): Promise<PagilaQuick> {
  const figures: PagilaQuick = { tables: 0, rows: 0, migrateMs: 0, runs: [] };
  const pg = await startPostgres().catch((error: unknown) => {
    figures.error = `could not start PostgreSQL: ${error instanceof Error ? error.message : String(error)}`;
    return undefined;
  });
  if (pg === undefined) return figures;
  try {
    const url = await pg.createDatabase('pagila');
    await pg.loadSqlFile('pagila', PAGILA_SQL);
    const base = { sourceUrl: url, schema: 'public', table: '' };
    const migrateDir = path.join(options.dir, 'migrate');
    await mkdir(migrateDir, { recursive: true });
    const migrated = await runJobInChild({ ...base, kind: 'migrate-schema', workDir: migrateDir }, { timeoutInMs: options.timeoutInMs });
    figures.tables = migrated.tables ?? 0;
    figures.rows = migrated.rows;
    figures.migrateMs = migrated.wallMs;
    for (let run = 1; run <= options.runs; run++) {
      const workDir = path.join(options.dir, `verify-${run}`);
      await mkdir(workDir, { recursive: true });
      const warehouse = path.join(migrateDir, 'warehouse');
      // The same warm-up as the orders verification: one tiny table first, untimed.
      const job: MigrateJob = { ...base, kind: 'verify', workDir, verify: { warehouse, level: 'quick', warmup: { warehouse, table: 'language' } } };
      const measured = await runJobInChild(job, { timeoutInMs: options.timeoutInMs });
      figures.runs.push(measured);
      console.log(`Pagila verify --level quick ${run}/${options.runs}: ${(measured.wallMs / 1000).toFixed(2)} s`);
    }
  } catch (error) {
    figures.error = error instanceof Error ? error.message : String(error);
  } finally {
    await pg.stop();
  }
  return figures;
}

/** Prints the Pagila line and its verdict. */
export function printPagilaQuick(figures: PagilaQuick): void {
  console.log('\nPagila (its own embedded PostgreSQL, durability off as in the integration tests; every table of schema public)');
  if (figures.error !== undefined) {
    // The loader's message carries the server log; its first lines say what went wrong.
    console.log(`  FAILED: ${figures.error.split('\n').slice(0, 12).join('\n  ')}`);
    if (/exited with status/.test(figures.error))
      console.log('  !!! verify found differences in tables nobody changed after migrating them: a bug in the migration or in the verifier.');
    return;
  }
  const wallMs = median(figures.runs.map((r) => r.wallMs));
  const peak = Math.max(...figures.runs.map((r) => r.peakRssBytes));
  console.log(
    `  verify --level quick of ${figures.tables} tables, ${figures.rows.toLocaleString('en-US')} rows: median ${(wallMs / 1000).toFixed(2)} s ` +
      `(each run ${figures.runs.map((r) => (r.wallMs / 1000).toFixed(2)).join(' ')} s), peak RSS ${megabytes(peak)}; ` +
      `the migration it reads took ${(figures.migrateMs / 1000).toFixed(1)} s`,
  );
  console.log(verdict('Pagila verify quick', `${(wallMs / 1000).toFixed(2)} s`, 'a few s', wallMs <= 5_000));
}
