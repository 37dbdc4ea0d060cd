/**
 * Splits a table into copy partitions by heap page ranges (ctid), sized from PostgreSQL's own figures so each
 * partition writes roughly a target amount of data and finishes well inside an activity timeout. Works for
 * tables without keys; a partitioned table is split leaf by leaf.
 */
import type { SourceTable } from '../postgres/source-table';
import type { PartitionPlan } from './contracts';

/** PostgreSQL's heap page size. */
export const PAGE_SIZE = 8192;

/** Default heap bytes per partition: a few hundred thousand typical rows, well under a minute to copy. */
export const DEFAULT_PARTITION_SIZE_IN_BYTES = 64 * 1024 * 1024;

/** Plans the partitions of one table. */
export function planPartitions(table: SourceTable, partitionSizeInBytes = DEFAULT_PARTITION_SIZE_IN_BYTES): PartitionPlan[] {
  const pagesPerPartition = Math.max(1, Math.floor(partitionSizeInBytes / PAGE_SIZE));
  const partitions: PartitionPlan[] = [];
  for (const leaf of table.leaves) {
    const relation = { schema: leaf.schema, name: leaf.name };
    // Current size, not relpages: relpages is only as fresh as the last VACUUM/ANALYZE.
    const pages = Math.ceil(leaf.stats.tableBytes / PAGE_SIZE);
    const rowsPerPage = leaf.stats.reltuples !== null && leaf.stats.relpages > 0 ? leaf.stats.reltuples / leaf.stats.relpages : 0;
    if (leaf.kind === 'foreign' || pages <= pagesPerPartition) {
      partitions.push({ index: partitions.length, relation, fromPage: 0, toPage: null, estimatedRows: Math.round(rowsPerPage * pages) });
      continue;
    }
    for (let from = 0; from < pages; from += pagesPerPartition) {
      const last = from + pagesPerPartition >= pages;
      // The last range is open-ended so rows landing on pages added after planning are still read.
      partitions.push({
        index: partitions.length,
        relation,
        fromPage: from,
        toPage: last ? null : from + pagesPerPartition,
        estimatedRows: Math.round(rowsPerPage * Math.min(pagesPerPartition, pages - from)),
      });
    }
  }
  return partitions;
}
