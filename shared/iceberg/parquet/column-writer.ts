/**
 * One leaf column of the row group being built: levels and PLAIN-encoded values of the current page in reusable
 * buffers, finished pages compressed as soon as they fill, and running min/max/null/NaN statistics. The value
 * encoding itself lives in the per-type subclasses (value-columns.ts).
 */
import { SHOWN_CHARACTERS, boundedHex, quotedText } from '../../text/bounded-text';
import { ValidationError } from '../../errors';
import { type BytesVector, type ColumnVector, IN_ARRAY, NULL_FLAG, type NumberVector, OTHER, valueAt } from '../spec/column-batch';
import type { Row, Value } from '../spec/values';
import { ByteBuffer } from './byte-buffer';
import type { LeafColumn } from './parquet-schema';
import { Encoding, type PageHeader, PageType, writePageHeader } from './parquet-thrift';
import { bitWidth, encodeHybrid } from './rle-hybrid';

/** Shared per-writer machinery the columns use to finish pages. */
export interface PageContext {
  /** Returns an exactly sized compressed copy of `page`. */
  compress(page: Buffer): Buffer;
  /** Scratch for assembling an uncompressed page body. */
  body: ByteBuffer;
  /** Scratch for serialising a page header. */
  header: ByteBuffer;
}

/** Everything one column contributed to a finished row group. */
export interface ColumnChunkResult {
  /** Page headers and bodies, in file order (the dictionary page first when there is one). */
  pages: Buffer[];
  /** Bytes of the dictionary page (header included) at the start of `pages`; 0 without one. */
  dictionaryPageSize: number;
  /** Value encodings used by the data pages (levels are always RLE). */
  encodings: Encoding[];
  compressedSize: number;
  uncompressedSize: number;
  /** Level entries (values including nulls and empty/null lists). */
  numValues: number;
  nullCount: number;
  nanCount: number;
  /** Smallest and largest non-null, non-NaN value, or undefined when there is none. */
  min: Value | undefined;
  max: Value | undefined;
}

const INITIAL_LEVELS = 1024;
const INITIAL_DATA = 16 * 1024;

/** Base of every typed column writer. */
export abstract class ColumnWriter {
  readonly leaf: LeafColumn;
  readonly maxDef: number;
  readonly maxRep: number;
  readonly hasDef: boolean;
  readonly hasRep: boolean;

  /** Definition levels of the current page (unused when maxDef is 0). */
  defs: Uint8Array;
  /** Repetition levels of the current page (unused when maxRep is 0). */
  reps: Uint8Array;
  /** Level entries in the current page. */
  levelCount = 0;
  /** Non-null values in the current page. */
  valueCount = 0;

  /** PLAIN-encoded values of the current page. */
  data: Buffer;
  view: DataView;
  pos = 0;

  protected pages: Buffer[] = [];
  protected chunkCompressed = 0;
  protected chunkUncompressed = 0;
  protected chunkLevels = 0;
  protected chunkNulls = 0;

  /** Statistics of the row group so far; subclasses maintain min/max/hasBounds/nanCount in `put`. */
  hasBounds = false;
  min: Value = null;
  max: Value = null;
  nanCount = 0;

  /** Value bytes after which the current page is finished. */
  readonly pageLimit: number;

  constructor(
    leaf: LeafColumn,
    protected readonly context: PageContext,
    pageSizeInBytes: number,
  ) {
    this.leaf = leaf;
    this.maxDef = leaf.maxDefinitionLevel;
    this.maxRep = leaf.maxRepetitionLevel;
    this.hasDef = this.maxDef > 0;
    this.hasRep = this.maxRep > 0;
    this.defs = new Uint8Array(this.hasDef ? INITIAL_LEVELS : 0);
    this.reps = new Uint8Array(this.hasRep ? INITIAL_LEVELS : 0);
    this.data = Buffer.allocUnsafe(INITIAL_DATA);
    this.view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    this.pageLimit = pageSizeInBytes * this.valueBytesScale();
    this.levelCapacity = INITIAL_LEVELS;
  }

  private levelCapacity: number;

  /** How many stored bytes make one encoded byte; booleans are stored one per byte and packed 8 to a byte. */
  protected valueBytesScale(): number {
    return 1;
  }

  /** Validates `value`, appends its PLAIN encoding and updates min/max/NaN statistics. */
  abstract put(value: Value): void;

