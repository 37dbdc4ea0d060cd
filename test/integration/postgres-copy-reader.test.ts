import * as path from 'node:path';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IcebridgeError, ValidationError } from '../../shared/errors';
import { batchRows } from '../../shared/iceberg/spec/column-batch';
import type { PrimitiveValue, Row } from '../../shared/iceberg/spec/values';
import { connectPostgres } from '../../shared/postgres/connection';
import { type ReadRowsOptions, readColumns, readRows } from '../../shared/postgres/copy-reader';
import { quoteQualified } from '../../shared/postgres/identifiers';
import { describeTable, describeTables } from '../../shared/postgres/introspect';
import { withSnapshotTransaction } from '../../shared/postgres/snapshot-transaction';
import type { SourceTable } from '../../shared/postgres/source-table';
import { renderForComparison } from '../../shared/postgres/text-rendering';
import { type MapTableOptions, type TableMapping, mapTable } from '../../shared/postgres/type-mapping';
import { CHINOOK_SQL, PAGILA_SQL, type PostgresInstance, startPostgres } from './support/postgres';

const EDGE_SQL = path.resolve(__dirname, '../postgres/fixtures/edge-cases.sql');
const EDGE = 'edge "cases"';
const PAGILA_TABLES = [
  'actor',
  'address',
  'category',
  'city',
  'country',
  'customer',
  'film',
  'film_actor',
  'film_category',
  'inventory',
  'language',
  'payment',
  'rental',
  'staff',
  'store',
];
const CHINOOK_TABLES = ['Album', 'Artist', 'Customer', 'Employee', 'Genre', 'Invoice', 'InvoiceLine', 'MediaType', 'Playlist', 'PlaylistTrack', 'Track'];
const BIG_ROWS = 200_000;

let server: PostgresInstance;
const clients: Record<string, Client> = {};

beforeAll(async () => {
  server = await startPostgres();
  await Promise.all(['pagila', 'chinook', 'big'].map((db) => server.createDatabase(db)));
  await Promise.all([server.loadSqlFile('pagila', PAGILA_SQL), server.loadSqlFile('chinook', CHINOOK_SQL)]);
  await server.loadSqlFile('pagila', EDGE_SQL);
  for (const db of ['pagila', 'chinook', 'big']) clients[db] = await connectPostgres(server.urlFor(db));
  clients.admin = await connectPostgres(server.urlFor('pagila'));
  await clients.big!.query(`CREATE TABLE wide (id bigint PRIMARY KEY, payload text NOT NULL)`);
  await clients.big!.query(`INSERT INTO wide SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, ${BIG_ROWS}) AS g`);
  // The reference side of every comparison: PostgreSQL's own text output, in the settings the reader uses.
  for (const db of ['pagila', 'chinook']) {
    await clients[db]!.query(
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3; SET bytea_output = 'hex'",
    );
  }
});

afterAll(async () => {
  await Promise.all(Object.values(clients).map((c) => c.end().catch(() => undefined)));
  await server?.stop();
});

async function decodeRows(client: Client, table: SourceTable, mapping: TableMapping, options: ReadRowsOptions = {}): Promise<Row[]> {
  return withSnapshotTransaction(client, async () => {
    const rows: Row[] = [];
    for await (const batch of readRows(client, table, mapping, options)) rows.push(...batch);
    return rows;
  });
}

