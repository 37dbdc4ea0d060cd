/**
 * Decodes one column chunk into levels and values: v1 and v2 data pages, dictionary pages, PLAIN and
 * RLE_DICTIONARY values, RLE levels, any supported codec. Values come out already in the values.ts representation
 * of the type they are read as (`ValueKind`), so promotions such as int -> long happen here.
 */
import { ValidationError } from '../../errors';
import { decimalFromBytes } from '../spec/conversions';
import { type Value, uuidFromBytes } from '../spec/values';
import { decompressPage } from './compression';
import { type ColumnMetaData, Encoding, PageType, ParquetType, readPageHeader } from './parquet-thrift';
import { bitWidth, decodeHybrid, unpackBooleans } from './rle-hybrid';

/** How a leaf's physical values become Values. */
export type ValueKind =
  | 'boolean' | 'int32' | 'int32-bigint' | 'int64' | 'int64-millis' | 'float' | 'double'
  | 'utf8' | 'bytes' | 'decimal-bytes' | 'fixed' | 'uuid' | 'decimal-fixed'
  /** Levels only: the column is read to learn whether its parents are present. */
  | 'skip';

/** A decoded column chunk: one level entry per value slot, non-null values in order. */
export interface DecodedColumn {
  count: number;
  maxDef: number;
  maxRep: number;
  /** Definition levels, or undefined when maxDef is 0 (every entry present). */
  defs: Uint8Array | undefined;
  /** Repetition levels, or undefined when maxRep is 0. */
  reps: Uint8Array | undefined;
  values: Value[];
}

/** What the decoder needs to know about the leaf. */
export interface ColumnDecodeSpec {
  path: string;
  physicalType: ParquetType;
  typeLength: number | undefined;
  maxDef: number;
  maxRep: number;
  kind: ValueKind;
}

/** Decodes every page of a column chunk; `chunk` starts at the chunk's first page. */
export function decodeColumnChunk(chunk: Uint8Array, meta: ColumnMetaData, spec: ColumnDecodeSpec): DecodedColumn {
  const count = meta.num_values;
  const defs = spec.maxDef > 0 ? new Uint8Array(count) : undefined;
  const reps = spec.maxRep > 0 ? new Uint8Array(count) : undefined;
  const values: Value[] = [];
  let dictionary: Value[] | undefined;
  let levels = 0;
  let pos = 0;
  while (levels < count) {
    if (pos >= chunk.length) throw new ValidationError(`${spec.path}: column chunk ends after ${levels} of ${count} values`);
    const { header, end } = readPageHeader(chunk, pos);
    const bodyEnd = end + header.compressed_page_size;
    if (bodyEnd > chunk.length) throw new ValidationError(`${spec.path}: page runs past the column chunk`);
    const raw = chunk.subarray(end, bodyEnd);
    pos = bodyEnd;
    if (header.type === PageType.DICTIONARY_PAGE) {
      const page = decompressPage(meta.codec, raw, header.uncompressed_page_size);
      const n = header.dictionary_page_header!.num_values;
      dictionary = [];
      decodePlain(page, 0, page.length, n, spec, dictionary);
      continue;
    }
    if (header.type === PageType.DATA_PAGE) {
      const h = header.data_page_header!;
      const page = decompressPage(meta.codec, raw, header.uncompressed_page_size);
      const n = h.num_values;
      let p = 0;
      if (reps) p = readLevelsV1(page, p, n, spec.maxRep, reps.subarray(levels, levels + n), h.repetition_level_encoding, spec);
      if (defs) p = readLevelsV1(page, p, n, spec.maxDef, defs.subarray(levels, levels + n), h.definition_level_encoding, spec);
      const present = defs ? countPresent(defs, levels, n, spec.maxDef) : n;
      decodeValues(page, p, page.length, present, h.encoding, spec, dictionary, values);
      levels += n;
      continue;
    }
    if (header.type === PageType.DATA_PAGE_V2) {
      const h = header.data_page_header_v2!;
      const n = h.num_values;
      const repLength = h.repetition_levels_byte_length;
      const defLength = h.definition_levels_byte_length;
      if (reps) decodeHybrid(raw, 0, repLength, bitWidth(spec.maxRep), n, reps.subarray(levels, levels + n));
      if (defs) decodeHybrid(raw, repLength, repLength + defLength, bitWidth(spec.maxDef), n, defs.subarray(levels, levels + n));
      const compressedValues = raw.subarray(repLength + defLength);
      const valueBytes = h.is_compressed === false
        ? compressedValues
        : decompressPage(meta.codec, compressedValues, header.uncompressed_page_size - repLength - defLength);
      const present = defs ? countPresent(defs, levels, n, spec.maxDef) : n;
      decodeValues(valueBytes, 0, valueBytes.length, present, h.encoding, spec, dictionary, values);
      levels += n;
      continue;
    }
    // Index pages and unknown page types carry no values.
  }
  return { count, maxDef: spec.maxDef, maxRep: spec.maxRep, defs, reps, values };
}

