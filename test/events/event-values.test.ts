/**
 * The event JSON of every Iceberg type reads back as the exact value it was written from, hostile values included
 * (NaN, -0, the 64-bit limits, 38-digit decimals, non-BMP text, the infinities PostgreSQL's timestamps hold); what
 * does not fit its type is refused with an error naming system, table, column, key and the value, bounded.
 * The trip through a real jsonb column is in test/integration/event-store.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { decodeEventValue, encodeEventValue } from '../../shared/events/event-values';
import { parseJson, stringifyJson } from '../../shared/iceberg/spec/json';
import type { IcebergType } from '../../shared/iceberg/spec/types';
import type { Value } from '../../shared/iceberg/spec/values';
import { ALL_TYPES, HOSTILE } from './event-fixtures';

const PLACE = { table: 'public.all_types', column: 'c', key: '7' };
const LONG_MAX = (1n << 63n) - 1n;

function typeOf(name: string): IcebergType {
  return ALL_TYPES.columns.find((c) => c.name === name)!.type;
}

/** Encoded, written as JSON text, parsed as the store's readers parse it, decoded. */
function roundTrip(type: IcebergType, value: Value): Value {
  return decodeEventValue(type, parseJson(stringifyJson(encodeEventValue(type, value, PLACE))));
}

describe('the event JSON of every type', () => {
  for (const [name, values] of Object.entries(HOSTILE)) {
    it(`reads back exactly: ${name} (${JSON.stringify(typeOf(name)).slice(0, 40)})`, () => {
      for (const value of values) expect(roundTrip(typeOf(name), value)).toEqual(value);
    });
  }

  it('writes the documented forms', () => {
    const encode = (name: string, value: Value): string => stringifyJson(encodeEventValue(typeOf(name), value, PLACE));
    expect(encode('big', LONG_MAX)).toBe('9223372036854775807');
    expect(encode('measure', NaN)).toBe('"NaN"');
    expect(encode('measure', -0)).toBe('"-0"');
    expect(encode('measure', -Infinity)).toBe('"-Infinity"');
    expect(encode('measure', 0.1)).toBe('0.1');
    expect(encode('price', 1230n)).toBe('"0.0000001230"');
    expect(encode('day', -1)).toBe('"1969-12-31"');
    expect(encode('day', 2_932_897)).toBe('"+10000-01-01"');
    expect(encode('at_time', 1n)).toBe('"00:00:00.000001"');
    expect(encode('at', 1_700_000_000_123_456n)).toBe('"2023-11-14T22:13:20.123456"');
    expect(encode('at_tz', 0n)).toBe('"1970-01-01T00:00:00.000000+00:00"');
    expect(encode('blob', new Uint8Array([0, 255]))).toBe('"AP8="');
    expect(encode('attrs', new Map<Value, Value>([['a', 1n]]))).toBe('{"keys":["a"],"values":[1]}');
    expect(encode('address', ['Lisbon', 7])).toBe('{"city":"Lisbon","__proto__":7}');
  });

  it('accepts a safe-integer number where a 64-bit value is listed, and reads it back as bigint', () => {
    expect(roundTrip('long', 42)).toBe(42n);
    expect(roundTrip('timestamp', 42)).toBe(42n);
  });

  it('refuses what it never writes when reading', () => {
    expect(() => decodeEventValue('date', '2023-02-30')).toThrow(/YYYY-MM-DD/);
    expect(() => decodeEventValue('binary', 'not base64!')).toThrow(/base64/);
    expect(() => decodeEventValue('timestamp', '2023-01-01T00:00:00.000000+00:00')).toThrow(/timestamp/);
    expect(() => decodeEventValue('decimal(3, 1)', '123.4')).toThrow(/decimal/);
    expect(() => decodeEventValue('int', 2 ** 31)).toThrow(/32-bit/);
  });
});

describe('a value that does not fit its type', () => {
  const refused: Array<[IcebergType, Value, RegExp]> = [
    ['decimal(4, 2)', 123456n, /more than 4 digits/],
    ['string', 'a\u0000b', /NUL/],
    ['string', 'lone \uD800 surrogate', /surrogate/],
    ['int', 2 ** 31, /32-bit/],
    ['float', 0.1, /32-bit float/],
    ['long', 1n << 63n, /64-bit/],
    ['long', 2 ** 60, /64-bit/],
    ['fixed[4]', new Uint8Array(3), /4 bytes/],
    ['uuid', 'not-a-uuid', /UUID/],
    ['time', -1n, /time of day/],
  ];
  for (const [type, value, problem] of refused) {
    it(`is refused, named: ${JSON.stringify(type)} ${typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' || typeof value === 'number' ? String(value) : 'bytes'}`, () => {
      expect(() => encodeEventValue(type, value, { table: 'public.t', column: 'col', key: '42' })).toThrow(problem);
      expect(() => encodeEventValue(type, value, { table: 'public.t', column: 'col', key: '42' })).toThrow(
        /^event-store: table public\.t, column col, key "42": .*\(value .+\)$/s,
      );
    });
  }

  it('is shown bounded, however long', () => {
    const huge = `${'y'.repeat(1_000_000)}\u0000`;
    let message = '';
    try {
      encodeEventValue('string', huge, { table: 'public.t', column: 'col', key: 'k'.repeat(10_000) });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/1,000,001 characters, md5 [0-9a-f]{32}/);
    expect(message.length).toBeLessThan(1_000);
  });

  it('names the place inside a nested value', () => {
    const type: IcebergType = { type: 'list', 'element-id': 1, element: 'int', 'element-required': false };
    expect(() => encodeEventValue(type, [1, 2 ** 40], { table: 'public.t', column: 'ints', key: '1' })).toThrow(/column ints\[1\]/);
  });
});
