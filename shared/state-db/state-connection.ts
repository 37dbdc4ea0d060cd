/**
 * Short sessions on the state database: one connection per piece of work, closed after it. Writes to the state
 * database are rare (an action, a checkpoint), so no pool outlives them and nothing keeps a process alive.
 */
import type { Client } from 'pg';
import { connectPostgres } from '../postgres/connection';
import type { StateDatabaseSettings } from './state-settings';

/** Runs `work` on a new connection to the state database and closes it, whatever happens. */
export async function withStateDatabase<T>(database: Pick<StateDatabaseSettings, 'url'>, work: (client: Client) => Promise<T>): Promise<T> {
  // Short limits: a state database that is down must not hold up the action being recorded for long.
  const client = await connectPostgres(database.url, { connectTimeoutInMs: 5_000, statementTimeoutInMs: 15_000, applicationName: 'icebridge-state' });
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
