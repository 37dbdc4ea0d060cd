/**
 * The verifier against a real migration: a small table set (a keyless table, numeric, timestamptz, doubles with
 * NaN and -0.0, text[], bytea, char(n), jsonb, uuid) is migrated with runMigration and verifies clean; then the
 * SOURCE is tampered with, one change at a time, and verification must fail naming table, key, column and both
 * values. Each change is undone before the next one, and a last run proves the undo.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import type { RunEnvironment } from '../../shared/run/environment';
import { connectPostgres } from '../../shared/postgres/connection';
import type { RowDifference, TableVerification, VerifyLevel } from '../../shared/verify/contracts';
import { describeTable } from '../../shared/postgres/introspect';
import { mapTable } from '../../shared/postgres/type-mapping';
import { sourceFigures } from '../../shared/verify/checks/aggregate-check';
import { comparedColumns } from '../../shared/verify/checks/compared-columns';
import { fromSql } from '../../shared/verify/checks/count-check';
import { ROW_KEY, sourceBuckets } from '../../shared/verify/checks/row-check';
import { HashSum, RowHasher } from '../../shared/verify/canonical/row-hasher';
import { hashFormOf } from '../../shared/verify/canonical/row-hash-sql';
import { verifyTable, verifyTables } from '../../shared/verify/steps/verify-table';
import { type PostgresInstance, startPostgres } from './support/postgres';

const SETUP_SQL = `
CREATE TABLE accounts (
  id int PRIMARY KEY,
  name text NOT NULL,
  status text,
  balance numeric(12,2),
  created timestamptz,
  score double precision,
  ratio real,
  tags text[],
  avatar bytea,
  born date,
  code char(6),
  payload jsonb,
  uid uuid,
  vip boolean
);
INSERT INTO accounts
SELECT g,
       'name ' || g || CASE WHEN g % 7 = 0 THEN ' "quoted" \\ tab' || chr(9) || ' é 😀' ELSE '' END,
       (ARRAY['active', 'closed', 'frozen', NULL])[1 + g % 4],
       CASE WHEN g % 10 = 0 THEN NULL ELSE (g * 123.45 - 5000)::numeric(12,2) END,
       TIMESTAMPTZ '2024-01-01 00:00:00.000001+00' + g * INTERVAL '1 day 1.000007 seconds',
       CASE g % 6 WHEN 0 THEN 'NaN'::float8 WHEN 1 THEN '-0'::float8 WHEN 2 THEN 'Infinity'::float8 WHEN 3 THEN NULL
                  ELSE g / 3.0::float8 END,
       CASE WHEN g % 5 = 0 THEN 'NaN'::float4 ELSE (g / 7.0)::float4 END,
       CASE WHEN g % 9 = 0 THEN NULL WHEN g % 9 = 1 THEN '{}'::text[] ELSE ARRAY['a' || g, NULL, 'x"y,z'] END,
       CASE WHEN g % 8 = 0 THEN NULL ELSE decode(lpad(to_hex(g), 6, '0') || '00ff', 'hex') END,
       DATE '1969-12-25' + g,
       CASE WHEN g % 3 = 0 THEN 'ab' ELSE 'c' || g END,
       jsonb_build_object('n', g, 'list', jsonb_build_array(g, 'x')),
       md5(g::text)::uuid,
       CASE WHEN g % 11 = 0 THEN NULL ELSE g % 2 = 0 END
  FROM generate_series(1, 300) g;

CREATE TABLE events (kind text NOT NULL, at timestamp, amount bigint);
INSERT INTO events SELECT 'kind ' || (g % 3), TIMESTAMP '2023-06-01 12:00:00' + g * INTERVAL '1.5 microseconds', g * 1000000000000
  FROM generate_series(1, 120) g;
INSERT INTO events SELECT kind, at, amount FROM events WHERE amount <= 3000000000000;

CREATE SCHEMA scratch;
`;

let pg: PostgresInstance;
let dir: string;
let url: string;
let client: Client;
let env: RunEnvironment;

const ACCOUNTS = { source: { schema: 'public', name: 'accounts' }, target: { namespace: ['public'], name: 'accounts' } };
const EVENTS = { source: { schema: 'public', name: 'events' }, target: { namespace: ['public'], name: 'events' } };

function verify(request: typeof ACCOUNTS, level: VerifyLevel): Promise<TableVerification> {
  return verifyTable(env, request, { level, maxDifferences: 20, samples: 5 });
}

/** The differences that name this key. */
function forKey(result: TableVerification, column: string, value: string): RowDifference[] {
  return (result.rows?.differences ?? []).filter((d) => d.key[column] === value);
}

