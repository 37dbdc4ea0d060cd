/**
 * The source database's URL without a password on any command line: from a flag, `ICEBRIDGE_SOURCE_URL`, or the
 * libpq environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`), with a missing
 * password looked up in `PGPASSFILE` / `~/.pgpass` by libpq's rules. The result is a secret: show it only
 * through `redactUrl`.
 */
import { readFile, stat } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import * as path from 'node:path';
import { ValidationError } from '../errors';
import { parsePostgresUrl } from './connection';
import { sourceAuthMode } from './entra-auth';

/** Where a source URL came from (safe to show). */
export type SourceOrigin = 'flag' | 'ICEBRIDGE_SOURCE_URL' | 'libpq environment';

/** A resolved source: the URL (a secret) and where it came from. */
export interface ResolvedSource {
  url: string;
  origin: SourceOrigin;
}

/** Options of `resolveSourceUrl`. */
export interface ResolveSourceOptions {
  /** Environment to read (defaults to `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Receives libpq's warnings about an unusable password file (defaults to stderr). */
  warn?: (message: string) => void;
}

/** Whether `text` names a source by URL (`postgres://` or `postgresql://`), as settings and flags must. */
export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//.test(text);
}

/** The libpq variables that, when any is set, make the environment describe a source. */
export const LIBPQ_VARIABLES = ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'] as const;

/**
 * Resolves the source: `flag` if given, else `ICEBRIDGE_SOURCE_URL`, else the libpq variables. A URL without a
 * password gets one from `PGPASSWORD` or the password file, as libpq would. Throws ValidationError (never
 * showing a value) when nothing describes a source or a URL is malformed.
 */
export async function resolveSourceUrl(flag: string | undefined, options: ResolveSourceOptions = {}): Promise<ResolvedSource> {
  const env = options.env ?? process.env;
  const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
  const fromUrl = async (url: string, origin: SourceOrigin, what: string): Promise<ResolvedSource> => {
    if (!isPostgresUrl(url)) throw new ValidationError(`${what} must be a postgres:// or postgresql:// URL`);
    return { url: await withLibpqPassword(url, env, warn), origin };
  };
  if (flag !== undefined) return fromUrl(flag, 'flag', '--source');
  const setting = env.ICEBRIDGE_SOURCE_URL?.trim();
  if (setting) return fromUrl(setting, 'ICEBRIDGE_SOURCE_URL', 'ICEBRIDGE_SOURCE_URL');
  if (!LIBPQ_VARIABLES.some((name) => env[name]?.trim())) {
    throw new ValidationError(
      `no source database: set ICEBRIDGE_SOURCE_URL, or the libpq variables ${LIBPQ_VARIABLES.join(', ')} (a password may come from ~/.pgpass), or give --source`,
    );
  }
  return { url: await withLibpqPassword(libpqUrl(env), env, warn), origin: 'libpq environment' };
}

/** A URL from the libpq variables, with libpq's defaults (localhost, 5432, the login user, a database named after the user). */
export function libpqUrl(env: NodeJS.ProcessEnv): string {
  const value = (name: string): string | undefined => env[name]?.trim() || undefined;
  const host = value('PGHOST') ?? 'localhost';
  const port = value('PGPORT') ?? '5432';
  if (!/^\d+$/.test(port)) throw new ValidationError('PGPORT must be a port number');
  const user = value('PGUSER') ?? userInfo().username;
  const database = value('PGDATABASE') ?? user;
  // With ICEBRIDGE_SOURCE_AUTH=entra the login's password is a token, never libpq's.
  const password = sourceAuthMode(env) === 'entra' ? undefined : env.PGPASSWORD;
  const query = new URLSearchParams();
  // A socket directory cannot be a URL's host; the host parameter carries it, as libpq's own URIs allow.
  if (host.startsWith('/')) query.set('host', host);
  const sslmode = value('PGSSLMODE');
  if (sslmode) query.set('sslmode', sslmode);
  const authority = host.startsWith('/') ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const login = `${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}`;
  const search = query.toString() !== '' ? `?${query.toString()}` : '';
  return `postgresql://${login}@${authority}:${port}/${encodeURIComponent(database)}${search}`;
}

/** Adds `PGPASSWORD`, else the password file's match, to a URL that carries no password (unless logins use Entra). */
async function withLibpqPassword(url: string, env: NodeJS.ProcessEnv, warn: (message: string) => void): Promise<string> {
  const parsed = parsePostgresUrl(url);
  if (parsed.password !== undefined || sourceAuthMode(env) === 'entra') return url;
  const password = env.PGPASSWORD || (await passwordFromFile(parsed.target, env, warn));
  if (!password) return url;
  const withPassword = new URL(url);
  if (withPassword.searchParams.has('user')) withPassword.searchParams.set('password', password);
  else withPassword.password = encodeURIComponent(password);
  return withPassword.toString();
}

/** The target fields a password file line is matched against. */
export interface PgpassTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

/**
 * libpq's password file lookup: `PGPASSFILE` or `~/.pgpass`, ignored with a warning unless it is a plain file
 * without group or world permissions; the first line whose host, port, database and user each equal the
 * target or are `*` gives the password; `#` starts a comment line; `\` escapes `:` and `\`.
 */
export async function passwordFromFile(
  target: PgpassTarget,
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = () => undefined,
): Promise<string | undefined> {
  const file = env.PGPASSFILE?.trim() || path.join(env.HOME?.trim() || homedir(), '.pgpass');
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) return undefined;
  if (!info.isFile()) {
    warn(`WARNING: password file "${file}" is not a plain file`);
    return undefined;
  }
  if ((info.mode & 0o077) !== 0) {
    warn(`WARNING: password file "${file}" has group or world access; permissions should be u=rw (0600) or less`);
    return undefined;
  }
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // libpq compares the socket case as "localhost".
  const host = target.host.startsWith('/') ? 'localhost' : target.host;
  const wanted = [host, String(target.port), target.database, target.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#') || line === '') continue;
    const fields = splitPgpassLine(line);
    if (fields.length < 5) continue;
    if (wanted.every((value, i) => fields[i] === '*' || fields[i] === value)) return fields[4];
  }
  return undefined;
}

/** Splits on unescaped `:` and removes the escapes, as libpq does; the fifth field takes the rest of the line. */
function splitPgpassLine(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) current += line[++i];
    else if (c === ':' && fields.length < 4) {
      fields.push(current);
      current = '';
    } else current += c;
  }
  fields.push(current);
  return fields;
}
