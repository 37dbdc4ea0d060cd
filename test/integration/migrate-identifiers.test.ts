/**
 * End to end with names that break naive SQL and paths (mixed case, reserved words, quotes with an injection
 * attempt, non-ASCII, spaces) and with every edge value the type mapping supports, in a database whose
 * session defaults (time zone, date, interval and float styles, bytea output) differ from PostgreSQL's. Rows
 * are compared with what DuckDB reads from the data files; a value no Iceberg type can hold fails its table
 * alone, with a reason a person can act on; an unknown table name stops the run before anything is written.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { currentSnapshot } from '../../shared/iceberg/spec/table-metadata';
import type { IcebergType } from '../../shared/iceberg/spec/types';
import type { MigrationReport } from '../../shared/migrate/migration-status';
import { type DuckDb, compareTable, fieldIdProblems, loadIcebergTable, openDuckDb, prepareComparisonSession, sourceRowCount } from './support/compare';
import { type PostgresInstance, startPostgres } from './support/postgres';

const DATABASE = 'hostile';
const SCHEMA = 'Sales';
const INJECTION = 'a"b;DROP TABLE x';
const UNICODE = 'Ünïcødé tåble';
const NO_KEY = 'no key';
const EDGE = 'edge values';
const NAN = 'nan amounts';
const PATHS = '50%/off';
const EMPTY = 'empty';
/** Tables that must be committed, and compared row for row. */
const GOOD_TABLES = ['Order', 'select', INJECTION, UNICODE, PATHS, EMPTY, NO_KEY, EDGE, 'generated', 'parent', 'child'];

