import { describe, expect, it } from 'vitest';
import { ALWAYS_FALSE, ALWAYS_TRUE, type Expression, and, bindByName, not, or } from '../../../shared/iceberg/spec/expressions';
import type { PartitionSpec } from '../../../shared/iceberg/spec/partition-spec';
import { projectInclusive } from '../../../shared/iceberg/spec/projection';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import { applyTransform, parseTransform } from '../../../shared/iceberg/spec/transforms';
import type { Value } from '../../../shared/iceberg/spec/values';

const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'ts', required: false, type: 'timestamp' },
  { id: 3, name: 'name', required: false, type: 'string' },
  { id: 4, name: 'n', required: false, type: 'int' },
  { id: 5, name: 'd', required: false, type: 'date' },
  { id: 6, name: 'amount', required: false, type: 'decimal(9, 2)' },
  { id: 7, name: 'score', required: false, type: 'double' },
  { id: 8, name: 'other', required: false, type: 'string' },
]);

const pf = (sourceId: number, fieldId: number, name: string, transform: string) => ({
  'source-id': sourceId,
  'field-id': fieldId,
  name,
  transform,
});
const spec: PartitionSpec = {
  'spec-id': 1,
  fields: [
    pf(1, 1000, 'id_bucket', 'bucket[16]'),
    pf(2, 1001, 'ts_day', 'day'),
    pf(2, 1002, 'ts_hour', 'hour'),
    pf(3, 1003, 'name_trunc', 'truncate[3]'),
    pf(4, 1004, 'n_trunc', 'truncate[10]'),
    pf(5, 1005, 'd_month', 'month'),
    pf(5, 1006, 'd_day', 'day'),
    pf(6, 1007, 'amount_trunc', 'truncate[50]'),
    pf(7, 1008, 'score', 'identity'),
    pf(4, 1009, 'n_void', 'void'),
    pf(8, 1010, 'other_z', 'zorder'),
  ],
};

const project = (expr: Expression) => projectInclusive(expr, spec, schema);
const p = (column: string, op: 'eq' | 'notEq' | 'lt' | 'ltEq' | 'gt' | 'gtEq', value: Value) => project(bindByName(schema, column, op, value));
const cmp = (op: string, fieldId: number, value: Value): Expression => ({ op, fieldId, value }) as Expression;
const inOf = (fieldId: number, values: Value[]): Expression => ({ op: 'in', fieldId, values });
const ts = (iso: string, fraction = 0) => BigInt(Date.parse(`${iso}Z`)) * 1000n + BigInt(fraction);
const days = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

describe('bucket', () => {
  const bucket = (v: bigint) => applyTransform(parseTransform('bucket[16]'), 'long', v);
  it('projects eq and in to buckets', () => {
    expect(p('id', 'eq', 34)).toEqual(cmp('eq', 1000, bucket(34n)));
    const inProjected = project(bindByName(schema, 'id', 'in', [1, 2, 3]));
    expect(inProjected).toEqual(inOf(1000, [...new Set([bucket(1n), bucket(2n), bucket(3n)])]));
  });
  it('cannot narrow ranges or negations', () => {
    for (const op of ['lt', 'ltEq', 'gt', 'gtEq', 'notEq'] as const) expect(p('id', op, 34)).toBe(ALWAYS_TRUE);
    expect(project(bindByName(schema, 'id', 'notIn', [1, 2]))).toBe(ALWAYS_TRUE);
  });
});

describe('truncate', () => {
  it('widens int ranges with the right neighbour, negatives included', () => {
    expect(p('n', 'lt', 5)).toEqual(cmp('ltEq', 1004, 0));
    expect(p('n', 'lt', 0)).toEqual(cmp('ltEq', 1004, -10));
    expect(p('n', 'ltEq', -11)).toEqual(cmp('ltEq', 1004, -20));
    expect(p('n', 'gt', 9)).toEqual(cmp('gtEq', 1004, 10));
    expect(p('n', 'gt', -1)).toEqual(cmp('gtEq', 1004, 0));
    expect(p('n', 'gtEq', -5)).toEqual(cmp('gtEq', 1004, -10));
    expect(p('n', 'eq', -1)).toEqual(cmp('eq', 1004, -10));
    expect(p('n', 'notEq', -1)).toBe(ALWAYS_TRUE);
    expect(project(bindByName(schema, 'n', 'notNull'))).toEqual({ op: 'notNull', fieldId: 1004 });
  });

  it('knows nothing lies beyond the int range', () => {
    expect(p('n', 'lt', -2147483648)).toBe(ALWAYS_FALSE);
    expect(p('n', 'gt', 2147483647)).toBe(ALWAYS_FALSE);
  });

  it('works on unscaled decimals', () => {
    expect(p('amount', 'lt', '10.50')).toEqual(cmp('ltEq', 1007, 1000n));
    expect(p('amount', 'gt', '10.49')).toEqual(cmp('gtEq', 1007, 1050n));
  });

  it('keeps string ranges closed, because a truncated value may equal the truncated bound', () => {
    expect(p('name', 'lt', 'abcd')).toEqual(cmp('ltEq', 1003, 'abc'));
    expect(p('name', 'lt', 'ab')).toEqual(cmp('ltEq', 1003, 'ab'));
    expect(p('name', 'gt', 'abcd')).toEqual(cmp('gtEq', 1003, 'abc'));
    expect(p('name', 'eq', 'abcdef')).toEqual(cmp('eq', 1003, 'abc'));
    expect(p('name', 'eq', '😀😁😂😃')).toEqual(cmp('eq', 1003, '😀😁😂'));
    expect(project(bindByName(schema, 'name', 'in', ['abcd', 'abce', 'x']))).toEqual(inOf(1003, ['abc', 'x']));
    expect(p('name', 'notEq', 'abc')).toBe(ALWAYS_TRUE);
  });
});

