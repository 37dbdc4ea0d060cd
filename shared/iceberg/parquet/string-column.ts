/**
 * The string column writer. Each row group starts dictionary-encoded (RLE_DICTIONARY pages over a PLAIN
 * dictionary page), which for the low-cardinality text common in databases (statuses, codes, enum labels, JSON
 * with few shapes) shrinks pages several-fold and skips UTF-8 encoding and min/max comparison of repeated values.
 * When the dictionary stops paying off (its first page is no smaller than PLAIN would be) or grows past its size
 * limit, the column switches to PLAIN pages for good; pages already written keep their dictionary.
 */
import { compareStrings } from '../spec/compare';
import type { Value } from '../spec/values';
import { ByteBuffer } from './byte-buffer';
import { ColumnWriter, type PageContext } from './column-writer';
import { InternedText } from './interned-text';
import type { LeafColumn } from './parquet-schema';
import { Encoding, type PageHeader, PageType } from './parquet-thrift';
import { bitWidth, encodeHybrid } from './rle-hybrid';

/** Largest dictionary (PLAIN bytes) kept per column chunk, as parquet-mr's default dictionary page size. */
export const MAX_DICTIONARY_BYTES = 1024 * 1024;

type WellFormed = string & { isWellFormed(): boolean };

/**
 * Writes Iceberg strings as BYTE_ARRAY, dictionary-encoded while that pays off. Takes strings, or InternedText
 * entries (their bytes and text), whose repeats find their dictionary index on the entry.
 */
export class StringColumn extends ColumnWriter {
  /** Set once a non-ASCII string is seen; until then native comparison equals code point order. */
  private nonAscii = false;
  private dictionaryMode = true;
  /** Replaced, not cleared, with each dictionary page: InternedText entries name the dictionary their index is in. */
  private dictionary = new Map<string, number>();
  private readonly entries = new ByteBuffer(64 * 1024);
  /** PLAIN size (length prefix included) of each dictionary entry. */
  private entrySizes = new Uint32Array(1024);
  /** Dictionary indices of the current page's values. */
  private indices = new Uint32Array(1024);
  /** What the current page's values would take PLAIN-encoded. */
  private plainPageBytes = 0;
  private dictionaryPages = 0;

  constructor(
    leaf: LeafColumn,
    context: PageContext,
    pageSizeInBytes: number,
    private readonly maxDictionaryBytes = MAX_DICTIONARY_BYTES,
  ) {
    super(leaf, context, pageSizeInBytes);
  }

  put(v: Value): void {
    if (typeof v !== 'string') {
      if (!(v instanceof InternedText)) this.fail('expected a string', v);
      this.putInterned(v);
      return;
    }
    if (!this.dictionaryMode) {
      this.putPlain(v);
      return;
    }
    this.putIndex(this.dictionary.get(v) ?? this.addEntry(v));
  }

  /** A repeated text: its dictionary index is on the entry while this dictionary lasts. */
  private putInterned(v: InternedText): void {
    if (!this.dictionaryMode) {
      this.putPlain(v);
      return;
    }
    if (v.dictionary === this.dictionary) {
      this.putIndex(v.dictionaryIndex);
      return;
    }
    const index = this.dictionary.get(v.text) ?? this.addEntry(v);
    v.dictionary = this.dictionary;
    v.dictionaryIndex = index;
    this.putIndex(index);
  }

  private putIndex(index: number): void {
    const slot = this.valueCount;
    if (slot === this.indices.length) {
      const next = new Uint32Array(slot * 2);
      next.set(this.indices);
      this.indices = next;
    }
    this.indices[slot] = index;
    // `pos` sizes the page and the buffered bytes; four bytes per index is a safe over-estimate.
    this.pos += 4;
    this.plainPageBytes += this.entrySizes[index]!;
  }

  override pageFull(): boolean {
    return this.pos >= this.pageLimit || (this.dictionaryMode && this.entries.pos > this.maxDictionaryBytes);
  }

