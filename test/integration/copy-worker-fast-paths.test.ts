/**
 * The three shortcuts a copy worker's hot path takes, held to the slow paths they replace:
 * - CopyOutQuery frames the protocol itself instead of pg-copy-streams: CopyData payloads reassemble exactly
 *   however the socket splits the messages, anything after CopyDone or from an ErrorResponse on is pg's again.
 * - uuid values travel as 16 bytes from the COPY decoder to the Parquet writer: the same rows, byte-identical
 *   Parquet, keys in error messages still in text, and tables partitioned on a uuid keep the text form the
 *   transforms need.
 * - Repeated texts (text, varchar, enum labels, jsonb, their arrays) travel as InternedText entries, one per distinct
 *   text of a column, and the Parquet writer takes a repeat's dictionary index from the entry: the same rows,
 *   byte-identical Parquet across row groups (each with its own dictionary), keys in error messages in text, and
 *   tables partitioned on a text keep strings. Real PostgreSQL for the reads and the migrations.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Client, Connection } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { IcebridgeError } from '../../shared/errors';
import { LocalFileIO, MemoryFileIO } from '../../shared/iceberg/io';
import { DataFileWriter } from '../../shared/iceberg/parquet/data-file-writer';
import { InternedText } from '../../shared/iceberg/parquet/interned-text';
import { scanToArray } from '../../shared/iceberg/scan/table-scan';
import { type PrimitiveValue, type Row, type Value, uuidFromBytes } from '../../shared/iceberg/spec/values';
import type { TableConfig } from '../../shared/run/request-fields';
import { connectPostgres } from '../../shared/postgres/connection';
import { CopyOutQuery } from '../../shared/postgres/copy-out-query';
import { readRows } from '../../shared/postgres/copy-reader';
import { describeTable } from '../../shared/postgres/introspect';
import { withSnapshotTransaction } from '../../shared/postgres/snapshot-transaction';
import { mapTable } from '../../shared/postgres/type-mapping';
import { localCatalog } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

/** A backend message: type byte, int32 length (itself included), body. */
function message(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** A socket as far as CopyOutQuery uses one: data events, pause and resume. */
class FakeSocket extends EventEmitter {
  paused = false;

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    this.paused = false;
    return this;
  }
}

/** Stands in for pg's connection: a socket with pg's one data listener, and the query the COPY sends. */
function fakeConnection(): { connection: Connection; socket: FakeSocket; pgSaw: () => Buffer; sent: string[] } {
  const socket = new FakeSocket();
  const seen: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => seen.push(Buffer.from(chunk)));
  const sent: string[] = [];
  const connection = { stream: socket, query: (text: string) => sent.push(text) } as unknown as Connection;
  return { connection, socket, pgSaw: () => Buffer.concat(seen), sent };
}

/** Feeds `bytes` to a CopyOutQuery in chunks cut at `cuts`; returns what the consumer and pg each received. */
function feed(
  bytes: Buffer,
  cuts: number[],
): { payload: Buffer; ends: number; errors: Error[]; pgSaw: Buffer; query: CopyOutQuery; fake: ReturnType<typeof fakeConnection> } {
  const fake = fakeConnection();
  const parts: Buffer[] = [];
  let ends = 0;
  const errors: Error[] = [];
  const query = new CopyOutQuery('COPY t TO STDOUT (FORMAT binary)', {
    data: (buf, start, end) => parts.push(Buffer.from(buf.subarray(start, end))),
    end: () => ends++,
    error: (error) => errors.push(error),
  });
  query.submit(fake.connection);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    // Every chunk is a fresh copy, as the socket hands them out.
    if (cut > from) fake.socket.emit('data', Buffer.from(bytes.subarray(from, cut)));
    from = cut;
  }
  return { payload: Buffer.concat(parts), ends, errors, pgSaw: fake.pgSaw(), query, fake };
}

