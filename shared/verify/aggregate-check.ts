/**
 * Aggregate check: per column count, nulls, min, max, exact sums of integers and decimals, NaN counts of
 * floats, and group counts of low-cardinality strings. PostgreSQL computes its side in SQL; the Iceberg side is
 * accumulated from the rows our reader returns. Every figure is the canonical text (canonical.ts), so the two
 * sides are compared as strings, exactly: no float tolerance, -0.0 and NaN distinguished.
 */
import type { Client } from 'pg';
import type { SourceTable } from '../postgres/source-table';
import { fromSql } from './count-check';
import { type IcebergType, decimalParams } from '../iceberg/spec/types';
import type { Value } from '../iceberg/spec/values';
import { canonicalSql, canonicalValue, nullTestSql } from './canonical';
import type { ComparedColumn } from './compared-columns';
import type { AggregateCheck } from './contracts';
// Strings by code point (PostgreSQL's "C" collation orders UTF-8 bytes the same way); floats with -0 < 0, NaN last.
import { compareFloats, compareStrings } from '../iceberg/spec/compare';

/** A string column with at most this many distinct values in PostgreSQL gets group counts. */
export const MAX_GROUPS = 20;
/** Columns whose planner estimate exceeds MAX_GROUPS by this factor are taken as high-cardinality. */
const ESTIMATE_MARGIN = 10;
/** Distinct values the Iceberg side tracks per grouped column before it stops counting groups. */
const GROUP_TRACKING_LIMIT = 64;

type Category = 'ordered' | 'decimal' | 'boolean' | 'text' | 'float' | 'none';

function categoryOf(type: IcebergType): Category {
  if (typeof type !== 'string') return 'none';
  switch (type) {
    case 'int': case 'long': case 'date': case 'time': case 'timestamp': case 'timestamptz': return 'ordered';
    case 'boolean': return 'boolean';
    case 'string': case 'uuid': case 'binary': return 'text';
    case 'float': case 'double': return 'float';
    default: return decimalParams(type) ? 'decimal' : type.startsWith('fixed') ? 'text' : 'none';
  }
}

function summable(type: IcebergType): boolean {
  return type === 'int' || type === 'long' || decimalParams(type) !== undefined;
}

/** PostgreSQL's side: one row of aggregates over the table, then group counts of low-cardinality strings. */
export async function sourceAggregates(
  client: Client,
  table: SourceTable,
  columns: readonly ComparedColumn[],
): Promise<Map<string, string | null>> {
  const from = fromSql(table);
  const distinctEstimates = await estimateDistinct(client, table);
  const selects: string[] = [];
  const names: string[] = [];
  // Each column's value, and the canonical text of text-like columns, are computed once per row in a subquery
  // (OFFSET 0 keeps it from being flattened), not once per aggregate: min and max of a jsonb column would
  // otherwise print every value twice. Measured on the benchmark table: 42% less server CPU.
  const inner: string[] = [];
  const add = (column: string, aggregate: string, sql: string): void => {
    names.push(`${column}\u0000${aggregate}`);
    selects.push(`${sql} AS a${selects.length}`);
  };
  columns.forEach((c, i) => {
    const v = `q.v${i}`;
    inner.push(`${c.valueSql} AS v${i}`);
    // count(v) counts non-null datums: a composite of null fields is a value, as nullTestSql has it.
    add(c.name, 'count', `count(${v})::text`);
    add(c.name, 'nulls', `(count(*) - count(${v}))::text`);
    switch (categoryOf(c.type)) {
      case 'ordered':
      case 'decimal':
        add(c.name, 'min', canonicalSql(c.plan, `min(${v})`));
        add(c.name, 'max', canonicalSql(c.plan, `max(${v})`));
        break;
      case 'boolean':
        add(c.name, 'min', canonicalSql(c.plan, `bool_and(${v})`));
        add(c.name, 'max', canonicalSql(c.plan, `bool_or(${v})`));
        break;
      case 'text':
        inner.push(`${c.canonicalSql} AS t${i}`);
        add(c.name, 'min', `min(q.t${i} COLLATE "C")`);
        add(c.name, 'max', `max(q.t${i} COLLATE "C")`);
        break;
      case 'float': {
        // PostgreSQL orders NaN above every number but treats -0 = 0: which zero is the min/max is decided here.
        const single = c.plan.kind === 'float4';
        const send = single ? 'float4send' : 'float8send';
        const negZero = single ? '80000000' : '8000000000000000';
        const posZero = single ? '00000000' : '0000000000000000';
        const hasNeg = `bool_or(${send}(${v}) = '\\x${negZero}'::bytea)`;
        const hasPos = `bool_or(${send}(${v}) = '\\x${posZero}'::bytea)`;
        add(c.name, 'min', `(CASE WHEN min(${v}) = 0 THEN (CASE WHEN ${hasNeg} THEN '${negZero}' ELSE '${posZero}' END) ELSE ${canonicalSql(c.plan, `min(${v})`)} END)`);
        add(c.name, 'max', `(CASE WHEN max(${v}) = 0 THEN (CASE WHEN ${hasPos} THEN '${posZero}' ELSE '${negZero}' END) ELSE ${canonicalSql(c.plan, `max(${v})`)} END)`);
        add(c.name, 'nan', `count(*) FILTER (WHERE ${v} = 'NaN')::text`);
        break;
      }
      case 'none':
        break;
    }
    if (summable(c.type)) add(c.name, 'sum', `trim_scale(sum(${v})::numeric)::text`);
  });
  const out = new Map<string, string | null>();
  const { rows } = await client.query<Record<string, string | null>>(
    `SELECT ${selects.join(', ')} FROM (SELECT ${inner.join(', ') || '1 AS none'} FROM ${from} OFFSET 0) q`,
  );
  names.forEach((name, i) => out.set(name, rows[0]![`a${i}`] ?? null));
  for (const c of columns) {
    if (c.type !== 'string') continue;
    // A planner estimate far above the limit spares a full grouping scan of a plainly high-cardinality column.
    if ((distinctEstimates.get(c.name) ?? 0) > MAX_GROUPS * ESTIMATE_MARGIN) continue;
    // Grouped by the text's bytes: a column's own (perhaps case-insensitive) collation must not merge groups.
    const groups = await client.query<{ v: string; n: string }>(
      `SELECT (${c.canonicalSql}) COLLATE "C" AS v, count(*)::text AS n FROM ${from} WHERE NOT ${nullTestSql(c.plan, c.valueSql)} GROUP BY 1 LIMIT ${MAX_GROUPS + 1}`,
    );
    if (groups.rows.length > MAX_GROUPS) continue;
    for (const g of groups.rows) out.set(`${c.name}\u0000group:${g.v}`, g.n);
  }
  return out;
}

