/**
 * Every-row check. First, per table or key range, PostgreSQL computes the row count and the sum of row hashes
 * (row-hasher.ts) in SQL (sourceFigures of aggregate-check.ts, in the scan that computes its aggregates) while
 * the Iceberg side accumulates the same two figures streaming the data files (HashSum). When they differ, the rows are split into buckets by a hash of their key's
 * canonical text (the row text for a keyless table), the same function on both sides, so no side has to agree
 * with the other's collation or sort order; both sides compute count and hash sum per bucket, and only the
 * buckets that differ are fetched, from both sides, and compared row by row: by key (values per column) or,
 * keyless, as multisets of row texts.
 * Memory: two small arrays per table, plus the rows of the buckets being examined, whose values are held as
 * they are shown (bounded-text.ts): a long value as its prefix, length and hash.
 */
import type { Client } from 'pg';
import { boundedText, boundedTextSql } from '../../text/bounded-text';
import { bucketOf, bucketSql, integerBucketOf, integerBucketSql, reduceHash } from '../canonical/buckets';
import { canonicalArraySql } from '../canonical/canonical-sql';
import { jsonArray } from '../canonical/canonical-text';
import type { ComparedColumn } from './compared-columns';
import type { RowDifference } from '../contracts';
import { HASHED } from '../canonical/row-hash';
import { HashSum } from '../canonical/row-hasher';
import { hashFormOf, hashInputSql, rowHashSql } from '../canonical/row-hash-sql';

/** Key placeholder of a keyless table's row in `RowDifference.key` and `SampleRow.key`. */
export const ROW_KEY = '(row)';

/** Rows per bucket aimed at; a differing bucket is fetched whole from both sides. */
const ROWS_PER_BUCKET = 2_000;
const MAX_BUCKETS = 1 << 16;
/** Rows fetched per side in one examination round, and how many rounds at most. */
const ROWS_PER_ROUND = 50_000;
const MAX_ROUNDS = 4;

/** The rows a check reads: a table (fromSql), the rows of it a condition selects, and the condition's $1..$n. */
export interface RowSource {
  relation: string;
  where?: string;
  params: readonly unknown[];
  /** Rows `where` is expected to keep (a key range's planner estimate); sampling by pages aims at these. */
  estimatedRows?: number;
}

/** The FROM item of a RowSource's rows. */
export function rowsFromSql(source: RowSource): string {
  return source.where === undefined ? source.relation : `(SELECT * FROM ${source.relation} WHERE ${source.where}) AS icebridge_range`;
}

/** Which compared columns form the key (none: the table is compared as a multiset). */
export interface RowLayout {
  columns: readonly ComparedColumn[];
  keyIndexes: readonly number[];
}

/** Bucket figures of one side. */
export interface BucketFigures {
  counts: Float64Array;
  sums: BigUint64Array;
}

/** Number of buckets for a table of `rows` rows. */
export function bucketCount(rows: bigint): number {
  return Math.max(1, Math.min(MAX_BUCKETS, Number((rows + BigInt(ROWS_PER_BUCKET) - 1n) / BigInt(ROWS_PER_BUCKET))));
}

/** Key text of a row's canonical values (the row text when keyless). */
export function keyTextOf(layout: RowLayout, canonical: ReadonlyArray<string | null>, rowText: string): string {
  return layout.keyIndexes.length === 0 ? rowText : jsonArray(layout.keyIndexes.map((i) => canonical[i] ?? null));
}

/** The key record shown to people. */
export function keyRecord(layout: RowLayout, canonical: ReadonlyArray<string | null>, rowText: string): Record<string, string | null> {
  if (layout.keyIndexes.length === 0) return { [ROW_KEY]: rowText };
  return Object.fromEntries(layout.keyIndexes.map((i) => [layout.columns[i]!.name, canonical[i] ?? null]));
}

/** The key column when the key is one int or long column (bucketed by value), else undefined. */
function integerKey(layout: RowLayout): number | undefined {
  if (layout.keyIndexes.length !== 1) return undefined;
  const index = layout.keyIndexes[0]!;
  const type = layout.columns[index]!.type;
  return type === 'int' || type === 'long' ? index : undefined;
}

/** Bucket of a row from its key text and canonical values; the same function as `bucketOfSql`. */
export function bucketOfRow(layout: RowLayout, keyText: string, canonical: ReadonlyArray<string | null>, buckets: number): number {
  const key = integerKey(layout);
  return key === undefined ? bucketOf(keyText, buckets) : integerBucketOf(canonical[key]!, buckets);
}

/** SQL for the bucket of a row of `canonicalRowsSql` aliased q1. */
function bucketOfSql(layout: RowLayout, buckets: number): string {
  const key = integerKey(layout);
  return key === undefined ? bucketSql('q1.kt', buckets) : integerBucketSql(`q1.c${key}`, buckets);
}

