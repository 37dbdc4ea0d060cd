/**
 * How the samples of a big table, or of one key range of it, are picked in PostgreSQL: a page sample
 * (TABLESAMPLE SYSTEM) sized for the rows the source keeps, sampled again from ten times the pages when short,
 * and every row read only after that. The client here answers like PostgreSQL would and records what it was asked.
 */
import type { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import type { DecodePlan } from '../../shared/postgres/decode-plan';
import type { ComparedColumn } from '../../shared/verify/checks/compared-columns';
import type { RowLayout, RowSource } from '../../shared/verify/checks/row-check';
import { SampleSet } from '../../shared/verify/checks/samples';

const ID: ComparedColumn = {
  name: 'id',
  type: 'long',
  plan: { kind: 'int8' } as DecodePlan,
  valueSql: '"id"',
  canonicalSql: '("id")::text',
  nullable: false,
};
const LAYOUT: RowLayout = { columns: [ID], keyIndexes: [0] };
const TABLE = '"public"."orders"';

/**
 * A client whose table has `reltuples` rows; each page sample returns the next count of `sampled` (0 once they
 * run out), a read of every row returns as many rows as asked for. Returns the client and the SQL it was sent.
 */
function postgres(reltuples: number, sampled: number[] = []): { client: Client; sent: string[] } {
  const sent: string[] = [];
  const rows = (n: number) => Array.from({ length: n }, (_v, i) => ({ kt: `["${i + 1}"]`, rt: `["${i + 1}"]`, c0: String(i + 1) }));
  const client = {
    query: (sql: string) => {
      sent.push(sql);
      if (sql.includes('reltuples')) return Promise.resolve({ rows: [{ n: reltuples }] });
      const limit = Number(/LIMIT (\d+)/.exec(sql)![1]);
      return Promise.resolve({ rows: rows(sql.includes('TABLESAMPLE') ? Math.min(limit, sampled.shift() ?? 0) : limit) });
    },
  } as unknown as Client;
  return { client, sent };
}

/** The percentages of the page samples taken, in order. */
function pageSamples(sent: string[]): number[] {
  return sent.flatMap((sql) => {
    const match = /TABLESAMPLE SYSTEM \(([^)]+)\)/.exec(sql);
    return match ? [Number(match[1])] : [];
  });
}

/** Whether every row (of the source) was read to pick from. */
function readEveryRow(sent: string[]): boolean {
  return sent.some((sql) => sql.includes('ORDER BY random()') && !sql.includes('TABLESAMPLE'));
}

const range = (estimatedRows: number): RowSource => ({
  relation: TABLE,
  where: '"id" >= $1::int8 AND "id" < $2::int8',
  params: ['1', '1000001'],
  estimatedRows,
});

describe('SampleSet.pick', () => {
  it('samples pages of a big table for about 200 rows per row picked', async () => {
    const { client, sent } = postgres(5_000_000, [1]);
    const samples = await SampleSet.pick(client, LAYOUT, { relation: TABLE, params: [] }, 1);
    expect(samples.rows()).toHaveLength(1);
    expect(pageSamples(sent)).toEqual([0.004]);
    expect(readEveryRow(sent)).toBe(false);
  });

  it("aims a key range's page sample at the rows the range keeps, not at the whole table's", async () => {
    // A fifth of the table: a sample of the whole table keeps a fifth of its rows, so it takes five times the pages.
    const { client, sent } = postgres(5_000_000, [1]);
    const samples = await SampleSet.pick(client, LAYOUT, range(1_000_000), 1);
    expect(samples.rows()).toHaveLength(1);
    expect(pageSamples(sent)).toEqual([0.02]);
    expect(readEveryRow(sent)).toBe(false);
  });

  // A short page sample is taken again from ten times the pages; every row is read only when that is short too.
  it.each([
    { sampled: [0, 3], picked: 3, percents: [0.06, 0.6], everyRow: false },
    { sampled: [0, 1], picked: 2, percents: [0.04, 0.4], everyRow: true },
  ])('picks $picked rows from page samples of $sampled rows (every row read: $everyRow)', async ({ sampled, picked, percents, everyRow }) => {
    const { client, sent } = postgres(5_000_000, sampled);
    const samples = await SampleSet.pick(client, LAYOUT, range(1_000_000), picked);
    expect(samples.rows()).toHaveLength(picked);
    expect(pageSamples(sent)).toEqual(percents);
    expect(readEveryRow(sent)).toBe(everyRow);
  });

  it('reads the rows of a small table, or of a range that would need a tenth of the pages, without page samples', async () => {
    const small = postgres(50_000);
    expect((await SampleSet.pick(small.client, LAYOUT, { relation: TABLE, params: [] }, 5)).rows()).toHaveLength(5);
    expect(pageSamples(small.sent)).toEqual([]);
    // 5 rows × 200 of a 10,000-row range is a tenth of the pages: reading the range by its key costs no more.
    const narrow = postgres(5_000_000);
    expect((await SampleSet.pick(narrow.client, LAYOUT, range(10_000), 5)).rows()).toHaveLength(5);
    expect(pageSamples(narrow.sent)).toEqual([]);
    expect(readEveryRow(narrow.sent)).toBe(true);
    // Only the first sample is widened where ten times its pages would reach a tenth of the table.
    const wide = postgres(5_000_000, [0]);
    await SampleSet.pick(wide.client, LAYOUT, range(20_000), 1);
    expect(pageSamples(wide.sent)).toEqual([1]);
  });
});
