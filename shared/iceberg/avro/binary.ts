/**
 * Avro binary encoding (Avro specification, "Binary Encoding"): zigzag varints, little-endian IEEE floats,
 * length-prefixed bytes and strings, fixed bytes.
 */
import { IcebridgeError, ValidationError } from '../../errors';

const MIN_LONG = -(1n << 63n);
const MAX_LONG = (1n << 63n) - 1n;
const MASK_64 = (1n << 64n) - 1n;
/** Below this magnitude the doubled (zigzag) value is still an exact double, so plain arithmetic is safe. */
const FAST_LONG_LIMIT = 2 ** 52;

/** A file or buffer that does not follow the Avro encoding. */
export function corruptAvro(message: string): IcebridgeError {
  return new IcebridgeError('INVALID_AVRO', `invalid Avro data: ${message}`);
}

/** A plain Uint8Array copy (not a Buffer), so callers compare and store it like any other byte array. */
function copyOf(buf: Buffer, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(buf.subarray(start, end));
  return out;
}

/** Appends Avro-encoded values to a buffer that grows as needed. */
export class AvroWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialCapacity = 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialCapacity));
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.pos;
  }

  private ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Writes a boolean as one byte. */
  writeBoolean(value: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  /** Writes a 32-bit signed integer as a zigzag varint. */
  writeInt(value: number): void {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new ValidationError(`${String(value)} is not a 32-bit integer`);
    }
    this.ensure(5);
    let n = ((value << 1) ^ (value >> 31)) >>> 0;
    while (n > 0x7f) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  /** Writes a 64-bit signed integer as a zigzag varint; numbers must be safe integers. */
  writeLong(value: bigint | number): void {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new ValidationError(`${String(value)} is not a safe integer for a long`);
      if (value > -FAST_LONG_LIMIT && value < FAST_LONG_LIMIT) {
        this.writeSmallLong(value);
        return;
      }
      value = BigInt(value);
    } else if (typeof value !== 'bigint') {
      throw new ValidationError(`${String(value)} is not a long`);
    }
    if (value > -BigInt(FAST_LONG_LIMIT) && value < BigInt(FAST_LONG_LIMIT)) {
      this.writeSmallLong(Number(value));
      return;
    }
    if (value < MIN_LONG || value > MAX_LONG) throw new ValidationError(`${value} is outside the 64-bit range`);
    this.ensure(10);
    let n = ((value << 1n) ^ (value >> 63n)) & MASK_64;
    while (n > 0x7fn) {
      this.buf[this.pos++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    this.buf[this.pos++] = Number(n);
  }

  private writeSmallLong(value: number): void {
    this.ensure(10);
    let n = value >= 0 ? value * 2 : -value * 2 - 1;
    while (n > 0x7f) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  /** Writes an IEEE 754 single, little-endian. */
  writeFloat(value: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(value, this.pos);
    this.pos += 4;
  }

  /** Writes an IEEE 754 double, little-endian. */
  writeDouble(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** Writes a length-prefixed byte string. */
  writeBytes(value: Uint8Array): void {
    this.writeLong(value.length);
    this.writeFixed(value);
  }

  /** Writes a length-prefixed UTF-8 string. */
  writeString(value: string): void {
    // UTF-8 never needs more than three bytes per UTF-16 unit, so one reservation covers prefix and body.
    const max = value.length * 3;
    this.ensure(max + 10);
    if (max < 0x40) {
      const start = this.pos++;
      const written = this.buf.write(value, this.pos, 'utf8');
      this.buf[start] = written * 2;
      this.pos += written;
      return;
    }
    const length = Buffer.byteLength(value, 'utf8');
    this.writeLong(length);
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }

  /** Writes bytes with no length prefix (Avro fixed, or raw container parts). */
  writeFixed(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return copyOf(this.buf, 0, this.pos);
  }

  /** A view of the bytes written so far, valid until the next write or reset. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Forgets the written bytes, keeping the allocation. */
  reset(): void {
    this.pos = 0;
  }
}

/** Reads Avro-encoded values from a byte array, checking every read against its end. */
export class AvroReader {
  private readonly buf: Buffer;
  /** Offset of the next byte to read. */
  pos: number;

  constructor(bytes: Uint8Array, offset = 0) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = offset;
  }

  /** Total number of bytes in the underlying array. */
  get length(): number {
    return this.buf.length;
  }

  /** True when every byte has been read. */
  get atEnd(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw corruptAvro(`needs ${n} bytes at offset ${this.pos} but only ${this.buf.length - this.pos} remain`);
    }
  }

  /** Reads a one-byte boolean. */
  readBoolean(): boolean {
    this.need(1);
    const b = this.buf[this.pos++]!;
    if (b > 1) throw corruptAvro(`boolean byte ${b} at offset ${this.pos - 1}`);
    return b === 1;
  }

  /** Reads a zigzag varint int, rejecting values outside 32 bits. */
  readInt(): number {
    let n = 0;
    let shift = 0;
    for (;;) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 28) throw corruptAvro(`int varint longer than 5 bytes at offset ${this.pos}`);
    }
    if (n > 0xffffffff) throw corruptAvro(`int out of range at offset ${this.pos}`);
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  /** Reads a zigzag varint long exactly. */
  readLong(): bigint {
    let n = 0;
    let shift = 0;
    const start = this.pos;
    for (;;) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return BigInt(n % 2 === 0 ? n / 2 : -(n + 1) / 2);
      shift += 7;
      // After 49 bits a further byte could overflow the double's mantissa, so finish with bigint.
      if (shift >= 49) return this.readLongSlow(start);
    }
  }

  /** Reads a long known to be small enough for a double, as a number; throws when it is not. */
  readLongAsNumber(): number {
    const value = this.readLong();
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw corruptAvro(`long ${value} is too large for this field`);
    return n;
  }

  private readLongSlow(start: number): bigint {
    this.pos = start;
    let n = 0n;
    let shift = 0n;
    for (;;) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      n |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7n;
      if (shift > 63n) throw corruptAvro(`long varint longer than 10 bytes at offset ${this.pos}`);
    }
    if (n > MASK_64) throw corruptAvro(`long out of range at offset ${this.pos}`);
    return (n >> 1n) ^ -(n & 1n);
  }

  /** Reads an IEEE 754 single, little-endian. */
  readFloat(): number {
    this.need(4);
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Reads an IEEE 754 double, little-endian. */
  readDouble(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  private readLength(): number {
    const length = this.readLong();
    if (length < 0n || length > BigInt(this.buf.length - this.pos)) {
      throw corruptAvro(`length ${length} at offset ${this.pos} exceeds the remaining data`);
    }
    return Number(length);
  }

  /** Reads a length-prefixed byte string (a copy, so it outlives the source buffer). */
  readBytes(): Uint8Array {
    return this.readFixed(this.readLength());
  }

  /** Reads a length-prefixed UTF-8 string. */
  readString(): string {
    const length = this.readLength();
    const value = this.buf.toString('utf8', this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  /** Reads `size` bytes with no prefix (a copy). */
  readFixed(size: number): Uint8Array {
    this.need(size);
    const out = copyOf(this.buf, this.pos, this.pos + size);
    this.pos += size;
    return out;
  }

  /** A view of the next `size` bytes without copying. */
  readView(size: number): Uint8Array {
    this.need(size);
    const out = this.buf.subarray(this.pos, this.pos + size);
    this.pos += size;
    return out;
  }
}