const SETUP_SQL = `
SET client_encoding = 'UTF8';
CREATE SCHEMA "Sales";
SET search_path = "Sales";

-- What the injection attempt in a table name would drop, in both schemas the search path could resolve it in.
CREATE TABLE public.x (id integer PRIMARY KEY);
CREATE TABLE x (id integer PRIMARY KEY);
INSERT INTO public.x VALUES (1);
INSERT INTO x VALUES (1);

CREATE TABLE "Order" ("Id" integer PRIMARY KEY, "Customer Name" text NOT NULL, "Total" numeric(12, 2), gone integer, "from" date);
-- A dropped column leaves a hole in the attribute numbers.
ALTER TABLE "Order" DROP COLUMN gone;
INSERT INTO "Order" SELECT g, 'Customer ' || g, g * 1.25, date '2024-01-01' + g FROM generate_series(1, 500) g;

-- A stored generated column holds data like any other column and is migrated with it.
CREATE TABLE "generated" (id integer PRIMARY KEY, price numeric(12, 2), "price with tax" numeric(14, 3) GENERATED ALWAYS AS (price * 1.2) STORED);
INSERT INTO "generated" (id, price) VALUES (1, 10.00), (2, NULL), (3, 0.05);

-- Inheritance: the child is a table of its own, and its rows are not the parent's.
CREATE TABLE "parent" (id integer PRIMARY KEY, v text);
CREATE TABLE "child" (extra integer) INHERITS ("parent");
INSERT INTO "parent" VALUES (1, 'parent row');
INSERT INTO "child" VALUES (2, 'child row', 7), (3, 'child row', 8);

CREATE TABLE "select" ("select" integer PRIMARY KEY, "where" text, "group" boolean, "ORDER" bigint);
INSERT INTO "select" VALUES (1, 'from', true, 1), (2, NULL, false, NULL), (3, ';', NULL, -1);

CREATE TABLE "a""b;DROP TABLE x" (id integer PRIMARY KEY, "col""quote" text, "semi;colon" integer, "--comment" text);
INSERT INTO "a""b;DROP TABLE x" VALUES (1, '"; DROP TABLE x; --', 1, '/* */'), (2, '''', NULL, NULL);

CREATE TABLE "Ünïcødé tåble" ("clé" integer PRIMARY KEY, "名前" text, "emoji 😀" text, "Straße" varchar(20));
INSERT INTO "Ünïcødé tåble" VALUES (1, '東京', '😀👍🏽', 'Weiß'), (2, 'Ελληνικά', '', NULL), (3, NULL, NULL, 'ß');

-- No key at all: the table is a multiset, and every duplicate must arrive exactly as often as it is here.
-- Path-hostile names: a percent sign and a slash (encoded in the warehouse path), a dot in a column name.
CREATE TABLE "50%/off" (id integer PRIMARY KEY, "a.b" text);
INSERT INTO "50%/off" VALUES (1, 'dot'), (2, NULL);

CREATE TABLE "empty" (id integer PRIMARY KEY, v text);

CREATE TABLE "no key" (a integer, b text, c double precision);
INSERT INTO "no key" VALUES
  (1, 'a', 1.5), (1, 'a', 1.5), (1, 'a', 1.5),
  (NULL, NULL, NULL), (NULL, NULL, NULL),
  (2, 'b', 'NaN'), (2, 'b', 'NaN'), (2, 'b', '-0'), (2, 'b', '0'),
  (3, '', NULL);

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy 😀');
CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 100);
CREATE DOMAIN padded AS char(3);
CREATE TYPE address AS (street text, zip integer);
CREATE TYPE stop AS (name text, at timestamptz, codes integer[]);

CREATE TABLE "edge values" (
  id integer PRIMARY KEY,
  i2 smallint, i4 integer, i8 bigint,
  n numeric(38, 10), n_small numeric(5, 2), n_any numeric,
  f8 double precision, f4 real,
  b boolean,
  d date, ts timestamp, tstz timestamptz, t time, ttz timetz,
  bin bytea, s text, vc varchar(10), c char(5), pad padded,
  arr text[], f8arr double precision[], tsarr timestamptz[], carr char(2)[],
  j jsonb, js json, iv interval, u uuid,
  feeling mood, short short_text, addr address,
  net inet, tsv tsvector, cash money, rng int4range
);
INSERT INTO "edge values" (id) VALUES (1);
INSERT INTO "edge values" VALUES (
  2, -32768, -2147483648, -9223372036854775808,
  '-9999999999999999999999999999.9999999999', '-999.99', 'NaN',
  '-Infinity', '-Infinity', false,
  '4713-01-01 BC', '4713-01-01 00:00:00 BC', '4713-01-01 00:00:00+00 BC', '00:00:00', '00:00:00+14',
  '\\x', '', '', '', '',
  '{}', '{}', '{}', '{}',
  'null', '""', '-178000000 years', '00000000-0000-0000-0000-000000000000',
  'sad', '', ROW(NULL, NULL),
  '::1/128', '', '-92233720368547758.08', 'empty'
);
INSERT INTO "edge values" VALUES (
  3, 32767, 2147483647, 9223372036854775807,
  '9999999999999999999999999999.9999999999', '999.99', 'Infinity',
  'Infinity', 'Infinity', true,
  '5874897-12-31', '200000-12-31 23:59:59.999999', '200000-12-31 23:59:59.999999+00', '23:59:59.999999', '23:59:59.999999-15:59',
  '\\x0000ff00', 'tab	here, newline
, cr' || chr(13) || ', backslash \\ and "quotes" and ''apostrophes''', '0123456789', 'abcde', 'xyz',
  ARRAY['a', NULL, '', 'NULL', 'x"y', 'back\\slash', ' sp ', '{}', 'new
line', 'Ünï 😀'], ARRAY['NaN', '-0', 'Infinity', '-Infinity', NULL, '0.1', '5e-324', '1.7976931348623157e308']::float8[],
  ARRAY['2020-01-01 00:00:00.000001+00', NULL, '0044-03-15 12:00:00+00 BC']::timestamptz[], ARRAY['a', NULL, 'bc', '']::char(2)[],
  '{"b": 1, "a": [1, 2.50, null, "ü\\n"], "big": 1e40}', '{"b":1,   "a" : 2}', 'infinity', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'happy 😀', 'domain text', ROW('"quoted", (paren) \\ back', 2147483647),
  '192.168.0.1/24', 'a fat cat:1A sat', '92233720368547758.07', '(,5]'
);
INSERT INTO "edge values" VALUES (
  4, 0, 0, 9007199254740993,
  '0.0000000001', '0.01', '123456789012345678901234567890123456789012345.000000000000000000001',
  '-0', '-0', NULL,
  '0001-01-01 BC', '1969-12-31 23:59:59.999999', '1969-12-31 23:59:59.999999+00', '12:00:00.000001', '12:34:56.789+05:30',
  '\\x00', 'Ünïcødé 😀 ✓', 'x', 'ab', 'z',
  '{NULL}', '{NULL}', '{NULL}', '{NULL}',
  '[]', '[1, 2]', '1 year 2 months 3 days 04:05:06.789', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
  'ok', 'x', ROW('Main St. 1', 12345),
  '10.0.0.0/8', '''quoted'' lexeme', '0', '[1,10)'
);
INSERT INTO "edge values" VALUES (
  5, 1, -1, -9007199254740993,
  '-0.0000000001', '-0.01', '1.50',
  '5e-324', '1.4e-45', true,
  '1970-01-01', '2000-02-29 12:00:00', '2024-02-29 23:59:59.999999+05:30', '23:59:59', '00:00:00-00:30',
  '\\xdeadbeef', ' leading and trailing ', 'ü', ' a', 'q',
  ARRAY['only'], ARRAY[0.1, 2.5e-300], ARRAY['1970-01-01 00:00:00+00']::timestamptz[], ARRAY['zz']::char(2)[],
  '{}', ' [1, 2] ', '-1 day +02:00:00.000001', '123e4567-e89b-12d3-a456-426614174000',
  'happy 😀', 'y', ROW('', 0),
  '0.0.0.0', 'a', '1.5', '[-2147483648,2147483647)'
);
INSERT INTO "edge values" VALUES (
  6, NULL, NULL, NULL,
  '12345678901234567890123456.1234567890', NULL, '-0.000000000000000000000000000000000000000000000000001',
  '1.7976931348623157e308', '3.4028235e38', NULL,
  '0044-03-15 BC', '0044-03-15 12:34:56.789012 BC', '2262-04-11 23:47:16.854775+00', NULL, NULL,
  NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL,
  '"string"', 'null', '-6 months -0.000001 seconds', NULL,
  NULL, NULL, ROW(NULL, 7),
  NULL, NULL, NULL, NULL
);
INSERT INTO "edge values" VALUES (
  7, NULL, NULL, NULL,
  '0', NULL, NULL,
  '0.1', '0.1', NULL,
  '2024-02-29', NULL, NULL, NULL, NULL,
  NULL, 'NULL', NULL, NULL, NULL,
  NULL, NULL, NULL, NULL,
  '{"nested": {"deep": [[], {}]}, "unicode": "\\u00fc", "esc": "\\"\\\\/"}', NULL, '0', NULL,
  NULL, NULL, NULL,
  NULL, NULL, NULL, NULL
);

-- A list of structs holding a list, and values far larger than a COPY network chunk.
ALTER TABLE "edge values" ADD COLUMN stops stop[];
UPDATE "edge values" SET stops = ARRAY[
  ROW('A', '2020-01-01 00:00:00.5+00', '{1,NULL}')::stop, NULL, ROW(NULL, NULL, NULL)::stop, ROW('', NULL, '{}')::stop
] WHERE id = 3;
UPDATE "edge values" SET stops = '{}' WHERE id = 2;
INSERT INTO "edge values" (id, s, bin, arr) VALUES
  (8, repeat('long ü ', 200000), decode(repeat('00ff10', 100000), 'hex'), array_fill('x'::text, ARRAY[5000]));

-- numeric(10,2) accepts NaN, decimal(10,2) cannot hold it: this table must fail, and say where and why.
CREATE TABLE "nan amounts" (id integer PRIMARY KEY, amount numeric(10, 2));
INSERT INTO "nan amounts" SELECT g, g * 0.5 FROM generate_series(1, 100) g WHERE g <> 42;
INSERT INTO "nan amounts" VALUES (42, 'NaN');
`;

