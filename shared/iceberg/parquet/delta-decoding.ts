/**
 * Decoders for the encodings other writers use in v2 data pages (parquet-format Encodings.md):
 * DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT. We never write them;
 * reading them lets the verifier read files written by other engines.
 */
import { ValidationError } from '../../errors';

/** A byte range of one value inside `bytes`. */
export interface ByteRange {
  bytes: Uint8Array;
  start: number;
  end: number;
}

function uleb(buf: Uint8Array, at: { pos: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[at.pos++];
    if (b === undefined) throw new ValidationError('delta encoding: data ends inside a varint');
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return result;
    shift += 7n;
    if (shift > 70n) throw new ValidationError('delta encoding: varint too long');
  }
}

function zigzag(v: bigint): bigint {
  return (v >> 1n) ^ -(v & 1n);
}

/** Reads `width` bits (LSB first) starting at bit `bit` of `buf`. */
function bitsAt(buf: Uint8Array, bit: number, width: number): bigint {
  let value = 0n;
  for (let taken = 0; taken < width;) {
    const byte = buf[bit >> 3];
    if (byte === undefined) throw new ValidationError('delta encoding: miniblock runs past the data');
    const offset = bit & 7;
    const n = Math.min(8 - offset, width - taken);
    value |= BigInt((byte >> offset) & ((1 << n) - 1)) << BigInt(taken);
    taken += n;
    bit += n;
  }
  return value;
}

/**
 * Decodes DELTA_BINARY_PACKED integers of `bits` (32 or 64) width, wrapping like the writer's arithmetic;
 * returns them with the position after the encoded block.
 */
export function decodeDeltaBinaryPacked(buf: Uint8Array, pos: number, bits: 32 | 64): { values: bigint[]; end: number } {
  const at = { pos };
  const blockSize = Number(uleb(buf, at));
  const miniblocks = Number(uleb(buf, at));
  const total = Number(uleb(buf, at));
  let previous = zigzag(uleb(buf, at));
  if (miniblocks === 0 || blockSize % miniblocks !== 0 || (blockSize / miniblocks) % 8 !== 0) {
    throw new ValidationError(`delta encoding: invalid block of ${blockSize} values in ${miniblocks} miniblocks`);
  }
  const perMiniblock = blockSize / miniblocks;
  const wrap = (v: bigint): bigint => BigInt.asIntN(bits, v);
  const values: bigint[] = total > 0 ? [wrap(previous)] : [];
  while (values.length < total) {
    const minDelta = zigzag(uleb(buf, at));
    const widths = buf.subarray(at.pos, at.pos + miniblocks);
    at.pos += miniblocks;
    for (let m = 0; m < miniblocks && values.length < total; m++) {
      const width = widths[m]!;
      let bit = at.pos * 8;
      for (let i = 0; i < perMiniblock; i++, bit += width) {
        if (values.length < total) {
          previous = wrap(previous + minDelta + (width === 0 ? 0n : bitsAt(buf, bit, width)));
          values.push(previous);
        }
      }
      // Every miniblock that holds values is stored whole, padding included.
      at.pos += (perMiniblock * width) / 8;
    }
  }
  return { values, end: at.pos };
}

/** Decodes `n` DELTA_LENGTH_BYTE_ARRAY values into ranges of `buf`. */
export function decodeDeltaLengthByteArray(buf: Uint8Array, pos: number, n: number): ByteRange[] {
  const { values: lengths, end } = decodeDeltaBinaryPacked(buf, pos, 32);
  if (lengths.length < n) throw new ValidationError(`delta length byte array holds ${lengths.length} of ${n} values`);
  const out = new Array<ByteRange>(n);
  let start = end;
  for (let i = 0; i < n; i++) {
    const length = Number(lengths[i]!);
    if (length < 0 || start + length > buf.length) throw new ValidationError('delta length byte array runs past the page');
    out[i] = { bytes: buf, start, end: start + length };
    start += length;
  }
  return out;
}

/** Decodes `n` DELTA_BYTE_ARRAY (incremental prefix) values; each is rebuilt into its own bytes. */
export function decodeDeltaByteArray(buf: Uint8Array, pos: number, n: number): ByteRange[] {
  const { values: prefixes, end } = decodeDeltaBinaryPacked(buf, pos, 32);
  const suffixes = decodeDeltaLengthByteArray(buf, end, n);
  const out = new Array<ByteRange>(n);
  let previous = new Uint8Array(0);
  for (let i = 0; i < n; i++) {
    const prefix = Number(prefixes[i]!);
    const suffix = suffixes[i]!;
    if (prefix < 0 || prefix > previous.length) throw new ValidationError('delta byte array prefix is longer than the previous value');
    const value = new Uint8Array(prefix + suffix.end - suffix.start);
    value.set(previous.subarray(0, prefix), 0);
    value.set(buf.subarray(suffix.start, suffix.end), prefix);
    out[i] = { bytes: value, start: 0, end: value.length };
    previous = value;
  }
  return out;
}

/** Reassembles BYTE_STREAM_SPLIT data (`width` byte streams of `n` values) into PLAIN order. */
export function unsplitByteStreams(buf: Uint8Array, pos: number, n: number, width: number): Uint8Array {
  if (pos + n * width > buf.length) throw new ValidationError('byte stream split data runs past the page');
  const out = new Uint8Array(n * width);
  for (let stream = 0; stream < width; stream++) {
    const base = pos + stream * n;
    for (let i = 0; i < n; i++) out[i * width + stream] = buf[base + i]!;
  }
  return out;
}