describe('day and hour of timestamps', () => {
  it('projects after 1970 without adjustment', () => {
    expect(p('ts', 'gt', ts('2017-12-01T10:12:55', 38194))).toEqual(and(cmp('gtEq', 1001, 17501), cmp('gtEq', 1002, 420034)));
    expect(p('ts', 'eq', ts('2017-12-01T10:12:55'))).toEqual(and(cmp('eq', 1001, 17501), cmp('eq', 1002, 420034)));
  });

  it('widens pre-1970 bounds to cover values written by Iceberg <= 0.10, as Java does', () => {
    const t = ts('1969-12-31T10:00:00');
    // lt: <= day(t - 1 µs) = -1, adjusted to <= 0; hour(09:59:59.999999) = -15, adjusted to <= -14
    expect(p('ts', 'lt', t)).toEqual(and(cmp('ltEq', 1001, 0), cmp('ltEq', 1002, -14)));
    expect(p('ts', 'eq', t)).toEqual(and(inOf(1001, [-1, 0]), inOf(1002, [-14, -13])));
    expect(p('ts', 'gtEq', t)).toEqual(and(cmp('gtEq', 1001, -1), cmp('gtEq', 1002, -14)));
    expect(p('ts', 'lt', 0n)).toEqual(and(cmp('ltEq', 1001, 0), cmp('ltEq', 1002, 0)));
    expect(p('ts', 'lt', ts('1969-12-30T00:00:00'))).toEqual(and(cmp('ltEq', 1001, -2), cmp('ltEq', 1002, -48)));
  });

  it('projects in-lists and refuses what cannot be narrowed', () => {
    const projected = project(bindByName(schema, 'ts', 'in', [ts('1969-12-31T10:00:00'), ts('2017-12-01T00:00:00')]));
    expect(projected).toEqual(and(inOf(1001, [-1, 17501, 0]), inOf(1002, [-14, 420024, -13])));
    expect(p('ts', 'notEq', 0n)).toBe(ALWAYS_TRUE);
    expect(p('ts', 'lt', -(2n ** 63n))).toBe(ALWAYS_FALSE);
  });
});

describe('month and day of dates', () => {
  it('adjusts month before 1970 but not day, which is the identity on days', () => {
    const d = days('1969-12-15');
    expect(p('d', 'eq', d)).toEqual(and(inOf(1005, [-1, 0]), cmp('eq', 1006, d)));
    expect(p('d', 'lt', 0)).toEqual(and(cmp('ltEq', 1005, 0), cmp('ltEq', 1006, -1)));
    expect(p('d', 'gt', days('2017-12-01'))).toEqual(and(cmp('gtEq', 1005, 575), cmp('gtEq', 1006, 17502)));
  });
});

describe('identity, structure and fields that cannot filter', () => {
  it('passes every predicate through identity', () => {
    expect(p('score', 'notEq', 1.5)).toEqual(cmp('notEq', 1008, 1.5));
    expect(project(bindByName(schema, 'score', 'isNaN'))).toEqual({ op: 'isNaN', fieldId: 1008 });
    expect(project(not(bindByName(schema, 'score', 'isNaN')))).toEqual({ op: 'notNaN', fieldId: 1008 });
  });

  it('pushes not down before projecting', () => {
    expect(project(not(bindByName(schema, 'n', 'lt', 5)))).toEqual(cmp('gtEq', 1004, 0));
  });

  it('maps columns without usable partition fields to true', () => {
    expect(p('other', 'eq', 'x')).toBe(ALWAYS_TRUE);
    expect(project(and(bindByName(schema, 'other', 'eq', 'x'), bindByName(schema, 'n', 'eq', 3)))).toEqual(cmp('eq', 1004, 0));
    expect(project(or(bindByName(schema, 'other', 'eq', 'x'), bindByName(schema, 'n', 'eq', 3)))).toBe(ALWAYS_TRUE);
    expect(project(or(bindByName(schema, 'n', 'eq', 3), bindByName(schema, 'n', 'eq', 25)))).toEqual(or(cmp('eq', 1004, 0), cmp('eq', 1004, 20)));
  });
});
