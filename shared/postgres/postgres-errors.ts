/**
 * Turns what `pg` and the network throw into IcebridgeErrors that say where and what, never how to log in:
 * messages name host, port, database and user only, and any known secret is scrubbed from server text.
 */
import { IcebridgeError } from '../errors';

/** Where a connection goes, without credentials: everything a message may show. */
export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** Context of `toPostgresError`. */
export interface ToPostgresErrorOptions {
  /** What was being done, e.g. "connect", "COPY public.orders". */
  operation: string;
  target?: PostgresTarget;
  /** Strings that must never appear in the message (the password, the URL). */
  secrets?: readonly string[];
}

/** Stable codes of PostgreSQL-side failures. */
export const PostgresErrorCodes = {
  unavailable: 'POSTGRES_UNAVAILABLE',
  connectionLost: 'POSTGRES_CONNECTION_LOST',
  authFailed: 'POSTGRES_AUTH_FAILED',
  databaseNotFound: 'POSTGRES_DATABASE_NOT_FOUND',
  query: 'POSTGRES_QUERY_FAILED',
} as const;

// SQLSTATEs after which the same work can succeed on a new attempt: connection exceptions (class 08),
// serialization failure and deadlock (40001, 40P01), insufficient resources (class 53), operator intervention
// (57P01 admin shutdown = pg_terminate_backend, 57P02, 57P03, 57014 cancel), lock not available (55P03).
const RETRYABLE_SQLSTATE = /^(08...|40001|40P01|53...|57P0[123]|57014|55P03)$/;
const RETRYABLE_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const CONNECTION_LOST_MESSAGES = /connection terminated|not queryable|terminating connection|server closed the connection|socket hang up|timeout expired/i;

/** The SQLSTATE of a server error, or undefined for anything else. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True when retrying the same work on a fresh connection can succeed. */
export function isRetryablePostgresError(error: unknown): boolean {
  if (error instanceof IcebridgeError) return error.retryable;
  const state = sqlState(error);
  if (state !== undefined) return RETRYABLE_SQLSTATE.test(state);
  for (const inner of innerErrors(error)) {
    const code = (inner as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_NODE_CODES.has(code)) return true;
    if (inner instanceof Error && CONNECTION_LOST_MESSAGES.test(inner.message)) return true;
  }
  return false;
}

/** `host:port, database "db", user "u"`: how messages name a connection. */
export function describeTarget(target: PostgresTarget): string {
  return `${target.host}:${target.port}, database ${JSON.stringify(target.database)}, user ${JSON.stringify(target.user)}`;
}

/** Wraps anything thrown by pg or the socket; IcebridgeErrors pass through unchanged. */
export function toPostgresError(error: unknown, options: ToPostgresErrorOptions): IcebridgeError {
  if (error instanceof IcebridgeError) return error;
  const where = options.target === undefined ? '' : ` (${describeTarget(options.target)})`;
  const reason = scrub(reasonOf(error), options.secrets ?? []);
  const state = sqlState(error);
  const retryable = isRetryablePostgresError(error);
  let code: string = PostgresErrorCodes.query;
  if (state === '28P01' || state === '28000') code = PostgresErrorCodes.authFailed;
  else if (state === '3D000') code = PostgresErrorCodes.databaseNotFound;
  else if (state === undefined && retryable) {
    code = options.operation === 'connect' ? PostgresErrorCodes.unavailable : PostgresErrorCodes.connectionLost;
  } else if (state !== undefined && /^(08|57P0)/.test(state)) code = PostgresErrorCodes.connectionLost;
  const prefix = options.operation === 'connect' ? 'cannot connect to PostgreSQL' : `PostgreSQL ${options.operation} failed`;
  const stateText = state === undefined ? '' : ` [SQLSTATE ${state}]`;
  // The cause is kept only for server errors: a client-side error may carry the connection string in a property.
  const cause = state !== undefined ? error : undefined;
  return new IcebridgeError(code, `${prefix}${where}: ${reason}${stateText}`, { retryable, cause });
}

function reasonOf(error: unknown): string {
  const messages = innerErrors(error)
    .map((inner) => (inner instanceof Error ? inner.message : String(inner)))
    .filter((message) => message !== '');
  const unique = [...new Set(messages)];
  if (unique.length === 0) return 'unknown error';
  const text = unique.join('; ');
  if (/timeout expired/i.test(text)) return 'no answer before the connect timeout';
  return text;
}

/** The error itself, or the errors of an AggregateError (Node's happy-eyeballs connect reports those). */
function innerErrors(error: unknown): unknown[] {
  if (error instanceof AggregateError && error.errors.length > 0) return [...(error.errors as unknown[])];
  return [error];
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 3) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}
