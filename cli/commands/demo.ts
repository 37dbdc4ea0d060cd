/**
 * `icebridge demo`: a whole migration on one machine with nothing installed: an embedded PostgreSQL filled
 * with a generated shop, every table migrated into a local warehouse, row counts checked, a summary printed.
 */
import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { Client } from 'pg';
import { errorMessage } from '../../shared/errors';
import { DEMO_SIZES, demoDatasetSql } from '../demo/demo-dataset';
import { type FlagSpec, parseFlags, stringFlag, usage } from '../support/args';
import { runMigration } from '../support/run-migration';
import { migrationSucceeded } from './migrate';
import { renderSummary } from '../support/summary';
import { freePort } from '../support/free-port';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../demo/embedded-postgres';

/** Flags of `icebridge demo`. */
export const DEMO_FLAGS: FlagSpec[] = [
  { name: 'dir', value: true, description: 'working directory for the database, warehouse and state (default .icebridge/demo)' },
  { name: 'json', description: 'print the summary as JSON' },
  { name: 'help', description: 'show this help' },
];

/** Runs the demo; returns 0 when every table was committed, every count matches and the quick verification passed. */
export async function demoCommand(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, DEMO_FLAGS);
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n\n${usage('demo', 'Run a complete local migration.', DEMO_FLAGS)}`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(usage('demo', 'Run a complete local migration.', DEMO_FLAGS));
    return 0;
  }
  const dir = path.resolve(stringFlag(flags, 'dir') ?? '.icebridge/demo');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const password = 'demo';
  const say = (text: string) => process.stderr.write(`${text}\n`);
  let postgres: EmbeddedPostgres | undefined;
  try {
    say(`starting PostgreSQL on port ${port} …`);
    postgres = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'postgres'),
      port,
      user: 'postgres',
      password,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    });
    const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    await admin.connect();
    await admin.query('CREATE DATABASE shop');
    await admin.end();
    const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'shop' });
    await client.connect();
    const rows = Object.values(DEMO_SIZES).reduce((a, b) => a + b, 0);
    say(`generating the shop dataset (${rows.toLocaleString('en-US')} rows in ${Object.keys(DEMO_SIZES).length} tables) …`);
    await client.query(demoDatasetSql());
    await client.end();
    const warehouse = path.join(dir, 'warehouse');
    say(`migrating schema shop into ${warehouse} …`);
    const report = await runMigration({
      input: { sourceSchema: 'shop', namespace: 'shop', concurrency: 2, verify: 'quick' },
      sourceUrl: `postgres://postgres:${password}@127.0.0.1:${port}/shop`,
      warehouse,
      stateDir: path.join(dir, 'state'),
      progress: process.stderr,
    });
    const mismatched = report.details.filter((t) => t.status !== 'committed' || t.sourceRows !== t.rows);
    const complete =
      migrationSucceeded(report) && report.verification?.status === 'ok' && report.details.length === Object.keys(DEMO_SIZES).length && mismatched.length === 0;
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${renderSummary(report)}\n`);
    if (!flags.json) {
      process.stdout.write(
        complete
          ? `\nevery table committed and verified (schema, counts, aggregates); Iceberg row counts equal PostgreSQL's. Tables are in ${warehouse}\n`
          : `\nthe demo did not complete: ${report.lastError ?? (mismatched.length > 0 ? `${mismatched.length} table(s) failed or differ: ${mismatched.map((t) => t.table).join(', ')}` : `verification ${report.verification?.status ?? 'did not run'}`)}\n`,
      );
    }
    return complete ? 0 : 1;
  } catch (error) {
    say(`demo failed: ${errorMessage(error)}`);
    return 1;
  } finally {
    await postgres?.stop().catch(() => undefined);
  }
}
