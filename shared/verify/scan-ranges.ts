/**
 * Scan ranges: a large table's verification split into pieces of bounded work whatever its key. The PostgreSQL
 * side is cut into heap page ranges (ctid) as the copy is (partition-planner.ts; a partitioned table leaf by
 * leaf), the Iceberg side into groups of the pinned snapshot's data files. The two cuts need not line up: a
 * range's figures (row count, row hash sum, aggregates) are additive, and only the table's merged figures are
 * compared (mergeScanRanges of table-status.ts).
 */
import type { Client } from 'pg';
import { type FileScanTask, planScan } from '../iceberg/scan/table-scan';
import { type MigrationEnvironment, withSource } from '../migrate/environment';
import { partitionAt } from '../migrate/partition-ranges';
import { planPartitions } from '../migrate/partition-planner';
import { quoteQualified } from '../postgres/identifiers';
import { serverVersionNum } from '../postgres/introspect';
import type { SourceTable } from '../postgres/source-table';
import type { RowSource } from './row-check';
import { filesInOrder } from './target-scan';
import type { AggregatePartial } from './target-aggregates';

/**
 * Heap and TOAST bytes per scan range, and the size from which a table is split at all: a range's PostgreSQL
 * scan and the decoding of its share of data files take well under a minute, far inside the 10-minute function
 * timeout, while every table of the usual datasets (Pagila, Chinook) stays one activity.
 */
export const BYTES_PER_SCAN_RANGE = 512 * 1024 * 1024;

/** One piece of a table's verification: a page range of one source relation and a group of data files. */
export interface ScanRange {
  index: number;
  /** Heap pages fromPage (inclusive) to toPage (exclusive; null: to the end) of one relation. */
  source: { relation: { schema: string; name: string }; fromPage: number; toPage: number | null };
  /** Data files fromFile (inclusive) to toFile (exclusive) of the snapshot's files ordered by path; absent: none. */
  target?: { fromFile: number; toFile: number };
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

/**
 * The scan ranges of one table of a verification: its snapshot's data files (the pinned one, else the current)
 * as a scan without filter plans them, in path order, grouped against the source's page ranges.
 */
export async function planTableScanRanges(
  env: MigrationEnvironment,
  request: { target: { namespace: string[]; name: string }; snapshotId?: string },
  table: SourceTable,
  bytesPerRange: number,
): Promise<ScanRange[]> {
  // A small table (the common case) costs no read of the manifests and no connection here.
  if (!(bytesPerRange > 0) || relationBytes(table) <= bytesPerRange) return [];
  const loaded = await env.catalog.loadTable(request.target);
  const scan = await planScan(env.catalog.io, loaded.metadata, request.snapshotId === undefined ? {} : { snapshotId: BigInt(request.snapshotId) });
  return withSource(env, (client) => planScanRanges(client, table, filesInOrder(scan.tasks), bytesPerRange));
}

/**
 * Plans the scan ranges of a table whose heap and TOAST exceed `bytesPerRange` (none otherwise: it is verified
 * in one activity). The source is cut as the copy would cut it at that partition size; the snapshot's data
 * files (`files`, as the scan plans them) are grouped, in path order, into as many groups of about equal record
 * counts.
 */
export async function planScanRanges(client: Client, table: SourceTable, files: readonly FileScanTask[], bytesPerRange: number): Promise<ScanRange[]> {
  if (!(bytesPerRange > 0) || relationBytes(table) <= bytesPerRange) return [];
  const { partitions } = planPartitions(table, { partitionSizeInBytes: bytesPerRange, serverVersionNum: await serverVersionNum(client) });
  const groups = groupFiles(files.map((f) => Number(f.dataFile.recordCount)), partitions.length);
  // groupFiles makes at most one group per page range: every range has pages, some perhaps no files.
  return Array.from({ length: partitions.length }, (_v, index) => {
    const p = partitionAt(partitions, index);
    const range: ScanRange = { index, source: { relation: p.relation, fromPage: p.fromPage, toPage: p.toPage } };
    const group = groups[index];
    if (group !== undefined) range.target = group;
    return range;
  });
}

/** A table's heap and TOAST bytes now, over its leaves: what its scan ranges are sized by. */
export function relationBytes(table: SourceTable): number {
  return table.leaves.reduce((n, leaf) => n + Math.max(leaf.stats.dataBytes ?? leaf.stats.tableBytes, leaf.stats.tableBytes), 0);
}

/**
 * Splits files (their record counts, in order) into at most `count` consecutive groups of about equal records:
 * each group closes once it holds its share of the records not yet grouped. Never empty groups.
 */
export function groupFiles(records: readonly number[], count: number): Array<{ fromFile: number; toFile: number }> {
  const out: Array<{ fromFile: number; toFile: number }> = [];
  let left = records.reduce((n, r) => n + r, 0);
  let from = 0;
  let rows = 0;
  for (let i = 0; i < records.length; i++) {
    rows += records[i]!;
    const groupsLeft = count - out.length;
    if (groupsLeft > 1 && rows >= left / groupsLeft && i < records.length - 1) {
      out.push({ fromFile: from, toFile: i + 1 });
      left -= rows;
      rows = 0;
      from = i + 1;
    }
  }
  if (from < records.length) out.push({ fromFile: from, toFile: records.length });
  return out;
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