/** Our decoded rows rendered back to PostgreSQL text, against PostgreSQL's text of the same rows, as sorted multisets. */
async function compare(client: Client, table: SourceTable, mapOptions: MapTableOptions = {}): Promise<{ rows: number; ours: string[]; theirs: string[] }> {
  const mapping = mapTable(table, mapOptions);
  const decoded = await decodeRows(client, table, mapping);
  const ours = decoded.map((row) => JSON.stringify(row.map((value, i) => renderForComparison(mapping.columns[i]!.decode, value)))).sort();
  const from = table.kind === 'partitioned' ? quoteQualified(table.schema, table.name) : `ONLY ${quoteQualified(table.schema, table.name)}`;
  // bpchar::text trims the padding that §5 keeps; the output function (used by concat) prints it unchanged.
  const reference = (c: TableMapping['columns'][number]): string =>
    /^character\(/.test(c.sourceType) ? `CASE WHEN ${c.selectSql} IS NOT NULL THEN concat(${c.selectSql}) END` : `(${c.selectSql})::text`;
  const { rows } = await client.query<string[]>({ text: `SELECT ${mapping.columns.map(reference).join(', ')} FROM ${from}`, rowMode: 'array' });
  const theirs = rows.map((row) => JSON.stringify(row)).sort();
  return { rows: decoded.length, ours, theirs };
}

/** Rows present on one side only, paired by their first column where possible to show the differing columns. */
function differences(ours: string[], theirs: string[]): string[] {
  const remaining = new Map<string, number>();
  for (const t of theirs) remaining.set(t, (remaining.get(t) ?? 0) + 1);
  const onlyOurs: string[] = [];
  for (const o of ours) {
    const n = remaining.get(o) ?? 0;
    if (n === 0) onlyOurs.push(o);
    else remaining.set(o, n - 1);
  }
  const onlyTheirs = [...remaining].flatMap(([t, n]) => Array<string>(n).fill(t));
  const out: string[] = [];
  for (const o of onlyOurs) {
    const ourRow = JSON.parse(o) as Array<string | null>;
    const match = onlyTheirs.findIndex((t) => (JSON.parse(t) as Array<string | null>)[0] === ourRow[0]);
    if (match < 0) {
      out.push(`decoded only: ${o}`);
      continue;
    }
    const theirRow = JSON.parse(onlyTheirs.splice(match, 1)[0]!) as Array<string | null>;
    ourRow.forEach((v, i) => {
      if (v !== theirRow[i]) out.push(`row ${ourRow[0]} column ${i}: decoded ${JSON.stringify(v)}, postgres ${JSON.stringify(theirRow[i])}`);
    });
  }
  for (const t of onlyTheirs) out.push(`postgres only: ${t}`);
  return out.slice(0, 20);
}

describe('every row of Pagila and Chinook decodes to exactly what PostgreSQL prints', () => {
  it.each(PAGILA_TABLES)('pagila public.%s', async (name) => {
    const table = await describeTable(clients.pagila!, 'public', name);
    const { rows, ours, theirs } = await compare(clients.pagila!, table);
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBe(theirs.length);
    expect(differences(ours, theirs)).toEqual([]);
  });

  it.each(CHINOOK_TABLES)('chinook public."%s"', async (name) => {
    const table = await describeTable(clients.chinook!, 'public', name);
    const { rows, ours, theirs } = await compare(clients.chinook!, table);
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBe(theirs.length);
    expect(differences(ours, theirs)).toEqual([]);
  });
});

describe("the columnar read gives the row read's values, batch after batch, its vectors filled again", () => {
  // The copy's options: uuids as bytes, repeated texts as entries; small batches, so vectors are reused many times.
  const options = { uuidAsBytes: true, textAsBytes: true, batchSize: 50 };
  const columnsAndRows = async (client: Client, name: string): Promise<{ columns: Row[]; rows: Row[] }> => {
    const table = await describeTable(client, 'public', name);
    const mapping = mapTable(table);
    const rows = await decodeRows(client, table, mapping, options);
    const columns = await withSnapshotTransaction(client, async () => {
      const out: Row[] = [];
      // A batch is read before the next is asked for (the reader fills its vectors again after that), and after a
      // pause in which the reader takes in more of the stream.
      for await (const batch of readColumns(client, table, mapping, options)) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        out.push(...batchRows(batch));
      }
      return out;
    });
    return { columns, rows };
  };

  it.each([...PAGILA_TABLES.map((t) => ['pagila', t]), ...CHINOOK_TABLES.map((t) => ['chinook', t])])('%s public.%s', async (db, name) => {
    const { columns, rows } = await columnsAndRows(clients[db]!, name);
    expect(columns.length).toBeGreaterThan(0);
    expect(columns).toEqual(rows);
  });
});

