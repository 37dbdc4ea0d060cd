/**
 * The one place the ClickHouse client is used: statements, TabSeparated reads streamed as raw byte lines, and
 * TabSeparated inserts. Raw bytes both ways because TabSeparated is the text format that carries every byte of a
 * String exactly (JSONEachRow turns a byte above 0x7f into a UTF-8 sequence). ClickHouse 18.16 has no query
 * parameters, so callers quote literals with `clickhouse-sql.ts`.
 */
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { IcebridgeError, errorMessage, redactSecrets } from '../errors';
import { type ClickHouseSettings, checkClickHouseSettings } from './clickhouse-settings';

/** A failed ClickHouse call; the message never holds the password or the URL's credentials. */
export class ClickHouseError extends IcebridgeError {
  constructor(message: string, retryable: boolean) {
    super('CLICKHOUSE', message, { retryable });
  }
}

/** What the fan-out does with ClickHouse. */
export interface ClickHouseConnection {
  /** The database of the analytics tables. */
  readonly database: string;
  /** Runs a statement that answers nothing (DDL, ALTER, INSERT … SELECT). */
  command(sql: string): Promise<void>;
  /** Runs a query ending in `FORMAT TabSeparated` and yields its lines as raw bytes, without the newline, as they arrive. */
  lines(sql: string): AsyncIterable<Buffer>;
  /** Sends `insert` (an `INSERT … FORMAT TabSeparated`) with `rows`: each one TabSeparated line, newline included. */
  insert(sql: string, rows: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void>;
  close(): Promise<void>;
}

/** Longest server message kept in an error: ClickHouse quotes the data it could not parse, which can be long. */
const MESSAGE_LIMIT = 2_000;
const NEWLINE = 0x0a;

/** Opens a connection (the client connects on first use). */
export function openClickHouse(settings: ClickHouseSettings): ClickHouseConnection {
  checkClickHouseSettings(settings);
  // The client library is loaded here, on first use, not by every command and function that never reaches ClickHouse.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ClickHouseLogLevel, createClient } = require('@clickhouse/client') as typeof import('@clickhouse/client');
  const client = createClient({
    url: settings.url,
    username: settings.user,
    password: settings.password,
    // The client's own log lines carry request details; our errors say what failed instead.
    log: { level: ClickHouseLogLevel.OFF },
    request_timeout: 300_000,
  });
  const fail = (error: unknown): never => {
    throw clickHouseError(error, settings.password);
  };
  return {
    database: settings.database,
    async command(sql) {
      await client.command({ query: sql }).catch(fail);
    },
    lines: (sql) => readLines(client, sql, fail),
    async insert(sql, rows) {
      const result = await client.exec({ query: sql, values: Readable.from(rows) }).catch(fail);
      // Draining the answer is what ends the request; an error in the body arrives as a stream error.
      await drain(result.stream).catch(fail);
    },
    async close() {
      await client.close();
    },
  };
}

async function* readLines(client: ClickHouseClient, sql: string, fail: (error: unknown) => never): AsyncIterable<Buffer> {
  const result = await client.exec({ query: sql }).catch(fail);
  let pending: Buffer[] = [];
  try {
    for await (const chunk of result.stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE); end >= 0; end = chunk.indexOf(NEWLINE, start)) {
        pending.push(chunk.subarray(start, end));
        yield pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        pending = [];
        start = end + 1;
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
    }
  } catch (error) {
    fail(error);
  }
  // A query cut short ends without its newline: that is a broken answer, not a last row.
  if (pending.length > 0) throw new ClickHouseError('ClickHouse: the answer ended inside a row', true);
}

async function drain(stream: NodeJS.ReadableStream): Promise<void> {
  for await (const chunk of stream) void chunk;
}

const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/** `error` as a ClickHouseError whose message holds no credential, bounded in length. */
export function clickHouseError(error: unknown, password: string): ClickHouseError {
  if (error instanceof ClickHouseError) return error;
  let message = redactSecrets(errorMessage(error));
  if (password.length > 0) message = message.split(password).join('***');
  if (message.length > MESSAGE_LIMIT) message = `${message.slice(0, MESSAGE_LIMIT)}… (${message.length} characters)`;
  const code = (error as { code?: unknown } | null)?.code;
  const retryable = typeof code === 'string' && RETRYABLE_CODES.has(code);
  return new ClickHouseError(`ClickHouse: ${message}`, retryable || /timeout|socket hang up/i.test(message));
}

/** Collects a query's lines as UTF-8 texts, for small answers (counts, names, partitions). */
export async function queryTexts(connection: ClickHouseConnection, sql: string): Promise<string[][]> {
  const rows: string[][] = [];
  for await (const line of connection.lines(sql)) rows.push(line.toString('utf8').split('\t'));
  return rows;
}