/** SELECT giving kt (key text), rt (row text) and c0..cn (canonical values) for every row of `from`. */
export function canonicalRowsSql(layout: RowLayout, from: string): string {
  const inner = layout.columns.map((c, i) => `${c.canonicalSql} AS c${i}`).join(', ');
  const rowText = canonicalArraySql(layout.columns.map((_c, i) => `q0.c${i}`));
  const keyText = layout.keyIndexes.length === 0 ? rowText : canonicalArraySql(layout.keyIndexes.map((i) => `q0.c${i}`));
  const cs = layout.columns.map((_c, i) => `q0.c${i}`).join(', ');
  // OFFSET 0 keeps the subquery from being flattened, which would compute a key column's canonical text twice.
  return `SELECT ${keyText} AS kt, ${rowText} AS rt${cs ? `, ${cs}` : ''} FROM (SELECT ${inner || '1 AS none'} FROM ${from} OFFSET 0) q0`;
}

/**
 * `canonicalRowsSql`'s rows of `from` (those `where` keeps, a condition on q1's columns) as they are shown and
 * carried: kt, rt and c0..cn bounded (bounded-text.ts), cut by PostgreSQL so a long value never travels whole.
 * OFFSET 0 keeps q1 from being flattened, which would build each text once per use in the bounding.
 */
export function shownRowsSql(layout: RowLayout, from: string, where?: string): string {
  const cs = layout.columns.map((_c, i) => `, ${boundedTextSql(`q1.c${i}`)} AS c${i}`).join('');
  return `SELECT ${boundedTextSql('q1.kt')} AS kt, ${boundedTextSql('q1.rt')} AS rt${cs} FROM (${canonicalRowsSql(layout, from)} OFFSET 0) q1${where === undefined ? '' : ` WHERE ${where}`}`;
}

/** Row count and the sum of row hashes modulo 2^64 of one side. */
export interface RowFigures {
  rows: bigint;
  sum: bigint;
}

/** Whether both sides' figures agree. */
export function sameRowFigures(a: RowFigures, b: RowFigures): boolean {
  return a.rows === b.rows && a.sum === b.sum;
}

/** The figures of a HashSum. */
export function targetRowFigures(sum: HashSum): RowFigures {
  return { rows: BigInt(sum.rows), sum: sum.sum };
}

/** PostgreSQL's bucket figures, computed in SQL. */
export async function sourceBuckets(client: Client, layout: RowLayout, source: RowSource, buckets: number): Promise<BucketFigures> {
  const figures = { counts: new Float64Array(buckets), sums: new BigUint64Array(buckets) };
  // The canonical texts come from the subquery: NULL there exactly when the value is NULL.
  const hash = rowHashSql(
    layout.columns.map((c, i) => ({
      sql: hashInputSql(c.type, `q1.c${i}`, true, hashFormOf(c.type, c.plan)),
      form: hashFormOf(c.type, c.plan),
      flat: true,
      ...(c.nullable ? { nullTest: `(q1.c${i} IS NULL)` } : {}),
    })),
  );
  const { rows } = await client.query<{ b: number; n: string; s: string | null }>(
    `SELECT q2.b, count(*)::text AS n, sum(q2.h)::text AS s
       FROM (SELECT ${bucketOfSql(layout, buckets)} AS b, ${hash} AS h FROM (${canonicalRowsSql(layout, rowsFromSql(source))}) q1) q2
      GROUP BY q2.b`,
    [...source.params],
  );
  for (const r of rows) {
    figures.counts[r.b] = Number(r.n);
    figures.sums[r.b] = reduceHash(r.s);
  }
  return figures;
}

/** The Iceberg side's bucket figures, accumulated row by row. */
export class TargetBuckets {
  readonly figures: BucketFigures;

  constructor(readonly buckets: number) {
    this.figures = { counts: new Float64Array(buckets), sums: new BigUint64Array(buckets) };
  }

  /** Adds one row, whose row hash is in HASHED, to bucket `b` (bucketOfRow). */
  addHashed(b: number): void {
    this.figures.counts[b]! += 1;
    const hash = (BigInt(HASHED[0]!) << 32n) | BigInt(HASHED[1]!);
    this.figures.sums[b] = BigInt.asUintN(64, this.figures.sums[b]! + hash);
  }
}

/** Buckets whose count or hash differ. */
export function differingBuckets(source: BucketFigures, target: BucketFigures): number[] {
  const out: number[] = [];
  for (let b = 0; b < source.counts.length; b++) {
    if (source.counts[b] !== target.counts[b] || source.sums[b] !== target.sums[b]) out.push(b);
  }
  return out;
}

/** One row of a fetched bucket. */
interface FetchedRow {
  rowText: string;
  canonical: Array<string | null>;
}

