/**
 * Value decoding: PLAIN, dictionary indices, and the DELTA_* / BYTE_STREAM_SPLIT encodings of other writers,
 * converting physical values straight into the values.ts representation of the type they are read as.
 */
import { ValidationError } from '../../errors';
import { decimalFromBytes } from '../spec/conversions';
import type { Value } from '../spec/values';
import { type ByteRange, decodeDeltaBinaryPacked, decodeDeltaByteArray, decodeDeltaLengthByteArray, unsplitByteStreams } from './delta-decoding';
import type { ValueKind } from './page-decoder';
import { Encoding, ParquetType } from './parquet-thrift';
import { decodeHybrid, unpackBooleans } from './rle-hybrid';

/** What value decoding needs to know about a column. */
export interface ValueDecodeSpec {
  path: string;
  physicalType: ParquetType;
  typeLength: number | undefined;
  kind: ValueKind;
}

/** Decodes `n` non-null values of a data page in any supported encoding, appending them to `out`. */
export function decodeValues(
  page: Uint8Array,
  pos: number,
  end: number,
  n: number,
  encoding: Encoding,
  spec: ValueDecodeSpec,
  dictionary: Value[] | undefined,
  out: Value[],
): void {
  if (spec.kind === 'skip' || n === 0) return;
  if (encoding === Encoding.PLAIN) {
    decodePlain(page, pos, end, n, spec, out);
    return;
  }
  if (isDictionaryEncoding(encoding)) {
    const indices = decodeDictionaryIndices(page, pos, end, n, spec, dictionary, new Uint32Array(n));
    pushDictionaryValues(indices, 0, n, dictionary!, out);
    return;
  }
  const physical = spec.physicalType;
  if (encoding === Encoding.DELTA_BINARY_PACKED && (physical === ParquetType.INT32 || physical === ParquetType.INT64)) {
    const { values } = decodeDeltaBinaryPacked(page, pos, physical === ParquetType.INT32 ? 32 : 64);
    if (values.length < n) throw new ValidationError(`${spec.path}: delta-encoded page holds ${values.length} of ${n} values`);
    const kind = spec.kind;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      out.push(kind === 'int32' ? Number(v) : kind === 'int64-millis' ? v * 1000n : kind === 'int64-safe' ? safeInteger(v) : v);
    }
    return;
  }
  if (
    (encoding === Encoding.DELTA_LENGTH_BYTE_ARRAY && physical === ParquetType.BYTE_ARRAY) ||
    (encoding === Encoding.DELTA_BYTE_ARRAY && (physical === ParquetType.BYTE_ARRAY || physical === ParquetType.FIXED_LEN_BYTE_ARRAY))
  ) {
    const ranges = encoding === Encoding.DELTA_BYTE_ARRAY ? decodeDeltaByteArray(page, pos, n) : decodeDeltaLengthByteArray(page, pos, n);
    for (const range of ranges) out.push(convertBytes(spec, range));
    return;
  }
  if (encoding === Encoding.BYTE_STREAM_SPLIT && physical !== ParquetType.BOOLEAN && physical !== ParquetType.BYTE_ARRAY) {
    const width = physical === ParquetType.FIXED_LEN_BYTE_ARRAY ? spec.typeLength! : physical === ParquetType.INT64 || physical === ParquetType.DOUBLE ? 8 : 4;
    const plain = unsplitByteStreams(page, pos, n, width);
    decodePlain(plain, 0, plain.length, n, spec, out);
    return;
  }
  throw new ValidationError(`${spec.path}: value encoding ${Encoding[encoding] ?? encoding} is not supported for ${ParquetType[physical]}`);
}

/** Whether values of `encoding` are indices into the column chunk's dictionary. */
export function isDictionaryEncoding(encoding: Encoding): boolean {
  return encoding === Encoding.RLE_DICTIONARY || encoding === Encoding.PLAIN_DICTIONARY;
}

/** Decodes the `n` dictionary indices of a page into `out` (at least `n` long), each checked against the dictionary. */
export function decodeDictionaryIndices(
  page: Uint8Array,
  pos: number,
  end: number,
  n: number,
  spec: ValueDecodeSpec,
  dictionary: readonly Value[] | undefined,
  out: Uint32Array,
): Uint32Array {
  if (!dictionary) throw new ValidationError(`${spec.path}: dictionary-encoded page without a dictionary page`);
  if (n === 0) return out;
  decodeHybrid(page, pos + 1, end, page[pos]!, n, out);
  for (let i = 0; i < n; i++) {
    if (out[i]! >= dictionary.length) throw new ValidationError(`${spec.path}: dictionary index ${out[i]} out of range`);
  }
  return out;
}

