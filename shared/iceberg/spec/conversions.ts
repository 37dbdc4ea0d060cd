/** Single-value binary serialisation (spec Appendix D), used for column bounds and partition summaries. */
import { type PrimitiveType, decimalParams, fixedLength, primitiveKind } from './types';
import { type Value, uuidFromBytes, uuidToBytes } from './values';

/** Serialises one non-null primitive value as the spec's single-value bytes. */
export function serializeValue(type: PrimitiveType, value: Value): Uint8Array {
  const kind = primitiveKind(type);
  switch (kind) {
    case 'boolean':
      return Uint8Array.of(value ? 1 : 0);
    case 'int':
    case 'date': {
      const out = Buffer.alloc(4);
      out.writeInt32LE(value as number);
      return out;
    }
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const out = Buffer.alloc(8);
      out.writeBigInt64LE(BigInt(value as bigint | number));
      return out;
    }
    case 'float': {
      const out = Buffer.alloc(4);
      out.writeFloatLE(value as number);
      return out;
    }
    case 'double': {
      const out = Buffer.alloc(8);
      out.writeDoubleLE(value as number);
      return out;
    }
    case 'string':
      return Buffer.from(value as string, 'utf8');
    case 'uuid':
      return uuidToBytes(value as string);
    case 'fixed':
    case 'binary':
      return Uint8Array.from(value as Uint8Array);
    case 'decimal':
      return decimalToBytes(BigInt(value as bigint | number));
  }
}

/** Reads the spec's single-value bytes back into a value. */
export function deserializeValue(type: PrimitiveType, bytes: Uint8Array): Value {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = primitiveKind(type);
  switch (kind) {
    case 'boolean':
      return buf.length > 0 && buf[0] !== 0;
    case 'int':
    case 'date':
      return buf.readInt32LE(0);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      // Java writes 4-byte bounds for long columns promoted from int; accept both widths.
      return buf.length === 4 ? BigInt(buf.readInt32LE(0)) : buf.readBigInt64LE(0);
    case 'float':
      return buf.readFloatLE(0);
    case 'double':
      return buf.length === 4 ? buf.readFloatLE(0) : buf.readDoubleLE(0);
    case 'string':
      return buf.toString('utf8');
    case 'uuid':
      return uuidFromBytes(buf);
    case 'fixed': {
      const length = fixedLength(type)!;
      if (buf.length !== length) throw new TypeError(`${type} value has ${buf.length} bytes`);
      return Uint8Array.from(buf);
    }
    case 'binary':
      return Uint8Array.from(buf);
    case 'decimal':
      if (!decimalParams(type)) throw new TypeError(`invalid decimal type ${type}`);
      return decimalFromBytes(buf);
  }
}

/** Minimal big-endian two's-complement bytes of an integer (0n -> [0x00]). */
export function decimalToBytes(unscaled: bigint): Uint8Array {
  let bytes = 1;
  // Smallest n with -2^(8n-1) <= v < 2^(8n-1).
  while (unscaled >= 1n << BigInt(8 * bytes - 1) || unscaled < -(1n << BigInt(8 * bytes - 1))) bytes++;
  return toTwosComplement(unscaled, bytes);
}

/** Big-endian two's-complement bytes of an integer in exactly `length` bytes (sign-extended); throws if it does not fit. */
export function toTwosComplement(value: bigint, length: number): Uint8Array {
  const limit = 1n << BigInt(8 * length - 1);
  if (value >= limit || value < -limit) throw new RangeError(`${value} does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  let v = BigInt.asUintN(8 * length, value);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Integer value of big-endian two's-complement bytes. */
export function decimalFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return BigInt.asIntN(8 * bytes.length, v);
}

/** Fewest bytes a fixed-width decimal of this precision needs (spec: "Decimal ... minimum number of bytes"). */
export function decimalRequiredBytes(precision: number): number {
  let bytes = 1;
  const max = 10n ** BigInt(precision) - 1n;
  while (max >= 1n << BigInt(8 * bytes - 1)) bytes++;
  return bytes;
}
