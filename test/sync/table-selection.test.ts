/** `--tables`/`--schema` against a publication's tables: subsets, qualified names, and every unknown name refused by name. */
import { describe, expect, it } from 'vitest';
import { selectTables } from '../../shared/sync/table-selection';

const a = { schema: 'public', name: 'a' };
const b = { schema: 'public', name: 'b' };
const sideA = { schema: 'side', name: 'a' };
const sideC = { schema: 'side', name: 'c' };
const published = [a, b, sideA, sideC];

describe('selectTables', () => {
  it('selects everything by default', () => {
    expect(selectTables(published, {})).toEqual({ selected: published, leftOut: [] });
  });

  it('narrows by schema and by name, qualified or not', () => {
    expect(selectTables(published, { schemas: ['side'] })).toEqual({ selected: [sideA, sideC], leftOut: [a, b] });
    expect(selectTables(published, { tables: ['b', 'side.a'] })).toEqual({ selected: [b, sideA], leftOut: [a, sideC] });
    expect(selectTables(published, { tables: ['a'], schemas: ['public'] })).toEqual({ selected: [a], leftOut: [b, sideA, sideC] });
  });

  it('refuses unknown tables and schemas by name, and an ambiguous bare name', () => {
    expect(() => selectTables(published, { tables: ['b', 'nope', 'other'] })).toThrow(/not in the run's publication: nope, other/);
    expect(() => selectTables(published, { schemas: ['gone'] })).toThrow(/no table of schema gone/);
    expect(() => selectTables(published, { tables: ['c'], schemas: ['public'] })).toThrow(/not in the run's publication \(schemas public\): c/);
    expect(() => selectTables(published, { tables: ['a'] })).toThrow(/table a is in several schemas \(public, side\)/);
  });
});
