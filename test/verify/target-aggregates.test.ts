/**
 * Aggregate figures split across key ranges: each side's ranges merge to what one pass over the whole table gives,
 * PostgreSQL's canonical figures convert losslessly into the merge form, and group counts survive only when every
 * range counted all of its groups.
 */
import { describe, expect, it } from 'vitest';
import { boundedText } from '../../shared/text/bounded-text';
import type { IcebergType } from '../../shared/iceberg/spec/types';
import type { Row } from '../../shared/iceberg/spec/values';
import {
  type CanonicalColumnFigures,
  TargetAggregates,
  mergeAggregatePartials,
  partialFromCanonical,
  sourceFiguresOf,
} from '../../shared/verify/checks/target-aggregates';
import type { AggregatePartial, AggregatedColumn } from '../../shared/verify/contracts';

const COLUMNS: AggregatedColumn[] = [
  { name: 'id', type: 'long' },
  { name: 'amount', type: 'decimal(12, 2)' },
  { name: 'score', type: 'double' },
  { name: 'ratio', type: 'float' },
  { name: 'ok', type: 'boolean' },
  { name: 'status', type: 'string' },
  { name: 'tags', type: { type: 'list', 'element-id': 9, element: 'string', 'element-required': false } as IcebergType },
];

const ROWS: Row[] = [
  [1n, 1230n, -0, Math.fround(1.5), true, 'paid', ['a']],
  [2n, -5n, 0, Number.NaN, false, 'new', null],
  [3n, null, Number.NaN, Math.fround(-2.25), null, 'paid', []],
  [-(2n ** 62n), 99_999_999_999n, 1e300, 0, true, null, ['b', null]],
  [2n ** 62n, 1n, 1e-300, -0, true, 'é😀', ['c']],
];

function figuresOf(rows: Row[]): Map<string, string | null> {
  const aggregates = new TargetAggregates(COLUMNS);
  for (const row of rows) aggregates.add(row);
  return aggregates.figures(new Set(['status']));
}

describe('aggregate figures of key ranges', () => {
  it('merge to the figures of one pass, whichever way the rows are split', () => {
    const whole = figuresOf(ROWS);
    for (const cut of [1, 2, 4]) {
      const parts = [ROWS.slice(0, cut), ROWS.slice(cut)].map((rows) => {
        const aggregates = new TargetAggregates(COLUMNS);
        for (const row of rows) aggregates.add(row);
        // Through JSON, as activity results travel.
        return JSON.parse(JSON.stringify(aggregates.partial())) as AggregatePartial;
      });
      expect(mergeAggregatePartials(parts)!.figures(new Set(['status']))).toEqual(whole);
    }
    expect(whole.get('score\u0000min')).toBe('8000000000000000');
    expect(whole.get('score\u0000max')).toBe('NaN');
    expect(whole.get('ratio\u0000min')).toBe('c0100000');
    expect(whole.get('ratio\u0000nan')).toBe('1');
    expect(whole.get('amount\u0000sum')).toBe('1000000012.25');
    expect(whole.get('status\u0000group:paid')).toBe('2');
  });

  it("take PostgreSQL's canonical figures losslessly into the merge form", () => {
    const canonical = (over: Partial<CanonicalColumnFigures>): CanonicalColumnFigures => ({
      count: 1,
      nulls: 0,
      min: null,
      max: null,
      sum: null,
      nan: 0,
      groups: undefined,
      ...over,
    });
    const decimal = partialFromCanonical({ name: 'amount', type: 'decimal(12, 2)' }, canonical({ min: '-0.5', max: '12.3', sum: '11.8' }));
    expect([decimal.min, decimal.max, decimal.sum]).toEqual(['-50', '1230', '1180']);
    const single = partialFromCanonical({ name: 'ratio', type: 'float' }, canonical({ min: '80000000', max: 'NaN' }));
    const merged = mergeAggregatePartials([{ columns: [single] }])!.figures(new Set());
    expect([merged.get('ratio\u0000min'), merged.get('ratio\u0000max')]).toEqual(['80000000', 'NaN']);
    const double = partialFromCanonical({ name: 'score', type: 'double' }, canonical({ min: 'c000000000000000', max: '7fefffffffffffff' }));
    const doubles = mergeAggregatePartials([{ columns: [double] }])!.figures(new Set());
    expect([doubles.get('score\u0000min'), doubles.get('score\u0000max')]).toEqual(['c000000000000000', '7fefffffffffffff']);
    expect(() => partialFromCanonical({ name: 'amount', type: 'decimal(12, 2)' }, canonical({ min: '0.001' }))).toThrow(/fractional digits/);
  });

  it("keep PostgreSQL's group counts only when every range counted all of its groups, at most 20 in all", () => {
    const status: AggregatedColumn = { name: 'status', type: 'string' };
    const range = (groups: Array<[string, number]> | undefined) => ({
      columns: [partialFromCanonical(status, { count: 3, nulls: 0, min: 'a', max: 'b', sum: null, nan: 0, groups })],
    });
    const both = sourceFiguresOf([
      range([
        ['a', 2],
        ['b', 1],
      ]),
      range([['b', 4]]),
    ]);
    expect([both.get('status\u0000group:a'), both.get('status\u0000group:b')]).toEqual(['2', '5']);
    expect([...sourceFiguresOf([range([['a', 2]]), range(undefined)]).keys()].some((k) => k.includes('group:'))).toBe(false);
    const many = (from: number): Array<[string, number]> => Array.from({ length: 15 }, (_v, i) => [`v${from + i}`, 1]);
    expect([...sourceFiguresOf([range(many(0)), range(many(100))]).keys()].some((k) => k.includes('group:'))).toBe(false);
  });
});