  private addEntry(v: string | InternedText): number {
    const index = this.dictionary.size;
    const start = this.entries.pos;
    this.entries.ensure(4 + v.length * 3);
    this.entries.pos = this.encodeUtf8(v, this.entries.buf, start);
    if (index === this.entrySizes.length) {
      const next = new Uint32Array(index * 2);
      next.set(this.entrySizes);
      this.entrySizes = next;
    }
    this.entrySizes[index] = this.entries.pos - start;
    const text = typeof v === 'string' ? v : v.text;
    this.dictionary.set(text, index);
    this.updateBounds(text);
    return index;
  }

  private putPlain(v: string | InternedText): void {
    this.ensure(4 + v.length * 3);
    this.pos = this.encodeUtf8(v, this.data, this.pos);
    this.updateBounds(typeof v === 'string' ? v : v.text);
  }

  /** Writes a length-prefixed UTF-8 string (an InternedText: its bytes) at `at`; returns the position after it. */
  private encodeUtf8(v: string | InternedText, buf: Buffer, at: number): number {
    if (typeof v !== 'string') {
      // PostgreSQL's UTF-8, copied: a text's UTF-8 is as long as its UTF-16 only when every character is ASCII.
      if (v.length !== v.text.length) this.nonAscii = true;
      buf.writeUInt32LE(v.length, at);
      buf.set(v, at + 4);
      return at + 4 + v.length;
    }
    const length = v.length;
    const start = at + 4;
    let written = 0;
    if (length <= 24) {
      // Short ASCII strings are cheaper to copy here than to hand to the native encoder.
      for (; written < length; written++) {
        const c = v.charCodeAt(written);
        if (c >= 0x80) break;
        buf[start + written] = c;
      }
    }
    if (written < length) {
      written = buf.write(v, start, 'utf8');
      if (written !== length) {
        // Only non-ASCII text can hold a lone surrogate, which UTF-8 would silently turn into U+FFFD.
        if (!(v as WellFormed).isWellFormed()) this.fail('contains an unpaired surrogate, which has no UTF-8 form', v);
        this.nonAscii = true;
      }
    }
    buf.writeUInt32LE(written, at);
    return start + written;
  }

  private updateBounds(v: string): void {
    if (!this.hasBounds) {
      this.min = v;
      this.max = v;
      this.hasBounds = true;
    } else if (this.nonAscii) {
      if (v !== this.min && compareStrings(v, this.min as string) < 0) this.min = v;
      else if (v !== this.max && compareStrings(v, this.max as string) > 0) this.max = v;
    } else if (v < (this.min as string)) this.min = v;
    else if (v > (this.max as string)) this.max = v;
  }

  protected override pageEncoding(): Encoding {
    return this.dictionaryMode ? Encoding.RLE_DICTIONARY : Encoding.PLAIN;
  }

  protected override encodeValues(out: ByteBuffer): void {
    if (!this.dictionaryMode) {
      super.encodeValues(out);
      return;
    }
    const width = bitWidth(Math.max(0, this.dictionary.size - 1));
    out.u8(width);
    encodeHybrid(this.indices, this.valueCount, width, out);
  }

  protected override afterPage(encoding: Encoding, valueBytes: number): void {
    if (encoding !== Encoding.RLE_DICTIONARY) return;
    this.dictionaryPages++;
    const notPaying = this.dictionaryPages === 1 && valueBytes + this.entries.pos >= this.plainPageBytes;
    if (notPaying || this.entries.pos > this.maxDictionaryBytes) this.dictionaryMode = false;
    this.plainPageBytes = 0;
  }

  protected override takeDictionaryPage(): { header: PageHeader; body: Buffer } | undefined {
    const pages = this.dictionaryPages;
    const count = this.dictionary.size;
    this.dictionaryPages = 0;
    this.dictionary = new Map<string, number>();
    const plain = this.entries.bytes();
    const body = pages === 0 ? undefined : this.context.compress(plain);
    this.entries.reset();
    if (body === undefined) return undefined;
    return {
      header: {
        type: PageType.DICTIONARY_PAGE,
        uncompressed_page_size: plain.length,
        compressed_page_size: body.length,
        dictionary_page_header: { num_values: count, encoding: Encoding.PLAIN },
      },
      body,
    };
  }

  protected override extraBufferedBytes(): number {
    return this.entries.pos;
  }
}