describe('edge values', () => {
  it('decodes hostile identifiers and every edge value exactly', async () => {
    const table = await describeTable(clients.pagila!, EDGE, 'Order');
    const { rows, ours, theirs } = await compare(clients.pagila!, table);
    expect(rows).toBe(6);
    expect(differences(ours, theirs)).toEqual([]);
  });

  it('keeps float NaN, -0 and infinities, BC dates and unconstrained numeric NaN as values', async () => {
    const table = await describeTable(clients.pagila!, EDGE, 'Order');
    const mapping = mapTable(table);
    const rows = await decodeRows(clients.pagila!, table, mapping);
    const col = (name: string) => mapping.columns.findIndex((c) => c.name === name);
    const row2 = rows.find((r) => r[0] === 2)!;
    expect(row2[col('f4')]).toBeNaN();
    expect(Object.is(row2[col('f8')], -0)).toBe(true);
    expect(row2[col('n')]).toBe('NaN');
    expect(row2[col('d')]).toBe(-2440588);
    expect(row2[col('b')]).toEqual(new Uint8Array([0, 255, 0, 0]));
    expect(row2[col('u')]).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(row2[col('iv')]).toBe('P-1Y-2M3DT-4H-5M-6.789S');
    expect(row2[col('i8')]).toBe(-9223372036854775808n);
    expect(row2[col('ch')]).toBe('ab   ');
    expect(row2[col('n_small')]).toBe(1);
    expect(row2[col('ta')]).toEqual(['a,b', '', 'NULL', null, 'q"uote', 'back\\slash', ' sp', '{braces}']);
    const row3 = rows.find((r) => r[0] === 3)!;
    expect(row3[col('f4')]).toBe(Infinity);
    expect(row3[col('f8')]).toBe(-Infinity);
    expect(row3[col('b')]).toEqual(new Uint8Array([]));
  });

  it('returns only bigint for 64-bit kinds with exactBigInt', async () => {
    const table = await describeTable(clients.pagila!, 'public', 'payment');
    const rows = await decodeRows(clients.pagila!, table, mapTable(table), { exactBigInt: true });
    expect(rows.every((r) => typeof r[4] === 'bigint' && typeof r[5] === 'bigint')).toBe(true);
  });

  it('reads tables without a key as multisets, and inheritance parents without their children', async () => {
    const [noKey, parent] = await describeTables(clients.pagila!, EDGE, ['no key', 'parent_inh']);
    expect(await decodeRows(clients.pagila!, noKey!, mapTable(noKey!))).toEqual([
      [1, 'dup'],
      [1, 'dup'],
      [null, null],
    ]);
    expect(await decodeRows(clients.pagila!, parent!, mapTable(parent!))).toEqual([[1, 'parent']]);
  });

  it('reads stored generated columns', async () => {
    const table = await describeTable(clients.pagila!, EDGE, 'generated');
    const { rows, ours, theirs } = await compare(clients.pagila!, table);
    expect(rows).toBe(3);
    expect(differences(ours, theirs)).toEqual([]);
    expect(ours).toContain(JSON.stringify(['3', '0.05', '0.060']));
  });

  it('reads a multi-level partitioned table through all its leaves', async () => {
    const events = await describeTable(clients.pagila!, EDGE, 'events');
    const { rows, ours, theirs } = await compare(clients.pagila!, events);
    expect(rows).toBe(3);
    expect(differences(ours, theirs)).toEqual([]);
  });
});