describe('long texts', () => {
  const columns: AggregatedColumn[] = [
    { name: 'body', type: 'string' },
    { name: 'blob', type: 'binary' },
  ];
  const head = 'h'.repeat(300);
  // Sorted by full text: a < b < c share their first 300 characters; d differs early.
  const texts = [`${head}a`, `${head}b`, `${head}c`, 'd'];
  const bytes = (n: number): Uint8Array => new Uint8Array(200).fill(n);

  it('finds min and max on the full texts and carries them bounded, and counts groups by the bounded form', () => {
    const all = new TargetAggregates(columns);
    for (const [i, t] of texts.entries()) all.add([t, bytes(i)]);
    const figures = all.figures(new Set(['body']));
    expect(figures.get('body\u0000min')).toBe('d');
    // The last of three long texts that differ only after the shown prefix.
    expect(figures.get('body\u0000max')).toBe(boundedText(`${head}c`));
    expect(figures.get('blob\u0000max')).toBe(boundedText(Buffer.from(bytes(3)).toString('hex')));
    expect(figures.get(`body\u0000group:${boundedText(`${head}b`)}`)).toBe('1');
    // Binary is ordered by its bytes, as PostgreSQL orders the hex texts.
    const hexes = [[1], [1, 0], [255], [0, 255], []].map((b) => Uint8Array.from(b));
    const binary = new TargetAggregates([{ name: 'blob', type: 'binary' }]);
    for (const b of hexes) binary.add([b]);
    const hexTexts = hexes.map((b) => Buffer.from(b).toString('hex')).sort();
    expect(binary.figures(new Set()).get('blob\u0000min')).toBe(hexTexts[0]);
    expect(binary.figures(new Set()).get('blob\u0000max')).toBe(hexTexts.at(-1));
    const partial = all.partial();
    expect(JSON.stringify(partial).length).toBeLessThan(4_000);
  });

  it('merges ranges to the figures of one pass where the shown prefixes tell, the same way in any order where they do not', () => {
    const early = [`a${head}`, `b${head}`, 'c', `${head}z`];
    const one = new TargetAggregates(columns);
    for (const [i, t] of early.entries()) one.add([t, bytes(i)]);
    const split = (values: string[][], all: string[]) =>
      values.map((range) => {
        const r = new TargetAggregates(columns);
        for (const t of range) r.add([t, bytes(all.indexOf(t))]);
        return r.partial();
      });
    const ranges = split([[`b${head}`, 'c'], [`${head}z`], [`a${head}`]], early);
    const merged = mergeAggregatePartials(ranges)!.figures(new Set(['body']));
    const whole = one.figures(new Set(['body']));
    for (const key of ['body\u0000min', 'body\u0000max', 'blob\u0000min', 'blob\u0000max']) expect(merged.get(key), key).toBe(whole.get(key));
    expect([...merged.keys()].filter((k) => k.includes('group:')).sort()).toEqual([...whole.keys()].filter((k) => k.includes('group:')).sort());
    // Extremes with one shown prefix: whichever order the ranges merge in, the same figures.
    const alike = split([[`${head}b`, 'd'], [`${head}c`], [`${head}a`]], texts);
    expect(mergeAggregatePartials([...alike].reverse())!.figures(new Set(['body']))).toEqual(mergeAggregatePartials(alike)!.figures(new Set(['body'])));
    expect(() => one.merge(ranges[0]!)).toThrow(/do not mix/);
  });
});

describe('text extremes', () => {
  const column: AggregatedColumn[] = [{ name: 'label', type: 'string' }];
  const extremes = (texts: string[]): Array<string | null | undefined> => {
    const aggregates = new TargetAggregates(column);
    for (const text of texts) aggregates.add([text]);
    const figures = aggregates.figures(new Set());
    return [figures.get('label\u0000min'), figures.get('label\u0000max')];
  };

  it('order by code point, a character above U+FFFF after U+E000-U+FFFF, whenever it arrives', () => {
    // Natively (by UTF-16 code unit) the surrogate pair of U+1F600 sorts before U+E000 and U+FFFD.
    const texts = ['b', '\uE000', 'a\uFFFD', 'a', '\u{1F600}', 'é', 'a\u{1F600}'];
    for (const order of [texts, [...texts].reverse(), ['\u{1F600}', ...texts]]) {
      expect(extremes(order), order.join(' ')).toEqual(['a', '\u{1F600}']);
    }
    expect(extremes(['a\u{1F600}', 'a\uFFFD', 'a\uE000']), 'the larger of two after a shared prefix').toEqual(['a\uE000', 'a\u{1F600}']);
    expect(extremes(['a\uFFFD', 'a\u{1F600}', 'a']), 'the surrogate text after the extremes were set').toEqual(['a', 'a\u{1F600}']);
  });
});