/** Distinct-value estimates of pg_stats (absent when the table was never analyzed). */
async function estimateDistinct(client: Client, table: SourceTable): Promise<Map<string, number>> {
  const { rows } = await client.query<{ name: string; n: number }>(
    `SELECT s.attname AS name, max(CASE WHEN s.n_distinct >= 0 THEN s.n_distinct ELSE -s.n_distinct * $3::float8 END)::float8 AS n
       FROM pg_catalog.pg_stats s WHERE s.schemaname = $1 AND s.tablename = $2 GROUP BY s.attname`,
    [table.schema, table.name, table.stats.reltuples ?? 0],
  );
  return new Map(rows.map((r) => [r.name, r.n]));
}

/** The Iceberg side, accumulated row by row; the column order is that of `columns`. */
export class TargetAggregates {
  private readonly states: ColumnState[];

  /** `grouped`: names of the columns whose group counts are tracked. */
  constructor(private readonly columns: readonly ComparedColumn[], grouped: ReadonlySet<string>) {
    this.states = columns.map((c) => ({
      category: categoryOf(c.type), summable: summable(c.type), count: 0, nulls: 0, min: null, max: null, sum: 0n, smallSum: 0, nan: 0,
      groups: grouped.has(c.name) ? new Map<string, number>() : undefined, groupsOverflow: false,
    }));
  }

