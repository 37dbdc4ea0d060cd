import { describe, expect, it } from 'vitest';
import { hashBytes, hashDouble, hashInt, hashLong, murmur3Hash32 } from '../../../shared/iceberg/spec/murmur3';
import { bucketHash } from '../../../shared/iceberg/spec/transforms';

const le64 = (v: bigint): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(v);
  return b;
};

// Every row of the spec's "Appendix B: 32-bit Hash Requirements" table, through the same entry point bucket uses.
describe('Appendix B test vectors', () => {
  it('int 34', () => expect(bucketHash('int', 34)).toBe(2017239379));
  it('long 34L', () => expect(bucketHash('long', 34n)).toBe(2017239379));
  it('decimal(4,2) 14.20 (unscaled 1420, minimal big-endian bytes 05 8C)', () => {
    expect(bucketHash('decimal(4, 2)', 1420n)).toBe(-500754589);
  });
  it('date 2017-11-16 (17486 days)', () => expect(bucketHash('date', 17486)).toBe(-653330422));
  it('time 22:31:08', () => {
    const micros = ((22n * 60n + 31n) * 60n + 8n) * 1_000_000n;
    expect(bucketHash('time', micros)).toBe(-662762989);
  });
  it('timestamp 2017-11-16T22:31:08', () => {
    const micros = BigInt(Date.UTC(2017, 10, 16, 22, 31, 8)) * 1000n;
    expect(bucketHash('timestamp', micros)).toBe(-2047944441);
  });
  it('timestamptz 2017-11-16T14:31:08-08:00 (same instant)', () => {
    const micros = BigInt(Date.UTC(2017, 10, 16, 14 + 8, 31, 8)) * 1000n;
    expect(bucketHash('timestamptz', micros)).toBe(-2047944441);
  });
  it('string "iceberg"', () => expect(bucketHash('string', 'iceberg')).toBe(1210000089));
  it('uuid f79c3e09-677c-4bbd-a479-3f349cb785e7', () => {
    expect(bucketHash('uuid', 'f79c3e09-677c-4bbd-a479-3f349cb785e7')).toBe(1488055340);
    expect(bucketHash('uuid', 'F79C3E09-677C-4BBD-A479-3F349CB785E7')).toBe(1488055340);
  });
  it('fixed[4] 00 01 02 03', () => expect(bucketHash('fixed[4]', Uint8Array.of(0, 1, 2, 3))).toBe(-188683207));
  it('binary 00 01 02 03', () => expect(bucketHash('binary', Uint8Array.of(0, 1, 2, 3))).toBe(-188683207));
  it('boolean true (hashInt(1)), not bucketable but specified', () => expect(hashInt(1)).toBe(1392991556));
  it('float/double 1.0, 0.0, -0.0', () => {
    expect(hashDouble(1)).toBe(-142385009);
    expect(hashDouble(Math.fround(1))).toBe(-142385009);
    expect(hashDouble(0)).toBe(1669671676);
    expect(hashDouble(-0)).toBe(1669671676);
  });
});

describe('murmur3Hash32', () => {
  it('hashes the empty input to 0 with seed 0', () => expect(murmur3Hash32(new Uint8Array(0))).toBe(0));

  it('the word path of hashLong agrees with the byte path on edge values', () => {
    for (const v of [0n, 1n, -1n, 34n, 2n ** 31n, -(2n ** 31n), 2n ** 63n - 1n, -(2n ** 63n), 0x0123456789abcdefn]) {
      expect(hashLong(v)).toBe(hashBytes(le64(v)));
    }
  });

  it('int and long hash alike, so promoting int to long keeps buckets', () => {
    for (const v of [0, 1, -1, 2147483647, -2147483648, 123456]) expect(hashInt(v)).toBe(hashLong(BigInt(v)));
  });

  it('reads tail bytes as unsigned', () => {
    // A sign-extending tail would change these; the 4-byte vector above pins the block path.
    expect(hashBytes(Uint8Array.of(0xff))).not.toBe(hashBytes(Uint8Array.of(0x7f)));
    expect(hashBytes(Buffer.from('iceberg'))).toBe(1210000089);
  });

  it('canonicalises every NaN bit pattern', () => {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, 0x7ff0000000000001n);
    const otherNaN = view.getFloat64(0);
    expect(Number.isNaN(otherNaN)).toBe(true);
    expect(hashDouble(otherNaN)).toBe(hashDouble(NaN));
    expect(hashDouble(NaN)).toBe(hashLong(0x7ff8000000000000n));
  });
});