/** Streams the Iceberg side's rows with their canonical values (the verifier supplies the reader). */
export type TargetRowSource = (visit: (canonical: Array<string | null>, rowText: string) => void) => Promise<void>;

/** Outcome of examining differing buckets. */
export interface RowExamination {
  differing: number;
  differences: RowDifference[];
  /** Differing buckets left unexamined after the round limit or once enough differences were found. */
  bucketsNotExamined: number;
}

/** Fetches differing buckets from both sides, in rounds of bounded size, and lists the differing rows. */
export async function examineBuckets(
  client: Client,
  layout: RowLayout,
  source: RowSource,
  buckets: number,
  differing: readonly number[],
  sourceFigures: BucketFigures,
  target: BucketFigures,
  readTarget: TargetRowSource,
  maxDifferences: number,
): Promise<RowExamination> {
  const found: Array<{ keyText: string; difference: RowDifference }> = [];
  let next = 0;
  for (let round = 0; round < MAX_ROUNDS && next < differing.length && found.length < maxDifferences; round++) {
    const chosen = new Set<number>();
    let size = 0;
    while (next < differing.length) {
      const b = differing[next]!;
      const rows = Math.max(sourceFigures.counts[b]!, target.counts[b]!);
      if (chosen.size > 0 && size + rows > ROWS_PER_ROUND) break;
      chosen.add(b);
      size += rows;
      next++;
    }
    const sourceRows = new Map<string, FetchedRow[]>();
    // Rows are matched and compared by their shown texts: a long value by its prefix, length and md5, equal
    // exactly when the values are (but for an md5 collision), without either side's whole value travelling.
    const result = await client.query<Record<string, string | null>>(
      shownRowsSql(layout, rowsFromSql(source), `${bucketOfSql(layout, buckets)} = ANY($${source.params.length + 1}::int4[])`),
      [...source.params, [...chosen]],
    );
    for (const r of result.rows) {
      const canonical = layout.columns.map((_c, i) => r[`c${i}`] ?? null);
      push(sourceRows, r.kt!, { rowText: r.rt!, canonical });
    }
    const targetRows = new Map<string, FetchedRow[]>();
    await readTarget((canonical, rowText) => {
      const keyText = keyTextOf(layout, canonical, rowText);
      if (chosen.has(bucketOfRow(layout, keyText, canonical, buckets))) {
        push(targetRows, boundedText(keyText), { rowText: boundedText(rowText), canonical: canonical.map((v) => (v === null ? null : boundedText(v))) });
      }
    });
    for (const keyText of new Set([...sourceRows.keys(), ...targetRows.keys()])) {
      for (const difference of compareKey(layout, sourceRows.get(keyText) ?? [], targetRows.get(keyText) ?? [])) {
        found.push({ keyText, difference });
      }
    }
  }
  found.sort((a, b) => (a.keyText < b.keyText ? -1 : a.keyText > b.keyText ? 1 : 0));
  return { differing: found.length, differences: found.slice(0, maxDifferences).map((f) => f.difference), bucketsNotExamined: differing.length - next };
}

function push(map: Map<string, FetchedRow[]>, key: string, row: FetchedRow): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [row]);
  else list.push(row);
}

/** Rows sharing one key: identical rows cancel, the rest pair up as value mismatches, leftovers are missing or extra. */
function compareKey(layout: RowLayout, source: FetchedRow[], target: FetchedRow[]): RowDifference[] {
  const remaining = [...target];
  const unmatched: FetchedRow[] = [];
  for (const row of source) {
    const i = remaining.findIndex((t) => t.rowText === row.rowText);
    if (i >= 0) remaining.splice(i, 1);
    else unmatched.push(row);
  }
  const out: RowDifference[] = [];
  const columnsOf = (s: FetchedRow | undefined, t: FetchedRow | undefined) =>
    layout.columns
      .map((c, i) => ({ column: c.name, source: s ? (s.canonical[i] ?? null) : null, target: t ? (t.canonical[i] ?? null) : null }))
      .filter((c) => !(s && t) || c.source !== c.target);
  const keyed = layout.keyIndexes.length > 0;
  while (keyed && unmatched.length > 0 && remaining.length > 0) {
    const s = unmatched.shift()!;
    const t = remaining.shift()!;
    out.push({ key: keyRecord(layout, s.canonical, s.rowText), kind: 'VALUE_MISMATCH', columns: columnsOf(s, t) });
  }
  for (const s of unmatched) out.push({ key: keyRecord(layout, s.canonical, s.rowText), kind: 'MISSING_IN_TARGET', columns: columnsOf(s, undefined) });
  for (const t of remaining) out.push({ key: keyRecord(layout, t.canonical, t.rowText), kind: 'EXTRA_IN_TARGET', columns: columnsOf(undefined, t) });
  return out;
}
