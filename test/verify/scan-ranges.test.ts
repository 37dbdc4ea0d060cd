/** Grouping of data files for scan ranges and the SQL of a page range. */
import { describe, expect, it } from 'vitest';
import { pageRangeSource } from '../../shared/verify/ranges/scan-ranges';
import { groupFiles } from '../../shared/verify/checks/target-scan';

describe('groupFiles', () => {
  it('makes consecutive groups of about equal records, at most one per range', () => {
    expect(groupFiles([10, 10, 10, 10], 2)).toEqual([
      { fromFile: 0, toFile: 2 },
      { fromFile: 2, toFile: 4 },
    ]);
    expect(groupFiles([30, 5, 5, 5, 5], 2)).toEqual([
      { fromFile: 0, toFile: 1 },
      { fromFile: 1, toFile: 5 },
    ]);
    expect(groupFiles([1, 1, 1], 1)).toEqual([{ fromFile: 0, toFile: 3 }]);
  });

  it('covers every file once and never makes an empty group', () => {
    for (const [records, count] of [
      [[5, 1, 7, 0, 3, 9, 2], 3],
      [[4, 4], 5],
      [[], 3],
      [[0, 0, 0], 2],
    ] as const) {
      const groups = groupFiles(records, count);
      expect(groups.length).toBeLessThanOrEqual(Math.max(1, count));
      let next = 0;
      for (const g of groups) {
        expect(g.fromFile).toBe(next);
        expect(g.toFile).toBeGreaterThan(g.fromFile);
        next = g.toFile;
      }
      expect(next).toBe(records.length);
    }
  });
});

describe('pageRangeSource', () => {
  const relation = { schema: 'public', name: 'we"ird' };
  it('reads ONLY the relation, cut by ctid where it is cut', () => {
    expect(pageRangeSource({ relation, fromPage: 0, toPage: null })).toEqual({ relation: 'ONLY "public"."we""ird"', params: [] });
    expect(pageRangeSource({ relation, fromPage: 8, toPage: 16 }).where).toBe("ctid >= '(8,0)'::tid AND ctid < '(16,0)'::tid");
    expect(pageRangeSource({ relation, fromPage: 0, toPage: 4 }).where).toBe("ctid < '(4,0)'::tid");
  });
  it('refuses pages that are not whole numbers', () => {
    expect(() => pageRangeSource({ relation, fromPage: 1.5, toPage: null })).toThrow(RangeError);
    expect(() => pageRangeSource({ relation, fromPage: 4, toPage: 2 })).toThrow(RangeError);
  });
});
