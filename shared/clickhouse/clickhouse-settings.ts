/**
 * Where the ClickHouse of the fan-out is, from the environment. Optional: without `ICEBRIDGE_CLICKHOUSE_URL` no
 * ClickHouse sink runs. The password is a secret and so is the URL (it may name an internal host); neither is ever
 * part of an error message.
 */
import { ValidationError } from '../errors';

/** The ClickHouse settings, by environment variable. */
export const CLICKHOUSE_SETTING_NAMES = {
  url: 'ICEBRIDGE_CLICKHOUSE_URL',
  user: 'ICEBRIDGE_CLICKHOUSE_USER',
  password: 'ICEBRIDGE_CLICKHOUSE_PASSWORD',
  database: 'ICEBRIDGE_CLICKHOUSE_DATABASE',
} as const;

/** A configured ClickHouse server. */
export interface ClickHouseSettings {
  /** HTTP(S) endpoint, without credentials: `http://host:8123`. */
  url: string;
  user: string;
  /** A secret. */
  password: string;
  /** Database of the analytics tables (created by `prepare` when missing). */
  database: string;
}

/** Database names we create and quote; ClickHouse allows more, but these are what a setting should hold. */
const DATABASE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The ClickHouse of `env`, or undefined when none is configured; a malformed setting is a ValidationError naming it, never its value. */
export function clickHouseFromEnv(env: NodeJS.ProcessEnv = process.env): ClickHouseSettings | undefined {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const url = get(CLICKHOUSE_SETTING_NAMES.url);
  if (url === undefined) return undefined;
  return checkClickHouseSettings({
    url,
    user: get(CLICKHOUSE_SETTING_NAMES.user) ?? 'default',
    password: env[CLICKHOUSE_SETTING_NAMES.password] ?? '',
    database: get(CLICKHOUSE_SETTING_NAMES.database) ?? 'icebridge',
  });
}

/** Validates settings given in code or read from the environment; answers them unchanged. */
export function checkClickHouseSettings(settings: ClickHouseSettings): ClickHouseSettings {
  let parsed: URL;
  try {
    parsed = new URL(settings.url);
  } catch {
    throw new ValidationError(`${CLICKHOUSE_SETTING_NAMES.url} must be an http:// or https:// URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ValidationError(`${CLICKHOUSE_SETTING_NAMES.url} must be an http:// or https:// URL`);
  }
  // Credentials in the URL would travel into client logs and error texts: they belong in the user and password settings.
  if (parsed.username !== '' || parsed.password !== '') {
    throw new ValidationError(
      `${CLICKHOUSE_SETTING_NAMES.url} must not hold credentials: set ${CLICKHOUSE_SETTING_NAMES.user} and ${CLICKHOUSE_SETTING_NAMES.password}`,
    );
  }
  if (!DATABASE_PATTERN.test(settings.database)) {
    throw new ValidationError(`${CLICKHOUSE_SETTING_NAMES.database} must be letters, digits and _ (at most 63), starting with a letter or _`);
  }
  return settings;
}
