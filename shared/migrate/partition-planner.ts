/**
 * Splits a table into copy partitions by heap page ranges (ctid), sized from PostgreSQL's own figures so each
 * partition writes roughly a target amount of data and finishes well inside an activity timeout. Works for
 * tables without keys; a partitioned table is split leaf by leaf.
 */
import type { SourceTable } from '../postgres/source-table';
import type { PartitionRanges } from './contracts';
import { partitionRanges, relationPages } from './partition-ranges';

/** PostgreSQL's heap page size. */
export const PAGE_SIZE = 8192;

/** Default heap bytes per partition: a few hundred thousand typical rows, well under a minute to copy. */
export const DEFAULT_PARTITION_SIZE_IN_BYTES = 64 * 1024 * 1024;

/** Plans the partitions of one table: each leaf's heap cut into equal page ranges, kept compact (see PartitionRanges). */
export function planPartitions(table: SourceTable, partitionSizeInBytes = DEFAULT_PARTITION_SIZE_IN_BYTES): PartitionRanges {
  const pagesPerPartition = Math.max(1, Math.floor(partitionSizeInBytes / PAGE_SIZE));
  return partitionRanges(table.leaves.map((leaf) => {
    // Current size, not relpages: relpages is only as fresh as the last VACUUM/ANALYZE.
    const pages = Math.ceil(leaf.stats.tableBytes / PAGE_SIZE);
    const rowsPerPage = leaf.stats.reltuples !== null && leaf.stats.relpages > 0 ? leaf.stats.reltuples / leaf.stats.relpages : 0;
    return relationPages({ schema: leaf.schema, name: leaf.name }, pages, pagesPerPartition, rowsPerPage, leaf.kind === 'foreign');
  }));
}
