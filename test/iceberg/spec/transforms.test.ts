import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import { murmur3Hash32 } from '../../../shared/iceberg/spec/murmur3';
import { civilFromDays, daysFromCivil } from '../../../shared/iceberg/spec/temporal';
import {
  type Transform,
  applyTransform,
  canTransform,
  checkTransform,
  humanString,
  parseTransform,
  transformResultType,
  transformToString,
} from '../../../shared/iceberg/spec/transforms';
import type { PrimitiveType } from '../../../shared/iceberg/spec/types';

const t = parseTransform;
const micros = (iso: string, fraction = 0): bigint => BigInt(Date.parse(`${iso}Z`)) * 1000n + BigInt(fraction);
const days = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

describe('parseTransform / transformToString', () => {
  it('parses every spec transform and prints it back', () => {
    for (const text of ['identity', 'bucket[16]', 'truncate[10]', 'year', 'month', 'day', 'hour', 'void']) {
      expect(transformToString(t(text))).toBe(text);
    }
    expect(t('bucket[16]')).toEqual({ kind: 'bucket', numBuckets: 16 });
    expect(t('truncate[3]')).toEqual({ kind: 'truncate', width: 3 });
  });

  it('keeps unknown transforms so readers can ignore them', () => {
    expect(t('zorder')).toEqual({ kind: 'unknown', name: 'zorder' });
    expect(canTransform(t('zorder'), 'int')).toBe(false);
  });

  it('rejects malformed parameters', () => {
    for (const text of ['bucket[0]', 'bucket[]', 'bucket', 'truncate[-1]', 'truncate[x]', 'bucket[2147483648]', '']) {
      expect(() => t(text), text).toThrow(ValidationError);
    }
  });
});

describe('transformResultType / canTransform', () => {
  it('gives the spec result types (day as date, as Java and PyIceberg do)', () => {
    expect(transformResultType(t('identity'), 'string')).toBe('string');
    expect(transformResultType(t('bucket[8]'), 'uuid')).toBe('int');
    expect(transformResultType(t('truncate[4]'), 'decimal(9, 2)')).toBe('decimal(9, 2)');
    expect(transformResultType(t('year'), 'timestamptz')).toBe('int');
    expect(transformResultType(t('month'), 'date')).toBe('int');
    expect(transformResultType(t('day'), 'timestamp')).toBe('date');
    expect(transformResultType(t('hour'), 'timestamp')).toBe('int');
    expect(transformResultType(t('void'), 'double')).toBe('double');
  });

  it('accepts exactly the source types of the spec table', () => {
    const all: PrimitiveType[] = [
      'boolean',
      'int',
      'long',
      'float',
      'double',
      'date',
      'time',
      'timestamp',
      'timestamptz',
      'string',
      'uuid',
      'binary',
      'decimal(9, 2)',
      'fixed[4]',
    ];
    const accepted = (transform: string) => all.filter((type) => canTransform(t(transform), type));
    expect(accepted('bucket[4]')).toEqual(['int', 'long', 'date', 'time', 'timestamp', 'timestamptz', 'string', 'uuid', 'binary', 'decimal(9, 2)', 'fixed[4]']);
    expect(accepted('truncate[4]')).toEqual(['int', 'long', 'string', 'binary', 'decimal(9, 2)']);
    expect(accepted('year')).toEqual(['date', 'timestamp', 'timestamptz']);
    expect(accepted('day')).toEqual(['date', 'timestamp', 'timestamptz']);
    expect(accepted('hour')).toEqual(['timestamp', 'timestamptz']);
    expect(accepted('identity')).toEqual(all);
    expect(canTransform(t('identity'), { type: 'struct', fields: [] })).toBe(false);
  });

  it('explains a mismatch in the error', () => {
    expect(() => checkTransform(t('bucket[16]'), 'double', 'column score')).toThrow(
      /bucket\[16\] cannot be applied to column score of type double; it accepts int, long/,
    );
    expect(() => transformResultType(t('hour'), 'date')).toThrow(ValidationError);
  });
});

describe('bucket', () => {
  it('is (hash & Integer.MAX_VALUE) % N', () => {
    expect(applyTransform(t('bucket[100]'), 'int', 34)).toBe(2017239379 % 100);
    // -653330422 & 0x7fffffff = 1494153226
    expect(applyTransform(t('bucket[100]'), 'date', 17486)).toBe(1494153226 % 100);
    expect(applyTransform(t('bucket[16]'), 'long', 34)).toBe(applyTransform(t('bucket[16]'), 'long', 34n));
  });

  it('handles Long.MIN_VALUE and Long.MAX_VALUE', () => {
    for (const v of [-(2n ** 63n), 2n ** 63n - 1n]) {
      const le = Buffer.alloc(8);
      le.writeBigInt64LE(v);
      const expected = (murmur3Hash32(le) & 0x7fffffff) % 7;
      const actual = applyTransform(t('bucket[7]'), 'long', v) as number;
      expect(actual).toBe(expected);
      expect(actual).toBeGreaterThanOrEqual(0);
      expect(actual).toBeLessThan(7);
    }
  });

  it('maps null to null', () => expect(applyTransform(t('bucket[4]'), 'string', null)).toBeNull());
});

