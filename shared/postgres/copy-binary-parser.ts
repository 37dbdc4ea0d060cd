/**
 * Incremental parser of `COPY ... TO STDOUT (FORMAT binary)`: header, tuples of length-prefixed fields,
 * trailer. Chunks may split a tuple anywhere; the unfinished tail is kept in one reusable buffer and completed
 * from the next chunk, so nothing is buffered beyond one tuple.
 */
import type { Row, Value } from '../iceberg/spec/values';
import { type FieldDecoder, UnrepresentableValue } from './binary-decoders';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER_FIXED = SIGNATURE.length + 8;

/** A tuple whose field could not be decoded; carries the row's key values for the message. */
export class RowDecodeFailure extends Error {
  constructor(
    /** Index of the failing column in the select list. */
    readonly columnIndex: number,
    /** Values of the requested key columns of the same row (undefined where they could not be decoded). */
    readonly keyValues: Array<Value | undefined>,
    /** The 1-based position of the row in this COPY. */
    readonly rowNumber: number,
    readonly failure: UnrepresentableValue,
  ) {
    super(failure.message);
  }
}

/** Thrown for bytes that are not a binary COPY stream of the expected shape. */
export class CopyFormatError extends Error {}

/** Parses one binary COPY stream into rows, decoding each field with its column's decoder. */
export class CopyBinaryParser {
  private carry: Buffer = Buffer.allocUnsafe(64 * 1024);
  private carryLength = 0;
  private headerDone = false;
  private finished = false;
  private rowCount = 0;

  constructor(
    private readonly decoders: readonly FieldDecoder[],
    /** Select-list indexes of the key columns, decoded again for the message when a row fails. */
    private readonly keyIndexes: readonly number[] = [],
  ) {}

  /** Rows decoded so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** True once the trailer has been read. */
  get done(): boolean {
    return this.finished;
  }

  /**
   * Decodes every complete tuple of `chunk[start, end)` (plus the tail kept from before) and appends the rows to
   * `out`. Only an unfinished tuple is copied (into the carry buffer); complete ones are decoded where they lie.
   */
  push(chunk: Buffer, out: Row[], start = 0, end = chunk.length): void {
    if (this.finished) {
      if (end > start) throw new CopyFormatError('data after the end of the binary COPY stream');
      return;
    }
    let buf: Buffer;
    let pos: number;
    let stop: number;
    if (this.carryLength === 0) {
      buf = chunk;
      pos = start;
      stop = end;
    } else {
      stop = this.carryLength + (end - start);
      if (stop > this.carry.length) this.grow(stop);
      chunk.copy(this.carry, this.carryLength, start, end);
      buf = this.carry;
      pos = 0;
    }
    if (!this.headerDone) {
      const after = this.parseHeader(buf, pos, stop);
      if (after < 0) {
        this.keep(buf, pos, stop);
        return;
      }
      pos = after;
      this.headerDone = true;
    }
    pos = this.parseTuples(buf, pos, stop, out);
    this.keep(buf, pos, stop);
  }

  /** Checks the stream ended with its trailer and nothing incomplete. */
  finish(): void {
    if (!this.finished || this.carryLength > 0) throw new CopyFormatError('the binary COPY stream ended in the middle of a row');
  }

  private parseHeader(buf: Buffer, start: number, end: number): number {
    if (end - start < HEADER_FIXED) return -1;
    if (buf.compare(SIGNATURE, 0, SIGNATURE.length, start, start + SIGNATURE.length) !== 0) throw new CopyFormatError('not a binary COPY stream');
    const flags = buf.readUInt32BE(start + SIGNATURE.length);
    if ((flags & 0x10000) !== 0) throw new CopyFormatError('binary COPY stream with OIDs is not supported');
    const extension = buf.readUInt32BE(start + SIGNATURE.length + 4);
    if (end - start < HEADER_FIXED + extension) return -1;
    return start + HEADER_FIXED + extension;
  }

  private parseTuples(buf: Buffer, start: number, end: number, out: Row[]): number {
    const decoders = this.decoders;
    const n = decoders.length;
    let pos = start;
    let tupleStart = start;
    let column = 0;
    try {
      while (end - pos >= 2) {
        tupleStart = pos;
        const count = (buf[pos]! << 8) | buf[pos + 1]!;
        if (count === 0xffff) {
          this.finished = true;
          pos += 2;
          if (pos !== end) throw new CopyFormatError('data after the end of the binary COPY stream');
          return pos;
        }
        if (count !== n) throw new CopyFormatError(`a row with ${count} fields where ${n} columns were selected`);
        pos += 2;
        const row: Value[] = [];
        for (column = 0; column < n; column++) {
          if (end - pos < 4) break;
          const len = (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
          pos += 4;
          if (len < 0) {
            row.push(null);
            continue;
          }
          if (end - pos < len) break;
          row.push(decoders[column]!(buf, pos, len));
          pos += len;
        }
        if (column < n) return tupleStart;
        out.push(row);
        this.rowCount++;
      }
      return pos;
    } catch (error) {
      if (!(error instanceof UnrepresentableValue)) throw error;
      // Decode the key only from a complete tuple; an incomplete one is retried once the rest has arrived.
      const fields = this.fieldOffsets(buf, tupleStart, end);
      if (fields === undefined) return tupleStart;
      throw new RowDecodeFailure(
        column,
        this.keyIndexes.map((k) => this.tryDecode(buf, fields[k]!, k)),
        this.rowCount + 1,
        error,
      );
    }
  }

  /** Offsets and lengths of every field of the tuple at `start`, or undefined if it is not complete. */
  private fieldOffsets(buf: Buffer, start: number, end: number): Array<[number, number]> | undefined {
    const fields: Array<[number, number]> = [];
    let pos = start + 2;
    for (let i = 0; i < this.decoders.length; i++) {
      if (end - pos < 4) return undefined;
      const len = buf.readInt32BE(pos);
      pos += 4;
      if (len > 0 && end - pos < len) return undefined;
      fields.push([pos, len]);
      if (len > 0) pos += len;
    }
    return fields;
  }

  private tryDecode(buf: Buffer, [pos, len]: [number, number], index: number): Value | undefined {
    if (len < 0) return null;
    try {
      return this.decoders[index]!(buf, pos, len);
    } catch {
      return undefined;
    }
  }

  private keep(buf: Buffer, from: number, end: number): void {
    const length = end - from;
    if (length === 0) {
      this.carryLength = 0;
      return;
    }
    if (buf === this.carry) {
      if (from > 0) this.carry.copyWithin(0, from, end);
    } else {
      if (length > this.carry.length) this.grow(length);
      buf.copy(this.carry, 0, from, end);
    }
    this.carryLength = length;
  }

  private grow(size: number): void {
    let capacity = this.carry.length;
    while (capacity < size) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.carry.copy(next, 0, 0, this.carryLength);
    this.carry = next;
  }
}