/** Appends the dictionary values of indices `from` to `to` (checked by decodeDictionaryIndices) to `out`. */
export function pushDictionaryValues(indices: Uint32Array, from: number, to: number, dictionary: readonly Value[], out: Value[]): void {
  for (let i = from; i < to; i++) out.push(dictionary[indices[i]!]!);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A bigint as a number when it is a safe integer. */
function safeInteger(v: bigint): number | bigint {
  return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v;
}

/** Converts one byte-array value (BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY) to the spec's ValueKind. */
function convertBytes(spec: ValueDecodeSpec, range: ByteRange): Value {
  const { bytes, start, end } = range;
  switch (spec.kind) {
    case 'utf8':
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', start, end);
    case 'decimal-bytes':
    case 'decimal-fixed':
      return decimalFromBytes(bytes.subarray(start, end));
    case 'uuid':
      if (end - start !== 16) throw new ValidationError(`${spec.path}: a UUID has 16 bytes, got ${end - start}`);
      return formatUuid(bytes, start);
    default:
      return copyBytes(bytes, start, end);
  }
}

/**
 * Decodes `n` PLAIN values of the spec's physical type, converting them to its ValueKind; returns the position
 * after them (booleans, bit-packed, from `pos` on a byte boundary only).
 */
export function decodePlain(page: Uint8Array, pos: number, end: number, n: number, spec: ValueDecodeSpec, out: Value[]): number {
  if (spec.kind === 'skip') return pos;
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const buf = Buffer.from(page.buffer, page.byteOffset, page.byteLength);
  const need = (bytes: number): void => {
    if (pos + bytes > end) throw new ValidationError(`${spec.path}: page values end early`);
  };
  const kind = spec.kind;
  switch (spec.physicalType) {
    case ParquetType.BOOLEAN: {
      need((n + 7) >> 3);
      for (const b of unpackBooleans(page, pos, n)) out.push(b);
      return pos + ((n + 7) >> 3);
    }
    case ParquetType.INT32:
      need(4 * n);
      for (let i = 0; i < n; i++, pos += 4) {
        const v = view.getInt32(pos, true);
        out.push(kind === 'int32' ? v : BigInt(v));
      }
      return pos;
    case ParquetType.INT64:
      need(8 * n);
      for (let i = 0; i < n; i++, pos += 8) {
        if (kind === 'int64-safe') {
          // |high word| < 2^21 keeps the value within the safe integers: no BigInt made for it.
          const high = view.getInt32(pos + 4, true);
          if (high > -0x200000 && high < 0x200000) {
            out.push(high * 0x1_0000_0000 + view.getUint32(pos, true));
            continue;
          }
        }
        const v = view.getBigInt64(pos, true);
        out.push(kind === 'int64-millis' ? v * 1000n : v);
      }
      return pos;
    case ParquetType.FLOAT:
      need(4 * n);
      for (let i = 0; i < n; i++, pos += 4) out.push(view.getFloat32(pos, true));
      return pos;
    case ParquetType.DOUBLE:
      need(8 * n);
      for (let i = 0; i < n; i++, pos += 8) out.push(view.getFloat64(pos, true));
      return pos;
    case ParquetType.BYTE_ARRAY:
      for (let i = 0; i < n; i++) {
        need(4);
        const length = view.getUint32(pos, true);
        const start = pos + 4;
        pos = start + length;
        need(0);
        if (kind === 'utf8') out.push(buf.toString('utf8', start, pos));
        else if (kind === 'decimal-bytes') out.push(decimalFromBytes(page.subarray(start, pos)));
        else out.push(copyBytes(page, start, pos));
      }
      return pos;
    case ParquetType.FIXED_LEN_BYTE_ARRAY: {
      const width = spec.typeLength!;
      need(width * n);
      for (let i = 0; i < n; i++, pos += width) {
        if (kind === 'uuid') out.push(formatUuid(page, pos));
        else if (kind === 'decimal-fixed') out.push(fixedToBigInt(view, page, pos, width));
        else out.push(copyBytes(page, pos, pos + width));
      }
      return pos;
    }
    default:
      throw new ValidationError(`${spec.path}: physical type ${ParquetType[spec.physicalType]} is not supported`);
  }
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const UUID_TEXT = Buffer.alloc(36, 0x2d);

/** The canonical lowercase text of 16 UUID bytes, built in a scratch buffer so it costs one string allocation. */
function formatUuid(page: Uint8Array, pos: number): string {
  let out = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out++;
    const b = page[pos + i]!;
    UUID_TEXT[out++] = HEX_DIGITS[b >> 4]!;
    UUID_TEXT[out++] = HEX_DIGITS[b & 15]!;
  }
  return UUID_TEXT.toString('latin1', 0, 36);
}

/** A plain Uint8Array copy (never a Buffer view that would pin the whole page). */
function copyBytes(page: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  if (end - start > 64) out.set(page.subarray(start, end));
  else for (let i = start, o = 0; i < end; i++, o++) out[o] = page[i]!;
  return out;
}

/** Big-endian two's complement to bigint, with fast paths for the common 16-byte and short widths. */
function fixedToBigInt(view: DataView, page: Uint8Array, pos: number, width: number): bigint {
  if (width === 16) return (view.getBigInt64(pos, false) << 64n) | view.getBigUint64(pos + 8, false);
  if (width === 8) return view.getBigInt64(pos, false);
  if (width > 8 && width <= 14) {
    const high = Buffer.from(page.buffer, page.byteOffset + pos, width - 8).readIntBE(0, width - 8);
    return (BigInt(high) << 64n) | view.getBigUint64(pos + width - 8, false);
  }
  return decimalFromBytes(page.subarray(pos, pos + width));
}
