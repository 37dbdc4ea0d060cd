import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import { ALWAYS_FALSE, ALWAYS_TRUE, type Expression, and, bindByName, not, or, rewriteNot } from '../../../shared/iceberg/spec/expressions';
import { createSchema } from '../../../shared/iceberg/spec/schema';

const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'score', required: false, type: 'double' },
  { id: 3, name: 'ratio', required: false, type: 'float' },
  { id: 4, name: 'amount', required: false, type: 'decimal(6, 2)' },
  { id: 5, name: 'key', required: false, type: 'uuid' },
  { id: 6, name: 'loc', required: false, type: { type: 'struct', fields: [{ id: 7, name: 'city', required: false, type: 'string' }] } },
  { id: 8, name: 'tags', required: false, type: { type: 'list', 'element-id': 9, element: 'string', 'element-required': false } },
  { id: 10, name: 'n', required: false, type: 'int' },
]);

describe('bindByName', () => {
  it('binds by name to field ids with literals in the value representation', () => {
    expect(bindByName(schema, 'id', 'eq', 5)).toEqual({ op: 'eq', fieldId: 1, value: 5n });
    expect(bindByName(schema, 'loc.city', 'lt', 'b')).toEqual({ op: 'lt', fieldId: 7, value: 'b' });
    expect(bindByName(schema, 'amount', 'gtEq', '12.3')).toEqual({ op: 'gtEq', fieldId: 4, value: 1230n });
    expect(bindByName(schema, 'amount', 'gtEq', 1230n)).toEqual({ op: 'gtEq', fieldId: 4, value: 1230n });
    expect(bindByName(schema, 'ratio', 'eq', 0.1)).toEqual({ op: 'eq', fieldId: 3, value: Math.fround(0.1) });
    expect(bindByName(schema, 'key', 'eq', 'F79C3E09-677C-4BBD-A479-3F349CB785E7')).toEqual({
      op: 'eq',
      fieldId: 5,
      value: 'f79c3e09-677c-4bbd-a479-3f349cb785e7',
    });
    expect(bindByName(schema, 'n', 'eq', 7n)).toEqual({ op: 'eq', fieldId: 10, value: 7 });
  });

  it('decides null checks on required columns at bind time', () => {
    expect(bindByName(schema, 'id', 'isNull')).toBe(ALWAYS_FALSE);
    expect(bindByName(schema, 'id', 'notNull')).toBe(ALWAYS_TRUE);
    expect(bindByName(schema, 'score', 'isNull')).toEqual({ op: 'isNull', fieldId: 2 });
  });

  it('turns eq/notEq NaN into isNaN/notNaN and refuses NaN elsewhere', () => {
    expect(bindByName(schema, 'score', 'eq', NaN)).toEqual({ op: 'isNaN', fieldId: 2 });
    expect(bindByName(schema, 'score', 'notEq', NaN)).toEqual({ op: 'notNaN', fieldId: 2 });
    expect(() => bindByName(schema, 'score', 'lt', NaN)).toThrow(/use isNaN/);
    expect(() => bindByName(schema, 'score', 'in', [1, NaN])).toThrow(/use isNaN/);
    expect(() => bindByName(schema, 'loc.city', 'isNaN')).toThrow(/float or double/);
  });

  it('deduplicates in-lists and simplifies small ones', () => {
    expect(bindByName(schema, 'id', 'in', [1, 2n, 1n])).toEqual({ op: 'in', fieldId: 1, values: [1n, 2n] });
    expect(bindByName(schema, 'id', 'in', [3, 3n])).toEqual({ op: 'eq', fieldId: 1, value: 3n });
    expect(bindByName(schema, 'id', 'notIn', [3])).toEqual({ op: 'notEq', fieldId: 1, value: 3n });
    expect(bindByName(schema, 'id', 'in', [])).toBe(ALWAYS_FALSE);
    expect(bindByName(schema, 'id', 'notIn', [])).toBe(ALWAYS_TRUE);
  });

  it('refuses bad columns and literals with messages naming them', () => {
    const bad: Array<() => unknown> = [
      () => bindByName(schema, 'nope', 'eq', 1),
      () => bindByName(schema, 'tags.element', 'eq', 'a'),
      () => bindByName(schema, 'loc', 'isNull'),
      () => bindByName(schema, 'id', 'eq', null),
      () => bindByName(schema, 'id', 'eq', 'x'),
      () => bindByName(schema, 'id', 'eq', 1.5),
      () => bindByName(schema, 'id', 'eq', 2n ** 63n),
      () => bindByName(schema, 'n', 'eq', 2 ** 31),
      () => bindByName(schema, 'amount', 'eq', '12.345'),
      () => bindByName(schema, 'amount', 'eq', '12345.6'),
      () => bindByName(schema, 'amount', 'eq', 12.3),
      () => bindByName(schema, 'key', 'eq', 'not-a-uuid'),
    ];
    for (const f of bad) expect(f).toThrow(ValidationError);
    expect(() => bindByName(schema, 'nope', 'eq', 1)).toThrow(/"nope": no such column/);
    expect(() => bindByName(schema, 'tags.element', 'eq', 'a')).toThrow(/inside a list/);
  });
});

describe('and / or / not / rewriteNot', () => {
  const a = bindByName(schema, 'id', 'lt', 5);
  const b = bindByName(schema, 'n', 'eq', 1);
  const c = bindByName(schema, 'score', 'isNull');

  it('simplifies constants', () => {
    expect(and(ALWAYS_TRUE, a)).toBe(a);
    expect(and(a, ALWAYS_FALSE)).toBe(ALWAYS_FALSE);
    expect(or(ALWAYS_FALSE, a)).toBe(a);
    expect(or(a, ALWAYS_TRUE)).toBe(ALWAYS_TRUE);
    expect(not(not(a))).toBe(a);
    expect(and()).toBe(ALWAYS_TRUE);
  });

  it('pushes negation to the predicates', () => {
    const expr: Expression = not(and(a, or(b, not(c))));
    expect(rewriteNot(expr)).toEqual({
      op: 'or',
      left: { op: 'gtEq', fieldId: 1, value: 5n },
      right: { op: 'and', left: { op: 'notEq', fieldId: 10, value: 1 }, right: c },
    });
    expect(rewriteNot(not(bindByName(schema, 'id', 'in', [1, 2])))).toEqual({ op: 'notIn', fieldId: 1, values: [1n, 2n] });
    expect(rewriteNot(not(bindByName(schema, 'score', 'isNaN')))).toEqual({ op: 'notNaN', fieldId: 2 });
    expect(rewriteNot(not(ALWAYS_TRUE))).toBe(ALWAYS_FALSE);
  });
});
