import { describe, expect, it } from 'vitest';
import { boundedHex, boundedText } from '../../../shared/text/bounded-text';
import { describeValue } from '../../../shared/iceberg/parquet/column-writer';

describe('describeValue', () => {
  it('names short values exactly, as before', () => {
    expect(describeValue('abc')).toBe('"abc" (string of length 3)');
    expect(describeValue(Uint8Array.of(1, 255))).toBe('bytes[2] 0x01ff');
    expect(describeValue(12n)).toBe('12n');
  });

  it('names a long string or byte array bounded, so an error stays small and two long values stay distinct', () => {
    const head = 'x'.repeat(1_000);
    const a = describeValue(`${head}a`);
    expect(a).toBe(boundedText(`${head}a`));
    expect(a).toMatch(/ \(1,001 characters, md5 [0-9a-f]{32}\)$/);
    expect(a).not.toBe(describeValue(`${head}b`));
    const bytes = new Uint8Array(1_000_000).fill(7);
    expect(describeValue(bytes)).toBe(`bytes[1000000] hex ${boundedHex(bytes)}`);
    expect(describeValue(bytes).length).toBeLessThan(400);
  });
});
