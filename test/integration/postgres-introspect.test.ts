import * as path from 'node:path';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IcebridgeError, NotFoundError, TableNotFoundError, ValidationError } from '../../shared/errors';
import { connectPostgres } from '../../shared/postgres/connection';
import { describeTable, describeTables, listTables } from '../../shared/postgres/introspect';
import { baseOf, type SourceTable } from '../../shared/postgres/source-table';
import { mapTable } from '../../shared/postgres/type-mapping';
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

let server: PostgresInstance;
let pagila: Client;
let chinook: Client;

beforeAll(async () => {
  server = await startPostgres();
  await Promise.all([server.createDatabase('pagila'), server.createDatabase('chinook')]);
  await Promise.all([server.loadSqlFile('pagila', PAGILA_SQL), server.loadSqlFile('chinook', CHINOOK_SQL)]);
  await server.loadSqlFile('pagila', EDGE_SQL);
  pagila = await connectPostgres(server.urlFor('pagila'));
  chinook = await connectPostgres(server.urlFor('chinook'));
});

afterAll(async () => {
  await pagila?.end();
  await chinook?.end();
  await server?.stop();
});

function byName(tables: SourceTable[], name: string): SourceTable {
  const table = tables.find((t) => t.name === name);
  if (table === undefined) throw new Error(`no table ${name}`);
  return table;
}

describe('Pagila', () => {
  it('lists every table once, the partitioned payment as one table and none of its partitions', async () => {
    const tables = await listTables(pagila, 'public');
    expect(tables.map((t) => t.name)).toEqual(PAGILA_TABLES);
    expect(tables.find((t) => t.name === 'payment')?.kind).toBe('partitioned');
  });

  it('describes payment with its seven leaves, summed statistics and a key including the partition column', async () => {
    const payment = await describeTable(pagila, 'public', 'payment');
    expect(payment.leaves.map((l) => l.name)).toEqual([1, 2, 3, 4, 5, 6, 7].map((m) => `payment_p2022_0${m}`));
    expect(payment.key).toEqual({ kind: 'primary-key', name: 'payment_pkey', columns: ['payment_date', 'payment_id'] });
    const rows = await pagila.query<{ n: string }>('SELECT count(*) AS n FROM public.payment');
    expect(payment.stats.reltuples).toBe(Number(rows.rows[0]!.n));
    expect(payment.stats.relpages).toBe(payment.leaves.reduce((sum, l) => sum + l.stats.relpages, 0));
    expect(payment.stats.totalBytes).toBeGreaterThan(payment.stats.tableBytes);
    expect(payment.columns.map((c) => [c.name, c.type.sql, c.notNull])).toEqual([
      ['payment_id', 'integer', true],
      ['customer_id', 'integer', true],
      ['staff_id', 'integer', true],
      ['rental_id', 'integer', true],
      ['amount', 'numeric(5,2)', true],
      ['payment_date', 'timestamp with time zone', true],
    ]);
    // The dataset declares payment's foreign keys on six of the leaves only; they stand for the table.
    expect(payment.foreignKeys.map((f) => [f.columns, f.referencedTable.name, f.referencedColumns, f.declaredOn])).toEqual([
      [['customer_id'], 'customer', ['customer_id'], 'leaf'],
      [['rental_id'], 'rental', ['rental_id'], 'leaf'],
      [['staff_id'], 'staff', ['staff_id'], 'leaf'],
    ]);
  });

  it('reports the store/staff foreign keys exactly as the dataset declares them', async () => {
    const tables = await describeTables(pagila, 'public', ['staff', 'store']);
    const fks = (t: SourceTable): string[] =>
      t.foreignKeys.map((f) => `${f.columns.join(',')}->${f.referencedTable.schema}.${f.referencedTable.name}(${f.referencedColumns.join(',')})`);
    expect(fks(byName(tables, 'staff'))).toEqual(['address_id->public.address(address_id)', 'store_id->public.store(store_id)']);
    // This copy of Pagila has no store.manager_staff_id -> staff key (only a unique index on it), so the
    // store <-> staff cycle is not present in the catalog.
    expect(fks(byName(tables, 'store'))).toEqual(['address_id->public.address(address_id)']);
  });

  it('resolves domains, the enum, arrays, tsvector and bytea', async () => {
    const [film, staff, language] = await describeTables(pagila, 'public', ['film', 'staff', 'language']);
    const column = (t: SourceTable, name: string) => t.columns.find((c) => c.name === name)!;
    const year = column(film!, 'release_year').type;
    expect(year).toMatchObject({ kind: 'domain', sql: 'public.year', base: { kind: 'base', sql: 'integer' } });
    expect(column(film!, 'rating').type).toMatchObject({ kind: 'enum', sql: 'public.mpaa_rating', labels: ['G', 'PG', 'PG-13', 'R', 'NC-17'] });
    expect(column(film!, 'special_features').type).toMatchObject({ kind: 'array', sql: 'text[]', element: { kind: 'base', sql: 'text' } });
    expect(column(film!, 'fulltext').type).toMatchObject({ kind: 'base', sql: 'tsvector' });
    expect(column(staff!, 'picture').type).toMatchObject({ kind: 'base', sql: 'bytea' });
    expect(column(language!, 'name').type).toMatchObject({ kind: 'base', sql: 'character(20)', typmod: 24 });
    const mapping = mapTable(film!);
    expect(mapping.columns.find((c) => c.name === 'fulltext')).toMatchObject({ transfer: 'text', selectSql: '"fulltext"::text' });
    expect(mapping.schema.fields.find((f) => f.name === 'release_year')).toMatchObject({ type: 'int', doc: 'PostgreSQL public.year (domain over integer)' });
  });

  it('names what exists when a table, a schema or a kind of relation is wrong', async () => {
    await expect(describeTables(pagila, 'public', ['nope'])).rejects.toThrow(TableNotFoundError);
    await expect(describeTables(pagila, 'public', ['nope'])).rejects.toThrow(
      /^table "public.nope" does not exist; tables in public: actor, address, category, /,
    );
    await expect(describeTables(pagila, 'public', ['payment_p2022_03'])).rejects.toThrow(ValidationError);
    await expect(describeTables(pagila, 'public', ['payment_p2022_03'])).rejects.toThrow(/is a partition of public\.payment/);
    await expect(describeTables(pagila, 'public', ['actor_info'])).rejects.toThrow(/is a view, not a table/);
    await expect(describeTables(pagila, 'nope', ['actor'])).rejects.toThrow(NotFoundError);
    await expect(listTables(pagila, 'nope')).rejects.toThrow(/^schema "nope" does not exist; schemas: "edge ""cases""", "edge leaves", public$/);
  });

  it('treats a name as data, never as SQL', async () => {
    for (const hostile of ["actor'; DROP TABLE actor; --", 'actor" OR 1=1 --', '"actor"', 'ACTOR']) {
      await expect(describeTables(pagila, 'public', [hostile])).rejects.toThrow(TableNotFoundError);
    }
    await expect(describeTables(pagila, 'public', ['ACTOR'])).rejects.toThrow(/did you mean actor\?/);
    expect((await listTables(pagila, 'public')).map((t) => t.name)).toContain('actor');
  });
});