describe('values Iceberg cannot hold stop the table with a message naming table, column, key and value', () => {
  async function refusal(name: string, options: MapTableOptions = {}): Promise<IcebridgeError> {
    const client = clients.pagila!;
    const table = await describeTable(client, EDGE, name);
    const error = await decodeRows(client, table, mapTable(table, options)).then(
      () => undefined,
      (e: unknown) => e,
    );
    // The read was cancelled and rolled back: the connection is ready for the next statement.
    expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    expect(error).toBeInstanceOf(IcebridgeError);
    return error as IcebridgeError;
  }

  it('numeric NaN in numeric(10,2)', async () => {
    const error = await refusal('nan money');
    expect(error.code).toBe('UNREPRESENTABLE_VALUE');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'table "edge ""cases"""."nan money", column amount, row (id)=(2): value "NaN" cannot be stored exactly: decimal(10, 2) cannot hold NaN or infinity',
    );
  });

  it('timestamp infinity', async () => {
    expect((await refusal('forever')).message).toBe(
      'table "edge ""cases""".forever, column at, row (id)=(7): value "infinity" cannot be stored exactly: Iceberg timestamps have no infinity (map it with the timestampInfinity option)',
    );
  });

  it('date infinity, unless mapped by configuration', async () => {
    expect((await refusal('someday')).message).toMatch(/^table "edge ""cases""".someday, column d, row \(k\)=\(b "quoted"\): value "infinity"/);
    const table = await describeTable(clients.pagila!, EDGE, 'someday');
    const mapped = await decodeRows(clients.pagila!, table, mapTable(table, { dateInfinity: { positive: 2932896, negative: -719162 } }));
    expect(mapped.sort((a, b) => String(a[0] as PrimitiveValue).localeCompare(String(b[0] as PrimitiveValue)))).toEqual([
      ['a', 19723],
      ['b "quoted"', 2932896],
      ['c', -719162],
    ]);
  });

  it('multi-dimensional arrays, arrays not starting at 1, times of 24:00 and timestamps past the int64 range', async () => {
    expect((await refusal('matrix')).message).toMatch(/column m, row \(id\)=\(2\): value "an array with dimensions \[1:2\]\[1:2\]"/);
    expect((await refusal('shifted')).message).toMatch(/value "an array with bounds \[0:2\]"/);
    expect((await refusal('midnight')).message).toMatch(/value "24:00:00"/);
    expect((await refusal('far future')).message).toMatch(/value "294270-01-01 00:00:00" cannot be stored exactly: beyond the range/);
  });

  it('names the row by position when the key columns are not read', async () => {
    expect((await refusal('nan money', { excludedColumns: ['id'] })).message).toMatch(
      /, column amount, row #2 of "edge ""cases"""."nan money" \(its key columns are not read\): value "NaN"/,
    );
  });

  it('names the row by position when the table has no key', async () => {
    expect((await refusal('keyless nan')).message).toBe(
      'table "edge ""cases"""."keyless nan", column v, row #2 of "edge ""cases"""."keyless nan" (the table has no key): value "NaN" cannot be stored exactly: decimal(4, 1) cannot hold NaN or infinity',
    );
  });
});

describe('SQL_ASCII databases', () => {
  it('stops on text that is not valid UTF-8 (PostgreSQL refuses to send it) instead of replacing it', async () => {
    await clients.admin!.query("CREATE DATABASE ascii TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'");
    const client = await connectPostgres(server.urlFor('ascii'));
    try {
      await client.query("CREATE TABLE notes (id integer PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'fine'), (2, E'caf\\xe9')");
      const table = await describeTable(client, 'public', 'notes');
      const error = await decodeRows(client, table, mapTable(table)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'POSTGRES_QUERY_FAILED', retryable: false });
      expect((error as Error).message).toMatch(
        /^PostgreSQL COPY public\.notes failed \(.*\): invalid byte sequence for encoding "UTF8": 0xe9 \[SQLSTATE 22021\]$/,
      );
    } finally {
      await client.end();
    }
  });
});

