import { describe, expect, it } from 'vitest';
import type { PartitionPlan, PartitionRanges } from '../../shared/postgres/partition-ranges';
import { partitionRanges, partitionsBetween } from '../../shared/postgres/partition-ranges';
import {
  DEFAULT_PARTITION_SIZE_IN_BYTES,
  MAX_PARTITION_SIZE_IN_BYTES,
  PAGE_SIZE,
  partitionSizing,
  planPartitions,
} from '../../shared/postgres/partition-planner';
import { planWarnings } from '../../shared/migrate/plan-warnings';
import type { RelationStats, SourceLeaf, SourceTable } from '../../shared/postgres/source-table';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

function leaf(name: string, stats: Partial<RelationStats>, kind: SourceLeaf['kind'] = 'table'): SourceLeaf {
  const tableBytes = stats.tableBytes ?? 0;
  return {
    oid: 1,
    schema: 'public',
    name,
    kind,
    stats: { reltuples: stats.reltuples ?? tableBytes / 100, relpages: tableBytes / PAGE_SIZE, tableBytes, totalBytes: 0, ...stats },
  };
}

function table(...leaves: SourceLeaf[]): SourceTable {
  return {
    oid: 1,
    schema: 'public',
    name: leaves.length === 1 ? leaves[0]!.name : 'parent',
    kind: leaves.length === 1 ? 'table' : 'partitioned',
    leaves,
    columns: [],
    key: { kind: 'none', columns: [] },
    foreignKeys: [],
    stats: leaves[0]!.stats,
  };
}

/** The partitions of a compact plan, one by one. */
function list(ranges: PartitionRanges): PartitionPlan[] {
  return partitionsBetween(ranges, 0, ranges.length);
}

/** Every page of the relation is in exactly one range and the last range is open-ended. */
function expectCover(ranges: ReturnType<typeof planPartitions>['partitions']): void {
  const partitions = list(ranges);
  partitions.forEach((p, i) => {
    expect(p.index).toBe(i);
    if (i > 0) expect(p.fromPage).toBe(partitions[i - 1]!.toPage);
  });
  expect(partitions[0]!.fromPage).toBe(0);
  expect(partitions.at(-1)!.toPage).toBeNull();
}

describe('partition sizing', () => {
  it('splits by heap and TOAST bytes, not by heap pages alone', () => {
    // 4 MiB of heap holding 1 GiB of out-of-line values: the heap alone would make one partition.
    const heavy = table(leaf('docs', { tableBytes: 4 * MIB, dataBytes: 4 * MIB + GIB }));
    const { partitions, warnings } = planPartitions(heavy, { partitionSizeInBytes: 64 * MIB });
    expect(partitions).toHaveLength(17);
    expectCover(partitions);
    expect(warnings).toEqual([]);
  });

  it('falls back to heap bytes when a description has no TOAST figure', () => {
    const plain = table(leaf('orders', { tableBytes: 256 * MIB }));
    expect(planPartitions(plain).partitions).toHaveLength(256 / 64);
  });

  it('cannot split finer than one heap page per partition, and says so', () => {
    const wide = table(leaf('blobs', { tableBytes: 3 * PAGE_SIZE, dataBytes: 3 * PAGE_SIZE + 10 * GIB }));
    const { partitions, warnings } = planPartitions(wide, { partitionSizeInBytes: 64 * MIB });
    expect(list(partitions).map((p) => [p.fromPage, p.toPage])).toEqual([
      [0, 1],
      [1, 2],
      [2, null],
    ]);
    expect(warnings).toEqual([
      expect.stringContaining('public.blobs holds 10.0 GiB (most of it out of line, in TOAST) in too few heap pages to split further: 3 partitions'),
    ]);
  });

  it('clamps a partition size above 1 GiB and says so', () => {
    expect(partitionSizing({ partitionSizeInBytes: 16 * GIB })).toEqual({
      bytesPerPartition: MAX_PARTITION_SIZE_IN_BYTES,
      tidRangeScan: true,
      warnings: [expect.stringContaining('partitionSizeInBytes 17179869184 is above the limit of 1073741824 (1 GiB) and was clamped')],
    });
    const big = table(leaf('big', { tableBytes: 8 * GIB }));
    expect(planPartitions(big, { partitionSizeInBytes: 16 * GIB }).partitions).toHaveLength(8);
    expect(partitionSizing({ partitionSizeInBytes: GIB }).warnings).toEqual([]);
    expect(partitionSizing({}).bytesPerPartition).toBe(DEFAULT_PARTITION_SIZE_IN_BYTES);
  });

  it('reads a relation in as few scans as the cap allows before PostgreSQL 14, and warns when it still takes several', () => {
    const v13 = { partitionSizeInBytes: 64 * MIB, serverVersionNum: 130012 };
    expect(partitionSizing(v13)).toMatchObject({ bytesPerPartition: GIB, tidRangeScan: false });
    const small = planPartitions(table(leaf('orders', { tableBytes: 900 * MIB })), v13);
    expect(list(small.partitions)).toEqual([expect.objectContaining({ fromPage: 0, toPage: null })]);
    expect(small.warnings).toEqual([]);
    const large = planPartitions(table(leaf('events', { tableBytes: 3 * GIB })), v13);
    expect(large.partitions).toHaveLength(3);
    expect(large.warnings).toEqual([
      expect.stringContaining(
        'public.events: the source is older than PostgreSQL 14 and cannot read a page range by itself, so each of its 3 partitions scans all of its 3.0 GiB',
      ),
    ]);
    // 14.0 has TID range scans: the requested size stands.
    expect(partitionSizing({ partitionSizeInBytes: 64 * MIB, serverVersionNum: 140000 })).toMatchObject({ bytesPerPartition: 64 * MIB, tidRangeScan: true });
    expect(planPartitions(table(leaf('orders', { tableBytes: 900 * MIB })), { ...v13, serverVersionNum: 170002 }).partitions.length).toBe(15);
  });

  it('keeps a foreign leaf as one partition and says why', () => {
    const mixed = table(leaf('p_local', { tableBytes: 128 * MIB }), leaf('p_remote', { tableBytes: 0, reltuples: 5000 }, 'foreign'));
    const { partitions, warnings } = planPartitions(mixed);
    expect(list(partitions).map((p) => [p.relation.name, p.fromPage, p.toPage, p.estimatedRows])).toEqual([
      ['p_local', 0, 8192, 671089],
      ['p_local', 8192, null, 671089],
      ['p_remote', 0, null, 5000],
    ]);
    expect(warnings).toEqual([
      expect.stringContaining('public.parent (partition public.p_remote) is a foreign table: it has no heap pages to split, so it is read as one partition'),
    ]);
  });

  it("lists a plan's warnings, the run's first, then each table's in plan order", () => {
    const table = (name: string, warnings?: string[]) => ({
      source: { schema: 'public', name },
      target: { namespace: ['public'], name },
      columns: [],
      key: [],
      estimatedRows: 0,
      partitions: partitionRanges([]),
      ...(warnings ? { warnings } : {}),
    });
    const plan = { runId: 'r', cycles: [], failures: [], warnings: ['clamped'], tables: [table('a', ['a is foreign']), table('b'), table('c', ['c rescans'])] };
    expect(planWarnings(plan)).toEqual(['clamped', 'a is foreign', 'c rescans']);
    expect(planWarnings({ ...plan, warnings: undefined, tables: [table('b')] })).toEqual([]);
  });
});