/** The Iceberg type each edge column must get (ARCHITECTURE.md §5): a wrong mapping must not pass as a string. */
const EDGE_TYPES: Record<string, string> = {
  id: 'int',
  i2: 'int',
  i4: 'int',
  i8: 'long',
  n: 'decimal(38, 10)',
  n_small: 'decimal(5, 2)',
  n_any: 'string',
  f8: 'double',
  f4: 'float',
  b: 'boolean',
  d: 'date',
  ts: 'timestamp',
  tstz: 'timestamptz',
  t: 'time',
  ttz: 'string',
  bin: 'binary',
  s: 'string',
  vc: 'string',
  c: 'string',
  pad: 'string',
  arr: 'list<string>',
  f8arr: 'list<double>',
  tsarr: 'list<timestamptz>',
  carr: 'list<string>',
  j: 'string',
  js: 'string',
  iv: 'string',
  u: 'uuid',
  feeling: 'string',
  short: 'string',
  addr: 'struct<street: string, zip: int>',
  net: 'string',
  tsv: 'string',
  cash: 'string',
  rng: 'string',
  stops: 'list<struct<name: string, at: timestamptz, codes: list<int>>>',
};

let server: PostgresInstance;
let workDir: string;
let warehouse: string;
let source: Client;
let duck: DuckDb;
let report: MigrationReport;