async function scalar(sql: string): Promise<string | null> {
  const { rows } = await client.query<{ v: string | null }>(sql);
  return rows[0]!.v;
}

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('verify');
  client = new Client({ connectionString: url });
  await client.connect();
  await client.query(SETUP_SQL);
  dir = await mkdtemp(path.join(tmpdir(), 'icebridge-verify-'));
  const warehouse = path.join(dir, 'warehouse');
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1 },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(dir, 'state'),
  });
  const failed = report.details.filter((d) => d.status !== 'committed');
  if (report.runtimeStatus !== 'Completed' || failed.length > 0) {
    throw new Error(`migration failed: ${report.lastError ?? ''} ${JSON.stringify(failed)}`);
  }
  env = { connectSource: () => connectPostgres(url), catalog: new HadoopCatalog(new LocalFileIO(), warehouse) };
}, 180_000);

afterAll(async () => {
  await client?.end();
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an untouched migration', () => {
  it('verifies clean at full level, every row compared', async () => {
    const report = await verifyTables(env, { source: 'test', warehouse: 'test', tables: [ACCOUNTS, EVENTS] }, { level: 'full' });
    for (const table of report.tables) {
      expect(table.error).toBeUndefined();
      expect(table.schema).toEqual([]);
      expect(table.aggregates.filter((a) => !a.ok)).toEqual([]);
      expect(table.rows?.differences).toEqual([]);
      expect(table.status).toBe('ok');
    }
    expect(report.ok).toBe(true);
    const [accounts, events] = report.tables as [TableVerification, TableVerification];
    expect(accounts.counts).toEqual({ source: '300', targetManifest: '300', targetRead: '300', ok: true });
    expect(events.counts?.source).toBe('123');
    expect(accounts.rows?.compared).toBe('300');
    // The checks really ran: sums, float extremes, group counts, samples with both sides filled in.
    const figure = (column: string, aggregate: string) => accounts.aggregates.find((a) => a.column === column && a.aggregate === aggregate);
    expect(figure('balance', 'sum')?.source).toMatch(/^\d+(\.\d+)?$/);
    expect(figure('score', 'max')?.target).toBe('NaN');
    expect(figure('score', 'nan')?.source).toBe('50');
    expect(figure('status', 'group:active')?.source).toBe('75');
    expect(accounts.samples).toHaveLength(5);
    for (const sample of accounts.samples) expect(sample.target).toEqual(sample.source);
    expect(events.samples.every((s) => s.key[ROW_KEY] !== undefined && s.target !== null)).toBe(true);
  });

  it('verifies clean at quick level', async () => {
    const result = await verify(ACCOUNTS, 'quick');
    expect(result.status).toBe('ok');
    expect(result.rows).toBeUndefined();
    expect(result.aggregates.length).toBeGreaterThan(30);
  });
});

