/**
 * PostgreSQL's side of the aggregate check and of the every-row check, in one scan of a table or key range:
 * the row count, at the full level the sum of row hashes (row-hasher.ts), and per column count, nulls, min,
 * max, exact sums of integers and decimals and NaN counts of floats; then group counts of low-cardinality
 * strings. Each column's canonical text is computed once per row and feeds both the row hash and the text
 * aggregates. The figures come back in the JSON form the Iceberg side's take (target-aggregates.ts), so a
 * table's ranges merge on both sides alike. Every figure is a canonical text (canonical/), so the two sides
 * are compared as strings, exactly: no float tolerance, -0.0 and NaN distinguished.
 */
import type { Client } from 'pg';
import { compareStrings } from '../../iceberg/spec/compare';
import { boundedText, boundedTextSql } from '../../text/bounded-text';
import type { SourceTable } from '../../postgres/source-table';
import { reduceHash } from '../canonical/buckets';
import { canonicalSql, nullTestSql } from '../canonical/canonical-sql';
import type { ComparedColumn } from './compared-columns';
import { type RowFigures, type RowSource, rowsFromSql } from './row-check';
import { hashFormOf, hashInputSql, rowHashSql } from '../canonical/row-hash-sql';
import { type CanonicalColumnFigures, MAX_GROUPS, categoryOf, partialFromCanonical, summable } from './target-aggregates';
import { type AggregatePartial } from '../contracts';

/** Columns whose planner estimate exceeds MAX_GROUPS by this factor are taken as high-cardinality. */
const ESTIMATE_MARGIN = 10;

/** PostgreSQL's figures of some rows. */
export interface SourceFigures {
  /** Row count and, when asked for, the sum of row hashes (0 otherwise). */
  rows: RowFigures;
  aggregates: AggregatePartial;
}

/**
 * String columns that get group counts, each with the texts of its most common values when the planner's
 * statistics list few enough of them: those are counted in the main scan, and when their counts add up to
 * every value of the column they are all its groups, exactly; otherwise (or without them) a grouping scan of
 * its own counts them.
 */
export type GroupedColumns = ReadonlyMap<string, readonly string[] | undefined>;