  /** Appends the encoded values of the current page to `out` (PLAIN unless a subclass says otherwise). */
  protected encodeValues(out: ByteBuffer): void {
    out.append(this.data.subarray(0, this.pos));
  }

  /** Encoding of the values of the page being finished. */
  protected pageEncoding(): Encoding {
    return Encoding.PLAIN;
  }

  /** Called after each finished page, so a subclass can change encoding between pages. */
  protected afterPage(_encoding: Encoding, _uncompressedValueBytes: number): void {}

  /** A dictionary page to put before the data pages of the chunk, and resets the dictionary; none by default. */
  protected takeDictionaryPage(): { header: PageHeader; body: Buffer } | undefined {
    return undefined;
  }

  /** Extra bytes a subclass holds for the row group (a dictionary). */
  protected extraBufferedBytes(): number {
    return 0;
  }

  /** Makes room for `n` more value bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.data.length) {
      let capacity = this.data.length * 2;
      while (capacity < this.pos + n) capacity *= 2;
      const next = Buffer.allocUnsafe(capacity);
      this.data.copy(next, 0, 0, this.pos);
      this.data = next;
      this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    }
  }

  private growLevels(): void {
    const capacity = this.levelCapacity * 2;
    if (this.hasDef) {
      const next = new Uint8Array(capacity);
      next.set(this.defs);
      this.defs = next;
    }
    if (this.hasRep) {
      const next = new Uint8Array(capacity);
      next.set(this.reps);
      this.reps = next;
    }
    this.levelCapacity = capacity;
  }

  /** Writes a top-level value (no repetition, definition level 0 or 1); the fast path of flat schemas. */
  writeTop(value: Value): void {
    const n = this.levelCount;
    if (n === this.levelCapacity) this.growLevels();
    ColumnWriter.putTop(this, value, n);
    this.levelCount = n + 1;
  }

  /** writeTop of field `field` of each of `rows[from, to)`: one call for the run, not one per value. */
  writeTops(rows: readonly Row[], field: number, from: number, to: number): void {
    while (this.levelCount + (to - from) > this.levelCapacity) this.growLevels();
    let n = this.levelCount;
    for (let r = from; r < to; r++) ColumnWriter.putTop(this, rows[r]![field]!, n++);
    this.levelCount = n;
  }

  /**
   * Writes rows [from, to) of a column vector (column-batch.ts) as top-level values: what writeTops does for the
   * same values in rows. Numbers and byte strings go from their typed arrays to `putNumber` / `putBytesAt`, which
   * the number and uuid columns implement, with no object per value. (List vectors go to the shredder's list nodes.)
   */
  writeColumn(vector: ColumnVector, from: number, to: number): void {
    while (this.levelCount + (to - from) > this.levelCapacity) this.growLevels();
    let n = this.levelCount;
    if (vector.kind === 'values') {
      const values = vector.values;
      for (let r = from; r < to; r++) ColumnWriter.putTop(this, values[r]!, n++);
      this.levelCount = n;
      return;
    }
    if (vector.kind === 'list') {
      // Lists belong to list columns (the shredder's); a primitive column refuses them as it refuses a row's list.
      for (let r = from; r < to; r++) ColumnWriter.putTop(this, valueAt(vector, r), n++);
      this.levelCount = n;
      return;
    }
    // Levels first, then the values in one call: a value is written where its row's level says one is.
    const flags = vector.flags;
    const defs = this.defs;
    const optional = this.hasDef;
    for (let r = from; r < to; r++, n++) {
      const present = flags[r] !== NULL_FLAG;
      if (!present && !optional) this.fail('null in a required field', null);
      if (optional) defs[n] = present ? 1 : 0;
    }
    this.levelCount = n;
    if (vector.kind === 'numbers') this.putNumbers(vector, from, to);
    else this.putByteRows(vector, from, to);
  }

  /** The non-null values of rows [from, to) of `vector`, each as `put` writes it; counts them in valueCount. */
  private putNumbers(vector: NumberVector, from: number, to: number): void {
    const { flags, numbers, others } = vector;
    for (let r = from; r < to; r++) {
      const flag = flags[r];
      if (flag === IN_ARRAY) this.putNumber(numbers[r]!);
      else if (flag === OTHER) this.put(others[r]!);
      else continue;
      this.valueCount++;
    }
  }

