/**
 * Structured logs: a message and a flat object of fields. Under a Functions host they go through the invocation's
 * context (`context.info(message, fields)`), which Azure sends to Application Insights with the invocation's
 * operation id; with no context (the CLI, start-up) they are written to stderr as JSON lines, or as one readable
 * line per entry on a terminal. Every text, the message and each field, passes through `redactSecrets`, and fields
 * whose name says they hold a credential are dropped to `***`, so a careless caller cannot leak one.
 */
import { errorMessage, redactSecrets } from '../errors';

/** The part of `InvocationContext` the logger writes through (a structural type: shared/ never imports the SDK). */
export interface LogTarget {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** One log entry's fields: flat values only, so they become custom dimensions one for one. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** The level of an entry. */
export type LogLevel = 'info' | 'warn' | 'error';

/** A structured logger. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Where context-less entries go: a line of text at a time. */
export type LineWriter = (line: string) => void;

/** Options of `createLogger`. */
export interface CreateLoggerOptions {
  /** Fields every entry carries (the function, the instance). */
  base?: LogFields;
  /** Without a target: `json` lines (the default off a terminal) or `pretty` ones. */
  format?: 'json' | 'pretty';
  /** Without a target: where lines go; stderr by default. */
  write?: LineWriter;
}

const SECRET_FIELD = /password|secret|token|credential|connection.?string|signature|(^|[._-])key$/i;
// camelCase names ending in Key (storageKey, accountKey); a lower-case "key" inside a word (monkey) is no credential.
const SECRET_CAMEL_FIELD = /[a-z0-9]Key$/;

/** The fields as they may be logged: credentials by name become `***`, every text is redacted. */
export function redactFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (SECRET_FIELD.test(name) || SECRET_CAMEL_FIELD.test(name)) out[name] = '***';
    else out[name] = typeof value === 'string' ? redactSecrets(value) : value;
  }
  return out;
}

/** A logger writing through `target` when given (an InvocationContext), else as lines to stderr. */
export function createLogger(target?: LogTarget, options: CreateLoggerOptions = {}): Logger {
  const base = options.base ?? {};
  const format = options.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (level: LogLevel, message: string, fields: LogFields = {}): void => {
    const text = redactSecrets(message);
    const safe = redactFields({ ...base, ...fields });
    if (target !== undefined) target[level](text, safe);
    else if (format === 'json') write(JSON.stringify({ time: new Date().toISOString(), level, message: text, ...safe }));
    else write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${text}${prettyFields(safe)}`);
  };
  return {
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
  };
}

function prettyFields(fields: LogFields): string {
  const parts = Object.entries(fields).map(
    ([name, value]) => `${name}=${typeof value === 'string' && /\s/.test(value) ? JSON.stringify(value) : String(value)}`,
  );
  return parts.length === 0 ? '' : ` ${parts.join(' ')}`;
}

/** The fields that describe a caught error: its message and, for product errors, its stable code. */
export function errorFields(error: unknown): LogFields {
  const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  return { error: errorMessage(error), ...(code === undefined ? {} : { code }) };
}
