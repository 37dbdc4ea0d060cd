/**
 * The fast paths of the canonical form against its plain definition: every one must give the same text (and so
 * the same hash) as the straightforward code it replaced, on the awkward values too.
 */
import { describe, expect, it } from 'vitest';
import { decimalToString } from '../../shared/iceberg/spec/values';
import type { IcebergType } from '../../shared/iceberg/spec/types';
import { bucketOf, reduceHash } from '../../shared/verify/canonical/buckets';
import { CanonicalRows, canonicalValue, jsonArray, trimScale } from '../../shared/verify/canonical/canonical-text';
import { HASHED } from '../../shared/verify/canonical/row-hash';
import { RowHasher } from '../../shared/verify/canonical/row-hasher';
import { TargetAggregates } from '../../shared/verify/checks/target-aggregates';
import type { ComparedColumn } from '../../shared/verify/checks/compared-columns';

/** Strings JSON escapes in every way it can: quotes, backslashes, control characters, surrogates paired and lone. */
const AWKWARD = [
  '',
  'plain',
  'null',
  '"',
  '\\',
  'a"b\\c',
  '\b\f\n\r\t',
  '\u0000\u0001\u001f',
  '\u007f',
  'é',
  '€ 漢字',
  '😀',
  '\ud800',
  'x\udc00',
  '\ud83d\ude00\ud83d',
  '\u2028\u2029',
  '["nested",null]',
];

describe('row texts', () => {
  it('are exactly JSON.stringify of the canonical values, escapes and all', () => {
    const rows = new CanonicalRows(['string', 'string', 'long']);
    for (const a of [...AWKWARD, null]) {
      for (const b of [...AWKWARD, null]) {
        const canonical = [a, b, '42'];
        expect(rows.text(canonical)).toBe(JSON.stringify(canonical));
        expect(jsonArray(canonical)).toBe(JSON.stringify(canonical));
      }
    }
  });

  it("hash a one-column row as PostgreSQL's hashtextextended(text, 0) does (values taken from PostgreSQL 17 on x86-64)", () => {
    const u64 = (signed: bigint) => reduceHash(signed.toString());
    const rowHash = (text: string): bigint => {
      new RowHasher(['string']).hashCanonical([text]);
      return (BigInt(HASHED[0]!) << 32n) | BigInt(HASHED[1]!);
    };
    expect(rowHash('')).toBe(u64(-6939563903564495251n));
    expect(rowHash('a')).toBe(u64(3591986179850072241n));
    expect(rowHash('["1"]')).toBe(u64(3019993635289474315n));
    expect(rowHash('["42","x"]')).toBe(u64(6401362990236822738n));
    expect(rowHash('é😀')).toBe(u64(-8970857853428636404n));
    expect(['', 'a', '["1"]', '["42","x"]', 'é😀'].map((t) => bucketOf(t, 1000))).toEqual([624, 686, 655, 520, 326]);
  });
});

describe('canonical values by their fast paths', () => {
  it('write decimals as trimScale(decimalToString(...)), from numbers and bigints alike', () => {
    const values = [
      0n,
      1n,
      -1n,
      10n,
      -10n,
      5n,
      -5n,
      1230n,
      -1230n,
      9_007_199_254_740_991n,
      -9_007_199_254_740_991n,
      9_007_199_254_740_992n,
      10n ** 37n,
      -(10n ** 37n) + 1n,
      12_345_678_901_234_567_890n,
    ];
    for (const scale of [0, 1, 2, 5, 10, 18, 38]) {
      for (const v of values) {
        const type = `decimal(38, ${scale})` as IcebergType;
        const expected = trimScale(decimalToString(v, scale));
        expect(canonicalValue(type, v)).toBe(expected);
        if (BigInt(Number(v)) === v && Number.isSafeInteger(Number(v))) expect(canonicalValue(type, Number(v))).toBe(expected);
      }
    }
  });

  it('write integers of either representation, beyond 2^53 too', () => {
    expect(canonicalValue('long', 9_007_199_254_740_993n)).toBe('9007199254740993');
    expect(canonicalValue('long', -(2n ** 63n))).toBe('-9223372036854775808');
    expect(canonicalValue('timestamptz', 1_700_000_000_000_001n)).toBe('1700000000000001');
    expect(canonicalValue('int', -2147483648)).toBe('-2147483648');
  });

  it('read only the bytes a view shows, and lower uppercase uuids', () => {
    const bytes = new Uint8Array([9, 0, 255, 7]);
    expect(canonicalValue('binary', bytes.subarray(1, 3))).toBe('00ff');
    expect(canonicalValue('fixed[2]', bytes.subarray(2))).toBe('ff07');
    expect(canonicalValue('uuid', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    const uuid = new Uint8Array(16).fill(0xab);
    expect(canonicalValue('uuid', uuid)).toBe('abababab-abab-abab-abab-abababababab');
  });

  it('keep every float bit in a reused buffer, value after value', () => {
    expect([0.1, -0, 1.5, Number.NaN, Number.MIN_VALUE].map((f) => canonicalValue('double', f))).toEqual([
      '3fb999999999999a',
      '8000000000000000',
      '3ff8000000000000',
      'NaN',
      '0000000000000001',
    ]);
    expect([Math.fround(0.1), -0, Number.POSITIVE_INFINITY].map((f) => canonicalValue('float', f))).toEqual(['3dcccccd', '80000000', '7f800000']);
  });

  it('quote list and struct elements as JSON strings', () => {
    const list: IcebergType = { type: 'list', 'element-id': 2, element: 'string', 'element-required': false };
    expect(canonicalValue(list, [...AWKWARD, null])).toBe(JSON.stringify([...AWKWARD, null]));
    const struct: IcebergType = {
      type: 'struct',
      fields: [
        { id: 3, name: 'a', required: false, type: 'double' },
        { id: 4, name: 'b', required: false, type: list },
      ],
    };
    expect(canonicalValue(struct, [-0, ['x', null]])).toBe(JSON.stringify(['8000000000000000', '["x",null]']));
  });
});

describe('aggregate sums', () => {
  it('stay exact when small values add past 2^53 and mix with big ones', () => {
    const column: ComparedColumn = { name: 'n', type: 'long', plan: { kind: 'int8' }, valueSql: '', canonicalSql: '', nullable: false };
    const aggregates = new TargetAggregates([column]);
    let expected = 0n;
    const values: bigint[] = [];
    for (let i = 0; i < 5000; i++) values.push(2_147_483_000n - BigInt(i));
    values.push(2n ** 62n, -(2n ** 62n) - 7n, 9_007_199_254_740_993n);
    for (let i = 0; i < 3_000_000; i++) values.push(i % 2 === 0 ? 2_000_000_000n : -1n);
    for (const v of values) {
      expected += v;
      aggregates.add([v]);
    }
    const figures = aggregates.figures(new Set());
    expect(figures.get('n\u0000sum')).toBe(expected.toString());
    expect(figures.get('n\u0000min')).toBe((-(2n ** 62n) - 7n).toString());
    expect(figures.get('n\u0000max')).toBe((2n ** 62n).toString());
  });
});
