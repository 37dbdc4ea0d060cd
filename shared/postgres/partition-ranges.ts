/**
 * Reading the compact partition plan (PartitionRanges): the partition at an index, computed the same way the
 * planner cuts a relation's heap, so a plan of any size is a few numbers per relation. Pure: orchestrators use it.
 */

/** A relation rows are read from: the table itself, or one leaf of a partitioned table. */
export interface SourceRelation {
  schema: string;
  name: string;
}

/** The slice of the source one copyPartition reads: a page range (ctid) of one relation. */
export interface PartitionPlan {
  index: number;
  relation: SourceRelation;
  /** First heap page, inclusive. */
  fromPage: number;
  /** End heap page, exclusive; null for "to the end" (pages added after planning are included). */
  toPage: number | null;
  estimatedRows: number;
}

/**
 * The copy partitions of one relation: its heap split into ranges of `pagesPerPartition` pages, the last one
 * open-ended (pages added after planning are read too). A foreign or small relation is one partition.
 */
export interface RelationPages {
  relation: SourceRelation;
  /** Heap pages when planned. */
  pages: number;
  pagesPerPartition: number;
  /** Partitions of this relation (at least one). */
  partitions: number;
  /** Rows per heap page by PostgreSQL's statistics, for estimates. */
  rowsPerPage: number;
}

/**
 * A table's copy partitions in a form whose size does not grow with their number (a 1 TiB table is 16,384
 * partitions of 64 MiB, and the plan travels in orchestration inputs): one entry per relation. `length` is the
 * number of partitions; `partitionAt` gives one of them.
 */
export interface PartitionRanges {
  length: number;
  relations: RelationPages[];
}

/** The ranges of one relation: one partition when `whole` (a foreign table) or small enough, else equal page ranges. */
export function relationPages(
  relation: RelationPages['relation'],
  pages: number,
  pagesPerPartition: number,
  rowsPerPage: number,
  whole: boolean,
): RelationPages {
  const partitions = whole || pages <= pagesPerPartition ? 1 : Math.ceil(pages / pagesPerPartition);
  return { relation, pages, pagesPerPartition, partitions, rowsPerPage };
}

/** Ranges of relations in order, `length` summed. */
export function partitionRanges(relations: RelationPages[]): PartitionRanges {
  return { length: relations.reduce((n, r) => n + r.partitions, 0), relations };
}

/** The partition with table-wide index `index` (0 ≤ index < ranges.length). */
export function partitionAt(ranges: PartitionRanges, index: number): PartitionPlan {
  let first = 0;
  for (const r of ranges.relations) {
    if (index < first + r.partitions) {
      const i = index - first;
      const last = i === r.partitions - 1;
      const fromPage = i * r.pagesPerPartition;
      // The last range is open-ended so rows landing on pages added after planning are still read.
      const pages = last ? Math.max(0, r.pages - fromPage) : r.pagesPerPartition;
      return { index, relation: r.relation, fromPage, toPage: last ? null : fromPage + r.pagesPerPartition, estimatedRows: Math.round(r.rowsPerPage * pages) };
    }
    first += r.partitions;
  }
  throw new RangeError(`partition ${index} is not in a plan of ${ranges.length}`);
}

/** Partitions `from` (inclusive) to `to` (exclusive, clipped to the plan). */
export function partitionsBetween(ranges: PartitionRanges, from: number, to: number): PartitionPlan[] {
  const out: PartitionPlan[] = [];
  for (let index = from; index < Math.min(to, ranges.length); index++) out.push(partitionAt(ranges, index));
  return out;
}
