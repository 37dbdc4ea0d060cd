/**
 * A column's table of the texts it has already decoded, keyed by their UTF-8 bytes. Database text repeats
 * (statuses, codes, tags, JSON documents of few shapes): a repeat is found by hashing and comparing its bytes where
 * COPY left them, and comes back as the entry made the first time (an InternedText: the bytes and the string), so
 * no string is decoded or allocated again, and the Parquet writer finds the entry's dictionary index on the entry.
 *
 * The table holds as many bytes as the writer's dictionary does (MAX_DICTIONARY_BYTES). When it is full it starts
 * over if at least half of the lookups since it last started found their text; otherwise the column's texts do not
 * repeat enough to pay for the lookups, and the column's texts are decoded every time from then on.
 */
import { InternedText } from '../iceberg/parquet/interned-text';
import { MAX_DICTIONARY_BYTES } from '../iceberg/parquet/string-column';

/** Texts longer than this many bytes are not looked up: hashing and comparing them costs as much as decoding. */
export const MAX_INTERNED_BYTES = 256;
const INITIAL_ENTRIES = 256;

export class TextInterner {
  /** Open-addressed slots holding entry index + 1 (0: empty); twice as many as there can be entries. */
  private slots = new Int32Array(INITIAL_ENTRIES * 2);
  private hashes = new Int32Array(INITIAL_ENTRIES);
  private lengths = new Int32Array(INITIAL_ENTRIES);
  /** Entry i's bytes as little-endian 32-bit words (the last one zero-padded) are words[starts[i], starts[i + 1]). */
  private starts = new Int32Array(INITIAL_ENTRIES + 1);
  private words = new Int32Array(16 * 1024);
  private entries: InternedText[] = [];
  private bytes = 0;
  private lookups = 0;
  private hits = 0;
  private enabled = true;

  constructor(private readonly capacityBytes = MAX_DICTIONARY_BYTES) {}

  /** The entry of the UTF-8 text `buf[pos, end)`, made on first sight; undefined for a text this table does not keep. */
  lookup(buf: Buffer, pos: number, end: number): InternedText | undefined {
    const length = end - pos;
    if (!this.enabled || length > MAX_INTERNED_BYTES) return undefined;
    const hash = textHash(buf, pos, end);
    this.lookups++;
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = hash & mask;
    for (let entry = slots[slot]!; entry !== 0; entry = slots[slot]!) {
      const index = entry - 1;
      if (this.hashes[index] === hash && this.lengths[index] === length && this.sameBytes(index, buf, pos, end)) {
        this.hits++;
        return this.entries[index];
      }
      slot = (slot + 1) & mask;
    }
    return this.add(buf, pos, end, hash, slot);
  }

  private sameBytes(index: number, buf: Buffer, pos: number, end: number): boolean {
    const words = this.words;
    let w = this.starts[index]!;
    let i = pos;
    for (const stop = end - 3; i < stop; i += 4, w++) {
      if ((buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) !== words[w]) return false;
    }
    if (i === end) return true;
    let last = 0;
    for (let shift = 0; i < end; i++, shift += 8) last |= buf[i]! << shift;
    return last === words[w];
  }

  private add(buf: Buffer, pos: number, end: number, hash: number, slot: number): InternedText {
    const text = InternedText.copyOf(buf, pos, end, buf.toString('utf8', pos, end));
    const length = end - pos;
    if (this.bytes + length > this.capacityBytes) {
      const repeating = 2 * this.hits >= this.lookups;
      this.clear();
      if (!repeating) {
        this.enabled = false;
        return text;
      }
      slot = hash & (this.slots.length - 1);
    } else if (this.entries.length === this.hashes.length) {
      this.grow();
      slot = this.freeSlot(hash);
    }
    const index = this.entries.length;
    const start = this.starts[index]!;
    const count = (length + 3) >>> 2;
    if (start + count > this.words.length) {
      const words = new Int32Array(Math.max(this.words.length * 2, start + count));
      words.set(this.words.subarray(0, start));
      this.words = words;
    }
    for (let w = 0; w < count; w++) {
      let word = 0;
      for (let b = 0, i = pos + 4 * w; b < 4 && i < end; b++, i++) word |= buf[i]! << (8 * b);
      this.words[start + w] = word;
    }
    this.starts[index + 1] = start + count;
    this.entries.push(text);
    this.hashes[index] = hash;
    this.lengths[index] = length;
    this.slots[slot] = index + 1;
    this.bytes += length;
    return text;
  }

  private freeSlot(hash: number): number {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    return slot;
  }

  private grow(): void {
    const entries = this.hashes.length * 2;
    this.hashes = resized(this.hashes, entries);
    this.lengths = resized(this.lengths, entries);
    this.starts = resized(this.starts, entries + 1);
    this.slots = new Int32Array(entries * 2);
    for (let index = 0; index < this.entries.length; index++) this.slots[this.freeSlot(this.hashes[index]!)] = index + 1;
  }

  private clear(): void {
    this.slots.fill(0);
    this.entries = [];
    this.bytes = 0;
    this.lookups = 0;
    this.hits = 0;
  }
}

/** The table's hash of the bytes `buf[pos, end)`: four bytes a step, then the last one to three. */
export function textHash(buf: Uint8Array, pos: number, end: number): number {
  let hash = end - pos;
  let i = pos;
  for (const stop = end - 3; i < stop; i += 4) {
    hash = Math.imul(hash ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)), 0x5bd1e995);
    hash ^= hash >>> 15;
  }
  for (; i < end; i++) hash = Math.imul(hash ^ buf[i]!, 0x5bd1e995);
  hash = Math.imul(hash ^ (hash >>> 13), 0x2c1b3c6d);
  return hash ^ (hash >>> 16);
}

function resized(array: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(length);
  next.set(array);
  return next;
}
