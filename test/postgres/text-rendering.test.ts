import { describe, expect, it } from 'vitest';
import type { DecodePlan } from '../../shared/postgres/decode-plan';
import { civilFromDays } from '../../shared/iceberg/spec/temporal';
import { renderDate, renderFloat, renderForComparison, renderTimestampMicros } from '../../shared/postgres/text-rendering';

describe('renderFloat', () => {
  // Expected strings are PostgreSQL 17's float8out/float4out output (extra_float_digits >= 1).
  it('prints doubles like float8out', () => {
    const cases: Array<[number, string]> = [
      [0.1, '0.1'],
      [1e20, '1e+20'],
      [1.5e-5, '1.5e-05'],
      [0.0001, '0.0001'],
      [123456789012345, '123456789012345'],
      [1e15, '1e+15'],
      [1234567890123456, '1.234567890123456e+15'],
      [-2.5, '-2.5'],
      [100, '100'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [0.30000000000000004, '0.30000000000000004'],
      [-0, '-0'],
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
      [123.456, '123.456'],
      [1e-4, '0.0001'],
      [9.99e-5, '9.99e-05'],
    ];
    for (const [value, text] of cases) expect(renderFloat(value, false), String(value)).toBe(text);
  });

  it('prints floats like float4out: shortest digits that survive a float32 round trip', () => {
    const cases: Array<[number, string]> = [
      [Math.fround(0.1), '0.1'],
      [Math.fround(3.4028235e38), '3.4028235e+38'],
      [Math.fround(123456), '123456'],
      [Math.fround(1234567), '1.234567e+06'],
      [Math.fround(1.17549435e-38), '1.1754944e-38'],
      [Math.fround(-0.5), '-0.5'],
    ];
    for (const [value, text] of cases) expect(renderFloat(value, true), String(value)).toBe(text);
  });
});

describe('dates and timestamps', () => {
  it('converts days to the proleptic Gregorian calendar, year 0 being 1 BC', () => {
    expect(civilFromDays(0)).toEqual({ year: 1970, month: 1, day: 1 });
    expect(civilFromDays(-719162)).toEqual({ year: 1, month: 1, day: 1 });
    expect(civilFromDays(-719163)).toEqual({ year: 0, month: 12, day: 31 });
    expect(civilFromDays(11016)).toEqual({ year: 2000, month: 2, day: 29 });
  });

  it('prints ISO dates with BC and years past 9999', () => {
    expect(renderDate(-2440588)).toBe('4714-11-24 BC');
    expect(renderDate(-719163)).toBe('0001-12-31 BC');
    expect(renderDate(-719162)).toBe('0001-01-01');
    expect(renderDate(2145042905)).toBe('5874897-12-31');
  });

  it('prints timestamps with microseconds trimmed, +00 for timestamptz and BC last', () => {
    expect(renderTimestampMicros(0, false)).toBe('1970-01-01 00:00:00');
    expect(renderTimestampMicros(1_500_000, true)).toBe('1970-01-01 00:00:01.5+00');
    expect(renderTimestampMicros(-1, false)).toBe('1969-12-31 23:59:59.999999');
    expect(renderTimestampMicros(-210866803200000000n, true)).toBe('4714-11-24 00:00:00+00 BC');
    expect(renderTimestampMicros(0x7fffffffffffffffn, false)).toBe('294247-01-10 04:00:54.775807');
  });
});

describe('renderForComparison', () => {
  it('quotes array elements the way array_out does', () => {
    const plan: DecodePlan = { kind: 'array', element: { kind: 'text' } };
    expect(renderForComparison(plan, ['a', null, '', 'NULL', 'null', 'a,b', 'say "hi"', 'back\\slash', ' lead', 'x{y}', 'é'])).toBe(
      '{a,NULL,"","NULL","null","a,b","say \\"hi\\"","back\\\\slash"," lead","x{y}",é}',
    );
  });

  it('quotes composite fields the way record_out does, nested arrays included', () => {
    const plan: DecodePlan = {
      kind: 'composite',
      fields: [
        { name: 'a', plan: { kind: 'text' } },
        { name: 'b', plan: { kind: 'int4' } },
        { name: 'c', plan: { kind: 'array', element: { kind: 'int4' } } },
        { name: 'd', plan: { kind: 'text' } },
        { name: 'e', plan: { kind: 'text' } },
      ],
    };
    expect(renderForComparison(plan, ['x y', null, [1, null], '', 'q"\\'])).toBe('("x y",,"{1,NULL}","","q""\\\\")');
  });

  it('prints decimals, bytea, booleans (as ::text does, t/f inside arrays) and times', () => {
    expect(renderForComparison({ kind: 'decimal', precision: 5, scale: 2, checked: false }, -5)).toBe('-0.05');
    expect(renderForComparison({ kind: 'decimal', precision: 38, scale: 0, checked: false }, 10n ** 37n)).toBe('1' + '0'.repeat(37));
    expect(renderForComparison({ kind: 'bytea' }, new Uint8Array([0, 255, 16]))).toBe('\\x00ff10');
    expect(renderForComparison({ kind: 'boolean' }, false)).toBe('false');
    expect(renderForComparison({ kind: 'array', element: { kind: 'boolean' } }, [true, null])).toBe('{t,NULL}');
    expect(renderForComparison({ kind: 'time' }, 45_296_000_001)).toBe('12:34:56.000001');
    expect(renderForComparison({ kind: 'int8' }, null)).toBeNull();
  });
});
