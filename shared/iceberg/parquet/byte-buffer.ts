/** A growable byte buffer with little-endian and varint writers, reused across pages to avoid allocation. */

/** Growable output bytes; `bytes()` is a view that is invalidated by the next write or `reset()`. */
export class ByteBuffer {
  /** Backing storage; may be replaced when it grows. */
  buf: Buffer;
  /** DataView over `buf`, replaced together with it. */
  view: DataView;
  /** Bytes written so far. */
  pos = 0;

  constructor(initialCapacity = 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(this.pos + n);
  }

  private grow(needed: number): void {
    let capacity = this.buf.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** Forgets the content but keeps the capacity. */
  reset(): void {
    this.pos = 0;
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written so far, sized exactly. */
  copy(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  /** Appends one byte. */
  u8(value: number): void {
    if (this.pos + 1 > this.buf.length) this.grow(this.pos + 1);
    this.buf[this.pos++] = value;
  }

  /** Appends a little-endian 32-bit integer (signed or unsigned bit pattern). */
  u32le(value: number): void {
    if (this.pos + 4 > this.buf.length) this.grow(this.pos + 4);
    this.view.setUint32(this.pos, value >>> 0, true);
    this.pos += 4;
  }

  /** Appends raw bytes. */
  append(bytes: Uint8Array): void {
    if (this.pos + bytes.length > this.buf.length) this.grow(this.pos + bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Appends an unsigned LEB128 varint of a non-negative safe integer. */
  varint(value: number): void {
    if (this.pos + 10 > this.buf.length) this.grow(this.pos + 10);
    // Division instead of >>> keeps values above 2^32 exact.
    while (value >= 0x80) {
      this.buf[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.pos++] = value;
  }

  /** Overwrites a little-endian 32-bit integer at an earlier position (length prefixes). */
  patchU32le(at: number, value: number): void {
    this.view.setUint32(at, value >>> 0, true);
  }
}
