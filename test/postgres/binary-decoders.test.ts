import { describe, expect, it } from 'vitest';
import { UnrepresentableValue, compileDecoder, type FieldDecoder } from '../../shared/postgres/binary-decoders';
import type { DecodePlan } from '../../shared/postgres/decode-plan';
import type { Value } from '../../shared/iceberg/spec/values';
import { EPOCH_SHIFT_MICROS, arrayBinary, int16, int32, int64, intervalBinary, numericBinary, recordBinary } from './binary-wire';

function decode(plan: DecodePlan, bytes: Buffer, options: { exactBigInt?: boolean } = {}): Value {
  // Surround the field with other bytes so offsets are exercised, as inside a COPY chunk.
  const buf = Buffer.concat([Buffer.from([0xee, 0xee, 0xee]), bytes, Buffer.from([0xee])]);
  const decoder: FieldDecoder = compileDecoder(plan, options);
  return decoder(buf, 3, bytes.length);
}

function failure(plan: DecodePlan, bytes: Buffer): UnrepresentableValue {
  try {
    decode(plan, bytes);
  } catch (error) {
    if (error instanceof UnrepresentableValue) return error;
    throw error;
  }
  throw new Error('expected the value to be refused');
}

/** Days from 1970 of a proleptic Gregorian date, via JS Date as an independent oracle (year 0 = 1 BC). */
function daysOf(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return Math.round(d.getTime() / 86_400_000);
}

const decimal = (precision: number, scale: number, checked = false): DecodePlan => ({ kind: 'decimal', precision, scale, checked });

describe('numeric', () => {
  it('decodes exact unscaled values at the column scale', () => {
    expect(decode(decimal(4, 2), numericBinary('12.30'))).toBe(1230);
    expect(decode(decimal(12, 2), numericBinary('-9999999999.99'))).toBe(-999999999999);
    expect(decode(decimal(5, 2), numericBinary('0.01'))).toBe(1);
    expect(decode(decimal(10, 4), numericBinary('1.5'))).toBe(15000);
    expect(decode(decimal(20, 0), numericBinary('100000000'))).toBe(100000000);
  });

  it('decodes zero and negative zero as 0, never -0', () => {
    expect(Object.is(decode(decimal(5, 2), numericBinary('0.00')), 0)).toBe(true);
    // A negative sign on zero digits is not something PostgreSQL sends, but it must not become -0.
    const negativeZero = Buffer.concat([int16(0), int16(0), Buffer.from([0x40, 0x00]), int16(2)]);
    expect(Object.is(decode(decimal(5, 2), negativeZero), 0)).toBe(true);
  });

  it('switches to bigint beyond 2^53 and stays exact up to 38 digits', () => {
    expect(decode(decimal(38, 0), numericBinary('1' + '0'.repeat(37)))).toBe(10n ** 37n);
    expect(decode(decimal(38, 10), numericBinary('-1234567890123456789012345678.0123456789'))).toBe(-12345678901234567890123456780123456789n);
    expect(decode(decimal(18, 0), numericBinary('9007199254740993'))).toBe(9007199254740993n);
    expect(decode(decimal(18, 0), numericBinary('9007199254740991'))).toBe(9007199254740991);
  });

  it('returns bigint always with exactBigInt', () => {
    expect(decode(decimal(4, 2), numericBinary('12.30'), { exactBigInt: true })).toBe(1230n);
  });

  it('decodes tiny values at large scales', () => {
    expect(decode(decimal(38, 20), numericBinary('0.00000000000000000001'))).toBe(1);
    expect(decode(decimal(38, 25), numericBinary('0.00000000000000000001'))).toBe(100000);
  });

  it('refuses NaN and infinities in a decimal column, naming the value', () => {
    expect(failure(decimal(10, 2), numericBinary('NaN')).valueText).toBe('NaN');
    expect(failure(decimal(10, 2), numericBinary('Infinity')).valueText).toBe('Infinity');
    expect(failure(decimal(10, 2), numericBinary('-Infinity')).valueText).toBe('-Infinity');
  });

  it('checks digits and decimal places when the typmod does not guarantee the fit', () => {
    expect(decode(decimal(38, 2, true), numericBinary('123.4'))).toBe(12340);
    expect(failure(decimal(38, 2, true), numericBinary('0.001')).reason).toMatch(/decimal places/);
    expect(failure(decimal(38, 0, true), numericBinary('1' + '0'.repeat(38))).reason).toMatch(/more than 38 digits/);
    expect(decode(decimal(38, 0, true), numericBinary('9'.repeat(38)))).toBe(10n ** 38n - 1n);
    // Base-10000 digits just below 2^53 before the division by 100: the quotient and the test of the rest stay exact.
    expect(decode(decimal(38, 2, true), numericBinary('900719925472.09'))).toBe(90071992547209);
    expect(failure(decimal(38, 2, true), numericBinary('900719925472.0901')).reason).toMatch(/decimal places/);
    expect(failure(decimal(38, 2, true), numericBinary('900719925472.0999')).reason).toMatch(/decimal places/);
  });

  it('keeps the exact text of unconstrained numerics', () => {
    const text: DecodePlan = { kind: 'numeric-text' };
    expect(decode(text, numericBinary('NaN'))).toBe('NaN');
    expect(decode(text, numericBinary('Infinity'))).toBe('Infinity');
    expect(decode(text, numericBinary('-Infinity'))).toBe('-Infinity');
    expect(decode(text, numericBinary('0.00000000000000000001'))).toBe('0.00000000000000000001');
    expect(decode(text, numericBinary('-120.500'))).toBe('-120.500');
    expect(decode(text, numericBinary('0'))).toBe('0');
    expect(decode(text, numericBinary('0.000'))).toBe('0.000');
    expect(decode(text, numericBinary('100000000000000000000000000000000000000000000001'))).toBe('100000000000000000000000000000000000000000000001');
  });
});