describe('truncate', () => {
  it('rounds ints and longs down, negatives included (spec examples)', () => {
    const cases: Array<[number, number]> = [
      [0, 0],
      [1, 0],
      [5, 0],
      [9, 0],
      [10, 10],
      [11, 10],
      [-1, -10],
      [-10, -10],
      [-12, -20],
    ];
    for (const [input, expected] of cases) {
      expect(applyTransform(t('truncate[10]'), 'int', input)).toBe(expected);
      expect(applyTransform(t('truncate[10]'), 'long', BigInt(input))).toBe(BigInt(expected));
      expect(applyTransform(t('truncate[10]'), 'long', input)).toBe(BigInt(expected));
    }
  });

  it('wraps at Integer.MIN_VALUE exactly as Java int arithmetic does', () => {
    expect(applyTransform(t('truncate[10]'), 'int', -2147483648)).toBe(2147483646);
    expect(applyTransform(t('truncate[10]'), 'int', 2147483647)).toBe(2147483640);
  });

  it('truncates decimals on the unscaled value', () => {
    const dec = 'decimal(9, 2)';
    expect(applyTransform(t('truncate[50]'), dec, 1065n)).toBe(1050n); // 10.65 -> 10.50
    expect(applyTransform(t('truncate[10]'), dec, 1234n)).toBe(1230n);
    expect(applyTransform(t('truncate[10]'), dec, 5n)).toBe(0n);
    expect(applyTransform(t('truncate[10]'), dec, -5n)).toBe(-10n); // -0.05 -> -0.10
  });

  it('truncates strings to code points, never splitting a surrogate pair', () => {
    expect(applyTransform(t('truncate[3]'), 'string', 'iceberg')).toBe('ice');
    expect(applyTransform(t('truncate[3]'), 'string', 'ic')).toBe('ic');
    expect(applyTransform(t('truncate[2]'), 'string', '😀😁😂')).toBe('😀😁');
    expect(applyTransform(t('truncate[2]'), 'string', 'a😀b')).toBe('a😀');
    expect(applyTransform(t('truncate[1]'), 'string', 'éa')).toBe('é');
  });

  it('truncates binary to bytes and copies them', () => {
    const source = Uint8Array.of(1, 2, 3, 4, 5);
    const out = applyTransform(t('truncate[3]'), 'binary', source) as Uint8Array;
    expect([...out]).toEqual([1, 2, 3]);
    source[0] = 9;
    expect(out[0]).toBe(1);
  });
});

describe('year / month / day / hour', () => {
  const ts = (iso: string, fraction = 0) => micros(iso, fraction);
  const all = (type: PrimitiveType, value: bigint | number) =>
    (['year', 'month', 'day', 'hour'] as const).filter((name) => canTransform(t(name), type)).map((name) => applyTransform(t(name), type, value));

  it('matches the Java test values after 1970', () => {
    expect(all('timestamp', ts('2017-12-01T10:12:55', 38194))).toEqual([47, 575, 17501, 420034]);
    expect(all('timestamptz', ts('2017-12-01T10:12:55', 38194))).toEqual([47, 575, 17501, 420034]);
    expect(all('date', days('2017-12-01'))).toEqual([47, 575, 17501]);
  });

  it('floors before 1970', () => {
    expect(all('timestamp', -1n)).toEqual([-1, -1, -1, -1]);
    expect(all('timestamp', ts('1969-12-31T23:59:58', 999999))).toEqual([-1, -1, -1, -1]);
    expect(all('timestamp', ts('1969-01-01T00:00:00'))).toEqual([-1, -12, -365, -8760]);
    expect(all('timestamp', ts('1968-12-31T23:59:59', 999999))).toEqual([-2, -13, -366, -8761]);
    // Java's convertMicros returns -2 here (its +1 µs trick meets a whole second); floor says -1.
    expect(applyTransform(t('hour'), 'timestamp', ts('1969-12-31T23:00:00', 999999))).toBe(-1);
    expect(all('date', days('1969-12-30'))).toEqual([-1, -1, -2]);
    expect(all('date', days('1969-01-01'))).toEqual([-1, -12, -365]);
    expect(all('date', days('1968-12-31'))).toEqual([-2, -13, -366]);
    expect(all('date', days('1900-03-01'))).toEqual([-70, -838, days('1900-03-01')]);
  });

  it('is 0 at the epoch and null for null', () => {
    expect(all('timestamp', 0n)).toEqual([0, 0, 0, 0]);
    for (const name of ['year', 'month', 'day', 'hour']) expect(applyTransform(t(name), 'timestamp', null)).toBeNull();
  });

  it('calendar conversion agrees with Date over +-2000 years', () => {
    for (let d = -800_000; d <= 800_000; d += 997) {
      const date = new Date(d * 86_400_000);
      const civil = civilFromDays(d);
      expect([civil.year, civil.month, civil.day]).toEqual([date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()]);
      expect(daysFromCivil(civil.year, civil.month, civil.day)).toBe(d);
    }
  });
});

