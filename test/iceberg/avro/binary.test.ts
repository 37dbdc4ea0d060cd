import { describe, expect, it } from 'vitest';
import { AvroReader, AvroWriter } from '../../../shared/iceberg/avro/binary';
import { avscType } from './avsc-judge';

const MAX_LONG = (1n << 63n) - 1n;
const MIN_LONG = -(1n << 63n);

function bytesOf(write: (w: AvroWriter) => void): number[] {
  const w = new AvroWriter(16);
  write(w);
  return [...w.toBytes()];
}

describe('zigzag varints', () => {
  const vectors: [bigint, number[]][] = [
    [0n, [0x00]],
    [-1n, [0x01]],
    [1n, [0x02]],
    [-64n, [0x7f]],
    [64n, [0x80, 0x01]],
    [-65n, [0x81, 0x01]],
    [8191n, [0xfe, 0x7f]],
    [2147483647n, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
    [-2147483648n, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    [MAX_LONG, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    [MIN_LONG, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
  ];

  it.each(vectors)('long %s encodes to the spec bytes and back', (value, expected) => {
    expect(bytesOf((w) => w.writeLong(value))).toEqual(expected);
    const reader = new AvroReader(Uint8Array.from(expected));
    expect(reader.readLong()).toBe(value);
    expect(reader.atEnd).toBe(true);
    if (value >= -(2n ** 53n) + 1n && value <= 2n ** 53n - 1n) {
      expect(bytesOf((w) => w.writeLong(Number(value)))).toEqual(expected);
    }
  });

  it.each(vectors.filter(([v]) => v >= -2147483648n && v <= 2147483647n))('int %s encodes like the long', (value, expected) => {
    expect(bytesOf((w) => w.writeInt(Number(value)))).toEqual(expected);
    expect(new AvroReader(Uint8Array.from(expected)).readInt()).toBe(Number(value));
  });

  it('agrees with avsc on values around every fast-path boundary', () => {
    const long = avscType('long');
    const values: bigint[] = [];
    for (let bits = 0; bits < 64; bits++) {
      const p = 1n << BigInt(bits);
      for (const v of [p - 1n, p, p + 1n, -p, -p + 1n, -p - 1n]) if (v >= MIN_LONG && v <= MAX_LONG) values.push(v);
    }
    let seed = 12345n;
    for (let i = 0; i < 200; i++) {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
      values.push(BigInt.asIntN(64, seed) >> BigInt(i % 64));
    }
    const w = new AvroWriter(8);
    for (const v of values) {
      w.reset();
      w.writeLong(v);
      expect([...w.toBytes()], `encoding ${v}`).toEqual([...long.toBuffer(v)]);
      const r = new AvroReader(w.toBytes());
      expect(r.readLong()).toBe(v);
      expect(r.atEnd).toBe(true);
    }
  });

  it('rejects values outside the declared width', () => {
    const w = new AvroWriter();
    expect(() => w.writeInt(2147483648)).toThrow(/32-bit/);
    expect(() => w.writeInt(1.5)).toThrow(/32-bit/);
    expect(() => w.writeLong(MAX_LONG + 1n)).toThrow(/64-bit/);
    expect(() => w.writeLong(MIN_LONG - 1n)).toThrow(/64-bit/);
    expect(() => w.writeLong(2 ** 53)).toThrow(/safe integer/);
    expect(() => w.writeLong(0.5)).toThrow(/safe integer/);
  });

  it('rejects malformed input instead of misreading it', () => {
    expect(() => new AvroReader(Uint8Array.of(0x80)).readLong()).toThrow(/needs 1 bytes/);
    expect(() => new AvroReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01)).readInt()).toThrow(/longer than 5/);
    expect(() => new AvroReader(Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0x1f)).readInt()).toThrow(/out of range/);
    expect(() => new AvroReader(new Uint8Array(11).fill(0xff)).readLong()).toThrow(/longer than 10/);
    expect(() => new AvroReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)).readLong()).toThrow(/out of range/);
    expect(() => new AvroReader(Uint8Array.of(0x02)).readBoolean()).toThrow(/boolean/);
    expect(() => new AvroReader(Uint8Array.of(0x0a, 0x61)).readString()).toThrow(/exceeds/);
    expect(() => new AvroReader(Uint8Array.of(0x01)).readBytes()).toThrow(/length -1/);
  });
});

describe('floats, strings, bytes and fixed', () => {
  it('writes IEEE 754 little-endian and keeps NaN, infinities and -0', () => {
    expect(bytesOf((w) => w.writeFloat(1.5))).toEqual([0x00, 0x00, 0xc0, 0x3f]);
    expect(bytesOf((w) => w.writeDouble(1.5))).toEqual([0, 0, 0, 0, 0, 0, 0xf8, 0x3f]);
    const w = new AvroWriter();
    const doubles = [Number.NaN, Infinity, -Infinity, -0, Number.MIN_VALUE, Number.MAX_VALUE];
    for (const d of doubles) w.writeDouble(d);
    w.writeFloat(-0);
    w.writeFloat(Number.NaN);
    const r = new AvroReader(w.toBytes());
    for (const d of doubles) expect(Object.is(r.readDouble(), d)).toBe(true);
    expect(Object.is(r.readFloat(), -0)).toBe(true);
    expect(r.readFloat()).toBeNaN();
  });

  it('writes length-prefixed UTF-8 on both sides of the short-string path', () => {
    expect(bytesOf((w) => w.writeString(''))).toEqual([0x00]);
    expect(bytesOf((w) => w.writeString('é'))).toEqual([0x04, 0xc3, 0xa9]);
    const string = avscType('string');
    const samples = ['a'.repeat(63), 'a'.repeat(64), '€'.repeat(21), '€'.repeat(22), 'zürich 🚀', 'x'.repeat(5000), '\u0000nul'];
    for (const s of samples) {
      const bytes = bytesOf((w) => w.writeString(s));
      expect(bytes, s.slice(0, 10)).toEqual([...string.toBuffer(s)]);
      expect(new AvroReader(Uint8Array.from(bytes)).readString()).toBe(s);
    }
  });

  it('writes bytes with a length and fixed without, and reads copies', () => {
    const data = Uint8Array.of(0, 1, 0, 255);
    expect(bytesOf((w) => w.writeBytes(data))).toEqual([0x08, 0, 1, 0, 255]);
    expect(bytesOf((w) => w.writeFixed(data))).toEqual([0, 1, 0, 255]);
    const source = Uint8Array.of(0x08, 0, 1, 0, 255, 9, 9);
    const r = new AvroReader(source);
    const read = r.readBytes();
    expect(read).toEqual(data);
    source[1] = 7;
    expect(read[0]).toBe(0);
    expect(r.readFixed(2)).toEqual(Uint8Array.of(9, 9));
    expect(() => r.readFixed(1)).toThrow(/needs 1 bytes/);
  });

  it('grows its buffer across many writes', () => {
    const w = new AvroWriter(16);
    for (let i = 0; i < 10_000; i++) w.writeLong(BigInt(i) * 1_000_000_007n);
    const r = new AvroReader(w.toBytes());
    for (let i = 0; i < 10_000; i++) expect(r.readLong()).toBe(BigInt(i) * 1_000_000_007n);
    expect(r.atEnd).toBe(true);
  });
});