describe('Chinook', () => {
  it('keeps mixed-case names as the catalog spells them', async () => {
    const tables = await describeTables(chinook, 'public');
    expect(tables.map((t) => t.name)).toEqual(CHINOOK_TABLES);
    const invoice = byName(tables, 'Invoice');
    expect(invoice.key).toEqual({ kind: 'primary-key', name: 'PK_Invoice', columns: ['InvoiceId'] });
    expect(invoice.columns.map((c) => c.type.sql)).toContain('numeric(10,2)');
    const employee = byName(tables, 'Employee');
    expect(employee.foreignKeys.map((f) => [f.columns, f.referencedTable.name])).toEqual([[['ReportsTo'], 'Employee']]);
    expect(byName(tables, 'PlaylistTrack').key.columns).toEqual(['PlaylistId', 'TrackId']);
  });
});

describe('hostile identifiers and unusual shapes', () => {
  it('lists tables with quotes, spaces and non-ASCII in their names and describes their types', async () => {
    const tables = await describeTables(pagila, EDGE);
    expect(tables.map((t) => t.name)).toEqual([
      'Order',
      'child_inh',
      'event_notes',
      'events',
      'far future',
      'forever',
      'generated',
      'keyless nan',
      'matrix',
      'midnight',
      'nan money',
      'no key',
      'nullable unique',
      'parent_inh',
      'shifted',
      'someday',
      'unique only',
    ]);
    const order = byName(tables, 'Order');
    expect(order.columns.slice(0, 3).map((c) => c.name)).toEqual(['select', 'a"b;DROP TABLE x', 'Ünïcødé']);
    const unicode = order.columns[2]!.type;
    expect(unicode).toMatchObject({ kind: 'domain', name: 'bıgınt', sql: 'public."bıgınt"', base: { sql: 'bigint' } });
    const addr = order.columns.find((c) => c.name === 'addr')!.type;
    expect(addr).toMatchObject({ kind: 'composite', sql: '"edge ""cases""".address' });
    expect(addr.kind === 'composite' && addr.attributes.map((a) => [a.name, a.type.sql])).toEqual([
      ['street', 'text'],
      ['zip code', 'character varying(10)'],
      ['lines', 'integer[]'],
      ['when', 'timestamp with time zone'],
    ]);
    const tags = order.columns.find((c) => c.name === 'tg')!.type;
    expect(baseOf(tags)).toMatchObject({ kind: 'array', element: { sql: 'text' } });
    expect(order.columns.find((c) => c.name === 'na')!.type).toMatchObject({ kind: 'array', element: { sql: 'numeric(6,2)' } });
    expect(order.columns.find((c) => c.name === 'n_dom')!.type).toMatchObject({ kind: 'domain', base: { sql: 'numeric(8,3)' } });
    expect(order.columns.find((c) => c.name === 'gen')!.generated).toBe('s');
    const mood = order.columns.find((c) => c.name === 'mood')!.type;
    expect(mood).toMatchObject({ kind: 'enum', labels: ['happy', 'sad', "it's ok", 'Ünï'] });
  });

  it('finds leaves at every level and in other schemas, and resolves foreign keys to the partitioned table', async () => {
    const [events, notes] = await describeTables(pagila, EDGE, ['events', 'event_notes']);
    expect(events!.leaves.map((l) => `${l.schema}.${l.name}`)).toEqual([`${EDGE}.events_a_2023`, `${EDGE}.events_other`, 'edge leaves.events a 2024']);
    expect(notes!.foreignKeys).toEqual([
      expect.objectContaining({
        columns: ['kind', 'event_id', 'at'],
        referencedTable: expect.objectContaining({ schema: EDGE, name: 'events' }) as unknown,
        referencedColumns: ['kind', 'id', 'at'],
        declaredOn: 'table',
      }),
    ]);
  });

  it('uses a unique index on NOT NULL columns as the key when there is no primary key, and says so', async () => {
    const [unique, nullable, noKey] = await describeTables(pagila, EDGE, ['unique only', 'nullable unique', 'no key']);
    expect(unique!.key).toEqual({ kind: 'unique-index', name: 'unique only code', columns: ['region', 'code'] });
    expect(nullable!.key).toEqual({ kind: 'none', columns: [] });
    expect(noKey!.key).toEqual({ kind: 'none', columns: [] });
  });

  it('keeps inheritance children as tables of their own', async () => {
    const [parent, child] = await describeTables(pagila, EDGE, ['parent_inh', 'child_inh']);
    expect(parent!.leaves.map((l) => l.name)).toEqual(['parent_inh']);
    expect(child!.columns.map((c) => c.name)).toEqual(['id', 'v', 'extra']);
  });

  it('restores the session search_path after describing', async () => {
    await pagila.query('SET search_path = public');
    await describeTables(pagila, EDGE, ['Order']);
    const { rows } = await pagila.query<{ path: string }>("SELECT current_setting('search_path') AS path");
    expect(rows[0]!.path).toBe('public');
  });
});