/** One scan of `source`'s rows (plus a grouping scan for a grouped column its common values do not cover); `hash`: sum the row hashes too. */
export async function sourceFigures(
  client: Client,
  columns: readonly ComparedColumn[],
  source: RowSource,
  options: { hash: boolean; grouped: GroupedColumns },
): Promise<SourceFigures> {
  const selects: string[] = ['count(*)::text AS n'];
  const params: unknown[] = [...source.params];
  const inner: string[] = [];
  // Values and canonical texts are computed once per row in a subquery (OFFSET 0 keeps it from being flattened),
  // not once per use: min and max of a jsonb column would otherwise print every value twice, and the row hash a
  // third time.
  // An int, date, boolean or time-type column is hashed from its value, not its text: no text is made for it; a
  // decimal from a numeric(P, S) from its own text, which is at its scale, with no trim_scale.
  // A list of plain texts is hashed from its value (a text[]), any other list from its canonical text.
  const hashedFromText = (c: ComparedColumn): boolean => {
    const form = hashFormOf(c.type, c.plan);
    return form === 'text' || (form === 'list' && !c.plainTextArray);
  };
  const texts = columns.map((c, i) => {
    if ((!options.hash || !hashedFromText(c)) && categoryOf(c.type) !== 'text') return undefined;
    inner.push(`${c.canonicalSql} AS t${i}`);
    return `q.t${i}`;
  });
  if (options.hash) {
    const hash = rowHashSql(
      columns.map((c, i) => {
        const form = hashFormOf(c.type, c.plan);
        if (form === 'list') return c.plainTextArray ? { sql: `(q.v${i})::text[]`, form } : { sql: hashInputSql(c.type, texts[i]!, true), form, flat: true };
        const text = form === 'text';
        const sql = text ? texts[i]! : hashInputSql(c.type, `q.v${i}`, false, form);
        return { sql, form, ...(c.nullable ? { nullTest: `(${text ? sql : `q.v${i}`} IS NULL)` } : {}) };
      }),
    );
    selects.push(`sum(${hash})::text AS s`);
  }
  const figure = (i: number, name: string, sql: string): string => {
    selects.push(`${sql} AS "${name}${i}"`);
    return `${name}${i}`;
  };
  const names = columns.map((c, i) => {
    const v = `q.v${i}`;
    inner.push(`${c.valueSql} AS v${i}`);
    // count(v) counts non-null datums: a composite of null fields is a value, as nullTestSql has it. A NOT NULL
    // column's count is the row count.
    const out: { count: string; min?: string; max?: string; sum?: string; nan?: string } = { count: c.nullable ? figure(i, 'c', `count(${v})::text`) : 'n' };
    // Grouped by the text's bytes: a column's own (perhaps case-insensitive) collation must not merge groups.
    const common = c.type === 'string' ? options.grouped.get(c.name) : undefined;
    switch (categoryOf(c.type)) {
      case 'ordered':
      case 'decimal':
        out.min = figure(i, 'lo', canonicalSql(c.plan, `min(${v})`));
        out.max = figure(i, 'hi', canonicalSql(c.plan, `max(${v})`));
        break;
      case 'boolean':
        out.min = figure(i, 'lo', canonicalSql(c.plan, `bool_and(${v})`));
        out.max = figure(i, 'hi', canonicalSql(c.plan, `bool_or(${v})`));
        break;
      case 'text':
        // A column counted by its common values takes its extremes from the groups found (groupExtremes).
        if (common !== undefined) break;
        // Compared on the full texts, carried bounded (PostgreSQL computes an aggregate written several times once).
        out.min = figure(i, 'lo', boundedTextSql(`min(${texts[i]!} COLLATE "C")`));
        out.max = figure(i, 'hi', boundedTextSql(`max(${texts[i]!} COLLATE "C")`));
        break;
      case 'float': {
        // PostgreSQL orders NaN above every number but treats -0 = 0: which zero is the min/max is decided here.
        const single = c.plan.kind === 'float4';
        const send = single ? 'float4send' : 'float8send';
        const negZero = single ? '80000000' : '8000000000000000';
        const posZero = single ? '00000000' : '0000000000000000';
        const hasNeg = `bool_or(${send}(${v}) = '\\x${negZero}'::bytea)`;
        const hasPos = `bool_or(${send}(${v}) = '\\x${posZero}'::bytea)`;
        out.min = figure(
          i,
          'lo',
          `(CASE WHEN min(${v}) = 0 THEN (CASE WHEN ${hasNeg} THEN '${negZero}' ELSE '${posZero}' END) ELSE ${canonicalSql(c.plan, `min(${v})`)} END)`,
        );
        out.max = figure(
          i,
          'hi',
          `(CASE WHEN max(${v}) = 0 THEN (CASE WHEN ${hasPos} THEN '${posZero}' ELSE '${negZero}' END) ELSE ${canonicalSql(c.plan, `max(${v})`)} END)`,
        );
        out.nan = figure(i, 'nan', `count(*) FILTER (WHERE ${v} = 'NaN')::text`);
        break;
      }
      case 'none':
        break;
    }
    // PostgreSQL has no sum(oid): an oid is summed as the bigint it fits in.
    if (summable(c.type)) out.sum = figure(i, 'sum', `trim_scale(sum(${c.plan.kind === 'oid' ? `(${v})::int8` : v})::numeric)::text`);
    const groups = common?.map((value, k) => {
      params.push(value);
      return [value, figure(i, `g${k}_`, `count(*) FILTER (WHERE ${texts[i]!} COLLATE "C" = $${params.length}::text)::text`)] as const;
    });
    return { ...out, groups };
  });
  const from = rowsFromSql(source);
  const {
    rows: [row],
  } = await client.query<Record<string, string | null>>(
    `SELECT ${selects.join(', ')} FROM (SELECT ${inner.join(', ') || '1 AS none'} FROM ${from} OFFSET 0) q`,
    params,
  );
  const total = Number(row!.n);
  const text = (name: string | undefined): string | null => (name === undefined ? null : (row![name] ?? null));
  const partial: AggregatePartial = { columns: [] };
  for (const [i, c] of columns.entries()) {
    const n = names[i]!;
    const count = Number(row![n.count]);
    let groups: Array<[string, number]> | undefined;
    let extremes = { min: text(n.min), max: text(n.max) };
    if (c.type === 'string' && options.grouped.has(c.name)) {
      const found = n.groups?.map(([value, name]): [string, number] => [value, Number(row![name])]).filter(([, k]) => k > 0);
      const covered = found !== undefined && found.reduce((sum, [, k]) => sum + k, 0) === count;
      groups = covered ? found.map(([value, k]) => [boundedText(value), k]) : await groupCounts(client, c, source);
      if (n.groups !== undefined) extremes = covered ? groupExtremes(found.map(([value]) => value)) : await textExtremes(client, c, source);
    }
    const figures: CanonicalColumnFigures = {
      count,
      nulls: total - count,
      ...extremes,
      sum: text(n.sum),
      nan: Number(text(n.nan) ?? 0),
      groups,
    };
    partial.columns.push(partialFromCanonical(c, figures));
  }
  return { rows: { rows: BigInt(total), sum: options.hash ? reduceHash(row!.s ?? null) : 0n }, aggregates: partial };
}