describe('partial reads', () => {
  it('splits a leaf by heap pages into ranges that together return every row once', async () => {
    const client = clients.pagila!;
    const payment = await describeTable(client, 'public', 'payment');
    const mapping = mapTable(payment);
    const leaf = payment.leaves[1]!;
    expect(leaf.stats.relpages).toBeGreaterThan(2);
    const relation = { schema: leaf.schema, name: leaf.name };
    const middle = Math.floor(leaf.stats.relpages / 2);
    const whole = await decodeRows(client, payment, mapping, { relation });
    const first = await decodeRows(client, payment, mapping, { relation, pages: { fromPage: 0, toPage: middle } });
    const rest = await decodeRows(client, payment, mapping, { relation, pages: { fromPage: middle, toPage: null } });
    expect(first.length).toBeGreaterThan(0);
    expect(rest.length).toBeGreaterThan(0);
    const key = (r: Row): string => String(r[0] as PrimitiveValue);
    expect([...first, ...rest].map(key).sort()).toEqual(whole.map(key).sort());
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteQualified(leaf.schema, leaf.name)}`);
    expect(whole.length).toBe(Number(rows[0]!.n));
    expect(await decodeRows(client, payment, mapping, { relation, pages: { fromPage: middle, toPage: middle } })).toEqual([]);
  });

  it('reads a key range, single and composite, with bounds passed as parameters', async () => {
    const client = clients.pagila!;
    const rental = await describeTable(client, 'public', 'rental');
    const ids = (await decodeRows(client, rental, mapTable(rental), { keyRange: { columns: ['rental_id'], lower: ['1000'], upper: ['2000'] } })).map(
      (r) => r[0],
    );
    expect(ids.sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 1000 }, (_, i) => 1000 + i));
    const payment = await describeTable(client, 'public', 'payment');
    const range = { columns: ['payment_date', 'payment_id'], lower: ['2022-02-10 00:00:00+00', '0'], upper: ['2022-02-20 00:00:00+00', '0'] };
    const inRange = await decodeRows(client, payment, mapTable(payment), { keyRange: range });
    const { rows } = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM public.payment WHERE payment_date >= '2022-02-10+00' AND payment_date < '2022-02-20+00'",
    );
    expect(inRange.length).toBe(Number(rows[0]!.n));
    expect(inRange.length).toBeGreaterThan(0);
    const hostile = await decodeRows(client, rental, mapTable(rental), { keyRange: { columns: ['rental_id'], lower: ["1'); DROP TABLE rental; --"] } }).catch(
      (e: unknown) => e,
    );
    expect(hostile).toBeInstanceOf(IcebridgeError);
    expect((hostile as Error).message).toMatch(/invalid input syntax for type integer/);
    expect((await client.query('SELECT count(*) FROM public.rental')).rowCount).toBe(1);
  });

  it('refuses relations that are not the table or its leaves, pages of a partitioned table, and reads outside a snapshot', async () => {
    const client = clients.pagila!;
    const payment = await describeTable(client, 'public', 'payment');
    const mapping = mapTable(payment);
    await expect(decodeRows(client, payment, mapping, { relation: { schema: 'public', name: 'rental' } })).rejects.toThrow(ValidationError);
    await expect(decodeRows(client, payment, mapping, { pages: { fromPage: 0, toPage: 1 } })).rejects.toThrow(/partitioned table/);
    const outside = async (): Promise<void> => {
      for await (const batch of readRows(client, payment, mapping)) void batch;
    };
    await expect(outside()).rejects.toThrow(/needs a REPEATABLE READ transaction/);
  });
});

describe('streaming', () => {
  async function bigTable(): Promise<{ table: SourceTable; mapping: TableMapping }> {
    const table = await describeTable(clients.big!, 'public', 'wide');
    return { table, mapping: mapTable(table) };
  }

  async function backendState(pid: number): Promise<{ state: string; wait_event: string | null }> {
    const admin = await connectPostgres(server.urlFor('big'));
    try {
      const { rows } = await admin.query<{ state: string; wait_event: string | null }>('SELECT state, wait_event FROM pg_stat_activity WHERE pid = $1', [pid]);
      return rows[0]!;
    } finally {
      await admin.end();
    }
  }

  it('holds the server back while the consumer is busy, then delivers every row', async () => {
    const client = await connectPostgres(server.urlFor('big'));
    try {
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const { table, mapping } = await bigTable();
      await withSnapshotTransaction(client, async () => {
        const batches = readRows(client, table, mapping, { batchSize: 1000 })[Symbol.asyncIterator]();
        const first = await batches.next();
        expect(first.done).toBe(false);
        await new Promise((resolve) => setTimeout(resolve, 500));
        // Blocked writing to us: the socket is full because we stopped reading, not because the table ended.
        expect((await backendState(pid)).wait_event).toBe('ClientWrite');
        let rows = (first.value as Row[]).length;
        let largest = rows;
        for (let next = await batches.next(); !next.done; next = await batches.next()) {
          rows += next.value.length;
          largest = Math.max(largest, next.value.length);
        }
        expect(rows).toBe(BIG_ROWS);
        expect(largest).toBe(1000);
      });
    } finally {
      await client.end();
    }
  });

  it('cuts batches of exactly batchSize rows, however many rows a network chunk holds', async () => {
    const client = await connectPostgres(server.urlFor('big'));
    try {
      const { table, mapping } = await bigTable();
      const sizes = await withSnapshotTransaction(client, async () => {
        const out: number[] = [];
        for await (const batch of readRows(client, table, mapping, { batchSize: 7 })) out.push(batch.length);
        return out;
      });
      expect(sizes.slice(0, -1).every((n) => n === 7)).toBe(true);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(BIG_ROWS);
      expect(sizes[sizes.length - 1]).toBe(BIG_ROWS % 7 || 7);
    } finally {
      await client.end();
    }
  });

  it('cancels the COPY when the consumer stops early, leaving the connection usable', async () => {
    const client = await connectPostgres(server.urlFor('big'));
    try {
      const { table, mapping } = await bigTable();
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      for await (const batch of readRows(client, table, mapping, { batchSize: 100 })) {
        expect(batch.length).toBeGreaterThan(0);
        break;
      }
      // Cancelled, not drained: the statement failed, so the transaction is aborted until rolled back.
      await expect(client.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
      await client.query('ROLLBACK');
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('stops on an abort signal', async () => {
    const client = await connectPostgres(server.urlFor('big'));
    try {
      const { table, mapping } = await bigTable();
      const controller = new AbortController();
      const reading = withSnapshotTransaction(client, async () => {
        for await (const batch of readRows(client, table, mapping, { batchSize: 100, abortSignal: controller.signal })) {
          void batch;
          controller.abort(new Error('migration cancelled'));
        }
      });
      const reason = await reading.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(reason).toBeInstanceOf(Error);
      expect((reason as Error).message).toBe('migration cancelled');
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('surfaces pg_terminate_backend on the copying connection as a retryable error', async () => {
    const client = await connectPostgres(server.urlFor('big'));
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const { table, mapping } = await bigTable();
    const admin = await connectPostgres(server.urlFor('big'));
    try {
      const error = await withSnapshotTransaction(client, async () => {
        let batches = 0;
        for await (const batch of readRows(client, table, mapping, { batchSize: 500 })) {
          void batch;
          if (++batches === 1) await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        }
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(IcebridgeError);
      expect(error).toMatchObject({ retryable: true, code: 'POSTGRES_CONNECTION_LOST' });
      // The server sends its reason and closes the socket; under load the client may see the close first. Either
      // way the copy fails as a lost connection, retryable, naming the table and where it was reading.
      expect((error as Error).message).toMatch(
        /^PostgreSQL COPY public\.wide failed \(127\.0\.0\.1:\d+, database "big", user "postgres"\): (terminating connection due to administrator command \[SQLSTATE 57P01\]|Connection terminated unexpectedly)$/,
      );
      expect((error as Error).message).not.toContain(server.password);
    } finally {
      await admin.end();
      await client.end().catch(() => undefined);
    }
  });
});
