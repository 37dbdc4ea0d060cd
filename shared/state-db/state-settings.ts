/**
 * Where the state database is, from the environment. It is optional: without `ICEBRIDGE_STATE_DATABASE_URL` the
 * product records nothing there (the transaction log's writes do nothing). The URL is a secret, shown only
 * through `redactUrl`.
 */
import { ValidationError } from '../errors';
import { isPostgresUrl } from '../postgres/source-url';
import { DEFAULT_STATE_SCHEMA, quotedStateSchema } from './state-schema';

/** The state database's settings, by environment variable. */
export const STATE_SETTING_NAMES = {
  url: 'ICEBRIDGE_STATE_DATABASE_URL',
  schema: 'ICEBRIDGE_STATE_SCHEMA',
  migrateOnStart: 'ICEBRIDGE_STATE_MIGRATE_ON_START',
} as const;

/** A configured state database. */
export interface StateDatabaseSettings {
  /** PostgreSQL URL (a secret). */
  url: string;
  /** Schema of the state tables (default `icebridge`). */
  schema: string;
  /** Apply pending migrations when the app starts (default false). */
  migrateOnStart: boolean;
}

/** The state database of `env`, or undefined when none is configured; a malformed setting is a ValidationError naming it. */
export function stateDatabaseFromEnv(env: NodeJS.ProcessEnv = process.env): StateDatabaseSettings | undefined {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const url = get(STATE_SETTING_NAMES.url);
  const schema = get(STATE_SETTING_NAMES.schema) ?? DEFAULT_STATE_SCHEMA;
  quotedStateSchema(schema);
  const flag = get(STATE_SETTING_NAMES.migrateOnStart)?.toLowerCase();
  if (flag !== undefined && !['true', 'false', '1', '0'].includes(flag)) {
    throw new ValidationError(`${STATE_SETTING_NAMES.migrateOnStart} must be true or false`);
  }
  if (url === undefined) return undefined;
  if (!isPostgresUrl(url)) throw new ValidationError(`${STATE_SETTING_NAMES.url} must be a postgres:// or postgresql:// URL`);
  return { url, schema, migrateOnStart: flag === 'true' || flag === '1' };
}
