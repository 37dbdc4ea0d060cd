/**
 * The RLE / bit-packing hybrid encoding (parquet-format Encodings.md, "RLE"), used for repetition and definition
 * levels and for dictionary indices, plus PLAIN boolean bit packing.
 */
import type { ByteBuffer } from './byte-buffer';

/** Bits needed to store values up to `maxValue` (0 for 0). */
export function bitWidth(maxValue: number): number {
  return maxValue === 0 ? 0 : 32 - Math.clz32(maxValue);
}

/** Minimum repeat count worth an RLE run; shorter runs are cheaper bit-packed. */
const MIN_RLE_RUN = 8;

/** Appends `values[0..count)` in hybrid form, without the length prefix. */
export function encodeHybrid(values: Uint8Array | Uint32Array, count: number, width: number, out: ByteBuffer): void {
  if (count === 0) return;
  const valueBytes = (width + 7) >> 3;
  let i = 0;
  while (i < count) {
    const v = values[i]!;
    let j = i + 1;
    while (j < count && values[j] === v) j++;
    if (j - i >= MIN_RLE_RUN) {
      out.varint((j - i) * 2);
      writeRleValue(out, v, valueBytes);
      i = j;
      continue;
    }
    // Bit-pack whole groups of 8 until a long run starts at a group boundary.
    const start = i;
    let end = i + 8;
    while (end < count) {
      const u = values[end]!;
      let k = end + 1;
      const limit = Math.min(count, end + MIN_RLE_RUN);
      while (k < limit && values[k] === u) k++;
      if (k - end >= MIN_RLE_RUN) break;
      end += 8;
    }
    const groups = (end - start) >> 3;
    out.varint(groups * 2 + 1);
    packBits(values, start, Math.min(end, count), groups * 8, width, out);
    i = end;
  }
}

function writeRleValue(out: ByteBuffer, v: number, bytes: number): void {
  for (let b = 0; b < bytes; b++) {
    out.u8(v & 0xff);
    v >>>= 8;
  }
}

/** Packs `values[from..to)` LSB first at `width` bits, zero-padded to `slots` values. */
function packBits(values: Uint8Array | Uint32Array, from: number, to: number, slots: number, width: number, out: ByteBuffer): void {
  out.ensure(Math.ceil((slots * width) / 8));
  const buf = out.buf;
  let pos = out.pos;
  if (width <= 24) {
    let acc = 0;
    let bits = 0;
    for (let s = 0; s < slots; s++) {
      const idx = from + s;
      acc |= (idx < to ? values[idx]! : 0) << bits;
      bits += width;
      while (bits >= 8) {
        buf[pos++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
    if (bits > 0) buf[pos++] = acc & 0xff;
  } else {
    // Wide values: plain arithmetic keeps up to 40 pending bits exact.
    let acc = 0;
    let scale = 1;
    let bits = 0;
    for (let s = 0; s < slots; s++) {
      const idx = from + s;
      acc += (idx < to ? values[idx]! : 0) * scale;
      bits += width;
      scale *= 2 ** width;
      while (bits >= 8) {
        buf[pos++] = acc % 256;
        acc = Math.floor(acc / 256);
        scale /= 256;
        bits -= 8;
      }
    }
    if (bits > 0) buf[pos++] = acc % 256;
  }
  out.pos = pos;
}

/** Appends `count` booleans (0/1 bytes) bit-packed LSB first, as PLAIN encodes BOOLEAN. */
export function packBooleans(values: Uint8Array, count: number, out: ByteBuffer): void {
  const bytes = (count + 7) >> 3;
  out.ensure(bytes);
  const buf = out.buf;
  const base = out.pos;
  buf.fill(0, base, base + bytes);
  for (let i = 0; i < count; i++) if (values[i]) buf[base + (i >> 3)]! |= 1 << (i & 7);
  out.pos = base + bytes;
}

/**
 * Decodes `count` hybrid-encoded values from `buf[pos..end)` into `out[0..count)`; returns the position after
 * the last run read.
 */
export function decodeHybrid(buf: Uint8Array, pos: number, end: number, width: number, count: number, out: Uint8Array | Uint32Array): number {
  const valueBytes = (width + 7) >> 3;
  let n = 0;
  while (n < count) {
    if (pos >= end) throw new RangeError(`hybrid-encoded data ends after ${n} of ${count} values`);
    let header = 0;
    let scale = 1;
    for (;;) {
      const b = buf[pos++]!;
      header += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 128;
    }
    if (header % 2 === 0) {
      const run = header / 2;
      let v = 0;
      for (let b = 0; b < valueBytes; b++) v += buf[pos++]! * 2 ** (8 * b);
      const stop = Math.min(count, n + run);
      out.fill(v, n, stop);
      n = stop;
    } else {
      const slots = ((header - 1) / 2) * 8;
      const byteLength = (slots * width) / 8;
      if (pos + byteLength > end) throw new RangeError('bit-packed run runs past the end of its data');
      const stop = Math.min(count, n + slots);
      unpackBits(buf, pos, width, out, n, stop);
      n = stop;
      pos += byteLength;
    }
  }
  return pos;
}

function unpackBits(buf: Uint8Array, pos: number, width: number, out: Uint8Array | Uint32Array, from: number, to: number): void {
  if (width === 0) {
    out.fill(0, from, to);
    return;
  }
  if (width <= 24) {
    const mask = (1 << width) - 1;
    let acc = 0;
    let bits = 0;
    for (let i = from; i < to; i++) {
      while (bits < width) {
        acc |= buf[pos++]! << bits;
        bits += 8;
      }
      out[i] = acc & mask;
      acc >>>= width;
      bits -= width;
    }
    return;
  }
  let bitPos = pos * 8;
  for (let i = from; i < to; i++) {
    let v = 0;
    for (let b = 0; b < width; b++, bitPos++) {
      if (buf[bitPos >> 3]! & (1 << (bitPos & 7))) v += 2 ** b;
    }
    out[i] = v;
  }
}

/** Unpacks `count` PLAIN booleans starting at `pos`. */
export function unpackBooleans(buf: Uint8Array, pos: number, count: number): boolean[] {
  const out = new Array<boolean>(count);
  for (let i = 0; i < count; i++) out[i] = (buf[pos + (i >> 3)]! & (1 << (i & 7))) !== 0;
  return out;
}
