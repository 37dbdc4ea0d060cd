import { describe, expect, it } from 'vitest';
import { parseJson, stringifyJson } from '../../../shared/iceberg/spec/json';

describe('lossless JSON', () => {
  it('keeps 64-bit integers exact in both directions', () => {
    const text = '{"a":9223372036854775807,"b":-9223372036854775808,"c":9007199254740993,"d":42,"e":1.5}';
    const value = parseJson(text) as Record<string, unknown>;
    expect(value.a).toBe(9223372036854775807n);
    expect(value.b).toBe(-9223372036854775808n);
    expect(value.c).toBe(9007199254740993n);
    expect(value.d).toBe(42);
    expect(value.e).toBe(1.5);
    expect(stringifyJson(value)).toBe(text);
  });

  it('does not mistake strings for numbers and escapes them like JSON.stringify', () => {
    const value = { s: '\u0000bigint:1', t: 'quote " and \\ and \n', u: '日本語 🎉' };
    const text = stringifyJson(value);
    expect(JSON.parse(text)).toEqual(value);
    expect(parseJson(text)).toEqual(value);
  });

  it('omits undefined members, pretty-prints, and rejects malformed input', () => {
    expect(stringifyJson({ a: undefined, b: [1n, null] }, 2)).toBe('{\n  "b": [\n    1,\n    null\n  ]\n}');
    expect(() => parseJson('{"a":1,}')).toThrow(SyntaxError);
    expect(() => parseJson('[1 2]')).toThrow(SyntaxError);
    expect(() => parseJson('01')).toThrow(SyntaxError);
    expect(parseJson(' [ ] ')).toEqual([]);
  });
});
