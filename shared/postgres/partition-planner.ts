/**
 * Splits a table into copy partitions by heap page ranges (ctid), sized from PostgreSQL's own figures so each
 * partition reads roughly a target amount of data and finishes well inside the function timeout. The amount is
 * the relation's heap and its TOAST heap, since wide values live out of line and are read too. Works for
 * tables without keys; a partitioned table is split leaf by leaf.
 */
import type { SourceLeaf, SourceTable } from './source-table';
import type { PartitionRanges, RelationPages } from './partition-ranges';
import { partitionRanges, relationPages } from './partition-ranges';

/** PostgreSQL's heap page size. */
export const PAGE_SIZE = 8192;

/**
 * Default bytes per partition: a few hundred thousand typical rows, a few seconds to copy. Under a Functions host
 * the partitions are what spreads a table over instances, so they stay this small (the HTTP API's default).
 */
export const DEFAULT_PARTITION_SIZE_IN_BYTES = 64 * 1024 * 1024;

/**
 * The command line's default: one machine, whose activity slots are all a table is spread over. Each partition
 * pays a transaction, a description of the table, a file and a manifest of its own, so there fewer, larger ones
 * copy faster (2 cores, the command, medians of 4): a 2,000,000-row table in 3.06 s in 256 MiB partitions against
 * 3.20 s in 128 MiB ones (and 2.98-3.00 s against 2.89-2.90 s in-process for 64 MiB against 128 MiB); 5,000,000
 * rows in 6.58 s against 6.85 s. A partition of 256 MiB copies in about a second and a half here, which is also what
 * a resumed copy may do again.
 */
export const ONE_MACHINE_PARTITION_SIZE_IN_BYTES = 256 * 1024 * 1024;

/**
 * Largest bytes per partition: about a minute of copying at the measured per-copy rate, so even a slow source
 * stays far inside the 10-minute function timeout. Larger requests are clamped to it.
 */
export const MAX_PARTITION_SIZE_IN_BYTES = 1024 * 1024 * 1024;

/** First server_version_num with TID range scans: before it a ctid range condition reads the whole table. */
export const TID_RANGE_SCAN_VERSION = 140000;

/** Options of planPartitions. */
export interface PlanPartitionsOptions {
  /** Requested bytes per partition; clamped to MAX_PARTITION_SIZE_IN_BYTES. */
  partitionSizeInBytes?: number;
  /** The source's server_version_num; when absent the server is taken to have TID range scans. */
  serverVersionNum?: number;
}

/** How big partitions are, and why. */
export interface PartitionSizing {
  /** Bytes of heap and TOAST per partition. */
  bytesPerPartition: number;
  /** Whether a page range is read by itself (PostgreSQL 14+) or costs a scan of the whole relation. */
  tidRangeScan: boolean;
  /** Sentences about the choice that apply to the whole run. */
  warnings: string[];
}

/** Partitions of one table (compact: see PartitionRanges) and what a person should know about them. */
export interface PlannedPartitions {
  partitions: PartitionRanges;
  warnings: string[];
}

/**
 * Decides the partition size. Requests above the cap are clamped to it. Before PostgreSQL 14 every partition of
 * a relation scans all of it, so partitions are made as large as the cap allows: a relation up to 1 GiB is read
 * in one scan, and a larger one in as few whole-relation scans as the timeout permits.
 */
export function partitionSizing(options: PlanPartitionsOptions = {}): PartitionSizing {
  const warnings: string[] = [];
  const asked = options.partitionSizeInBytes;
  let bytes = asked !== undefined && Number.isFinite(asked) && asked > 0 ? asked : DEFAULT_PARTITION_SIZE_IN_BYTES;
  if (bytes > MAX_PARTITION_SIZE_IN_BYTES) {
    warnings.push(
      `partitionSizeInBytes ${asked} is above the limit of ${MAX_PARTITION_SIZE_IN_BYTES} (1 GiB) and was clamped to it, so each copy finishes well inside the function timeout`,
    );
    bytes = MAX_PARTITION_SIZE_IN_BYTES;
  }
  const tidRangeScan = options.serverVersionNum === undefined || options.serverVersionNum >= TID_RANGE_SCAN_VERSION;
  if (!tidRangeScan) bytes = MAX_PARTITION_SIZE_IN_BYTES;
  return { bytesPerPartition: bytes, tidRangeScan, warnings };
}

/** Plans the partitions of one table: each leaf's heap cut into equal page ranges, as many as its data needs. */
export function planPartitions(table: SourceTable, options: PlanPartitionsOptions = {}): PlannedPartitions {
  const sizing = partitionSizing(options);
  const relations: RelationPages[] = [];
  const warnings: string[] = [];
  const name = `${table.schema}.${table.name}`;
  for (const leaf of table.leaves) {
    const relation = { schema: leaf.schema, name: leaf.name };
    const leafName = leaf.name === table.name && leaf.schema === table.schema ? name : `${name} (partition ${leaf.schema}.${leaf.name})`;
    // Current sizes, not relpages: relpages is only as fresh as the last VACUUM/ANALYZE.
    const pages = Math.ceil(leaf.stats.tableBytes / PAGE_SIZE);
    const dataBytes = Math.max(leaf.stats.dataBytes ?? leaf.stats.tableBytes, leaf.stats.tableBytes);
    const rowsPerPage = leaf.stats.reltuples !== null && leaf.stats.relpages > 0 ? leaf.stats.reltuples / leaf.stats.relpages : 0;
    const wanted = Math.ceil(dataBytes / sizing.bytesPerPartition);
    if (leaf.kind === 'foreign') {
      warnings.push(
        `${leafName} is a foreign table: it has no heap pages to split, so it is read as one partition, which must finish within the function timeout`,
      );
      // One whole partition; its estimate is the planner's row count, carried as one page's worth of rows.
      relations.push(relationPages(relation, 1, 1, estimatedRows(leaf, rowsPerPage, pages), true));
      continue;
    }
    if (wanted <= 1 || pages <= 1) {
      relations.push(relationPages(relation, pages, Math.max(1, pages), rowsPerPage, true));
      if (wanted > 1) warnings.push(tooFewPages(leafName, dataBytes, 1));
      continue;
    }
    // Equal page ranges, as many as the data needs: with TOAST, a page stands for more bytes than its 8 KiB.
    const pagesPerPartition = Math.ceil(pages / wanted);
    const ranges = relationPages(relation, pages, pagesPerPartition, rowsPerPage, false);
    if (ranges.partitions < wanted) warnings.push(tooFewPages(leafName, dataBytes, ranges.partitions));
    if (!sizing.tidRangeScan) {
      warnings.push(
        `${leafName}: the source is older than PostgreSQL 14 and cannot read a page range by itself, so each of its ${ranges.partitions} partitions scans all of its ${gib(dataBytes)}; a PostgreSQL 14 or later source copies it faster`,
      );
    }
    relations.push(ranges);
  }
  return { partitions: partitionRanges(relations), warnings };
}

function estimatedRows(leaf: SourceLeaf, rowsPerPage: number, pages: number): number {
  return leaf.kind === 'foreign' ? Math.max(0, Math.round(leaf.stats.reltuples ?? 0)) : Math.round(rowsPerPage * pages);
}

function tooFewPages(leafName: string, dataBytes: number, count: number): string {
  return `${leafName} holds ${gib(dataBytes)} (most of it out of line, in TOAST) in too few heap pages to split further: ${count} partition${count === 1 ? '' : 's'} of more than the target size`;
}

function gib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