describe('row hashes in PostgreSQL', () => {
  it("are the same from the values (a range's scan) as from the canonical texts (the buckets' scan)", async () => {
    for (const name of ['accounts', 'events']) {
      const table = await describeTable(client, 'public', name);
      const mapping = mapTable(table, {});
      const columns = comparedColumns(mapping, mapping.schema);
      const rows = { relation: fromSql(table), params: [] };
      const figures = await sourceFigures(client, columns, rows, { hash: true, grouped: new Map() });
      const buckets = await sourceBuckets(client, { columns, keyIndexes: [] }, rows, 1);
      expect(buckets.sums[0]).toBe(figures.rows.sum);
      expect(figures.rows.sum).not.toBe(0n);
    }
  });

  it("hash a numeric(P, S) at its scale and an unconstrained numeric by its trimmed text, as the Iceberg side's values", async () => {
    await client.query('CREATE TABLE scratch.numerics (wide numeric, fixed numeric(12, 2))');
    // The unconstrained column holds values of their own scales; the typmod gives the other's all scale 2.
    await client.query('INSERT INTO scratch.numerics VALUES (1.5, 1.5), (1.50000, 2), (-0.00100, NULL), (42, 0), (NULL, -3.1)');
    try {
      const table = await describeTable(client, 'scratch', 'numerics');
      const mapping = mapTable(table, { wideNumeric: { as: 'decimal', unconstrainedScale: 5 } });
      const columns = comparedColumns(mapping, mapping.schema);
      expect(columns.map((c) => hashFormOf(c.type, c.plan))).toEqual(['text', 'scaled']);
      const rows = { relation: fromSql(table), params: [] };
      const figures = await sourceFigures(client, columns, rows, { hash: true, grouped: new Map() });
      const buckets = await sourceBuckets(client, { columns, keyIndexes: [] }, rows, 1);
      expect(buckets.sums[0]).toBe(figures.rows.sum);
      // The Iceberg side holds unscaled values at each column's scale (5 and 2).
      const sum = new HashSum();
      const values = [
        [150_000, 150],
        [150_000, 200],
        [-100, null],
        [4_200_000, 0],
        [null, -310],
      ];
      RowHasher.forColumns(columns).addRows(values, sum);
      expect(sum.sum).toBe(figures.rows.sum);
    } finally {
      await client.query('DROP TABLE scratch.numerics');
    }
  });
});