  /** As putNumbers, for byte strings of one width. */
  private putByteRows(vector: BytesVector, from: number, to: number): void {
    const { flags, bytes, width } = vector;
    for (let r = from; r < to; r++) {
      if (flags[r] === NULL_FLAG) continue;
      this.putBytesAt(bytes, r * width, width);
      this.valueCount++;
    }
  }

  /**
   * `put` of a number. The number columns implement it without the type test, and their `put` calls it: from
   * putNumbers a number reaches them unboxed while a table has few kinds of number columns (V8 inlines up to four).
   */
  protected putNumber(value: number): void {
    this.put(value);
  }

  /** `put` of the `width` bytes at `bytes[at]`; the uuid column reads them where they lie. */
  protected putBytesAt(bytes: Uint8Array, at: number, width: number): void {
    this.put(bytes.subarray(at, at + width));
  }

  /**
   * The level and, unless it is null, the value of a top-level value at level index `n`. A static method, so that
   * writeTop, writeTops and writeColumn each call it directly (and V8 inlines it) whatever subclass the column is:
   * a method of the instance would be looked up per value among every column class.
   */
  private static putTop(column: ColumnWriter, value: Value, n: number): void {
    if (value === null) {
      if (!column.hasDef) column.fail('null in a required field', value);
      column.defs[n] = 0;
    } else {
      column.put(value);
      column.valueCount++;
      if (column.hasDef) column.defs[n] = 1;
    }
  }

  /** Writes a present value at the given levels (definition level is the column's maximum). */
  writeValue(value: Value, rep: number): void {
    this.put(value);
    this.valueCount++;
    const n = this.levelCount;
    if (n === this.levelCapacity) this.growLevels();
    if (this.hasDef) this.defs[n] = this.maxDef;
    if (this.hasRep) this.reps[n] = rep;
    this.levelCount = n + 1;
  }

  /** Writes an absent value (a null here or above, or an empty list above) at the given levels. */
  writeNull(rep: number, def: number): void {
    const n = this.levelCount;
    if (n === this.levelCapacity) this.growLevels();
    this.defs[n] = def;
    if (this.hasRep) this.reps[n] = rep;
    this.levelCount = n + 1;
  }

  /** Bytes held for the current row group: finished compressed pages plus the open page. */
  bufferedBytes(): number {
    return this.chunkCompressed + this.pos + this.levelCount + this.extraBufferedBytes();
  }

  /** True when the open page has reached the page size. */
  pageFull(): boolean {
    return this.pos >= this.pageLimit;
  }

  /** Encodes, compresses and stores the open page. */
  finishPage(): void {
    const count = this.levelCount;
    if (count === 0) return;
    const body = this.context.body;
    body.reset();
    if (this.hasRep) writeLevels(body, this.reps, count, this.maxRep);
    if (this.hasDef) writeLevels(body, this.defs, count, this.maxDef);
    const levelBytes = body.pos;
    const encoding = this.pageEncoding();
    this.encodeValues(body);
    const uncompressed = body.pos;
    const compressed = this.context.compress(body.bytes());
    this.storePage(
      {
        type: PageType.DATA_PAGE,
        uncompressed_page_size: uncompressed,
        compressed_page_size: compressed.length,
        data_page_header: {
          num_values: count,
          encoding,
          definition_level_encoding: Encoding.RLE,
          repetition_level_encoding: Encoding.RLE,
        },
      },
      compressed,
      this.pages,
    );
    if (!this.encodings.includes(encoding)) this.encodings.push(encoding);
    this.chunkLevels += count;
    this.chunkNulls += count - this.valueCount;
    this.levelCount = 0;
    this.valueCount = 0;
    this.pos = 0;
    this.afterPage(encoding, uncompressed - levelBytes);
  }

  /** Serialises `header` and appends it with `body` to `pages`, counting both in the chunk sizes. */
  private storePage(header: PageHeader, body: Buffer, pages: Buffer[]): number {
    const out = this.context.header;
    out.reset();
    writePageHeader(header, out);
    pages.push(out.copy(), body);
    this.chunkCompressed += out.pos + body.length;
    this.chunkUncompressed += out.pos + header.uncompressed_page_size;
    return out.pos + body.length;
  }

  private encodings: Encoding[] = [];

