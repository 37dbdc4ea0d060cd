/**
 * `icebridge demo`: a whole migration on one machine with nothing installed: an embedded PostgreSQL filled
 * with a generated shop, the state schema migrated into a database of its own beside it (as `icebridge db
 * migrate` does), every table migrated into a local warehouse with the run recorded in the transaction log, row
 * counts checked, a summary printed.
 */
import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { Client } from 'pg';
import { errorMessage } from '../../shared/errors';
import { redactUrl } from '../../shared/postgres/connection';
import { migrateStateDatabase } from '../../shared/state-db/migration-runner';
import { withStateDatabase } from '../../shared/state-db/state-connection';
import { DEFAULT_STATE_SCHEMA } from '../../shared/state-db/state-schema';
import { STATE_SETTING_NAMES, type StateDatabaseSettings } from '../../shared/state-db/state-settings';
import { listActions } from '../../shared/state-db/transaction-log';
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

/** The demo's state database: a database of its own on the demo's PostgreSQL. */
export const DEMO_STATE_DATABASE = 'icebridge_state';

/** Where the demo kept its state, and what it recorded there: part of the summary. */
export interface DemoState {
  /** The state database's URL without its password. */
  database: string;
  schema: string;
  /** State migrations this demo applied. */
  migrationsApplied: string[];
  /** Kinds of the transaction log's entries for the run, oldest first. */
  runActions: string[];
}

/** Applies the state migrations into the demo's state database, as `icebridge db migrate` does. */
async function migrateDemoState(database: StateDatabaseSettings): Promise<string[]> {
  return (await withStateDatabase(database, (client) => migrateStateDatabase(client, { schema: database.schema }))).applied;
}

/** Runs `work` with the state database settings the app's activities read pointing at `database`, then as they were. */
async function withStateSettings<T>(database: StateDatabaseSettings, work: () => Promise<T>): Promise<T> {
  const names = Object.values(STATE_SETTING_NAMES);
  const saved = names.map((name) => [name, process.env[name]] as const);
  process.env[STATE_SETTING_NAMES.url] = database.url;
  process.env[STATE_SETTING_NAMES.schema] = database.schema;
  delete process.env[STATE_SETTING_NAMES.migrateOnStart];
  try {
    return await work();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

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
      port,
      user: 'postgres',
      password,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    });
    const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    await admin.connect();
    await admin.query('CREATE DATABASE shop');
    await admin.query(`CREATE DATABASE ${DEMO_STATE_DATABASE}`);
    await admin.end();
    const stateDatabase: StateDatabaseSettings = {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/${DEMO_STATE_DATABASE}`,
      schema: DEFAULT_STATE_SCHEMA,
      migrateOnStart: false,
    };
    say(`applying the state migrations into database ${DEMO_STATE_DATABASE}, schema ${stateDatabase.schema} …`);
    const migrationsApplied = await migrateDemoState(stateDatabase);
    const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'shop' });
    await client.connect();
    const rows = Object.values(DEMO_SIZES).reduce((a, b) => a + b, 0);
    say(`generating the shop dataset (${rows.toLocaleString('en-US')} rows in ${Object.keys(DEMO_SIZES).length} tables) …`);
    await client.query(demoDatasetSql());
    await client.end();
    const warehouse = path.join(dir, 'warehouse');
    say(`migrating schema shop into ${warehouse} …`);
    const report = await withStateSettings(stateDatabase, () =>
      runMigration({
        input: { sourceSchema: 'shop', namespace: 'shop', concurrency: 2, verify: 'quick' },
        sourceUrl: `postgres://postgres:${password}@127.0.0.1:${port}/shop`,
        warehouse,
        stateDir: path.join(dir, 'state'),
        progress: process.stderr,
      }),
    );
    const actions = await listActions({ correlationId: report.id }, stateDatabase);
    const state: DemoState = {
      database: redactUrl(stateDatabase.url),
      schema: stateDatabase.schema,
      migrationsApplied,
      runActions: actions.reverse().map((a) => a.kind),
    };
    const mismatched = report.details.filter((t) => t.status !== 'committed' || t.sourceRows !== t.rows);
    const complete =
      migrationSucceeded(report) &&
      report.verification?.status === 'ok' &&
      report.details.length === Object.keys(DEMO_SIZES).length &&
      mismatched.length === 0 &&
      state.runActions.includes('migration.start') &&
      state.runActions.includes('migration.end');
    process.stdout.write(flags.json ? `${JSON.stringify({ ...report, state }, null, 2)}\n` : `\n${renderSummary(report)}\n${stateSummary(state)}`);
    if (!flags.json) {
      process.stdout.write(
        complete
          ? `\nevery table committed and verified (schema, counts, aggregates); Iceberg row counts equal PostgreSQL's. Tables are in ${warehouse}\n`
          : `\nthe demo did not complete: ${report.lastError ?? (mismatched.length > 0 ? `${mismatched.length} table(s) failed or differ: ${mismatched.map((t) => t.table).join(', ')}` : report.verification?.status !== 'ok' ? `verification ${report.verification?.status ?? 'did not run'}` : 'the transaction log does not hold the run (see the warnings above)')}\n`,
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

function stateSummary(state: DemoState): string {
  const applied = state.migrationsApplied.length === 0 ? 'no migration pending' : `migrations applied: ${state.migrationsApplied.join(', ')}`;
  return [
    `state schema ${state.schema} in ${state.database} (${applied})`,
    `the run in its transaction log: ${state.runActions.length === 0 ? 'nothing recorded' : state.runActions.join(', ')}`,
    "(the demo's PostgreSQL is a throw-away one: the state goes with it when the demo ends)",
    '',
  ].join('\n');
}
