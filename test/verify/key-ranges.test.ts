/** Splitting a key span into ranges and merging the ranges' row results back into one table's verification. */
import { describe, expect, it } from 'vitest';
import type { RowRangeResult, TableVerification } from '../../shared/verify/contracts';
import { mergeRowRanges } from '../../shared/verify/status/table-status';
import { splitKeySpan } from '../../shared/verify/steps/verify-table';

describe('splitKeySpan', () => {
  it('covers every key exactly once, with open outer ranges', () => {
    const ranges = splitKeySpan(1n, 6000n, 6, 6000);
    expect(ranges.map((r) => [r.lo, r.hi])).toEqual([
      [null, '1001'],
      ['1001', '2001'],
      ['2001', '3001'],
      ['3001', '4001'],
      ['4001', '5001'],
      ['5001', null],
    ]);
    expect(ranges.every((r) => r.estimatedRows === 1000)).toBe(true);
    const owner = (key: bigint) => ranges.filter((r) => (r.lo === null || key >= BigInt(r.lo)) && (r.hi === null || key < BigInt(r.hi)));
    for (const key of [-(2n ** 63n), 0n, 1n, 1000n, 1001n, 3000n, 6000n, 2n ** 63n - 1n]) expect(owner(key), String(key)).toHaveLength(1);
  });

  it('makes no more ranges than there are keys, and handles the whole int8 span', () => {
    expect(splitKeySpan(5n, 7n, 10, 100_000).map((r) => [r.lo, r.hi])).toEqual([
      [null, '6'],
      ['6', '7'],
      ['7', null],
    ]);
    const wide = splitKeySpan(-(2n ** 63n), 2n ** 63n - 1n, 4, 4_000_000);
    expect(wide).toHaveLength(4);
    expect(wide.map((r) => r.lo)).toEqual([null, String(-(2n ** 62n)), '0', String(2n ** 62n)]);
  });
});

describe('mergeRowRanges', () => {
  const checks: TableVerification = {
    table: 'public.t',
    target: 'public.t',
    level: 'full',
    status: 'ok',
    schema: [],
    aggregates: [],
    samples: [],
    durationMs: 1,
    counts: { source: '30', targetManifest: '30', targetRead: '30', ok: true },
  };
  const range = (index: number, differing: number, notExamined = 0): RowRangeResult => ({
    range: index,
    compared: '10',
    differing: String(differing),
    differences: Array.from({ length: differing }, (_v, i) => ({ key: { id: `${index}-${i}` }, kind: 'VALUE_MISMATCH' as const, columns: [] })),
    rangesNotExamined: String(notExamined),
    targetRows: '10',
    aggregates: { columns: [] },
    sourceAggregates: { columns: [] },
    samples: [],
  });

  it('sums the ranges in range order and stays ok when none differ', () => {
    const merged = mergeRowRanges(checks, [range(2, 0), range(0, 0), range(1, 0)]);
    expect(merged.rows).toEqual({ compared: '30', differing: '0', differences: [] });
    expect(merged.status).toBe('ok');
  });

  it('differs when any range differs or left buckets unexamined, listing at most maxDifferences', () => {
    const merged = mergeRowRanges(checks, [range(1, 3), range(0, 2)], 4);
    expect(merged.status).toBe('differs');
    expect(merged.rows!.differing).toBe('5');
    expect(merged.rows!.differences.map((d) => d.key.id)).toEqual(['0-0', '0-1', '1-0', '1-1']);
    const unexamined = mergeRowRanges(checks, [range(0, 0, 2)]);
    expect(unexamined.status).toBe('differs');
    expect(unexamined.rows!.rangesNotExamined).toBe('2');
  });

  it('keeps a table that could not be checked as an error', () => {
    const failed: TableVerification = { ...checks, status: 'error', error: 'no such table' };
    expect(mergeRowRanges(failed, [range(0, 0)])).toBe(failed);
  });
});
