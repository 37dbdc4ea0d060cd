/**
 * Scan ranges: a large table's verification split into pieces of bounded work whatever its key. The PostgreSQL
 * side is cut into heap page ranges (ctid) as the copy is (partition-planner.ts; a partitioned table leaf by
 * leaf), the Iceberg side into groups of the pinned snapshot's data files. The two cuts need not line up: a
 * range's figures (row count, row hash sum, aggregates) are additive, and only the table's merged figures are
 * compared (mergeScanRanges of table-status.ts). Pure, so the verifyTable orchestration computes each range's
 * input from the compact plan; planVerification plans them (plan-verification.ts).
 */
import { partitionAt } from '../../postgres/partition-ranges';
import { quoteQualified } from '../../postgres/identifiers';
import type { SourceTable } from '../../postgres/source-table';
import type { RowSource } from '../checks/row-check';
import type { AggregatePartial, ScanRangePlan } from '../contracts';

/**
 * Heap and TOAST bytes per scan range, and the size from which a table is split at all: a range's PostgreSQL
 * scan and the decoding of its share of data files take well under a minute, far inside the 10-minute function
 * timeout (measured on 2 shared cores: a 216 MiB table in one activity, 5.9 s quick and 7.4 s full), while every
 * table of the usual datasets (Pagila, Chinook) stays one activity. Splitting costs little: the same table in 7
 * ranges took 6.7 s quick and 9.1 s full.
 */
export const BYTES_PER_SCAN_RANGE = 512 * 1024 * 1024;

/**
 * One piece of a table's verification, the input of one activity: a page range of one source relation, and
 * the group `index` of `count` of the snapshot's data files (groupFiles of target-scan.ts).
 */
export interface ScanRange {
  index: number;
  count: number;
  /** Heap pages fromPage (inclusive) to toPage (exclusive; null: to the end) of one relation. */
  source: { relation: { schema: string; name: string }; fromPage: number; toPage: number | null };
}

/** What one scan range gathers on both sides, merged with the table's other ranges. */
export interface ScanRangeResult {
  range: number;
  /** PostgreSQL rows in the range's pages. */
  sourceRows: string;
  /** Their row hash sum modulo 2^64 (full level; '0' otherwise). */
  sourceHash: string;
  sourceAggregates: AggregatePartial;
  /** Rows read from the range's data files. */
  targetRows: string;
  /** Their row hash sum modulo 2^64 (full level; '0' otherwise). */
  targetHash: string;
  aggregates: AggregatePartial;
  /** Per sample of the table (in its order): the Iceberg side's row when one of the range's files holds it. */
  sampleTargets: Array<Record<string, string | null> | null>;
}

/** Scan ranges `from` (inclusive) to `to` (exclusive, clipped to the plan): each activity's own input. */
export function scanRangesBetween(plan: ScanRangePlan, from: number, to: number): ScanRange[] {
  const out: ScanRange[] = [];
  for (let index = from; index < Math.min(to, plan.pages.length); index++) {
    const p = partitionAt(plan.pages, index);
    out.push({ index, count: plan.pages.length, source: { relation: p.relation, fromPage: p.fromPage, toPage: p.toPage } });
  }
  return out;
}

/** A table's heap and TOAST bytes now, over its leaves: what its scan ranges are sized by. */
export function relationBytes(table: SourceTable): number {
  return table.leaves.reduce((n, leaf) => n + Math.max(leaf.stats.dataBytes ?? leaf.stats.tableBytes, leaf.stats.tableBytes), 0);
}

/** The rows of a range's pages: ONLY the relation (a leaf or an ordinary table), cut by ctid where it is cut. */
export function pageRangeSource(source: ScanRange['source']): RowSource {
  const { fromPage, toPage } = source;
  if (!Number.isSafeInteger(fromPage) || fromPage < 0 || (toPage !== null && (!Number.isSafeInteger(toPage) || toPage < fromPage))) {
    throw new RangeError(`invalid page range ${fromPage}..${toPage}`);
  }
  const conditions: string[] = [];
  // A relation read whole (a foreign leaf, or the first range open-ended) gets no ctid condition at all.
  if (fromPage > 0) conditions.push(`ctid >= '(${fromPage},0)'::tid`);
  if (toPage !== null) conditions.push(`ctid < '(${toPage},0)'::tid`);
  const relation = `ONLY ${quoteQualified(source.relation.schema, source.relation.name)}`;
  return { relation, params: [], ...(conditions.length > 0 ? { where: conditions.join(' AND ') } : {}) };
}
