/**
 * Start-up migration: with `ICEBRIDGE_STATE_MIGRATE_ON_START=true` the app applies pending state migrations as it
 * loads (the runner's advisory lock makes instances starting together apply each file once). A failure is logged
 * and does not stop the app: the transaction log then counts failed writes until the schema is there.
 */
import { errorMessage } from '../errors';
import { connectPostgres } from '../postgres/connection';
import { migrateStateDatabase } from './migration-runner';
import { stateDatabaseFromEnv } from './state-settings';

let started: Promise<void> | undefined;

/** Applies pending migrations once per process when configured; resolves when done or failed (never rejects). */
export function migrateStateOnStart(env: NodeJS.ProcessEnv = process.env, log: (message: string) => void = (m) => console.warn(m)): Promise<void> {
  started ??= (async () => {
    try {
      const database = stateDatabaseFromEnv(env);
      if (!database?.migrateOnStart) return;
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
  })();
  return started;
}
