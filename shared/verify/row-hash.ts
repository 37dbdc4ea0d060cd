/**
 * PostgreSQL's hashtextextended in JavaScript: the row hash and bucket function of canonical.ts, computed on
 * both sides (PostgreSQL in SQL, this port for the Iceberg rows). Results land in HASHED, so no array or BigInt
 * is made per row.
 */

/** hashBytes of the UTF-8 bytes of `text`, with a seed below 2^32. */
export function hashText(text: string, seed: number): void {
  if (text.length * 3 > HASH_INPUT.length) HASH_INPUT = new Uint8Array(text.length * 3 + 64);
  hashBytes(HASH_INPUT, UTF8.encodeInto(text, HASH_INPUT).written, 0, seed);
}

/**
 * PostgreSQL's hash_bytes_extended (src/common/hashfn.c: Bob Jenkins' lookup3, 2006, public domain) of the
 * first `length` bytes of `k` with the 64-bit seed seedHi * 2^32 + seedLo (both unsigned 32-bit words), as
 * hashtextextended computes it on a little-endian server. The result is left in HASHED (high word, low word)
 * so no array or BigInt is made per call.
 */
export function hashBytes(k: Uint8Array, length: number, seedHi: number, seedLo: number): void {
  let a = (0x9e3779b9 + length + 3923095) | 0;
  let b = a;
  let c = a;
  if (seedHi !== 0 || seedLo !== 0) {
    a = (a + seedHi) | 0;
    b = (b + seedLo) | 0;
    a = (a - c) ^ rot(c, 4); c = (c + b) | 0;
    b = (b - a) ^ rot(a, 6); a = (a + c) | 0;
    c = (c - b) ^ rot(b, 8); b = (b + a) | 0;
    a = (a - c) ^ rot(c, 16); c = (c + b) | 0;
    b = (b - a) ^ rot(a, 19); a = (a + c) | 0;
    c = (c - b) ^ rot(b, 4); b = (b + a) | 0;
  }
  let i = 0;
  let rest = length;
  while (rest >= 12) {
    a = (a + (k[i]! | (k[i + 1]! << 8) | (k[i + 2]! << 16) | (k[i + 3]! << 24))) | 0;
    b = (b + (k[i + 4]! | (k[i + 5]! << 8) | (k[i + 6]! << 16) | (k[i + 7]! << 24))) | 0;
    c = (c + (k[i + 8]! | (k[i + 9]! << 8) | (k[i + 10]! << 16) | (k[i + 11]! << 24))) | 0;
    a = (a - c) ^ rot(c, 4); c = (c + b) | 0;
    b = (b - a) ^ rot(a, 6); a = (a + c) | 0;
    c = (c - b) ^ rot(b, 8); b = (b + a) | 0;
    a = (a - c) ^ rot(c, 16); c = (c + b) | 0;
    b = (b - a) ^ rot(a, 19); a = (a + c) | 0;
    c = (c - b) ^ rot(b, 4); b = (b + a) | 0;
    i += 12;
    rest -= 12;
  }
  // The last 0-11 bytes, little-endian (lookup3's fall-through switch); the lowest byte of c stays free.
  if (rest >= 11) c = (c + (k[i + 10]! << 24)) | 0;
  if (rest >= 10) c = (c + (k[i + 9]! << 16)) | 0;
  if (rest >= 9) c = (c + (k[i + 8]! << 8)) | 0;
  if (rest >= 8) b = (b + (k[i + 7]! << 24)) | 0;
  if (rest >= 7) b = (b + (k[i + 6]! << 16)) | 0;
  if (rest >= 6) b = (b + (k[i + 5]! << 8)) | 0;
  if (rest >= 5) b = (b + k[i + 4]!) | 0;
  if (rest >= 4) a = (a + (k[i + 3]! << 24)) | 0;
  if (rest >= 3) a = (a + (k[i + 2]! << 16)) | 0;
  if (rest >= 2) a = (a + (k[i + 1]! << 8)) | 0;
  if (rest >= 1) a = (a + k[i]!) | 0;
  c = (c ^ b) - rot(b, 14); a = (a ^ c) - rot(c, 11); b = (b ^ a) - rot(a, 25);
  c = (c ^ b) - rot(b, 16); a = (a ^ c) - rot(c, 4); b = (b ^ a) - rot(a, 14);
  c = (c ^ b) - rot(b, 24);
  HASHED[0] = b >>> 0;
  HASHED[1] = c >>> 0;
}

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const UTF8 = new TextEncoder();
let HASH_INPUT = new Uint8Array(4096);
/** The last hashBytes result: high and low 32-bit words. */
export const HASHED = new Uint32Array(2);