function describeType(type: IcebergType): string {
  if (typeof type === 'string') return type;
  if (type.type === 'list') return `list<${describeType(type.element)}>`;
  if (type.type === 'struct') return `struct<${type.fields.map((f) => `${f.name}: ${describeType(f.type)}`).join(', ')}>`;
  return `map<${describeType(type.key)}, ${describeType(type.value)}>`;
}

function detail(table: string): MigrationReport['details'][number] {
  const found = report.details.find((d) => d.table === table);
  if (found === undefined) throw new Error(`${table} is not in the report; tables: ${report.details.map((d) => d.table).join(', ')}`);
  return found;
}

beforeAll(async () => {
  server = await startPostgres();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'icebridge-identifiers-'));
  warehouse = path.join(workDir, 'warehouse');
  await server.createDatabase(DATABASE);
  source = new Client({ connectionString: server.urlFor(DATABASE) });
  await source.connect();
  await source.query(SETUP_SQL);
  await source.query('RESET search_path');
  // Session defaults a production database may well have: the migration must not depend on any of them.
  await source.query(`ALTER DATABASE ${DATABASE} SET TimeZone = 'Asia/Kathmandu'; ALTER DATABASE ${DATABASE} SET DateStyle = 'German, DMY';
    ALTER DATABASE ${DATABASE} SET IntervalStyle = 'sql_standard'; ALTER DATABASE ${DATABASE} SET extra_float_digits = -15;
    ALTER DATABASE ${DATABASE} SET bytea_output = 'escape'`);
  await prepareComparisonSession(source);
  duck = await openDuckDb();
  report = await runMigration({
    input: { sourceSchema: SCHEMA, namespace: SCHEMA, concurrency: 3, tables: [...GOOD_TABLES, NAN] },
    sourceUrl: server.urlFor(DATABASE),
    warehouse,
    stateDir: path.join(workDir, 'state'),
  });
}, 180_000);

