/**
 * Incremental parser of `COPY ... TO STDOUT (FORMAT binary)`: header, tuples of length-prefixed fields,
 * trailer. Chunks may split a tuple anywhere; the unfinished tail is kept in one reusable buffer and completed
 * from the next chunk, so nothing is buffered beyond one tuple.
 */
import type { ColumnBatch } from '../iceberg/spec/column-batch';
import type { Row, Value } from '../iceberg/spec/values';
import { type FieldDecoder, UnrepresentableValue } from './binary-decoders';
import { type FieldSink, setNull } from './column-sinks';

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

/** Whether the `n` fields from `pos` all lie before `end`. */
function wholeTuple(buf: Buffer, pos: number, end: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    if (end - pos < 4) return false;
    const len = (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
    pos += 4;
    if (len > 0) {
      if (end - pos < len) return false;
      pos += len;
    }
  }
  return true;
}

function fieldCountError(count: number, columns: number): CopyFormatError {
  return new CopyFormatError(`a row with ${count} fields where ${columns} columns were selected`);
}

/** Parses one binary COPY stream into rows (or column vectors), decoding each field with its column's decoder (or sink). */
export class CopyBinaryParser {
  private carry: Buffer = Buffer.allocUnsafe(64 * 1024);
  private carryLength = 0;
  /** The bytes being parsed (a chunk, or the carry buffer) and where they end. */
  private buf: Buffer = this.carry;
  private stop = 0;
  private headerDone = false;
  private finished = false;
  private rowCount = 0;

  constructor(
    private readonly decoders: readonly FieldDecoder[],
    /** Select-list indexes of the key columns, decoded again for the message when a row fails. */
    private readonly keyIndexes: readonly number[] = [],
    /** The columns' sinks, for `pushColumns` (the decoders still name a failing row's key). */
    private readonly sinks: readonly FieldSink[] = [],
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
    const pos = this.begin(chunk, start, end);
    if (pos >= 0) this.keep(this.buf, this.parseTuples(this.buf, pos, this.stop, out), this.stop);
  }

  /**
   * As `push`, into the column vectors of `batch` with the parser's sinks, until the batch holds `capacity` rows;
   * the tuples after that are kept, and a push of an empty chunk into the next batch goes on with them.
   */
  pushColumns(chunk: Buffer, batch: ColumnBatch, capacity: number, start = 0, end = chunk.length): void {
    const pos = this.begin(chunk, start, end);
    if (pos >= 0) this.keep(this.buf, this.parseColumns(this.buf, pos, this.stop, batch, capacity), this.stop);
  }

  /** Bytes kept from earlier chunks, waiting for the rest of their tuple or for the next batch. */
  get pending(): number {
    return this.carryLength;
  }

  /**
   * Joins `chunk[start, end)` to the bytes kept from before (this.buf[.., this.stop)) and reads the header once;
   * returns where the tuples start, or -1 when the header is still incomplete (then everything is kept).
   */
  private begin(chunk: Buffer, start: number, end: number): number {
    if (this.finished) {
      if (end > start) throw new CopyFormatError('data after the end of the binary COPY stream');
      return -1;
    }
    let pos: number;
    if (this.carryLength === 0) {
      this.buf = chunk;
      pos = start;
      this.stop = end;
    } else {
      this.stop = this.carryLength + (end - start);
      if (this.stop > this.carry.length) this.grow(this.stop);
      chunk.copy(this.carry, this.carryLength, start, end);
      this.buf = this.carry;
      pos = 0;
    }
    if (!this.headerDone) {
      const after = this.parseHeader(this.buf, pos, this.stop);
      if (after < 0) {
        this.keep(this.buf, pos, this.stop);
        return -1;
      }
      pos = after;
      this.headerDone = true;
    }
    return pos;
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
        if (count === 0xffff) return this.trailer(pos, end);
        if (count !== n) throw fieldCountError(count, n);
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
      return this.failed(error, buf, tupleStart, end, column);
    }
  }

  /**
   * parseTuples into column vectors: each field of a complete tuple goes to its sink at row `batch.rows` (a tuple
   * is decoded only once it is whole, so a sink writes each row once).
   */
  private parseColumns(buf: Buffer, start: number, end: number, batch: ColumnBatch, capacity: number): number {
    const sinks = this.sinks;
    const vectors = batch.columns;
    const n = sinks.length;
    let pos = start;
    let tupleStart = start;
    let column = 0;
    let row = batch.rows;
    try {
      while (row < capacity && end - pos >= 2) {
        tupleStart = pos;
        const count = (buf[pos]! << 8) | buf[pos + 1]!;
        if (count === 0xffff) return this.trailer(pos, end);
        if (count !== n) throw fieldCountError(count, n);
        if (!wholeTuple(buf, pos + 2, end, n)) break;
        pos += 2;
        for (column = 0; column < n; column++) {
          const len = (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
          pos += 4;
          if (len < 0) {
            setNull(vectors[column]!, row);
            continue;
          }
          sinks[column]!(buf, pos, len, vectors[column]!, row);
          pos += len;
        }
        batch.rows = ++row;
        this.rowCount++;
        tupleStart = pos;
      }
      return tupleStart;
    } catch (error) {
      return this.failed(error, buf, tupleStart, end, column);
    }
  }

  /** The trailer at `pos`: the stream is done, and nothing may follow it. */
  private trailer(pos: number, end: number): number {
    this.finished = true;
    if (pos + 2 !== end) throw new CopyFormatError('data after the end of the binary COPY stream');
    return end;
  }

  /**
   * A decoding error in the tuple at `tupleStart`: a value the target cannot hold fails with the row's key (decoded
   * only from a complete tuple: an incomplete one is retried once the rest has arrived, and its start returned).
   */
  private failed(error: unknown, buf: Buffer, tupleStart: number, end: number, column: number): number {
    if (!(error instanceof UnrepresentableValue)) throw error;
    const fields = this.fieldOffsets(buf, tupleStart, end);
    if (fields === undefined) return tupleStart;
    throw new RowDecodeFailure(
      column,
      this.keyIndexes.map((k) => this.tryDecode(buf, fields[k]!, k)),
      this.rowCount + 1,
      error,
    );
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