/**
 * The least and greatest of a column's texts in byte order (COLLATE "C"), bounded, from the texts of the common
 * values found in it when those are all its values: what min() and max() of its texts are, without them per row.
 */
function groupExtremes(values: readonly string[]): { min: string | null; max: string | null } {
  if (values.length === 0) return { min: null, max: null };
  let min = values[0]!;
  let max = min;
  for (const value of values) {
    if (compareStrings(value, min) < 0) min = value;
    if (compareStrings(value, max) > 0) max = value;
  }
  return { min: boundedText(min), max: boundedText(max) };
}

/** A text column's least and greatest canonical texts in byte order, bounded: a scan of their own. */
async function textExtremes(client: Client, c: ComparedColumn, source: RowSource): Promise<{ min: string | null; max: string | null }> {
  const text = `(${c.canonicalSql}) COLLATE "C"`;
  const { rows } = await client.query<{ min: string | null; max: string | null }>(
    `SELECT ${boundedTextSql(`min(${text})`)} AS min, ${boundedTextSql(`max(${text})`)} AS max FROM ${rowsFromSql(source)}`,
    [...source.params],
  );
  return rows[0]!;
}

/** A string column's rows per canonical text; undefined when it has more than MAX_GROUPS distinct values. */
async function groupCounts(client: Client, c: ComparedColumn, source: RowSource): Promise<Array<[string, number]> | undefined> {
  const where = `NOT ${nullTestSql(c.plan, c.valueSql)}${source.where === undefined ? '' : ` AND ${source.where}`}`;
  // Grouped by the full text, carried bounded.
  const { rows } = await client.query<{ v: string; n: string }>(
    `SELECT ${boundedTextSql('g.v')} AS v, g.n FROM (SELECT (${c.canonicalSql}) COLLATE "C" AS v, count(*)::text AS n FROM ${source.relation} WHERE ${where} GROUP BY 1 LIMIT ${MAX_GROUPS + 1}) g`,
    [...source.params],
  );
  return rows.length > MAX_GROUPS ? undefined : rows.map((g) => [g.v, Number(g.n)]);
}

/**
 * String columns worth group counts, with their most common values' texts when pg_stats lists at most
 * MAX_GROUPS of them: a planner estimate far above MAX_GROUPS spares the grouping of a plainly high-cardinality
 * column (a table never analyzed has no statistics: every string column is grouped by a scan of its own).
 */
export async function groupedCandidates(client: Client, table: SourceTable, columns: readonly ComparedColumn[]): Promise<GroupedColumns> {
  const { rows } = await client.query<{ name: string; n: number; common: string[] | null }>(
    `SELECT s.attname AS name, (CASE WHEN s.n_distinct >= 0 THEN s.n_distinct ELSE -s.n_distinct * $3::float8 END)::float8 AS n,
            s.most_common_vals::text::text[] AS common
       FROM pg_catalog.pg_stats s WHERE s.schemaname = $1 AND s.tablename = $2 AND s.inherited = $4`,
    // A partitioned table's statistics cover its partitions; an ordinary table's own rows are what ONLY reads.
    [table.schema, table.name, table.stats.reltuples ?? 0, table.kind === 'partitioned'],
  );
  const stats = new Map(rows.map((r) => [r.name, r]));
  const out = new Map<string, readonly string[] | undefined>();
  for (const c of columns) {
    if (c.type !== 'string') continue;
    const stat = stats.get(c.name);
    if ((stat?.n ?? 0) > MAX_GROUPS * ESTIMATE_MARGIN) continue;
    const common = stat?.common === null || stat?.common === undefined ? undefined : [...new Set(stat.common)];
    out.set(c.name, common !== undefined && common.length <= MAX_GROUPS ? common : undefined);
  }
  return out;
}