function readLevelsV1(
  page: Uint8Array, pos: number, n: number, maxLevel: number, out: Uint8Array, encoding: Encoding, spec: ColumnDecodeSpec,
): number {
  if (encoding !== Encoding.RLE) throw new ValidationError(`${spec.path}: level encoding ${Encoding[encoding] ?? encoding} is not supported`);
  const length = page[pos]! | (page[pos + 1]! << 8) | (page[pos + 2]! << 16) | (page[pos + 3]! << 24);
  const start = pos + 4;
  decodeHybrid(page, start, start + length, bitWidth(maxLevel), n, out);
  return start + length;
}

function countPresent(defs: Uint8Array, from: number, n: number, maxDef: number): number {
  let present = 0;
  for (let i = from; i < from + n; i++) if (defs[i] === maxDef) present++;
  return present;
}

function decodeValues(
  page: Uint8Array, pos: number, end: number, n: number, encoding: Encoding, spec: ColumnDecodeSpec,
  dictionary: Value[] | undefined, out: Value[],
): void {
  if (spec.kind === 'skip' || n === 0) return;
  if (encoding === Encoding.PLAIN) {
    decodePlain(page, pos, end, n, spec, out);
    return;
  }
  if (encoding === Encoding.RLE_DICTIONARY || encoding === Encoding.PLAIN_DICTIONARY) {
    if (!dictionary) throw new ValidationError(`${spec.path}: dictionary-encoded page without a dictionary page`);
    const width = page[pos]!;
    const indices = new Uint32Array(n);
    decodeHybrid(page, pos + 1, end, width, n, indices);
    for (let i = 0; i < n; i++) {
      const index = indices[i]!;
      if (index >= dictionary.length) throw new ValidationError(`${spec.path}: dictionary index ${index} out of range`);
      out.push(dictionary[index]!);
    }
    return;
  }
  throw new ValidationError(`${spec.path}: value encoding ${Encoding[encoding] ?? encoding} is not supported`);
}

/** Decodes `n` PLAIN values of the spec's physical type, converting them to its ValueKind. */
function decodePlain(page: Uint8Array, pos: number, end: number, n: number, spec: ColumnDecodeSpec, out: Value[]): void {
  if (spec.kind === 'skip') return;
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
      return;
    }
    case ParquetType.INT32:
      need(4 * n);
      for (let i = 0; i < n; i++, pos += 4) {
        const v = view.getInt32(pos, true);
        out.push(kind === 'int32' ? v : BigInt(v));
      }
      return;
    case ParquetType.INT64:
      need(8 * n);
      for (let i = 0; i < n; i++, pos += 8) {
        const v = view.getBigInt64(pos, true);
        out.push(kind === 'int64-millis' ? v * 1000n : v);
      }
      return;
    case ParquetType.FLOAT:
      need(4 * n);
      for (let i = 0; i < n; i++, pos += 4) out.push(view.getFloat32(pos, true));
      return;
    case ParquetType.DOUBLE:
      need(8 * n);
      for (let i = 0; i < n; i++, pos += 8) out.push(view.getFloat64(pos, true));
      return;
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
      return;
    case ParquetType.FIXED_LEN_BYTE_ARRAY: {
      const width = spec.typeLength!;
      need(width * n);
      for (let i = 0; i < n; i++, pos += width) {
        if (kind === 'uuid') out.push(uuidFromBytes(page.subarray(pos, pos + width)));
        else if (kind === 'decimal-fixed') out.push(fixedToBigInt(view, page, pos, width));
        else out.push(copyBytes(page, pos, pos + width));
      }
      return;
    }
    default:
      throw new ValidationError(`${spec.path}: physical type ${ParquetType[spec.physicalType]} is not supported`);
  }
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
