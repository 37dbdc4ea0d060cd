/**
 * Reconnecting the sync's connections after a loss (a terminated backend, a network cut, a server restart): a
 * bounded backoff, so a server that stays down ends the sync with a clear error instead of a hang, and a SQL
 * connection that reconnects itself. What is resumed after a reconnect is decided by the tables, not here.
 */
import type { Client } from 'pg';
import { IcebridgeError, errorMessage } from '../errors';
import { clientTarget } from '../postgres/connection';
import { PostgresErrorCodes, sqlState, toPostgresError } from '../postgres/postgres-errors';

/** Options of the reconnect backoff. */
export interface ReconnectOptions {
  /** Consecutive failed reconnects (or sessions lost before doing anything) before giving up; defaults to 8. */
  maxAttempts?: number;
  /** First pause; doubled for each attempt after (with jitter) up to `maxDelayInMs`. Defaults to 500 ms. */
  baseDelayInMs?: number;
  /** Defaults to 15 s: 8 attempts span about a minute. */
  maxDelayInMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Error code of a sync that lost a connection and could not get it back within its attempts. */
export const RECONNECT_FAILED = 'SYNC_RECONNECT_FAILED';

/**
 * True for the loss of a connection (a terminated backend, a closed socket, a server not answering or starting)
 * and for a slot still held by the walsender of the connection just lost (SQLSTATE 55006, until it exits).
 * A refused login, a missing slot, a decoding failure are not: reconnecting would only repeat them.
 */
export function isConnectionLoss(error: unknown): boolean {
  if (!(error instanceof IcebridgeError)) return false;
  if (error.code === PostgresErrorCodes.connectionLost || error.code === PostgresErrorCodes.unavailable) return true;
  return sqlState(error.cause) === '55006';
}

/** Counts consecutive losses of one connection and waits the backoff between reconnects. */
export class Reconnector {
  private failures = 0;
  private firstFailureMs: number | undefined;
  private readonly maxAttempts: number;
  private readonly baseDelay: number;
  private readonly maxDelay: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly connection: string,
    options: ReconnectOptions = {},
    private readonly notice: (message: string) => void = () => undefined,
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.baseDelay = options.baseDelayInMs ?? 500;
    this.maxDelay = options.maxDelayInMs ?? 15_000;
    this.sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * The connection was lost (or a reconnect failed) with `error`: waits before the next attempt, or throws a
   * RECONNECT_FAILED error once `maxAttempts` consecutive attempts have failed.
   */
  async lost(error: unknown): Promise<void> {
    this.failures++;
    this.firstFailureMs ??= Date.now();
    if (this.failures > this.maxAttempts) {
      const seconds = Math.round((Date.now() - this.firstFailureMs) / 1000);
      throw new IcebridgeError(
        RECONNECT_FAILED,
        `lost the ${this.connection} connection and could not get it back: ${this.maxAttempts} reconnects failed over ${seconds} s; last: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    const delay = Math.min(this.maxDelay, this.baseDelay * 2 ** (this.failures - 1));
    const pause = Math.round(delay / 2 + Math.random() * (delay / 2));
    this.notice(
      `lost the ${this.connection} connection (${errorMessage(error)}); reconnecting in ${(pause / 1000).toFixed(1)} s (attempt ${this.failures} of ${this.maxAttempts})`,
    );
    await this.sleep(pause);
  }

  /** The connection has worked again for a while: the losses so far no longer count. */
  healthy(): void {
    this.failures = 0;
    this.firstFailureMs = undefined;
  }

  /** True after a loss not yet followed by `healthy`. */
  get recovering(): boolean {
    return this.failures > 0;
  }
}

/** An ordinary SQL connection that is made again, with the backoff, when it is lost. */
export class SqlLink {
  private client: Client | undefined;

  constructor(
    private readonly connect: () => Promise<Client>,
    private readonly reconnector: Reconnector,
    private readonly notice: (message: string) => void = () => undefined,
  ) {}

  /** Runs `fn` on the connection; a lost connection is made again and `fn` run again (it must be read-only). */
  async run<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    for (;;) {
      let reconnected = false;
      try {
        if (this.client === undefined) {
          reconnected = this.reconnector.recovering;
          this.client = await this.connect();
        }
        const result = await fn(this.client);
        if (reconnected) this.notice('the SQL connection is back');
        this.reconnector.healthy();
        return result;
      } catch (thrown) {
        const error = this.client === undefined ? thrown : toPostgresError(thrown, { operation: 'query', target: clientTarget(this.client) });
        if (!isConnectionLoss(error)) throw error;
        await this.client?.end().catch(() => undefined);
        this.client = undefined;
        await this.reconnector.lost(error);
      }
    }
  }

  /** Closes the connection, if open. */
  async close(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
