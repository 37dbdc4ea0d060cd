import { describe, expect, it } from 'vitest';
import { ByteBuffer } from '../../../shared/iceberg/parquet/byte-buffer';
import { decodeDeltaBinaryPacked, unsplitByteStreams } from '../../../shared/iceberg/parquet/delta-decoding';
import { bitWidth, decodeHybrid, encodeHybrid, packBooleans, unpackBooleans } from '../../../shared/iceberg/parquet/rle-hybrid';

function encode(values: number[], width: number): number[] {
  const out = new ByteBuffer(16);
  encodeHybrid(Uint32Array.from(values), values.length, width, out);
  return [...out.bytes()];
}

function decode(bytes: number[], width: number, count: number): number[] {
  const out = new Uint32Array(count);
  decodeHybrid(Uint8Array.from(bytes), 0, bytes.length, width, count, out);
  return [...out];
}

describe('RLE / bit-packing hybrid', () => {
  it('computes bit widths', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 255, 256].map(bitWidth)).toEqual([0, 1, 2, 2, 3, 3, 4, 8, 9]);
  });

  it('writes a repeated value as one RLE run', () => {
    // header = run length 8 << 1 = 16, then the value in ceil(1/8) = 1 byte.
    expect(encode([1, 1, 1, 1, 1, 1, 1, 1], 1)).toEqual([0x10, 0x01]);
    // 300 repeats need a two-byte varint header (600 = 0xd8 0x04); width 9 stores the value in 2 bytes.
    expect(encode(new Array<number>(300).fill(257), 9)).toEqual([0xd8, 0x04, 0x01, 0x01]);
  });

  it('bit-packs the Encodings.md example 0..7 at width 3', () => {
    // One group of 8: header (1 << 1) | 1 = 3, then 10001000 11000110 11111010.
    expect(encode([0, 1, 2, 3, 4, 5, 6, 7], 3)).toEqual([0x03, 0x88, 0xc6, 0xfa]);
    expect(decode([0x03, 0x88, 0xc6, 0xfa], 3, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('pads a final short bit-packed group and the reader ignores the padding', () => {
    // 0,1,2 at width 2: one group (header 3), bits 00 01 10 00 | 00 00 00 00 -> 0x24, 0x00.
    expect(encode([0, 1, 2], 2)).toEqual([0x03, 0x24, 0x00]);
    expect(decode([0x03, 0x24, 0x00], 2, 3)).toEqual([0, 1, 2]);
  });

  it('mixes bit-packed groups and RLE runs', () => {
    const values = [1, 0, 1, 0, 1, 0, 1, 0, ...new Array<number>(20).fill(1), 0, 1];
    const bytes = encode(values, 1);
    // group of 8 alternating bits (0x55), run of 20 ones, then a final padded group 0,1.
    expect(bytes).toEqual([0x03, 0x55, 0x28, 0x01, 0x03, 0x02]);
    expect(decode(bytes, 1, values.length)).toEqual(values);
  });

  it('decodes hand-made streams: RLE then bit-packed', () => {
    // RLE run of 5 threes (width 2), then one bit-packed group 3,2,1,0,0,1,2,3.
    const bytes = [0x0a, 0x03, 0x03, 0x1b, 0xe4];
    expect(decode(bytes, 2, 13)).toEqual([3, 3, 3, 3, 3, 3, 2, 1, 0, 0, 1, 2, 3]);
  });

  it('round-trips random data at every width up to 32, runs included', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let width = 1; width <= 32; width++) {
      const max = width === 32 ? 2 ** 32 - 1 : 2 ** width - 1;
      const values: number[] = [];
      while (values.length < 1000) {
        const v = Math.floor(random() * (max + 1));
        const repeat = random() < 0.3 ? 1 + Math.floor(random() * 40) : 1;
        for (let r = 0; r < repeat; r++) values.push(v);
      }
      values.push(max, 0, max);
      const bytes = encode(values, width);
      expect(decode(bytes, width, values.length), `width ${width}`).toEqual(values);
    }
  });

  it('fails on a stream that ends early', () => {
    expect(() => decode([0x03, 0x88], 3, 8)).toThrow(/past the end/);
    expect(() => decode([0x10, 0x01], 1, 9)).toThrow(/ends after 8 of 9/);
  });

  it('packs and unpacks PLAIN booleans LSB first', () => {
    const values = [true, false, true, true, false, false, false, false, true];
    const out = new ByteBuffer(4);
    packBooleans(Uint8Array.from(values.map(Number)), values.length, out);
    expect([...out.bytes()]).toEqual([0b00001101, 0b00000001]);
    expect(unpackBooleans(out.bytes(), 0, values.length)).toEqual(values);
  });
});

describe('DELTA_* and BYTE_STREAM_SPLIT decoding', () => {
  it('decodes the Encodings.md example 7, 5, 3, 1, 2, 3, 4, 5', () => {
    // block of 128 in 4 miniblocks, 8 values, first 7 (zigzag 14); min delta -2 (zigzag 3); widths 2,0,0,0;
    // relative deltas 0,0,0,3,3,3,3 packed at 2 bits: 0xc0 0xff, then the rest of the 32-value miniblock.
    const bytes = Uint8Array.from([0x80, 0x01, 0x04, 0x08, 0x0e, 0x03, 0x02, 0x00, 0x00, 0x00, 0xc0, 0xff, 0, 0, 0, 0, 0, 0, 0x99]);
    const { values, end } = decodeDeltaBinaryPacked(bytes, 0, 32);
    expect(values).toEqual([7n, 5n, 3n, 1n, 2n, 3n, 4n, 5n]);
    expect(end).toBe(bytes.length - 1);
  });

  it('wraps 64-bit deltas like the writer does', () => {
    // first value INT64_MAX, one delta of +1 (min delta 1, width 0) wraps to INT64_MIN.
    const first = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]; // zigzag(2^63 - 1) = 2^64 - 2
    const bytes = Uint8Array.from([0x80, 0x01, 0x04, 0x02, ...first, 0x02, 0, 0, 0, 0]);
    expect(decodeDeltaBinaryPacked(bytes, 0, 64).values).toEqual([2n ** 63n - 1n, -(2n ** 63n)]);
  });

  it('rebuilds byte stream split values', () => {
    // two FLOAT values split into 4 streams of 2 bytes each.
    const plain = Buffer.alloc(8);
    plain.writeFloatLE(1.5, 0);
    plain.writeFloatLE(-2, 4);
    const split = Uint8Array.from([plain[0]!, plain[4]!, plain[1]!, plain[5]!, plain[2]!, plain[6]!, plain[3]!, plain[7]!]);
    expect([...unsplitByteStreams(split, 0, 2, 4)]).toEqual([...plain]);
  });
});