afterAll(async () => {
  duck?.close();
  await source?.end().catch(() => undefined);
  await server?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('hostile identifiers and edge values', () => {
  it('commits every requested table but the one holding a NaN', () => {
    expect(report.runtimeStatus, report.lastError ?? '').toBe('Completed');
    const failed = GOOD_TABLES.map(detail).filter((d) => d.status !== 'committed');
    expect(failed.map((d) => `${d.table}: ${d.reason ?? d.phase}`).join('\n'), 'tables that did not commit').toBe('');
    expect(report.details.map((d) => d.table).sort()).toEqual([...GOOD_TABLES, NAN].sort());
  });

  it('reports for every committed table the rows the source holds and the snapshot holds', async () => {
    const problems: string[] = [];
    for (const table of GOOD_TABLES) {
      const d = detail(table);
      if (d.status !== 'committed') continue;
      const expected = await sourceRowCount(source, SCHEMA, table);
      const state = await loadIcebergTable(warehouse, [SCHEMA], table);
      const counts = { source: expected, reportedSource: d.sourceRows, reportedRows: d.rows, manifests: state.recordCount };
      if (Object.values(counts).some((n) => n !== expected)) problems.push(`${table}: ${JSON.stringify(counts)}`);
    }
    expect(problems.join('\n'), 'tables whose counts differ').toBe('');
  });

  it('fails the NaN table with a reason naming table, column, key and value, and commits nothing of it', async () => {
    const nan = detail(NAN);
    expect(nan.status).toBe('failed');
    const reason = nan.reason ?? '';
    expect(reason).toContain(NAN);
    expect(reason).toMatch(/\bamount\b/);
    expect(reason, 'the row key').toMatch(/\bid\b\)?=\(?42\b/);
    expect(reason).toContain('NaN');
    const catalog = new HadoopCatalog(new LocalFileIO(), warehouse);
    const table = await catalog.tryLoadTable({ namespace: [SCHEMA], name: NAN });
    expect(table === undefined ? undefined : currentSnapshot(table.metadata), 'no snapshot for a failed table').toBeUndefined();
  });

  it.each(GOOD_TABLES)('holds every row of %s exactly as the source does', async (table) => {
    const state = await loadIcebergTable(warehouse, [SCHEMA], table);
    const result = await compareTable(source, duck.connection, { schema: SCHEMA, table }, state);
    expect(result.explanation).toBe('');
    // A comparison of nothing proves nothing: only the empty table may be empty.
    if (table !== EMPTY) expect(result.sourceRows).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const file of state.files) problems.push(...(await fieldIdProblems(duck.connection, file, state.schema)));
    expect(problems).toEqual([]);
  });

  it('keeps the duplicates of the keyless table as often as the source has them', async () => {
    const state = await loadIcebergTable(warehouse, [SCHEMA], NO_KEY);
    expect(state.recordCount).toBe(10);
    expect(state.schema['identifier-field-ids'] ?? [], 'a multiset has no identifier fields').toEqual([]);
  });

  it('maps every edge column to its documented Iceberg type', async () => {
    const state = await loadIcebergTable(warehouse, [SCHEMA], EDGE);
    const actual = Object.fromEntries(state.schema.fields.map((f) => [f.name, describeType(f.type)]));
    expect(actual).toEqual(EDGE_TYPES);
  });

  it('executes no name as SQL and touches no table it was not given', async () => {
    const { rows } = await source.query<{ sales: boolean; pub: boolean }>(
      `SELECT to_regclass('"Sales".x') IS NOT NULL AS sales, to_regclass('public.x') IS NOT NULL AS pub`,
    );
    expect(rows[0], 'both tables named x still exist').toEqual({ sales: true, pub: true });
    const counts = await source.query<{ n: string }>(`SELECT ((SELECT count(*) FROM "Sales".x) + (SELECT count(*) FROM public.x))::text AS n`);
    expect(counts.rows[0]?.n, 'and still hold their rows').toBe('2');
    const catalog = new HadoopCatalog(new LocalFileIO(), warehouse);
    const tables = (await catalog.listTables([SCHEMA])).map((id) => id.name).sort();
    expect(tables).toEqual([...GOOD_TABLES, NAN].sort());
  });
});

describe('an unknown table name', () => {
  it('fails the run at once, listing the tables that exist, before anything is written', async () => {
    const emptyWarehouse = path.join(workDir, 'unknown-warehouse');
    const started = Date.now();
    const failed = await runMigration({
      input: { sourceSchema: SCHEMA, namespace: SCHEMA, concurrency: 2, tables: ['Order', 'order'] },
      sourceUrl: server.urlFor(DATABASE),
      warehouse: emptyWarehouse,
      stateDir: path.join(workDir, 'state-unknown'),
    });
    const elapsedMs = Date.now() - started;
    expect(failed.runtimeStatus).toBe('Failed');
    const message = failed.lastError ?? '';
    expect(message).toContain('order');
    expect(message, 'names are case-sensitive: the near miss is pointed out').toMatch(/did you mean "Order"/);
    for (const name of [...GOOD_TABLES, NAN, 'x']) {
      const listed = message.includes(name) || message.includes(`"${name.replace(/"/g, '""')}"`);
      expect(listed, `${JSON.stringify(name)} listed in: ${message}`).toBe(true);
    }
    // A permanent failure is not retried: no backoff, no partial work.
    expect(elapsedMs).toBeLessThan(15_000);
    const catalog = new HadoopCatalog(new LocalFileIO(), emptyWarehouse);
    expect(await catalog.listTables([SCHEMA])).toEqual([]);
  });
});