describe('dates', () => {
  const date: DecodePlan = { kind: 'date' };
  it('shifts days from 2000 to days from 1970, BC dates included', () => {
    expect(decode(date, int32(0))).toBe(10957);
    expect(decode(date, int32(-10957))).toBe(0);
    // Julian day 0, PostgreSQL's earliest date: 4714-11-24 BC (proleptic Gregorian, astronomical year -4713).
    expect(decode(date, int32(-2451545))).toBe(daysOf(-4713, 11, 24));
    expect(decode(date, int32(-2451545))).toBe(-2440588);
  });

  it('refuses ±infinity unless mapped', () => {
    expect(failure(date, int32(0x7fffffff)).valueText).toBe('infinity');
    expect(failure(date, int32(-0x80000000)).valueText).toBe('-infinity');
    const mapped: DecodePlan = { kind: 'date', infinity: { positive: 2932896, negative: -719162 } };
    expect(decode(mapped, int32(0x7fffffff))).toBe(2932896);
    expect(decode(mapped, int32(-0x80000000))).toBe(-719162);
  });
});

describe('timestamps', () => {
  const ts: DecodePlan = { kind: 'timestamp' };
  const tstz: DecodePlan = { kind: 'timestamptz' };
  it('shifts microseconds from 2000 to microseconds from 1970, keeping every microsecond', () => {
    expect(decode(ts, int64(0n))).toBe(946684800000000);
    expect(decode(tstz, int64(1n))).toBe(946684800000001);
    expect(decode(ts, int64(-EPOCH_SHIFT_MICROS - 1n))).toBe(-1);
  });

  it('decodes 4714-11-24 BC, the earliest timestamp, exactly', () => {
    const earliest = -211813488000000000n; // PostgreSQL's MIN_TIMESTAMP
    const expected = BigInt(daysOf(-4713, 11, 24)) * 86_400_000_000n;
    expect(decode(ts, int64(earliest))).toBe(expected);
  });

  it('decodes the latest timestamps that fit int64 microseconds from 1970 and refuses later ones', () => {
    const lastFitting = 0x7fffffffffffffffn - EPOCH_SHIFT_MICROS;
    expect(decode(ts, int64(lastFitting))).toBe(0x7fffffffffffffffn);
    // 294276-12-31 23:59:59.999999, PostgreSQL's latest timestamp, is beyond Iceberg's range.
    const latest = 9223371331200000000n - 1n;
    const refused = failure(ts, int64(latest));
    expect(refused.valueText).toBe('294276-12-31 23:59:59.999999');
    expect(refused.reason).toMatch(/beyond the range/);
  });

  it('refuses ±infinity unless mapped', () => {
    expect(failure(tstz, int64(0x7fffffffffffffffn)).valueText).toBe('infinity');
    expect(failure(ts, int64(-0x8000000000000000n)).valueText).toBe('-infinity');
    const mapped: DecodePlan = { kind: 'timestamptz', infinity: { positive: 253402300799999999n, negative: -62135596800000000n } };
    expect(decode(mapped, int64(0x7fffffffffffffffn))).toBe(253402300799999999n);
  });

  it('returns bigint always with exactBigInt', () => {
    expect(decode(ts, int64(0n), { exactBigInt: true })).toBe(946684800000000n);
  });
});