describe('connection errors against a real server', () => {
  it('reports a wrong password without showing it, and as not retryable', async () => {
    const url = server.urlFor('pagila').replace(`:${server.password}@`, ':Wr0ng-Secret@');
    const error = await connectPostgres(url).then(
      () => undefined,
      (e: unknown) => e as IcebridgeError,
    );
    expect(error).toBeInstanceOf(IcebridgeError);
    expect(error!.code).toBe('POSTGRES_AUTH_FAILED');
    expect(error!.retryable).toBe(false);
    expect(error!.message).toContain(`127.0.0.1:${server.port}, database "pagila", user "postgres"`);
    expect(error!.message).not.toContain('Wr0ng-Secret');
  });

  it('reports a missing database by name', async () => {
    await expect(connectPostgres(server.urlFor('nope'))).rejects.toMatchObject({ code: 'POSTGRES_DATABASE_NOT_FOUND', retryable: false });
  });
});

describe('test support', () => {
  it('loads a dump without psql exactly as psql does', async () => {
    const previous = process.env.ICEBRIDGE_TEST_NO_PSQL;
    process.env.ICEBRIDGE_TEST_NO_PSQL = '1';
    try {
      await server.createDatabase('chinook_pg');
      await server.loadSqlFile('chinook_pg', CHINOOK_SQL);
    } finally {
      if (previous === undefined) delete process.env.ICEBRIDGE_TEST_NO_PSQL;
      else process.env.ICEBRIDGE_TEST_NO_PSQL = previous;
    }
    const other = await connectPostgres(server.urlFor('chinook_pg'));
    try {
      const digest = async (client: Client): Promise<string[]> => {
        const out: string[] = [];
        for (const name of CHINOOK_TABLES) {
          const { rows } = await client.query<{ d: string }>(
            `SELECT count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY t::text)) AS d FROM public."${name}" t`,
          );
          out.push(`${name}=${rows[0]!.d}`);
        }
        return out;
      };
      expect(await digest(other)).toEqual(await digest(chinook));
    } finally {
      await other.end();
    }
  });
});
