/**
 * Opens `pg` clients from a `postgres://` URL with bounded waits. The URL and password never reach a message:
 * errors name host, port, database and user only (see postgres-errors.ts), and `redactUrl` is the one way
 * to show a URL.
 */
import type { ConnectionOptions } from 'node:tls';
import { Client, type ClientConfig } from 'pg';
import { ValidationError } from '../errors';
import type { TokenCredential } from '../iceberg/io/azure-credential';
import { SOURCE_AUTH_SETTING, sourcePasswordSource } from './entra-auth';
import { type PostgresTarget, toPostgresError } from './postgres-errors';

/** Options of `connectPostgres`. */
export interface ConnectPostgresOptions {
  /** Longest wait for the connection and login; defaults to 10 s. */
  connectTimeoutInMs?: number;
  /** Server-side limit per statement, COPY included; 0 disables it. Defaults to 30 minutes. */
  statementTimeoutInMs?: number;
  /** Server-side limit on waiting for a lock; defaults to 60 s (a table being altered should not hang a copy). */
  lockTimeoutInMs?: number;
  /** The server ends a session idle inside a transaction this long; defaults to 10 minutes. */
  idleInTransactionTimeoutInMs?: number;
  /** Shown in pg_stat_activity; defaults to "icebridge". */
  applicationName?: string;
  /** How to log in: see `LoginOptions`. */
  login?: LoginOptions;
}

/** Where the login mode comes from (`ICEBRIDGE_SOURCE_AUTH`) and, for `entra`, whose identity signs in. */
export interface LoginOptions {
  /** The settings to read; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The identity for `entra`; defaults to the process's DefaultAzureCredential. */
  credential?: TokenCredential;
}

/** A parsed connection URL: the target, plus what is needed to log in (never shown). */
export interface PostgresUrl {
  target: PostgresTarget;
  password?: string;
  ssl?: boolean | ConnectionOptions;
  applicationName?: string;
  connectTimeoutInMs?: number;
}

const DEFAULT_PORT = 5432;

/** Parses `postgres[ql]://user:password@host:port/database?sslmode=...`; a bad URL is a ValidationError without the URL. */
export function parsePostgresUrl(url: string): PostgresUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError('the PostgreSQL URL is not a valid URL (expected postgresql://user:password@host:port/database)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ValidationError(`the PostgreSQL URL must start with postgresql:// or postgres://, not ${parsed.protocol}//`);
  }
  const params = parsed.searchParams;
  const decode = (text: string, what: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw new ValidationError(`the PostgreSQL URL has a badly encoded ${what}`);
    }
  };
  const user = params.get('user') ?? decode(parsed.username, 'user name');
  if (user === '') throw new ValidationError('the PostgreSQL URL names no user');
  const host = params.get('host') ?? (parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost');
  const portText = params.get('port') ?? parsed.port;
  const port = portText === '' ? DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ValidationError(`the PostgreSQL URL has an invalid port ${JSON.stringify(portText)}`);
  const database = params.get('dbname') ?? (decode(parsed.pathname.replace(/^\//, ''), 'database name') || user);
  const password = params.get('password') ?? (parsed.password === '' ? undefined : decode(parsed.password, 'password'));
  const result: PostgresUrl = { target: { host, port, database, user } };
  if (password !== undefined) result.password = password;
  const ssl = sslFromMode(params.get('sslmode'));
  if (ssl !== undefined) result.ssl = ssl;
  const applicationName = params.get('application_name');
  if (applicationName !== null) result.applicationName = applicationName;
  const connectTimeout = params.get('connect_timeout');
  if (connectTimeout !== null && /^\d+$/.test(connectTimeout) && Number(connectTimeout) > 0) {
    result.connectTimeoutInMs = Number(connectTimeout) * 1000;
  }
  return result;
}

// pg cannot fall back from TLS to plain text, so "allow" and "prefer" connect without TLS like "disable".
function sslFromMode(mode: string | null): boolean | ConnectionOptions | undefined {
  switch (mode) {
    case null:
    case 'disable':
    case 'allow':
    case 'prefer':
      return undefined;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true };
    default:
      throw new ValidationError(`the PostgreSQL URL has an unknown sslmode ${JSON.stringify(mode)}`);
  }
}

/**
 * Whether the URL's server is on this machine (a loopback address or a Unix socket), where it shares this
 * process's cores; false for any other host, and for a URL that cannot be read.
 */
export function sourceOnThisMachine(url: string): boolean {
  try {
    const { host } = parsePostgresUrl(url).target;
    return host.startsWith('/') || host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/** The URL without password or query string: `postgresql://user@host:port/database`. */
export function redactUrl(url: string): string {
  try {
    const { target } = parsePostgresUrl(url);
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    return `postgresql://${encodeURIComponent(target.user)}@${host}:${target.port}/${encodeURIComponent(target.database)}`;
  } catch {
    return '(invalid PostgreSQL URL)';
  }
}

/**
 * Connects a new `pg` Client. Failures become IcebridgeErrors naming the target (retryable when the server was
 * unreachable); the client keeps an `error` listener so a connection dying while idle cannot crash the process.
 */
export async function connectPostgres(url: string, options: ConnectPostgresOptions = {}): Promise<Client> {
  return connectClient(
    url,
    (parsed) => ({
      connectionTimeoutMillis: options.connectTimeoutInMs ?? parsed.connectTimeoutInMs ?? 10_000,
      // pg sends 0 as "not set", so an explicit 0 leaves the server default (no limit) in place.
      statement_timeout: options.statementTimeoutInMs ?? 30 * 60_000,
      lock_timeout: options.lockTimeoutInMs ?? 60_000,
      idle_in_transaction_session_timeout: options.idleInTransactionTimeoutInMs ?? 10 * 60_000,
      application_name: options.applicationName ?? parsed.applicationName ?? 'icebridge',
    }),
    options.login,
  );
}

/**
 * Connects a client to the URL's target with `settings` (made from the parsed URL) added to its login: the one
 * place a connection is made, ordinary or replication. The password is the URL's, or with
 * `ICEBRIDGE_SOURCE_AUTH=entra` an Entra token asked for at each login. A failure closes the client and names the
 * target, never a secret.
 */
export async function connectClient(
  url: string,
  settings: (parsed: PostgresUrl) => ClientConfig & Record<string, unknown>,
  login: LoginOptions = {},
): Promise<Client> {
  const parsed = parsePostgresUrl(url);
  const tokens = sourcePasswordSource(login.env ?? process.env, login.credential);
  if (tokens !== undefined && parsed.password !== undefined) {
    throw new ValidationError(`${SOURCE_AUTH_SETTING}=entra logs in with a Microsoft Entra token: take the password out of the PostgreSQL URL`);
  }
  const password = tokens ?? parsed.password;
  const client = new Client({
    host: parsed.target.host,
    port: parsed.target.port,
    user: parsed.target.user,
    database: parsed.target.database,
    ...(password === undefined ? {} : { password }),
    ...(parsed.ssl === undefined ? {} : { ssl: parsed.ssl }),
    keepAlive: true,
    ...settings(parsed),
  });
  // Errors on an idle client are reported by the next query; without a listener they would be thrown globally.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    const token = tokens?.current();
    const secrets = [url, ...(parsed.password === undefined ? [] : [parsed.password]), ...(token === undefined ? [] : [token])];
    throw toPostgresError(error, { operation: 'connect', target: parsed.target, secrets });
  }
  return client;
}

/** Where a connected client points, for messages. */
export function clientTarget(client: Client): PostgresTarget {
  return { host: client.host, port: client.port, database: client.database ?? '', user: client.user ?? '' };
}
