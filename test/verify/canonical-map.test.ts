import { describe, expect, it } from 'vitest';
import type { IcebergType, MapType } from '../../shared/iceberg/spec/types';
import type { Value } from '../../shared/iceberg/spec/values';
import { CanonicalRows, canonicalValue } from '../../shared/verify/canonical/canonical-text';
import { TargetAggregates } from '../../shared/verify/checks/target-aggregates';

function mapOf(key: IcebergType, value: IcebergType, valueRequired = false): MapType {
  return { type: 'map', 'key-id': 1, key, 'value-id': 2, value, 'value-required': valueRequired };
}

const STRING_TO_LONG = mapOf('string', 'long');

describe('canonical text of maps', () => {
  it('is the JSON array of [key, value] entries ordered by key text, whatever order the file stored them in', () => {
    const stored = new Map<Value, Value>([
      ['b', 2n],
      ['a', 1n],
      ['c', null],
    ]);
    const reordered = new Map<Value, Value>([
      ['c', null],
      ['a', 1n],
      ['b', 2n],
    ]);
    expect(canonicalValue(STRING_TO_LONG, stored)).toBe('[["a","1"],["b","2"],["c",null]]');
    expect(canonicalValue(STRING_TO_LONG, reordered)).toBe(canonicalValue(STRING_TO_LONG, stored));
  });

  it('tells an empty map, a null map, a null value and the text "null" apart', () => {
    expect(canonicalValue(STRING_TO_LONG, new Map())).toBe('[]');
    expect(canonicalValue(STRING_TO_LONG, null)).toBeNull();
    const stringValues = mapOf('string', 'string');
    const texts = [new Map<Value, Value>([['k', null]]), new Map<Value, Value>([['k', 'null']]), new Map<Value, Value>([['k', '']])].map((m) =>
      canonicalValue(stringValues, m),
    );
    expect(texts).toEqual(['[["k",null]]', '[["k","null"]]', '[["k",""]]']);
    expect(new Set(texts).size).toBe(3);
  });

  it('differs when one value or one key differs', () => {
    const base = canonicalValue(
      STRING_TO_LONG,
      new Map<Value, Value>([
        ['a', 1n],
        ['b', 2n],
      ]),
    );
    expect(
      canonicalValue(
        STRING_TO_LONG,
        new Map<Value, Value>([
          ['a', 1n],
          ['b', 3n],
        ]),
      ),
    ).not.toBe(base);
    expect(
      canonicalValue(
        STRING_TO_LONG,
        new Map<Value, Value>([
          ['a', 1n],
          ['B', 2n],
        ]),
      ),
    ).not.toBe(base);
    expect(canonicalValue(STRING_TO_LONG, new Map<Value, Value>([['a', 1n]]))).not.toBe(base);
  });

  it("orders keys by code point, as PostgreSQL's C collation would", () => {
    // UTF-16 order puts U+FFFD after the surrogate pair of U+1F600; code point order puts it before.
    const map = new Map<Value, Value>([
      ['\u{1F600}', 1n],
      ['\uFFFD', 2n],
      ['Z', 3n],
      ['a', 4n],
    ]);
    expect(canonicalValue(STRING_TO_LONG, map)).toBe('[["Z","3"],["a","4"],["\uFFFD","2"],["\u{1F600}","1"]]');
  });

  it('orders by the canonical text of keys of any type, and escapes like any JSON string', () => {
    const byInt = mapOf('int', 'string');
    expect(
      canonicalValue(
        byInt,
        new Map<Value, Value>([
          [10, 'x'],
          [-2, 'say "hi"\n'],
          [9, null],
        ]),
      ),
    ).toBe('[["-2","say \\"hi\\"\\n"],["10","x"],["9",null]]');
    const byDecimal = mapOf('decimal(10, 2)', 'double');
    expect(
      canonicalValue(
        byDecimal,
        new Map<Value, Value>([
          [150n, -0],
          [1230n, Number.NaN],
        ]),
      ),
    ).toBe('[["1.5","8000000000000000"],["12.3","NaN"]]');
  });

  it('nests inside lists and structs, and holds lists itself', () => {
    const listOfMaps: IcebergType = { type: 'list', 'element-id': 3, element: STRING_TO_LONG, 'element-required': false };
    expect(
      canonicalValue(listOfMaps, [
        new Map<Value, Value>([
          ['b', 2n],
          ['a', 1n],
        ]),
        null,
      ]),
    ).toBe(JSON.stringify(['[["a","1"],["b","2"]]', null]));
    const mapOfLists = mapOf('string', { type: 'list', 'element-id': 4, element: 'int', 'element-required': false });
    expect(canonicalValue(mapOfLists, new Map<Value, Value>([['k', [1, null, 3]]]))).toBe(JSON.stringify([['k', '["1",null,"3"]']]));
    const rows = new CanonicalRows(['long', STRING_TO_LONG]);
    const canonical = rows.values([7n, new Map<Value, Value>([['x', 1n]])]);
    expect(canonical).toEqual(['7', '[["x","1"]]']);
    expect(rows.text(canonical)).toBe(JSON.stringify(canonical));
  });

  it('refuses a null key and a value that is not a map', () => {
    expect(() => canonicalValue(STRING_TO_LONG, new Map<Value, Value>([[null, 1n]]))).toThrow(/never null/);
    expect(() => canonicalValue(STRING_TO_LONG, [['a', 1n]])).toThrow(/Map/);
  });

  it('counts map columns in the aggregates without ordering them', () => {
    const aggregates = new TargetAggregates([{ name: 'm', type: STRING_TO_LONG }]);
    for (const value of [new Map<Value, Value>([['a', 1n]]), null, new Map<Value, Value>()]) aggregates.add([value]);
    const figures = aggregates.figures(new Set());
    expect(figures.get('m\u0000count')).toBe('2');
    expect(figures.get('m\u0000nulls')).toBe('1');
    expect(figures.has('m\u0000min')).toBe(false);
  });
});