  /** Finishes the open page and hands over the row group's pages and statistics, resetting for the next one. */
  takeChunk(): ColumnChunkResult {
    this.finishPage();
    let pages = this.pages;
    let dictionaryPageSize = 0;
    const dictionary = this.takeDictionaryPage();
    if (dictionary) {
      const first: Buffer[] = [];
      dictionaryPageSize = this.storePage(dictionary.header, dictionary.body, first);
      pages = first.concat(pages);
    }
    const result: ColumnChunkResult = {
      pages,
      dictionaryPageSize,
      encodings: this.encodings,
      compressedSize: this.chunkCompressed,
      uncompressedSize: this.chunkUncompressed,
      numValues: this.chunkLevels,
      nullCount: this.chunkNulls,
      nanCount: this.nanCount,
      min: this.hasBounds ? this.min : undefined,
      max: this.hasBounds ? this.max : undefined,
    };
    this.pages = [];
    this.encodings = [];
    this.chunkCompressed = 0;
    this.chunkUncompressed = 0;
    this.chunkLevels = 0;
    this.chunkNulls = 0;
    this.hasBounds = false;
    this.min = null;
    this.max = null;
    this.nanCount = 0;
    return result;
  }

  /** Throws a ValidationError naming the column, its type and the offending value. */
  fail(reason: string, value: Value): never {
    const leaf = this.leaf;
    throw new ValidationError(`column ${leaf.icebergPath.join('.')} (field id ${leaf.fieldId}, ${leaf.type}): ${reason}: ${describeValue(value)}`);
  }
}

function writeLevels(out: ByteBuffer, levels: Uint8Array, count: number, maxLevel: number): void {
  const lengthAt = out.pos;
  out.u32le(0);
  encodeHybrid(levels, count, bitWidth(maxLevel), out);
  out.patchU32le(lengthAt, out.pos - lengthAt - 4);
}

/** A short, unambiguous rendering of a value for error messages. */
export function describeValue(value: Value): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined (missing)';
  switch (typeof value) {
    case 'bigint':
      return `${value}n`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'string':
      // Bounded with a hash (bounded-text.ts): errors travel in activity results and statuses.
      return value.length > SHOWN_CHARACTERS ? quotedText(value) : `${JSON.stringify(value)} (string of length ${value.length})`;
    case 'boolean':
      return String(value);
    default:
      break;
  }
  if (value instanceof Uint8Array) {
    return `bytes[${value.length}] ${value.length * 2 > SHOWN_CHARACTERS ? `hex ${boundedHex(value)}` : `0x${boundedHex(value)}`}`;
  }
  if (value instanceof Map) return `Map(${value.size})`;
  if (Array.isArray(value)) return `array(${value.length})`;
  return `${Object.prototype.toString.call(value)}`;
}

/** 2^32, for splitting safe integers into 32-bit halves. */
export const TWO_32 = 4294967296;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Updates a numeric column's min/max (number and bigint compare exactly with each other). */
export function updateNumeric(column: ColumnWriter, v: number | bigint): void {
  if (!column.hasBounds) {
    column.min = v;
    column.max = v;
    column.hasBounds = true;
  } else if (v < (column.min as number)) column.min = v;
  else if (v > (column.max as number)) column.max = v;
}

/** Writes a 64-bit value; numbers must be safe integers, bigints within int64. */
export function putInt64(column: ColumnWriter, v: Value): void {
  if (typeof v === 'number') {
    putSafeInt64(column, v);
    return;
  }
  column.ensure(8);
  if (typeof v === 'bigint') {
    if (v < INT64_MIN || v > INT64_MAX) column.fail('outside the int64 range', v);
    column.view.setBigInt64(column.pos, v, true);
  } else {
    column.fail('expected a bigint (or a safe-integer number)', v);
  }
  column.pos += 8;
}

/** putInt64 of a number: it must be a safe integer. */
export function putSafeInt64(column: ColumnWriter, v: number): void {
  if (!Number.isSafeInteger(v)) column.fail('not a safe integer (pass a bigint for values beyond 2^53)', v);
  column.ensure(8);
  const hi = Math.floor(v / TWO_32);
  column.view.setUint32(column.pos, v - hi * TWO_32, true);
  column.view.setInt32(column.pos + 4, hi, true);
  column.pos += 8;
}
