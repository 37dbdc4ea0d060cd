/**
 * The compact partition plan gives, partition by partition, exactly the page ranges and estimates of cutting
 * each relation's heap one partition at a time, whatever the relation's size.
 */
import { describe, expect, it } from 'vitest';
import type { PartitionPlan } from '../../shared/postgres/partition-ranges';
import { partitionAt, partitionRanges, partitionsBetween, relationPages } from '../../shared/postgres/partition-ranges';

interface Leaf {
  name: string;
  pages: number;
  rowsPerPage: number;
  foreign?: boolean;
}

/** One partition per page range, listed one by one: the plan every index must agree with. */
function listed(leaves: Leaf[], pagesPerPartition: number): PartitionPlan[] {
  const out: PartitionPlan[] = [];
  for (const leaf of leaves) {
    const relation = { schema: 's', name: leaf.name };
    if (leaf.foreign || leaf.pages <= pagesPerPartition) {
      out.push({ index: out.length, relation, fromPage: 0, toPage: null, estimatedRows: Math.round(leaf.rowsPerPage * leaf.pages) });
      continue;
    }
    for (let from = 0; from < leaf.pages; from += pagesPerPartition) {
      const last = from + pagesPerPartition >= leaf.pages;
      out.push({
        index: out.length,
        relation,
        fromPage: from,
        toPage: last ? null : from + pagesPerPartition,
        estimatedRows: Math.round(leaf.rowsPerPage * Math.min(pagesPerPartition, leaf.pages - from)),
      });
    }
  }
  return out;
}

describe('partition ranges', () => {
  it('agrees with the listed plan for leaves small, empty, foreign, exact multiples and with a remainder', () => {
    const leaves: Leaf[] = [
      { name: 'small', pages: 5, rowsPerPage: 61.5 },
      { name: 'empty', pages: 0, rowsPerPage: 0 },
      { name: 'exact', pages: 40, rowsPerPage: 10 },
      { name: 'remainder', pages: 47, rowsPerPage: 33.3 },
      { name: 'remote', pages: 1_000, rowsPerPage: 2, foreign: true },
    ];
    const ranges = partitionRanges(leaves.map((l) => relationPages({ schema: 's', name: l.name }, l.pages, 8, l.rowsPerPage, l.foreign === true)));
    const expected = listed(leaves, 8);
    expect(ranges.length).toBe(expected.length);
    expect(partitionsBetween(ranges, 0, ranges.length)).toEqual(expected);
    expect(() => partitionAt(ranges, ranges.length)).toThrow(RangeError);
  });

  it('stays a few numbers for a 1 TiB table of 16,384 partitions', () => {
    const ranges = partitionRanges([relationPages({ schema: 'public', name: 'orders' }, 16_384 * 8_192, 8_192, 120, false)]);
    expect(ranges.length).toBe(16_384);
    expect(JSON.stringify(ranges).length).toBeLessThan(200);
    expect(partitionAt(ranges, 16_383)).toEqual({
      index: 16_383,
      relation: { schema: 'public', name: 'orders' },
      fromPage: 16_383 * 8_192,
      toPage: null,
      estimatedRows: 8_192 * 120,
    });
  });
});
