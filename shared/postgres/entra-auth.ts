/**
 * Signing in to Azure Database for PostgreSQL with the app's Microsoft Entra identity instead of a password:
 * with `ICEBRIDGE_SOURCE_AUTH=entra` the password of every new connection is an access token for the
 * `ossrdbms-aad` scope. `pg` asks for the password each time it connects, so the token is fetched once, shared
 * by every connection of the process, and fetched again a few minutes before it expires (an open session stays
 * valid after its token expires; only a new login needs a fresh one).
 */
import { ValidationError } from '../errors';
import { type AccessToken, type TokenCredential, defaultAzureCredential } from '../iceberg/io/azure-credential';

/** The setting that chooses how connections to the source log in. */
export const SOURCE_AUTH_SETTING = 'ICEBRIDGE_SOURCE_AUTH';

/** The token scope of Azure Database for PostgreSQL (every cloud's flexible servers accept it). */
export const POSTGRES_ENTRA_SCOPE = 'https://ossrdbms-aad.database.windows.net/.default';

/** `password`: from the URL, PGPASSWORD or ~/.pgpass (the default); `entra`: an Entra access token. */
export type SourceAuthMode = 'password' | 'entra';

/** A password asked for at each login, which also knows the last value it gave (to scrub it from messages). */
export interface PasswordSource {
  (): Promise<string>;
  /** The token most recently handed out, if any. */
  current(): string | undefined;
}

/** Options of `entraPasswordSource`. */
export interface EntraPasswordOptions {
  /** A token is replaced this long before it expires; defaults to 5 minutes. */
  refreshMarginInMs?: number;
  /** The clock, in ms since 1970. */
  now?: () => number;
}

const DEFAULT_REFRESH_MARGIN_IN_MS = 5 * 60_000;

/** The login mode `env` asks for; a value other than `password` or `entra` is a ValidationError naming the setting. */
export function sourceAuthMode(env: NodeJS.ProcessEnv = process.env): SourceAuthMode {
  const value = env[SOURCE_AUTH_SETTING]?.trim().toLowerCase() || 'password';
  if (value !== 'password' && value !== 'entra') {
    throw new ValidationError(`${SOURCE_AUTH_SETTING} must be "password" or "entra"`);
  }
  return value;
}

/**
 * A password source that hands out Entra access tokens from `credential`, reusing one until it is within the
 * refresh margin of its expiry (or past the credential's own refresh hint) and letting concurrent logins share
 * one request for a new one.
 */
export function entraPasswordSource(credential: TokenCredential, options: EntraPasswordOptions = {}): PasswordSource {
  const margin = options.refreshMarginInMs ?? DEFAULT_REFRESH_MARGIN_IN_MS;
  const now = options.now ?? Date.now;
  let token: { value: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const fetchToken = async (): Promise<string> => {
    let access: AccessToken | null;
    try {
      access = await credential.getToken(POSTGRES_ENTRA_SCOPE);
    } catch (error) {
      // Credential errors list every source they tried; their text carries no secret, but keep ours short.
      throw new ValidationError(`cannot get a Microsoft Entra token for PostgreSQL (${SOURCE_AUTH_SETTING}=entra): ${firstLine(error)}`);
    }
    if (access === null) throw new ValidationError(`the app's identity gave no Microsoft Entra token for PostgreSQL (${SOURCE_AUTH_SETTING}=entra)`);
    const renewAt = Math.min(access.expiresOnTimestamp - margin, access.refreshAfterTimestamp ?? Number.POSITIVE_INFINITY);
    token = { value: access.token, renewAt };
    return access.token;
  };
  const source = async (): Promise<string> => {
    if (token !== undefined && now() < token.renewAt) return token.value;
    pending ??= fetchToken().finally(() => {
      pending = undefined;
    });
    return pending;
  };
  source.current = (): string | undefined => token?.value;
  return source;
}

const sources = new WeakMap<TokenCredential, PasswordSource>();

/**
 * The password source of connections under `env`: undefined in password mode; in Entra mode one source per
 * credential (the process's DefaultAzureCredential unless one is given), so every connection shares its token.
 */
export function sourcePasswordSource(env: NodeJS.ProcessEnv = process.env, credential?: TokenCredential): PasswordSource | undefined {
  if (sourceAuthMode(env) === 'password') return undefined;
  const identity = credential ?? defaultAzureCredential();
  let source = sources.get(identity);
  if (source === undefined) {
    source = entraPasswordSource(identity);
    sources.set(identity, source);
  }
  return source;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.slice(0, 300) ?? '';
}