describe('identity and void', () => {
  it('normalises to the reader representation', () => {
    expect(applyTransform(t('identity'), 'long', 5)).toBe(5n);
    expect(applyTransform(t('identity'), 'uuid', 'F79C3E09-677C-4BBD-A479-3F349CB785E7')).toBe('f79c3e09-677c-4bbd-a479-3f349cb785e7');
    expect(applyTransform(t('identity'), 'string', null)).toBeNull();
  });

  it('void always gives null', () => expect(applyTransform(t('void'), 'int', 5)).toBeNull());
});

describe('humanString', () => {
  const h = (transform: string, type: PrimitiveType, value: Parameters<typeof humanString>[2]) => humanString(t(transform), type, value);
  it('renders time transforms as Java does', () => {
    expect(h('year', 'timestamp', 47)).toBe('2017');
    expect(h('month', 'timestamp', 575)).toBe('2017-12');
    expect(h('day', 'timestamp', 17501)).toBe('2017-12-01');
    expect(h('hour', 'timestamp', 420034)).toBe('2017-12-01-10');
    expect(h('year', 'date', -1)).toBe('1969');
    expect(h('month', 'date', -1)).toBe('1969-12');
    expect(h('month', 'date', -13)).toBe('1968-12');
    expect(h('day', 'date', -1)).toBe('1969-12-31');
    expect(h('hour', 'timestamp', -1)).toBe('1969-12-31-23');
  });

  it('renders identity values as Java does', () => {
    expect(h('identity', 'timestamp', micros('2017-12-01T10:12:55', 38194))).toBe('2017-12-01T10:12:55.038194');
    expect(h('identity', 'timestamptz', micros('2017-12-01T10:12:55', 38194))).toBe('2017-12-01T10:12:55.038194+00:00');
    expect(h('identity', 'timestamp', micros('2017-12-01T10:12:00'))).toBe('2017-12-01T10:12:00');
    expect(h('identity', 'timestamp', micros('2017-12-01T10:12:55', 100000))).toBe('2017-12-01T10:12:55.1');
    expect(h('identity', 'timestamp', -1n)).toBe('1969-12-31T23:59:59.999999');
    expect(h('identity', 'time', 36775038194n)).toBe('10:12:55.038194');
    expect(h('identity', 'time', 81060000000n)).toBe('22:31');
    expect(h('identity', 'time', 81068000000n)).toBe('22:31:08');
    expect(h('identity', 'time', 81068500000n)).toBe('22:31:08.500');
    expect(h('identity', 'date', 17501)).toBe('2017-12-01');
    expect(h('identity', 'decimal(9, 2)', -150n)).toBe('-1.50');
    expect(h('identity', 'decimal(38, 10)', 1n)).toBe('1E-10');
    expect(h('identity', 'binary', Uint8Array.of(1, 2, 3))).toBe('AQID');
    expect(h('identity', 'double', 1)).toBe('1.0');
    expect(h('identity', 'double', 1e20)).toBe('1.0E20');
    expect(h('identity', 'double', NaN)).toBe('NaN');
    expect(h('identity', 'float', Math.fround(0.1))).toBe('0.1');
    expect(h('identity', 'boolean', true)).toBe('true');
    expect(h('identity', 'long', 5n)).toBe('5');
    expect(h('truncate[3]', 'string', 'ice')).toBe('ice');
    expect(h('bucket[16]', 'int', 3)).toBe('3');
  });

  it('renders null as "null" for every transform', () => {
    for (const name of ['identity', 'bucket[4]', 'truncate[2]', 'year', 'month', 'day', 'hour', 'void']) {
      const transform: Transform = t(name);
      expect(humanString(transform, 'string', null)).toBe('null');
    }
  });
});
