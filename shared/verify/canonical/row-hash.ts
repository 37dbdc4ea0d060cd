/**
 * PostgreSQL's hashtextextended in JavaScript: the canonical form's row hash and bucket function (README.md),
 * computed on both sides (PostgreSQL in SQL, this port for the Iceberg rows). Input is written into one scratch
 * buffer (scratch()) and hashed from there (hashScratch), 32-bit words at a time; results land in HASHED, so no
 * array or BigInt is made per hash.
 */

/** The last hash: high and low 32-bit words. */
export const HASHED = new Uint32Array(2);

// The scratch buffer as bytes and, over the same memory, as 32-bit words (it starts at offset 0, so a word
// read is aligned). Words are read in the machine's byte order; lookup3 as hashtextextended runs it reads
// little-endian, so a big-endian machine takes the byte-wise path.
let BYTES = Buffer.from(new ArrayBuffer(4096));
let WORDS = new Uint32Array(BYTES.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
/** The low 0-3 bytes of a word (a tail's last, partial word). */
const TAIL_MASKS = Int32Array.of(0, 0xff, 0xffff, 0xffffff);

/**
 * The scratch buffer, at least `bytes` long and 12 more, which hashScratch reads whole words of; a new one when
 * it grows, so callers write into the one returned.
 */
export function scratch(bytes: number): Buffer {
  if (bytes + 12 > BYTES.length) {
    BYTES = Buffer.from(new ArrayBuffer((bytes + 4096) & ~3));
    WORDS = new Uint32Array(BYTES.buffer);
  }
  return BYTES;
}

/** Writes a 32-bit value as its four little-endian bytes at the start of the scratch buffer; returns 4. */
export function writeWord(value: number): number {
  if (LITTLE_ENDIAN) WORDS[0] = value;
  else BYTES.writeInt32LE(value | 0, 0);
  return 4;
}

/** hashScratch of the UTF-8 bytes of `text`, with a seed below 2^32. */
export function hashText(text: string, seed: number): void {
  const bytes = scratch(text.length * 3);
  hashScratch(bytes.write(text, 0, 'utf8'), 0, seed);
}

/**
 * PostgreSQL's hash_bytes_extended (src/common/hashfn.c: Bob Jenkins' lookup3, 2006, public domain) of the
 * first `length` bytes of the scratch buffer with the 64-bit seed seedHi * 2^32 + seedLo (both unsigned
 * 32-bit words), as hashtextextended computes it on a little-endian server. The result is left in HASHED.
 * lookup3's mix step is written out where it is used, as the C code's macro is: this is the hot loop.
 */
export function hashScratch(length: number, seedHi: number, seedLo: number): void {
  const k = BYTES;
  let a = (0x9e3779b9 + length + 3923095) | 0;
  let b = a;
  let c = a;
  if (seedHi !== 0 || seedLo !== 0) {
    a = (a + seedHi) | 0;
    b = (b + seedLo) | 0;
    a = (a - c) ^ ((c << 4) | (c >>> 28));
    c = (c + b) | 0;
    b = (b - a) ^ ((a << 6) | (a >>> 26));
    a = (a + c) | 0;
    c = (c - b) ^ ((b << 8) | (b >>> 24));
    b = (b + a) | 0;
    a = (a - c) ^ ((c << 16) | (c >>> 16));
    c = (c + b) | 0;
    b = (b - a) ^ ((a << 19) | (a >>> 13));
    a = (a + c) | 0;
    c = (c - b) ^ ((b << 4) | (b >>> 28));
    b = (b + a) | 0;
  }
  let i = 0;
  let rest = length;
  while (rest >= 12) {
    if (LITTLE_ENDIAN) {
      const w = i >> 2;
      a = (a + WORDS[w]!) | 0;
      b = (b + WORDS[w + 1]!) | 0;
      c = (c + WORDS[w + 2]!) | 0;
    } else {
      a = (a + (k[i]! | (k[i + 1]! << 8) | (k[i + 2]! << 16) | (k[i + 3]! << 24))) | 0;
      b = (b + (k[i + 4]! | (k[i + 5]! << 8) | (k[i + 6]! << 16) | (k[i + 7]! << 24))) | 0;
      c = (c + (k[i + 8]! | (k[i + 9]! << 8) | (k[i + 10]! << 16) | (k[i + 11]! << 24))) | 0;
    }
    a = (a - c) ^ ((c << 4) | (c >>> 28));
    c = (c + b) | 0;
    b = (b - a) ^ ((a << 6) | (a >>> 26));
    a = (a + c) | 0;
    c = (c - b) ^ ((b << 8) | (b >>> 24));
    b = (b + a) | 0;
    a = (a - c) ^ ((c << 16) | (c >>> 16));
    c = (c + b) | 0;
    b = (b - a) ^ ((a << 19) | (a >>> 13));
    a = (a + c) | 0;
    c = (c - b) ^ ((b << 4) | (b >>> 28));
    b = (b + a) | 0;
    i += 12;
    rest -= 12;
  }
  // The last 0-11 bytes, little-endian (lookup3's fall-through switch); the lowest byte of c stays free.
  if (LITTLE_ENDIAN) {
    // Whole words, masked to the bytes that are the input's (the buffer has 12 bytes to spare past any input).
    const w = i >> 2;
    if (rest >= 8) {
      a = (a + WORDS[w]!) | 0;
      b = (b + WORDS[w + 1]!) | 0;
      c = (c + ((WORDS[w + 2]! & TAIL_MASKS[rest - 8]!) << 8)) | 0;
    } else if (rest >= 4) {
      a = (a + WORDS[w]!) | 0;
      b = (b + (WORDS[w + 1]! & TAIL_MASKS[rest - 4]!)) | 0;
    } else if (rest > 0) {
      a = (a + (WORDS[w]! & TAIL_MASKS[rest]!)) | 0;
    }
  } else {
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
  }
  c = (c ^ b) - ((b << 14) | (b >>> 18));
  a = (a ^ c) - ((c << 11) | (c >>> 21));
  b = (b ^ a) - ((a << 25) | (a >>> 7));
  c = (c ^ b) - ((b << 16) | (b >>> 16));
  a = (a ^ c) - ((c << 4) | (c >>> 28));
  b = (b ^ a) - ((a << 14) | (a >>> 18));
  c = (c ^ b) - ((b << 24) | (b >>> 8));
  HASHED[0] = b >>> 0;
  HASHED[1] = c >>> 0;
}
