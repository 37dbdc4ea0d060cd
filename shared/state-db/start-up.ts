/**
 * Start-up migration: with `ICEBRIDGE_STATE_MIGRATE_ON_START=true` the app applies pending state migrations as it
 * loads (the runner's advisory lock makes instances starting together apply each file once), and the first write
 * to the state database waits for it. A failure is logged and does not stop the app: writes are then counted as
 * failed until the schema is there.
 */
import { errorMessage } from '../errors';
import { connectPostgres } from '../postgres/connection';
import { migrateStateDatabase } from './migration-runner';
import { type StateDatabaseSettings, stateDatabaseFromEnv } from './state-settings';

// One migration per database and schema per process, whoever asks first (the entry module, or a first write).
const started = new Map<string, Promise<void>>();

/** Applies pending migrations once per process when configured; resolves when done or failed (never rejects). */
export function migrateStateOnStart(env: NodeJS.ProcessEnv = process.env, log: (message: string) => void = (m) => console.warn(m)): Promise<void> {
  let database: StateDatabaseSettings | undefined;
  try {
    database = stateDatabaseFromEnv(env);
  } catch (error) {
    log(`icebridge: the state schema could not be migrated at start-up: ${errorMessage(error)}`);
    return Promise.resolve();
  }
  return database?.migrateOnStart ? migrateOnce(database, log) : Promise.resolve();
}

/** The start-up migration of `database`, started on the first call. */
export function migrateOnce(database: StateDatabaseSettings, log: (message: string) => void = (m) => console.warn(m)): Promise<void> {
  const key = `${database.url}\u0000${database.schema}`;
  let run = started.get(key);
  if (run === undefined) {
    run = migrate(database, log);
    started.set(key, run);
  }
  return run;
}

async function migrate(database: StateDatabaseSettings, log: (message: string) => void): Promise<void> {
  try {
    // No statement limit: a migration may rewrite a large table; a lock held elsewhere still ends the wait.
    const client = await connectPostgres(database.url, { statementTimeoutInMs: 0, applicationName: 'icebridge-migrate' });
    try {
      const result = await migrateStateDatabase(client, { schema: database.schema });
      if (result.applied.length > 0) log(`icebridge: state schema ${database.schema}: applied ${result.applied.join(', ')}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch (error) {
    log(`icebridge: the state schema could not be migrated at start-up: ${errorMessage(error)}`);
  }
}