describe('other scalars', () => {
  it('decodes integers of every width', () => {
    expect(decode({ kind: 'int2' }, int16(-32768))).toBe(-32768);
    expect(decode({ kind: 'int4' }, int32(-2147483648))).toBe(-2147483648);
    expect(decode({ kind: 'int8' }, int64(-9223372036854775808n))).toBe(-9223372036854775808n);
    expect(decode({ kind: 'int8' }, int64(-42n))).toBe(-42);
    expect(decode({ kind: 'int8' }, int64(9007199254740992n))).toBe(9007199254740992n);
    expect(decode({ kind: 'oid' }, Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBe(4294967295);
  });

  it('keeps NaN, infinities and -0 of floats', () => {
    const f8 = (n: number): Buffer => {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(n);
      return b;
    };
    const f4 = (n: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeFloatBE(n);
      return b;
    };
    expect(decode({ kind: 'float8' }, f8(NaN))).toBeNaN();
    expect(decode({ kind: 'float8' }, f8(-Infinity))).toBe(-Infinity);
    expect(Object.is(decode({ kind: 'float8' }, f8(-0)), -0)).toBe(true);
    expect(Object.is(decode({ kind: 'float4' }, f4(-0)), -0)).toBe(true);
    expect(decode({ kind: 'float4' }, f4(Infinity))).toBe(Infinity);
    expect(decode({ kind: 'float4' }, f4(0.1))).toBe(Math.fround(0.1));
  });

  it('decodes uuid, bytea with zero bytes, booleans and jsonb', () => {
    expect(decode({ kind: 'uuid' }, Buffer.from('A0EEBC999C0B4EF8BB6D6BB9BD380A11', 'hex'))).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    const bytes = decode({ kind: 'bytea' }, Buffer.from([0, 1, 0, 255, 0])) as Uint8Array;
    expect([...bytes]).toEqual([0, 1, 0, 255, 0]);
    expect(decode({ kind: 'boolean' }, Buffer.from([1]))).toBe(true);
    expect(decode({ kind: 'boolean' }, Buffer.from([0]))).toBe(false);
    expect(decode({ kind: 'jsonb' }, Buffer.concat([Buffer.from([1]), Buffer.from('{"a": "é"}')]))).toBe('{"a": "é"}');
    expect(() => decode({ kind: 'jsonb' }, Buffer.from([2, 0x7b, 0x7d]))).toThrow(/jsonb/);
  });

  it('decodes text, repeated short values and non-ASCII alike', () => {
    const plan: DecodePlan = { kind: 'text' };
    const decoder = compileDecoder(plan);
    const values = ['new', 'paid', 'new', 'Ünïcødé', '', 'x'.repeat(40), 'pa\u00efd', 'paid'];
    for (const value of values) {
      const b = Buffer.from(value, 'utf8');
      expect(decoder(b, 0, b.length)).toBe(value);
    }
    // Same length and hash slot, different bytes: the cache must compare, not trust the hash.
    const first = Buffer.from('abc');
    const second = Buffer.from('abd');
    expect(decoder(first, 0, 3)).toBe('abc');
    expect(decoder(second, 0, 3)).toBe('abd');
  });

  it('refuses 24:00:00, which Iceberg time cannot hold', () => {
    expect(decode({ kind: 'time' }, int64(86_399_999_999n))).toBe(86_399_999_999);
    expect(failure({ kind: 'time' }, int64(86_400_000_000n)).valueText).toBe('24:00:00');
  });
});

describe('intervals', () => {
  const iv: DecodePlan = { kind: 'interval' };
  it('prints ISO 8601 exactly like IntervalStyle iso_8601, negative parts included', () => {
    expect(decode(iv, intervalBinary(4n * 3_600_000_000n + 5n * 60_000_000n + 6_789_000n, 3, 14))).toBe('P1Y2M3DT4H5M6.789S');
    expect(decode(iv, intervalBinary(-(4n * 3_600_000_000n + 5n * 60_000_000n + 6_789_000n), 3, -14))).toBe('P-1Y-2M3DT-4H-5M-6.789S');
    expect(decode(iv, intervalBinary(0n, 0, 0))).toBe('PT0S');
    expect(decode(iv, intervalBinary(-500_000n, 0, 0))).toBe('PT-0.5S');
    expect(decode(iv, intervalBinary(0n, -1, 0))).toBe('P-1D');
    expect(decode(iv, intervalBinary(1n, 0, 0))).toBe('PT0.000001S');
    expect(decode(iv, intervalBinary(3_600_000_000n * 1_000_000n, 0, 12))).toBe('P1YT1000000H');
    expect(decode(iv, intervalBinary(0x7fffffffffffffffn, 0x7fffffff, 0x7fffffff))).toBe('infinity');
  });
});

describe('arrays and composites', () => {
  const textArray: DecodePlan = { kind: 'array', element: { kind: 'text' } };
  it('keeps element nulls and order', () => {
    const bytes = arrayBinary(25, [{ size: 4, lower: 1 }], [Buffer.from('a'), null, Buffer.from(''), Buffer.from('NULL')]);
    expect(decode(textArray, bytes)).toEqual(['a', null, '', 'NULL']);
    expect(decode(textArray, arrayBinary(25, [], []))).toEqual([]);
  });

  it('refuses multi-dimensional arrays and lower bounds other than 1', () => {
    const two = arrayBinary(
      23,
      [
        { size: 2, lower: 1 },
        { size: 1, lower: 1 },
      ],
      [int32(1), int32(2)],
    );
    expect(failure({ kind: 'array', element: { kind: 'int4' } }, two).valueText).toBe('an array with dimensions [1:2][1:1]');
    const shifted = arrayBinary(23, [{ size: 3, lower: 0 }], [int32(1), int32(2), int32(3)]);
    expect(failure({ kind: 'array', element: { kind: 'int4' } }, shifted).valueText).toBe('an array with bounds [0:2]');
  });

  it('decodes composites with nested arrays and nulls, and names the path of a refused value', () => {
    const plan: DecodePlan = {
      kind: 'composite',
      fields: [
        { name: 'street', plan: { kind: 'text' } },
        { name: 'amounts', plan: { kind: 'array', element: decimal(5, 2) } },
        { name: 'note', plan: { kind: 'text' } },
      ],
    };
    const value = recordBinary([
      [25, Buffer.from('Main St')],
      [1231, arrayBinary(1700, [{ size: 2, lower: 1 }], [numericBinary('1.50'), null])],
      [25, null],
    ]);
    expect(decode(plan, value)).toEqual(['Main St', [150, null], null]);
    const bad = recordBinary([
      [25, null],
      [1231, arrayBinary(1700, [{ size: 2, lower: 1 }], [null, numericBinary('NaN')])],
      [25, null],
    ]);
    expect(failure(plan, bad).path.join('')).toBe('.amounts[2]');
  });
});
