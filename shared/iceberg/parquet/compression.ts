/**
 * Page compression codecs. ZSTD uses the native zstd-napi binding with one reused context and output buffer, so
 * compressing a page allocates only its exactly sized result. The reader also accepts GZIP (node:zlib) and SNAPPY
 * (small pure decoder below), the codecs other engines commonly write.
 */
import { gunzipSync } from 'node:zlib';
import { CCtx, DCtx, compressBound } from 'zstd-napi/binding';
import { ValidationError } from '../../errors';
import { CompressionCodec } from './parquet-thrift';

/** Returns a function that compresses a page body into an exactly sized new Buffer. */
export function createPageCompressor(codec: CompressionCodec, zstdLevel = 3): (page: Buffer) => Buffer {
  if (codec === CompressionCodec.UNCOMPRESSED) {
    return (page) => {
      const out = Buffer.allocUnsafe(page.length);
      page.copy(out);
      return out;
    };
  }
  if (codec !== CompressionCodec.ZSTD) throw new ValidationError(`cannot write codec ${CompressionCodec[codec] ?? codec}`);
  if (!Number.isInteger(zstdLevel) || zstdLevel < -7 || zstdLevel > 22) throw new ValidationError(`zstd level must be an integer -7..22, got ${zstdLevel}`);
  const context = new CCtx();
  let scratch = Buffer.allocUnsafe(0);
  return (page) => {
    const bound = compressBound(page.length);
    if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.max(bound, scratch.length * 2));
    const written = context.compress(scratch, page, zstdLevel);
    const out = Buffer.allocUnsafe(written);
    scratch.copy(out, 0, 0, written);
    return out;
  };
}

let zstdContext: DCtx | undefined;

/** Decompresses a page body whose uncompressed size the page header gives. */
export function decompressPage(codec: CompressionCodec, data: Uint8Array, uncompressedSize: number): Uint8Array {
  switch (codec) {
    case CompressionCodec.UNCOMPRESSED:
      return data;
    case CompressionCodec.ZSTD: {
      const out = Buffer.allocUnsafe(uncompressedSize);
      zstdContext ??= new DCtx();
      const n = zstdContext.decompress(out, data);
      if (n !== uncompressedSize) throw new ValidationError(`zstd page decompressed to ${n} bytes, header says ${uncompressedSize}`);
      return out;
    }
    case CompressionCodec.GZIP:
      return gunzipSync(data);
    case CompressionCodec.SNAPPY:
      return snappyUncompress(data, uncompressedSize);
    default:
      throw new ValidationError(`unsupported Parquet compression codec ${CompressionCodec[codec] ?? codec}`);
  }
}

/** Raw (unframed) snappy block decompression, as Parquet stores SNAPPY pages. */
export function snappyUncompress(input: Uint8Array, expectedSize: number): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const b = input[pos++];
    if (b === undefined) throw new ValidationError('snappy: truncated length');
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  if (length !== expectedSize) throw new ValidationError(`snappy: block holds ${length} bytes, header says ${expectedSize}`);
  const out = new Uint8Array(length);
  let o = 0;
  while (pos < input.length) {
    const tag = input[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >> 2;
      if (n >= 60) {
        const bytes = n - 59;
        n = 0;
        for (let i = 0; i < bytes; i++) n += input[pos++]! * 2 ** (8 * i);
      }
      n += 1;
      if (pos + n > input.length || o + n > length) throw new ValidationError('snappy: literal runs past the end');
      out.set(input.subarray(pos, pos + n), o);
      pos += n;
      o += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (kind === 1) {
      n = ((tag >> 2) & 7) + 4;
      offset = ((tag >> 5) << 8) | input[pos++]!;
    } else if (kind === 2) {
      n = (tag >> 2) + 1;
      offset = input[pos]! | (input[pos + 1]! << 8);
      pos += 2;
    } else {
      n = (tag >> 2) + 1;
      offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16)) + input[pos + 3]! * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > o || o + n > length) throw new ValidationError('snappy: invalid copy');
    // Copies may overlap their own output (run-length style), so go byte by byte.
    for (let i = 0; i < n; i++, o++) out[o] = out[o - offset]!;
  }
  if (o !== length) throw new ValidationError(`snappy: produced ${o} of ${length} bytes`);
  return out;
}