  /** Adds one row: raw values and their canonical texts, both in column order. */
  add(values: readonly Value[], canonical: ReadonlyArray<string | null>): void {
    for (let i = 0; i < this.states.length; i++) {
      const s = this.states[i]!;
      const v = values[i] ?? null;
      if (v === null) {
        s.nulls++;
        continue;
      }
      s.count++;
      switch (s.category) {
        case 'ordered':
        case 'decimal': {
          // Numbers and bigints compare exactly with < and >, mixed too: no BigInt made per value.
          const n = v as number | bigint;
          if (s.min === null || n < (s.min as number | bigint)) s.min = n;
          if (s.max === null || n > (s.max as number | bigint)) s.max = n;
          break;
        }
        case 'boolean':
          s.min = s.min === null ? v : (s.min as boolean) && (v as boolean);
          s.max = s.max === null ? v : (s.max as boolean) || (v as boolean);
          break;
        case 'text': {
          const t = canonical[i]!;
          if (s.min === null || compareStrings(t, s.min as string) < 0) s.min = t;
          if (s.max === null || compareStrings(t, s.max as string) > 0) s.max = t;
          break;
        }
        case 'float': {
          const f = v as number;
          if (Number.isNaN(f)) s.nan++;
          if (s.min === null || compareFloats(f, s.min as number) < 0) s.min = f;
          if (s.max === null || compareFloats(f, s.max as number) > 0) s.max = f;
          break;
        }
        case 'none':
          break;
      }
      if (s.summable) addToSum(s, v as number | bigint);
      if (s.groups !== undefined && !s.groupsOverflow) {
        const t = canonical[i]!;
        const n = s.groups.get(t);
        if (n !== undefined) s.groups.set(t, n + 1);
        else if (s.groups.size >= GROUP_TRACKING_LIMIT) s.groupsOverflow = true;
        else s.groups.set(t, 1);
      }
    }
  }

  /** The figures, keyed like `sourceAggregates`; group counts only of the `grouped` columns. */
  figures(grouped: ReadonlySet<string>): Map<string, string | null> {
    const out = new Map<string, string | null>();
    this.columns.forEach((c, i) => {
      const s = this.states[i]!;
      const put = (aggregate: string, value: string | null): void => void out.set(`${c.name}\u0000${aggregate}`, value);
      put('count', String(s.count));
      put('nulls', String(s.nulls));
      const canonical = (v: Value): string | null => canonicalValue(c.type, v);
      if (s.category === 'text') {
        put('min', s.min as string | null);
        put('max', s.max as string | null);
      } else if (s.category !== 'none') {
        put('min', canonical(s.min));
        put('max', canonical(s.max));
      }
      if (s.category === 'float') put('nan', String(s.nan));
      if (s.summable) {
        put('sum', s.count === 0 ? null : canonicalValue(decimalParams(c.type) ? c.type : 'long', s.sum + BigInt(s.smallSum)));
      }
      if (s.groups !== undefined && grouped.has(c.name)) {
        if (s.groupsOverflow) put('groups', `more than ${GROUP_TRACKING_LIMIT} distinct values`);
        for (const [value, n] of s.groups) put(`group:${value}`, String(n));
      }
    });
    return out;
  }
}

interface ColumnState {
  category: Category;
  summable: boolean;
  count: number;
  nulls: number;
  min: Value;
  max: Value;
  /** The exact sum is sum + smallSum: small values add up as doubles, exactly, while they stay below 2^53. */
  sum: bigint;
  smallSum: number;
  nan: number;
  groups: Map<string, number> | undefined;
  groupsOverflow: boolean;
}

const SMALL = 2 ** 31;
const SMALL_BIG = BigInt(SMALL);
/** Below this, adding a value under SMALL keeps smallSum an exact integer (under 2^53). */
const SMALL_SUM_LIMIT = 2 ** 52;

function addToSum(s: ColumnState, v: number | bigint): void {
  // A BigInt addition allocates; most integers and decimals of a table are small, and doubles add them exactly.
  if (typeof v === 'number' ? v > -SMALL && v < SMALL : v > -SMALL_BIG && v < SMALL_BIG) {
    s.smallSum += Number(v);
    if (s.smallSum > SMALL_SUM_LIMIT || s.smallSum < -SMALL_SUM_LIMIT) {
      s.sum += BigInt(s.smallSum);
      s.smallSum = 0;
    }
  } else {
    s.sum += BigInt(v);
  }
}

/** Both sides side by side, in the source's order, then aggregates only the target has. */
export function compareAggregates(source: Map<string, string | null>, target: Map<string, string | null>): AggregateCheck[] {
  const out: AggregateCheck[] = [];
  const seen = new Set<string>();
  const push = (key: string): void => {
    seen.add(key);
    const [column, aggregate] = key.split('\u0000') as [string, string];
    const s = source.has(key) ? source.get(key)! : null;
    const t = target.has(key) ? target.get(key)! : null;
    out.push({ column, aggregate, source: s, target: t, ok: s === t });
  };
  for (const key of source.keys()) push(key);
  for (const key of target.keys()) if (!seen.has(key)) push(key);
  return out;
}

/** Columns PostgreSQL reported group counts for. */
export function groupedColumns(source: Map<string, string | null>): Set<string> {
  const out = new Set<string>();
  for (const key of source.keys()) {
    const [column, aggregate] = key.split('\u0000') as [string, string];
    if (aggregate.startsWith('group:')) out.add(column);
  }
  return out;
}
