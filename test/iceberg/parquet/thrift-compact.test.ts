import { describe, expect, it } from 'vitest';
import { ByteBuffer } from '../../../shared/iceberg/parquet/byte-buffer';
import {
  CompressionCodec,
  ConvertedType,
  Encoding,
  type FileMetaData,
  type PageHeader,
  PageType,
  ParquetType,
  Repetition,
  decodeFileMetaData,
  encodeFileMetaData,
  readPageHeader,
  writePageHeader,
} from '../../../shared/iceberg/parquet/parquet-thrift';
import { ThriftReader, decodeThrift, encodeThrift, thriftList, thriftStruct } from '../../../shared/iceberg/parquet/thrift-compact';

describe('thrift compact protocol', () => {
  it('encodes field headers, zigzag varints, booleans and binaries byte for byte', () => {
    const desc = thriftStruct([
      [1, 'a', 'i32'],
      [2, 'flag', 'bool'],
      [3, 'off', 'bool'],
      [20, 'far', 'i64'],
      [21, 's', 'string'],
    ]);
    const bytes = encodeThrift(desc, { a: -1, flag: true, off: false, far: 300, s: 'hé' }).copy();
    expect([...bytes]).toEqual([
      0x15,
      0x01, // field 1 (delta 1), i32, zigzag(-1) = 1
      0x11, // field 2 (delta 1), boolean true
      0x12, // field 3 (delta 1), boolean false
      0x06,
      0x28,
      0xd8,
      0x04, // field 20: delta 17 > 15, so long form: type i64, zigzag(20) = 40, then zigzag(300) = 600
      0x18,
      0x03,
      0x68,
      0xc3,
      0xa9, // field 21 (delta 1), binary length 3, UTF-8 of "hé"
      0x00, // stop
    ]);
    const back = decodeThrift<Record<string, unknown>>(desc, new ThriftReader(bytes));
    expect(back).toEqual({ a: -1, flag: true, off: false, far: 300, s: 'hé' });
  });

  it('round-trips 64-bit values beyond 2^32 and negative ones exactly', () => {
    const desc = thriftStruct([
      [1, 'v', 'i64'],
      [2, 'w', 'i64'],
      [3, 'x', 'i16'],
      [4, 'y', 'i8'],
    ]);
    const value = { v: 2 ** 52 + 12345, w: -(2 ** 52) - 7, x: -32768, y: -5 };
    const bytes = encodeThrift(desc, value).copy();
    expect(decodeThrift(desc, new ThriftReader(bytes))).toEqual(value);
    for (const edge of [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53 - 2, -(2 ** 52) - 1]) {
      const one = encodeThrift(desc, { v: edge }).copy();
      expect(decodeThrift(desc, new ThriftReader(one))).toEqual({ v: edge });
    }
    expect(() => encodeThrift(desc, { v: 2 ** 53 })).toThrow(/not a safe integer/);
  });

  it('writes long list headers for 15 or more elements and nested structs in lists', () => {
    const inner = thriftStruct([[1, 'n', 'i32']]);
    const desc = thriftStruct([
      [1, 'items', thriftList('i32')],
      [2, 'structs', thriftList(inner)],
    ]);
    const value = { items: Array.from({ length: 20 }, (_, i) => i - 10), structs: [{ n: 1 }, { n: 2 }] };
    const bytes = encodeThrift(desc, value).copy();
    expect(bytes[1]).toBe(0xf5); // size nibble 15 = "size follows", element type i32
    expect(bytes[2]).toBe(20);
    expect(decodeThrift(desc, new ThriftReader(bytes))).toEqual(value);
  });

  it('skips fields the reader does not know, of every wire type', () => {
    const writer = thriftStruct([
      [1, 'keep', 'i32'],
      [2, 'b', 'bool'],
      [3, 'd', 'double'],
      [4, 'bin', 'binary'],
      [
        5,
        'list',
        thriftList(
          thriftStruct([
            [1, 'x', 'string'],
            [2, 'y', thriftList('bool')],
          ]),
        ),
      ],
      [6, 'st', thriftStruct([[7, 'z', 'i64']])],
      [7, 'big', 'i64'],
      [8, 'last', 'string'],
    ]);
    const reader = thriftStruct([
      [1, 'keep', 'i32'],
      [8, 'last', 'string'],
    ]);
    const bytes = encodeThrift(writer, {
      keep: 7,
      b: true,
      d: 1.5,
      bin: Uint8Array.of(1, 2, 3),
      list: [{ x: 'a', y: [true, false] }],
      st: { z: -9 },
      big: 2 ** 40,
      last: 'end',
    }).copy();
    expect(decodeThrift(reader, new ThriftReader(bytes))).toEqual({ keep: 7, last: 'end' });
  });

  it('round-trips a complete FileMetaData with logical types and field ids', () => {
    const meta: FileMetaData = {
      version: 1,
      schema: [
        { name: 'table', num_children: 3 },
        { name: 'id', type: ParquetType.INT64, repetition_type: Repetition.REQUIRED, field_id: 1 },
        {
          name: 'price',
          type: ParquetType.FIXED_LEN_BYTE_ARRAY,
          type_length: 16,
          repetition_type: Repetition.OPTIONAL,
          field_id: 2,
          converted_type: ConvertedType.DECIMAL,
          scale: 2,
          precision: 38,
          logicalType: { DECIMAL: { scale: 2, precision: 38 } },
        },
        {
          name: 'ts',
          type: ParquetType.INT64,
          repetition_type: Repetition.OPTIONAL,
          field_id: 3,
          converted_type: ConvertedType.TIMESTAMP_MICROS,
          logicalType: { TIMESTAMP: { isAdjustedToUTC: false, unit: { MICROS: {} } } },
        },
      ],
      num_rows: 3_000_000_000,
      row_groups: [
        {
          columns: [
            {
              file_offset: 4,
              meta_data: {
                type: ParquetType.INT64,
                encodings: [Encoding.PLAIN, Encoding.RLE],
                path_in_schema: ['id'],
                codec: CompressionCodec.ZSTD,
                num_values: 3_000_000_000,
                total_uncompressed_size: 2 ** 33,
                total_compressed_size: 2 ** 32 + 1,
                data_page_offset: 4,
                statistics: {
                  null_count: 0,
                  min_value: Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0),
                  max_value: Uint8Array.of(9, 0, 0, 0, 0, 0, 0, 0),
                  is_min_value_exact: true,
                },
              },
            },
          ],
          total_byte_size: 2 ** 33,
          num_rows: 3_000_000_000,
          file_offset: 4,
          total_compressed_size: 2 ** 32 + 1,
          ordinal: 0,
        },
      ],
      key_value_metadata: [{ key: 'iceberg.schema', value: '{"type":"struct"}' }],
      created_by: 'icebridge version 0.1.0',
      column_orders: [{ TYPE_ORDER: {} }, { TYPE_ORDER: {} }, { TYPE_ORDER: {} }],
    };
    expect(decodeFileMetaData(encodeFileMetaData(meta))).toEqual(meta);
  });

  it('round-trips page headers and reports where the header ends', () => {
    const header: PageHeader = {
      type: PageType.DATA_PAGE,
      uncompressed_page_size: 1 << 20,
      compressed_page_size: 12345,
      data_page_header: { num_values: 99, encoding: Encoding.PLAIN, definition_level_encoding: Encoding.RLE, repetition_level_encoding: Encoding.RLE },
    };
    const out = new ByteBuffer(8);
    out.append(Uint8Array.of(0xaa, 0xbb));
    writePageHeader(header, out);
    const end = out.pos;
    out.append(Uint8Array.of(0xcc));
    const read = readPageHeader(out.copy(), 2);
    expect(read.header).toEqual(header);
    expect(read.end).toBe(end);
  });

  it('rejects truncated input instead of reading garbage', () => {
    const bytes = encodeFileMetaData({ version: 1, schema: [{ name: 'table', num_children: 0 }], num_rows: 0, row_groups: [] });
    expect(() => decodeFileMetaData(bytes.subarray(0, bytes.length - 3))).toThrow(/end of data/);
  });
});
