import { describe, expect, it } from 'vitest';
import { compareFloats, compareStrings as compareCodePoints } from '../../shared/iceberg/spec/compare';
import { bucketOf, reduceHash } from '../../shared/verify/canonical/buckets';
import { canonicalValue, jsonArray, trimScale } from '../../shared/verify/canonical/canonical-text';
import { RowHasher, HashSum } from '../../shared/verify/canonical/row-hasher';
import { TargetAggregates } from '../../shared/verify/checks/target-aggregates';
import type { ComparedColumn } from '../../shared/verify/checks/compared-columns';

describe('canonical values', () => {
  it('keeps floats exact and tells NaN, -0.0 and 0.0 apart', () => {
    expect(canonicalValue('double', Number.NaN)).toBe('NaN');
    expect(canonicalValue('double', -0)).toBe('8000000000000000');
    expect(canonicalValue('double', 0)).toBe('0000000000000000');
    expect(canonicalValue('double', 0.1)).toBe('3fb999999999999a');
    expect(canonicalValue('double', 0.1 + 1.4e-17)).toBe('3fb999999999999b');
    expect(canonicalValue('double', 0.30000000000000004)).not.toBe(canonicalValue('double', 0.3));
    expect(canonicalValue('float', -0)).toBe('80000000');
    expect(canonicalValue('float', Math.fround(1.5))).toBe('3fc00000');
  });

  it('writes decimals exactly, without trailing fractional zeros', () => {
    expect(canonicalValue('decimal(12, 2)', 1230n)).toBe('12.3');
    expect(canonicalValue('decimal(12, 2)', 0n)).toBe('0');
    expect(canonicalValue('decimal(12, 2)', -5n)).toBe('-0.05');
    expect(canonicalValue('decimal(38, 0)', 10n ** 37n)).toBe('1' + '0'.repeat(37));
    expect(canonicalValue('decimal(38, 10)', 12345678901234567890123456789n)).toBe('1234567890123456789.0123456789');
    expect(trimScale('-0.000')).toBe('0');
  });

  it('keeps microseconds and marks NULL apart from text', () => {
    expect(canonicalValue('timestamptz', 1_700_000_000_000_001n)).toBe('1700000000000001');
    expect(canonicalValue('date', -1)).toBe('-1');
    expect(canonicalValue('binary', new Uint8Array([0, 255]))).toBe('00ff');
    expect(canonicalValue({ type: 'list', 'element-id': 2, element: 'string', 'element-required': false }, ['a', null, 'null'])).toBe('["a",null,"null"]');
    expect(jsonArray([null, 'null', ''])).toBe('[null,"null",""]');
  });

  it('hashes rows order-independently without letting duplicates cancel', () => {
    const sumOf = (rows: string[][]): bigint => {
      const sum = new HashSum();
      for (const row of rows) {
        new RowHasher(['string']).hashCanonical(row);
        sum.addHashed();
      }
      return sum.sum;
    };
    expect(sumOf([['1'], ['2']])).toBe(sumOf([['2'], ['1']]));
    expect(sumOf([['1'], ['1']])).not.toBe(0n);
    expect(sumOf([['1'], ['1']])).not.toBe(sumOf([['1']]));
    expect(reduceHash('-1')).toBe((1n << 64n) - 1n);
    const bucket = bucketOf('["42"]', 7);
    expect(bucket).toBeGreaterThanOrEqual(0);
    expect(bucket).toBeLessThan(7);
  });
});

describe('aggregate orderings', () => {
  it('orders floats as PostgreSQL does, with -0.0 below 0.0', () => {
    const sorted = [Number.NaN, 1, -0, 0, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY].sort(compareFloats);
    expect(sorted.map((f) => canonicalValue('double', f))).toEqual([
      'fff0000000000000',
      '8000000000000000',
      '0000000000000000',
      '3ff0000000000000',
      '7ff0000000000000',
      'NaN',
    ]);
  });

  it('orders strings by code point, as the C collation does', () => {
    expect(compareCodePoints('\u{1F600}', '\uFFFD')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'ab')).toBeLessThan(0);
    expect(compareCodePoints('B', 'a')).toBeLessThan(0);
  });

  it('accumulates exact sums and extremes', () => {
    const columns: ComparedColumn[] = [
      {
        name: 'amount',
        type: 'decimal(10, 2)',
        plan: { kind: 'decimal', precision: 10, scale: 2, checked: false },
        valueSql: '',
        canonicalSql: '',
        nullable: true,
      },
      { name: 'score', type: 'double', plan: { kind: 'float8' }, valueSql: '', canonicalSql: '', nullable: true },
    ];
    const aggregates = new TargetAggregates(columns);
    for (const [amount, score] of [
      [1n, -0],
      [99999999n, 0],
      [null, Number.NaN],
    ] as const) {
      aggregates.add([amount, score]);
    }
    const figures = aggregates.figures(new Set());
    expect(figures.get('amount\u0000sum')).toBe('1000000');
    expect(figures.get('amount\u0000nulls')).toBe('1');
    expect(figures.get('score\u0000min')).toBe('8000000000000000');
    expect(figures.get('score\u0000max')).toBe('NaN');
    expect(figures.get('score\u0000nan')).toBe('1');
  });
});