describe('a tampered source fails verification', () => {
  it('finds one value changed in one row', async () => {
    const original = await scalar('SELECT name AS v FROM accounts WHERE id = 42');
    await client.query(`UPDATE accounts SET name = 'tampered' WHERE id = 42`);
    try {
      const result = await verify(ACCOUNTS, 'full');
      expect(result.status).toBe('differs');
      expect(result.table).toBe('public.accounts');
      expect(result.rows?.differing).toBe('1');
      expect(forKey(result, 'id', '42')).toEqual([
        { key: { id: '42' }, kind: 'VALUE_MISMATCH', columns: [{ column: 'name', source: 'tampered', target: original }] },
      ]);
    } finally {
      await client.query('UPDATE accounts SET name = $1 WHERE id = 42', [original]);
    }
  });

  it('finds lists changed in order, in nulls, in emptiness and in dimensions', async () => {
    const before = await client.query<{ id: number; tags: string | null }>(
      'SELECT id, tags::text AS tags FROM accounts WHERE id BETWEEN 18 AND 22 ORDER BY id',
    );
    expect(before.rows.map((r) => r.tags)).toEqual([null, '{}', '{a20,NULL,"x\\"y,z"}', '{a21,NULL,"x\\"y,z"}', '{a22,NULL,"x\\"y,z"}']);
    await client.query(`UPDATE accounts SET tags = '{}' WHERE id = 18`);
    await client.query(`UPDATE accounts SET tags = NULL WHERE id = 19`);
    await client.query(`UPDATE accounts SET tags = ARRAY[NULL, 'a20', 'x"y,z'] WHERE id = 20`);
    await client.query(`UPDATE accounts SET tags = ARRAY['a22', '', 'x"y,z'] WHERE id = 22`);
    try {
      const result = await verify(ACCOUNTS, 'full');
      expect(result.rows?.differing).toBe('4');
      for (const id of ['18', '19', '20', '22']) expect(forKey(result, 'id', id).map((d) => d.columns.map((c) => c.column))).toEqual([['tags']]);
      for (const r of before.rows) await client.query('UPDATE accounts SET tags = $1::text[] WHERE id = $2', [r.tags, r.id]);
      // Alone, so that no other difference leads to its rows: the same elements in the same order, in two dimensions.
      await client.query(`UPDATE accounts SET tags = ARRAY[['a21', NULL, 'x"y,z']] WHERE id = 21`);
      const nested = await verify(ACCOUNTS, 'full');
      expect(nested.rows?.differing).toBe('1');
      expect(forKey(nested, 'id', '21').map((d) => d.columns.map((c) => c.column))).toEqual([['tags']]);
    } finally {
      for (const r of before.rows) await client.query('UPDATE accounts SET tags = $1::text[] WHERE id = $2', [r.tags, r.id]);
    }
  });

  it('finds booleans flipped and nulled', async () => {
    expect((await client.query('SELECT id, vip FROM accounts WHERE id IN (22, 33, 34) ORDER BY id')).rows).toEqual([
      { id: 22, vip: null },
      { id: 33, vip: null },
      { id: 34, vip: true },
    ]);
    await client.query('UPDATE accounts SET vip = false WHERE id = 22');
    await client.query('UPDATE accounts SET vip = true WHERE id = 33');
    await client.query('UPDATE accounts SET vip = NULL WHERE id = 34');
    try {
      const result = await verify(ACCOUNTS, 'full');
      expect(result.rows?.differing).toBe('3');
      for (const id of ['22', '33', '34']) expect(forKey(result, 'id', id).map((d) => d.columns.map((c) => c.column))).toEqual([['vip']]);
    } finally {
      await client.query('UPDATE accounts SET vip = NULL WHERE id IN (22, 33)');
      await client.query('UPDATE accounts SET vip = true WHERE id = 34');
    }
  });

  it('finds a timestamp moved by one microsecond', async () => {
    const before = await scalar(`SELECT ((EXTRACT(EPOCH FROM created) * 1000000)::int8)::text AS v FROM accounts WHERE id = 11`);
    await client.query(`UPDATE accounts SET created = created + INTERVAL '1 microsecond' WHERE id = 11`);
    try {
      const result = await verify(ACCOUNTS, 'full');
      expect(result.status).toBe('differs');
      expect(forKey(result, 'id', '11')).toEqual([
        { key: { id: '11' }, kind: 'VALUE_MISMATCH', columns: [{ column: 'created', source: String(BigInt(before!) + 1n), target: before }] },
      ]);
    } finally {
      await client.query(`UPDATE accounts SET created = created - INTERVAL '1 microsecond' WHERE id = 11`);
    }
  });

  it('finds a numeric changed by 0.01, at full level by row and at quick level by its sum', async () => {
    await client.query('UPDATE accounts SET balance = balance + 0.01 WHERE id = 13');
    try {
      const full = await verify(ACCOUNTS, 'full');
      expect(forKey(full, 'id', '13')).toEqual([
        { key: { id: '13' }, kind: 'VALUE_MISMATCH', columns: [{ column: 'balance', source: '-3395.14', target: '-3395.15' }] },
      ]);
      const quick = await verify(ACCOUNTS, 'quick');
      expect(quick.status).toBe('differs');
      const sum = quick.aggregates.find((a) => a.column === 'balance' && a.aggregate === 'sum');
      expect(sum?.ok).toBe(false);
      expect(sum && BigInt(Math.round(Number(sum.source) * 100)) - BigInt(Math.round(Number(sum.target) * 100))).toBe(1n);
    } finally {
      await client.query('UPDATE accounts SET balance = balance - 0.01 WHERE id = 13');
    }
  });

  it('finds a NaN turned into a number', async () => {
    expect(await scalar(`SELECT score::text AS v FROM accounts WHERE id = 12`)).toBe('NaN');
    await client.query('UPDATE accounts SET score = 1.5 WHERE id = 12');
    try {
      const result = await verify(ACCOUNTS, 'full');
      expect(result.status).toBe('differs');
      expect(forKey(result, 'id', '12')).toEqual([
        { key: { id: '12' }, kind: 'VALUE_MISMATCH', columns: [{ column: 'score', source: '3ff8000000000000', target: 'NaN' }] },
      ]);
    } finally {
      await client.query(`UPDATE accounts SET score = 'NaN' WHERE id = 12`);
    }
  });

  it('tells -0.0 from 0.0', async () => {
    await client.query('UPDATE accounts SET score = 0 WHERE id = 7');
    try {
      const result = await verify(ACCOUNTS, 'full');
      expect(forKey(result, 'id', '7')).toEqual([
        { key: { id: '7' }, kind: 'VALUE_MISMATCH', columns: [{ column: 'score', source: '0000000000000000', target: '8000000000000000' }] },
      ]);
    } finally {
      await client.query(`UPDATE accounts SET score = '-0' WHERE id = 7`);
    }
  });

  it('finds one row deleted, at full level by key and at quick level by count', async () => {
    await client.query('CREATE TABLE scratch.deleted AS SELECT * FROM accounts WHERE id = 17');
    await client.query('DELETE FROM accounts WHERE id = 17');
    try {
      const full = await verify(ACCOUNTS, 'full');
      expect(full.status).toBe('differs');
      expect(full.counts).toMatchObject({ source: '299', targetManifest: '300', ok: false });
      const [difference] = forKey(full, 'id', '17');
      expect(difference?.kind).toBe('EXTRA_IN_TARGET');
      expect(difference?.columns).toContainEqual({ column: 'name', source: null, target: 'name 17' });
      const quick = await verify(ACCOUNTS, 'quick');
      expect(quick.status).toBe('differs');
      expect(quick.counts?.ok).toBe(false);
    } finally {
      await client.query('INSERT INTO accounts SELECT * FROM scratch.deleted; DROP TABLE scratch.deleted');
    }
  });

  it('finds a long changed in both 32-bit words alike, which hashint8extended folds into the same word', async () => {
    // 50000000000000 # (2^32 + 1): the low word xor the high word is unchanged, the high word is not.
    await client.query('UPDATE events SET amount = amount # 4294967297 WHERE amount = 50000000000000');
    try {
      const result = await verify(EVENTS, 'full');
      expect(result.status).toBe('differs');
      expect(result.rows?.differing).toBe('2');
      const amounts = (result.rows?.differences ?? []).map((d) => d.columns.find((c) => c.column === 'amount'));
      expect(amounts).toContainEqual({ column: 'amount', source: '49995705032705', target: null });
      expect(amounts).toContainEqual({ column: 'amount', source: null, target: '50000000000000' });
    } finally {
      await client.query('UPDATE events SET amount = 50000000000000 WHERE amount = 49995705032705');
    }
  });

  it('finds one duplicate added to a keyless table', async () => {
    await client.query(`INSERT INTO events SELECT * FROM events WHERE amount = 50000000000000`);
    try {
      const result = await verify(EVENTS, 'full');
      expect(result.status).toBe('differs');
      expect(result.rows?.differing).toBe('1');
      const [difference] = result.rows?.differences ?? [];
      expect(difference?.kind).toBe('MISSING_IN_TARGET');
      expect(difference?.key[ROW_KEY]).toContain('"50000000000000"');
      expect(difference?.columns).toContainEqual({ column: 'amount', source: '50000000000000', target: null });
    } finally {
      await client.query(`DELETE FROM events WHERE ctid = (SELECT max(ctid) FROM events WHERE amount = 50000000000000)`);
    }
  });

  it('finds a column added in PostgreSQL (schema check)', async () => {
    await client.query('ALTER TABLE accounts ADD COLUMN extra int');
    try {
      const result = await verify(ACCOUNTS, 'full');
      expect(result.status).toBe('differs');
      expect(result.schema).toEqual([{ kind: 'MISSING_FIELD', field: 'extra', expected: { type: 'int', required: false } }]);
      // The other columns still compare equal.
      expect(result.rows?.differing).toBe('0');
    } finally {
      await client.query('ALTER TABLE accounts DROP COLUMN extra');
    }
  });

  it('counts every differing row, lists the first maxDifferences, and quick sees the group counts move', async () => {
    await client.query(`UPDATE accounts SET status = 'suspended' WHERE id <= 50`);
    try {
      const full = await verify(ACCOUNTS, 'full');
      expect(full.rows?.differing).toBe('50');
      expect(full.rows?.differences).toHaveLength(20);
      expect(full.rows?.differences.every((d) => d.kind === 'VALUE_MISMATCH' && d.columns.length === 1 && d.columns[0]!.column === 'status')).toBe(true);
      const quick = await verify(ACCOUNTS, 'quick');
      expect(quick.aggregates.find((a) => a.column === 'status' && a.aggregate === 'group:suspended')).toMatchObject({ source: '50', target: null, ok: false });
    } finally {
      await client.query(`UPDATE accounts SET status = (ARRAY['active', 'closed', 'frozen', NULL])[1 + id % 4] WHERE id <= 50`);
    }
  });

  it('is clean again once every change is undone', async () => {
    const report = await verifyTables(env, { source: 'test', warehouse: 'test', tables: [ACCOUNTS, EVENTS] }, { level: 'full' });
    expect(report.tables.map((t) => [t.table, t.status, t.error])).toEqual([
      ['public.accounts', 'ok', undefined],
      ['public.events', 'ok', undefined],
    ]);
  });
});