describe('CopyOutQuery framing', () => {
  const payloads = [
    Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
    Buffer.from('first row'),
    Buffer.alloc(0),
    Buffer.from('second, longer row ....'),
    Buffer.from([0xff, 0xff]),
  ];
  const copyOutResponse = message('H', Buffer.from([1, 0, 1, 0, 1]));
  const notice = message('N', Buffer.from('Snotice\0\0'));
  const tail = Buffer.concat([message('C', Buffer.from('COPY 2\0')), message('Z', Buffer.from('I'))]);
  const stream = Buffer.concat([
    copyOutResponse,
    message('d', payloads[0]),
    message('d', payloads[1]),
    notice,
    message('d', payloads[2]),
    message('d', payloads[3]),
    message('d', payloads[4]),
    message('c'),
    tail,
  ]);

  it('reassembles the CopyData payloads exactly wherever the socket splits the stream, and hands the rest to pg', () => {
    const expected = Buffer.concat(payloads);
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j += 3) {
        const got = feed(stream, [i, j]);
        expect(got.payload.equals(expected), `cuts at ${i}, ${j}: payload`).toBe(true);
        expect(got.ends, `cuts at ${i}, ${j}: end`).toBe(1);
        expect(got.errors).toEqual([]);
        expect(got.pgSaw.equals(tail), `cuts at ${i}, ${j}: pg gets CommandComplete and ReadyForQuery, nothing else`).toBe(true);
      }
    }
  });

  it('sends the statement, gives the socket back to pg afterwards, and resumes it', async () => {
    const got = feed(stream, [7]);
    expect(got.fake.sent).toEqual(['COPY t TO STDOUT (FORMAT binary)']);
    expect(got.fake.socket.listeners('data'), 'only pg listens again').toHaveLength(1);
    got.fake.socket.pause();
    await new Promise((resolve) => process.nextTick(resolve));
    expect(got.fake.socket.paused, 'the socket flows again for pg').toBe(false);
    // ReadyForQuery after CopyDone changes nothing.
    got.query.handleReadyForQuery();
    expect([got.ends, got.errors.length]).toEqual([1, 0]);
  });

  it('hands an ErrorResponse and everything after it to pg, and fails once with the error pg reports', () => {
    const error = message('E', Buffer.from('SERROR\0C57014\0Mcanceling statement due to user request\0\0'));
    const failing = Buffer.concat([copyOutResponse, message('d', payloads[0]), message('d', payloads[1]), error, message('Z', Buffer.from('E'))]);
    for (let i = 0; i <= failing.length; i++) {
      const got = feed(failing, [i]);
      expect(got.payload.equals(Buffer.concat(payloads.slice(0, 2))), `cut at ${i}: payload before the error`).toBe(true);
      expect(got.pgSaw.equals(failing.subarray(failing.length - error.length - 6)), `cut at ${i}: pg sees the error onwards`).toBe(true);
      const reported = new Error('canceling statement due to user request');
      got.query.handleError(reported);
      got.query.handleError(new Error('again'));
      got.query.handleReadyForQuery();
      expect(got.errors).toEqual([reported]);
      expect(got.ends).toBe(0);
    }
  });

  it('fails when pg reaches ReadyForQuery without CopyDone', () => {
    const got = feed(Buffer.concat([copyOutResponse, message('d', payloads[0])]), []);
    got.query.handleReadyForQuery();
    expect(got.errors.map((e) => e.message)).toEqual(['the COPY ended without CopyDone']);
  });

  it('pauses and resumes the socket for back-pressure', () => {
    const got = feed(Buffer.concat([copyOutResponse]), []);
    got.query.pause();
    expect([got.query.isPaused(), got.fake.socket.paused]).toEqual([true, true]);
    got.query.resume();
    expect([got.query.isPaused(), got.fake.socket.paused]).toEqual([false, false]);
  });
});

const UUID_TABLE_SQL = `
CREATE TABLE tokens (
  id       uuid PRIMARY KEY,
  other    uuid,
  history  uuid[],
  label    text NOT NULL
);
INSERT INTO tokens
SELECT md5(g::text)::uuid,
       CASE WHEN g % 3 = 0 THEN NULL ELSE md5((g * 7)::text)::uuid END,
       CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN ARRAY[]::uuid[] WHEN 2 THEN ARRAY[md5((-g)::text)::uuid, NULL]
         ELSE ARRAY['00000000-0000-0000-0000-000000000000'::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid] END,
       'token ' || g
FROM generate_series(1, 20000) AS g;
CREATE TABLE priced (id uuid PRIMARY KEY, price numeric(6,2));
CREATE TYPE mood AS ENUM ('sad', 'ok', 'glücklich');
CREATE TABLE notes (
  code   varchar(20) PRIMARY KEY,
  status text NOT NULL,
  mood   mood,
  attrs  jsonb,
  tags   text[],
  body   text
);
INSERT INTO notes
SELECT 'n-' || g,
       (ARRAY['pending', 'paid', 'shipped', 'refunded', 'größer'])[1 + g % 5],
       CASE WHEN g % 7 = 0 THEN NULL ELSE (ARRAY['sad', 'ok', 'glücklich'])[1 + g % 3]::mood END,
       CASE WHEN g % 11 = 0 THEN NULL ELSE jsonb_build_object('channel', (ARRAY['web', 'app', 'störe'])[1 + g % 3], 'items', g % 40) END,
       CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN ARRAY[]::text[] WHEN 2 THEN ARRAY['priority', NULL] ELSE ARRAY['promo', 'fragile', 'promo'] END,
       CASE WHEN g % 3 = 0 THEN repeat('long note ' || g || ' ', 40) WHEN g % 3 = 1 THEN 'note ' || (g % 50) END
FROM generate_series(1, 20000) AS g;
CREATE TABLE dated (code text PRIMARY KEY, due date);
INSERT INTO dated VALUES ('fine', '2024-01-01'), ('später', 'infinity');
INSERT INTO priced VALUES ('0b7e1b5c-3f0e-4d52-9c1a-2f6d8e4b7a10', 1.50), ('1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9', 'NaN');
ANALYZE tokens;
`;

