/**
 * PostgreSQL's figures of a table or key range in one scan: group counts of a low-cardinality column come from
 * the planner's most common values when those cover every row, and from a grouping scan when they do not (a
 * value added since ANALYZE), with the same counts a plain GROUP BY gives either way; its least and greatest texts
 * come from those groups or, when they do not cover it, from a scan of their own, the same as min() and max() in
 * byte order; a range counts only its rows.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTable } from '../../shared/postgres/introspect';
import { mapTable } from '../../shared/postgres/type-mapping';
import { groupedCandidates, sourceFigures } from '../../shared/verify/checks/aggregate-check';
import { comparedColumns } from '../../shared/verify/checks/compared-columns';
import { fromSql } from '../../shared/verify/checks/count-check';
import { sourceFiguresOf } from '../../shared/verify/checks/target-aggregates';
import { type PostgresInstance, startPostgres } from './support/postgres';

describe('source figures', () => {
  let pg: PostgresInstance;
  let client: Client;

  beforeAll(async () => {
    pg = await startPostgres();
    client = new Client({ connectionString: await pg.createDatabase('figures') });
    await client.connect();
    await client.query(`CREATE TABLE orders (id bigint PRIMARY KEY, status text, code char(3), note text);
      INSERT INTO orders SELECT g, (ARRAY['paid', 'new', 'Paid', 'shipped'])[1 + g % 4], (ARRAY['a', 'bb'])[1 + g % 2],
             CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END
        FROM generate_series(1, 4000) g;
      ANALYZE orders;`);
  }, 120_000);
  afterAll(async () => {
    await client?.end();
    await pg?.stop();
  });

  /** Group counts of `column` the plain way, for comparison. */
  async function groupBy(column: string, where = 'true'): Promise<Record<string, string>> {
    const { rows } = await client.query<{ v: string; n: string }>(
      `SELECT ${column}::text AS v, count(*)::text AS n FROM orders WHERE ${column} IS NOT NULL AND ${where} GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.v, r.n]));
  }

  /** Least and greatest texts of `column` the plain way, in byte order. */
  async function extremes(column: string, where = 'true'): Promise<Array<string | null>> {
    const { rows } = await client.query<{ lo: string | null; hi: string | null }>(
      `SELECT min(${column}::text COLLATE "C") AS lo, max(${column}::text COLLATE "C") AS hi FROM orders WHERE ${where}`,
    );
    return [rows[0]!.lo, rows[0]!.hi];
  }

  /** The grouping scans sourceFigures ran (statements with a GROUP BY). */
  const groupingScans: string[] = [];

  async function figures(where?: { sql: string; params: unknown[] }) {
    groupingScans.length = 0;
    const query = client.query.bind(client) as (text: string, params?: unknown[]) => Promise<unknown>;
    const spy = client as unknown as { query: typeof query };
    spy.query = (text: string, params?: unknown[]) => {
      if (/GROUP BY/.test(text)) groupingScans.push(text);
      return query(text, params);
    };
    const table = await describeTable(client, 'public', 'orders');
    const columns = comparedColumns(mapTable(table, {}), mapTable(table, {}).schema);
    const grouped = await groupedCandidates(client, table, columns);
    const rows = { relation: fromSql(table), params: where?.params ?? [], ...(where ? { where: where.sql } : {}) };
    const result = await sourceFigures(client, columns, rows, { hash: true, grouped }).finally(() => {
      spy.query = query;
    });
    const map = sourceFiguresOf([result.aggregates]);
    const groups = (column: string) =>
      Object.fromEntries([...map].filter(([k]) => k.startsWith(`${column}\u0000group:`)).map(([k, v]) => [k.slice(column.length + 7), v]));
    const extremesOf = (column: string) => [map.get(`${column}\u0000min`), map.get(`${column}\u0000max`)];
    return { grouped, result, groups, extremesOf };
  }

  it('counts groups from the common values, as GROUP BY does, and none for a high-cardinality column', async () => {
    const { grouped, result, groups, extremesOf } = await figures();
    expect(grouped.get('status')).toEqual(expect.arrayContaining(['paid', 'new', 'Paid', 'shipped']));
    expect(grouped.has('note')).toBe(false);
    expect(result.rows.rows).toBe(4000n);
    expect(groups('status')).toEqual(await groupBy('status'));
    // The extremes from the groups, in byte order ('Paid' before 'new'), as min() and max() give them.
    expect(extremesOf('status')).toEqual(['Paid', 'shipped']);
    expect(extremesOf('status')).toEqual(await extremes('status'));
    expect(extremesOf('note')).toEqual(await extremes('note'));
    // char(n) keeps its padding in the canonical text, and in the common values' text.
    expect(groups('code')).toEqual({ 'a  ': '2000', 'bb ': '2000' });
    expect(extremesOf('code')).toEqual(['a  ', 'bb ']);
    expect(groupingScans).toEqual([]);
  });

  it('falls back to a grouping scan when a value came after the statistics', async () => {
    await client.query("INSERT INTO orders VALUES (4001, 'refunded', 'a', NULL), (4002, 'refunded', 'a', NULL), (4003, 'A', 'a', NULL)");
    try {
      const { grouped, groups, extremesOf } = await figures();
      expect(grouped.get('status')).not.toContain('refunded');
      expect(groups('status')).toEqual(await groupBy('status'));
      expect(groups('status')['refunded']).toBe('2');
      expect(groupingScans).toHaveLength(1);
      // The new least text is found by a scan of its own.
      expect(extremesOf('status')).toEqual(['A', 'shipped']);
    } finally {
      await client.query('DELETE FROM orders WHERE id > 4000');
    }
  });

  it('counts only the rows of a key range', async () => {
    const { result, groups, extremesOf } = await figures({ sql: '"id" >= $1::int8 AND "id" < $2::int8', params: ['1001', '2001'] });
    expect(result.rows.rows).toBe(1000n);
    expect(groups('status')).toEqual(await groupBy('status', 'id >= 1001 AND id < 2001'));
    expect(extremesOf('status')).toEqual(await extremes('status', 'id >= 1001 AND id < 2001'));
  });
});
