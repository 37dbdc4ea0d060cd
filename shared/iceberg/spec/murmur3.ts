/**
 * Murmur3 x86 32-bit hash with seed 0, the hash behind the bucket transform (spec "Bucket Transform Details" and
 * "Appendix B: 32-bit Hash Requirements"). Results are signed 32-bit integers, as Java's `int`.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Murmur3 x86 32-bit (seed 0) of a byte string, as a signed int32. */
export function murmur3Hash32(bytes: Uint8Array): number {
  const length = bytes.length;
  const blocks = length & ~3;
  let h = 0;
  for (let i = 0; i < blocks; i += 4) {
    h = mixH(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  const tail = length & 3;
  if (tail > 0) {
    let k = bytes[blocks]!;
    if (tail > 1) k ^= bytes[blocks + 1]! << 8;
    if (tail > 2) k ^= bytes[blocks + 2]! << 16;
    h ^= mixK(k);
  }
  return finish(h, length);
}

/** Hash of a byte string (spec `hashBytes`). */
export function hashBytes(bytes: Uint8Array): number {
  return murmur3Hash32(bytes);
}

/**
 * Hash of a 64-bit integer as its 8 little-endian bytes (spec `hashLong`). Works on the two 32-bit words directly
 * because bucketing runs once per row.
 */
export function hashLong(value: bigint | number): number {
  const v = BigInt.asUintN(64, BigInt(value));
  const low = Number(v & 0xffffffffn) | 0;
  const high = Number(v >> 32n) | 0;
  return finish(mixH(mixH(0, low), high), 8);
}

/** Hash of a 32-bit integer; the spec hashes ints as longs so that promoting int to long keeps bucket values. */
export function hashInt(value: number): number {
  return hashLong(value);
}

const doubleView = new DataView(new ArrayBuffer(8));

/**
 * Hash of a double (spec `hashLong(doubleToLongBits(v))`) with NaN and -0.0 canonicalised as the spec requires.
 * Floats are hashed as the same value widened to double. Not used by any transform today; kept for the spec's table.
 */
export function hashDouble(value: number): number {
  if (Number.isNaN(value)) return hashLong(0x7ff8000000000000n);
  doubleView.setFloat64(0, value === 0 ? 0 : value, true);
  return hashLong(doubleView.getBigUint64(0, true));
}
