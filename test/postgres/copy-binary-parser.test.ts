import { describe, expect, it } from 'vitest';
import { compileDecoder } from '../../shared/postgres/binary-decoders';
import { CopyBinaryParser, CopyFormatError, RowDecodeFailure } from '../../shared/postgres/copy-binary-parser';
import type { Row } from '../../shared/iceberg/spec/values';
import { copyStream, int32, int64, numericBinary } from './binary-wire';

const decoders = [
  compileDecoder({ kind: 'int8' }),
  compileDecoder({ kind: 'text' }),
  compileDecoder({ kind: 'decimal', precision: 10, scale: 2, checked: false }),
];

function stream(rows: number): { bytes: Buffer; expected: Row[] } {
  const encoded: Array<Array<Buffer | null>> = [];
  const expected: Row[] = [];
  for (let i = 0; i < rows; i++) {
    const text = i % 4 === 0 ? null : `row ${i} ${'é'.repeat(i % 7)}`;
    encoded.push([int64(BigInt(i)), text === null ? null : Buffer.from(text), numericBinary(`${i}.${String(i % 100).padStart(2, '0')}`)]);
    expected.push([i, text, i * 100 + (i % 100)]);
  }
  return { bytes: copyStream(encoded), expected };
}

function parseInChunks(bytes: Buffer, sizes: (index: number) => number): Row[] {
  const parser = new CopyBinaryParser(decoders);
  const out: Row[] = [];
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const size = Math.max(1, sizes(i));
    parser.push(Buffer.from(bytes.subarray(pos, pos + size)), out);
    pos += size;
  }
  parser.finish();
  return out;
}

describe('CopyBinaryParser', () => {
  it('decodes a stream in one chunk', () => {
    const { bytes, expected } = stream(50);
    expect(parseInChunks(bytes, () => bytes.length)).toEqual(expected);
  });

  it('decodes the same rows whatever the chunk boundaries, one byte at a time included', () => {
    const { bytes, expected } = stream(40);
    expect(parseInChunks(bytes, () => 1)).toEqual(expected);
    expect(parseInChunks(bytes, (i) => (i * 7919) % 97)).toEqual(expected);
    expect(parseInChunks(bytes, (i) => 3 + (i % 5))).toEqual(expected);
  });

  it('grows its carry buffer for a row larger than the initial buffer', () => {
    const big = 'x'.repeat(200_000);
    const bytes = copyStream([[int64(1n), Buffer.from(big), numericBinary('1.00')]]);
    expect(parseInChunks(bytes, () => 1000)).toEqual([[1, big, 100]]);
  });

  it('reports a stream that ends in the middle of a row', () => {
    const { bytes } = stream(3);
    const parser = new CopyBinaryParser(decoders);
    parser.push(bytes.subarray(0, bytes.length - 5), []);
    expect(() => parser.finish()).toThrow(CopyFormatError);
  });

  it('rejects a wrong field count and a wrong signature', () => {
    const parser = new CopyBinaryParser(decoders);
    expect(() => parser.push(copyStream([[int32(1)]]), [])).toThrow(/1 fields where 3 columns/);
    expect(() => new CopyBinaryParser(decoders).push(Buffer.from('not a copy stream at all'), [])).toThrow(/not a binary COPY/);
  });

  it('names the failing column and the row key, even when the key follows it and the row is split', () => {
    const nanRow = copyStream([
      [int64(1n), Buffer.from('ok'), numericBinary('1.00')],
      [int64(2n), Buffer.from('bad'), numericBinary('NaN')],
    ]);
    // key = column 0; the failing column is 2. Split inside the failing row to exercise the retry.
    const parser = new CopyBinaryParser(decoders, [0, 1]);
    const out: Row[] = [];
    let failure: unknown;
    try {
      parser.push(nanRow.subarray(0, nanRow.length - 6), out);
      parser.push(nanRow.subarray(nanRow.length - 6), out);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(RowDecodeFailure);
    const f = failure as RowDecodeFailure;
    expect(f.columnIndex).toBe(2);
    expect(f.keyValues).toEqual([2, 'bad']);
    expect(f.rowNumber).toBe(2);
    expect(f.failure.valueText).toBe('NaN');
    expect(out).toEqual([[1, 'ok', 100]]);
  });

  it('waits for the rest of a failing row when its key column has not arrived yet', () => {
    const keyLast = [
      compileDecoder({ kind: 'text' }),
      compileDecoder({ kind: 'decimal', precision: 10, scale: 2, checked: false }),
      compileDecoder({ kind: 'int8' }),
    ];
    const bytes = copyStream([[Buffer.from('bad'), numericBinary('NaN'), int64(77n)]]);
    const parser = new CopyBinaryParser(keyLast, [2]);
    // Cut inside the key field: the NaN is decodable, the key is not there yet.
    expect(() => parser.push(bytes.subarray(0, bytes.length - 6), [])).not.toThrow();
    let failure: unknown;
    try {
      parser.push(bytes.subarray(bytes.length - 6), []);
    } catch (error) {
      failure = error;
    }
    expect((failure as RowDecodeFailure).keyValues).toEqual([77]);
    expect((failure as RowDecodeFailure).columnIndex).toBe(1);
  });
});