let pg: PostgresInstance;
let client: Client;
let sourceUrl: string;
let workDir: string;

beforeAll(async () => {
  pg = await startPostgres();
  sourceUrl = await pg.createDatabase('uuids');
  client = await connectPostgres(sourceUrl);
  await client.query(UUID_TABLE_SQL);
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-fast-paths-'));
}, 120_000);

afterAll(async () => {
  await client?.end().catch(() => undefined);
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function read(table: string, uuidAsBytes: boolean, textAsBytes = false): Promise<{ rows: Row[]; mapping: ReturnType<typeof mapTable> }> {
  const source = await describeTable(client, 'public', table);
  const mapping = mapTable(source);
  const rows = await withSnapshotTransaction(client, async () => {
    const out: Row[] = [];
    for await (const batch of readRows(client, source, mapping, { uuidAsBytes, textAsBytes })) out.push(...batch);
    return out;
  });
  return { rows, mapping };
}

/** The rows with every uuid in bytes turned into its text form. */
function asText(rows: Row[]): Row[] {
  const convert = (v: Value): Value => (v instanceof Uint8Array ? uuidFromBytes(v) : Array.isArray(v) ? v.map(convert) : v);
  return rows.map((row) => row.map(convert));
}

/** The Parquet files `rows` make, and how many row groups they hold. */
async function parquetBytes(
  rows: Row[],
  schema: ReturnType<typeof mapTable>['schema'],
  rowGroupSizeInBytes?: number,
): Promise<{ files: Uint8Array[]; rowGroups: number }> {
  const io = new MemoryFileIO();
  let n = 0;
  const writer = new DataFileWriter({
    io,
    schema,
    newLocation: () => `memory://w/data-${n++}.parquet`,
    ...(rowGroupSizeInBytes === undefined ? {} : { rowGroupSizeInBytes }),
  });
  for (const row of rows) {
    const pending = writer.write(row);
    if (pending) await pending;
  }
  const files = await writer.close();
  return { files: await Promise.all(files.map((f) => io.read(f.filePath))), rowGroups: files.reduce((n, f) => n + (f.splitOffsets?.length ?? 1), 0) };
}

/**
 * Migrates `table` into one namespace per run (with that run's table configuration) and checks that each reads back
 * as `expected`, rows ordered by their first column's text.
 */
async function expectMigratedExactly(table: string, expected: Row[], runs: Array<[string, Record<string, TableConfig> | undefined]>): Promise<void> {
  const warehouse = path.join(workDir, `warehouse-${table}`);
  const byKey = (rows: Row[]): Row[] => [...rows].sort((a, b) => String(a[0] as PrimitiveValue).localeCompare(String(b[0] as PrimitiveValue)));
  for (const [namespace, tableConfig] of runs) {
    const report = await runMigration({
      input: {
        sourceSchema: 'public',
        namespace,
        concurrency: 1,
        tables: [table],
        partitionSizeInBytes: 256 * 1024,
        ...(tableConfig ? { tableConfig } : {}),
      },
      sourceUrl,
      warehouse,
      stateDir: path.join(workDir, `state-${table}-${namespace}`),
    });
    expect(
      report.details.map((t) => [t.table, t.status, t.reason ?? '']),
      namespace,
    ).toEqual([[table, 'committed', '']]);
    const loaded = await localCatalog(warehouse).loadTable({ namespace: [namespace], name: table });
    const rows = await scanToArray(new LocalFileIO(), loaded.metadata);
    expect(byKey(rows), `${namespace}: rows read back`).toEqual(byKey(expected));
  }
}

describe('uuid as bytes', () => {
  it('reads the same uuids as bytes as it reads as text, nested ones included', async () => {
    const text = await read('tokens', false);
    const bytes = await read('tokens', true);
    expect(bytes.rows).toHaveLength(20_000);
    expect(bytes.rows[0]![0], 'a uuid column reads as 16 bytes').toBeInstanceOf(Uint8Array);
    expect(
      bytes.rows.some((r) => Array.isArray(r[2]) && r[2][0] instanceof Uint8Array),
      'list elements too',
    ).toBe(true);
    expect(asText(bytes.rows)).toEqual(text.rows);
  });

  it('writes byte-identical Parquet from uuid bytes and from uuid text', async () => {
    const text = await read('tokens', false);
    const bytes = await read('tokens', true);
    const { files: fromText } = await parquetBytes(text.rows, text.mapping.schema);
    const { files: fromBytes } = await parquetBytes(bytes.rows, bytes.mapping.schema);
    expect(fromBytes.length).toBe(fromText.length);
    fromBytes.forEach((file, i) => expect(Buffer.from(file).equals(Buffer.from(fromText[i]!)), `file ${i}`).toBe(true));
  });

  it('names a failing row by its uuid key in text', async () => {
    const error = await read('priced', true).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IcebridgeError);
    expect((error as IcebridgeError).message).toContain('row (id)=(1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9)');
  });

  it('migrates uuid tables exactly, unpartitioned and partitioned by bucket of a uuid', async () => {
    await expectMigratedExactly('tokens', asText((await read('tokens', false)).rows), [
      ['plain', undefined],
      ['bucketed', { tokens: { partitionSpec: [{ source: 'id', transform: 'bucket[4]' }] } }],
    ]);
  }, 120_000);
});

/** The rows with every InternedText turned into its text. */
function asStrings(rows: Row[]): Row[] {
  const convert = (v: Value): Value => (v instanceof InternedText ? v.text : Array.isArray(v) ? v.map(convert) : v);
  return rows.map((row) => row.map(convert));
}

describe('text as bytes', () => {
  it('reads the same texts as entries as it reads as strings, one entry per repeated text', async () => {
    const strings = await read('notes', true, false);
    const entries = await read('notes', true, true);
    expect(entries.rows).toHaveLength(20_000);
    expect(asStrings(entries.rows)).toEqual(strings.rows);
    const statuses = entries.rows.map((r) => r[1]);
    expect(statuses[0], 'a repeated text reads as an entry').toBeInstanceOf(InternedText);
    expect(new Set(statuses).size, 'one entry per distinct status').toBe(5);
    expect(new Set(entries.rows.map((r) => r[2]).filter((v) => v !== null)).size, 'enum labels').toBe(3);
    expect(new Set(entries.rows.map((r) => r[3]).filter((v) => v !== null)).size, 'jsonb documents').toBe(120);
    expect(
      entries.rows.some((r) => Array.isArray(r[4]) && r[4][0] instanceof InternedText),
      'list elements too',
    ).toBe(true);
    expect(typeof entries.rows[2]![5], 'a text too long to look up stays a string').toBe('string');
  });

  it('writes byte-identical Parquet from entries and from strings, over many row groups', async () => {
    const strings = await read('notes', true, false);
    const entries = await read('notes', true, true);
    // Small row groups: each has a dictionary of its own, so an entry's index from an earlier one must not be reused.
    const { files: fromStrings, rowGroups } = await parquetBytes(strings.rows, strings.mapping.schema, 64 * 1024);
    const { files: fromEntries } = await parquetBytes(entries.rows, entries.mapping.schema, 64 * 1024);
    expect(rowGroups, 'several row groups').toBeGreaterThan(3);
    expect(fromEntries.length).toBe(fromStrings.length);
    fromEntries.forEach((file, i) => expect(Buffer.from(file).equals(Buffer.from(fromStrings[i]!)), `file ${i}`).toBe(true));
  });

  it('names a failing row by its text key in text', async () => {
    const error = await read('dated', true, true).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IcebridgeError);
    expect((error as IcebridgeError).message).toContain('row (code)=(später)');
  });

  it('migrates text tables exactly, unpartitioned and partitioned by a text column', async () => {
    await expectMigratedExactly('notes', (await read('notes', false)).rows, [
      ['plain', undefined],
      ['by_status', { notes: { partitionSpec: [{ source: 'status', transform: 'identity' }] } }],
    ]);
  }, 120_000);
});
