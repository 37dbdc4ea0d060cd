/**
 * The parquet.thrift structs this package reads and writes (apache/parquet-format src/main/thrift/parquet.thrift),
 * with the format's own field names, and their compact-protocol descriptors. Integer fields are JS numbers: every
 * i64 in file metadata is an offset, a size or a count, all far below 2^53.
 */
import { ByteBuffer } from './byte-buffer';
import { type ThriftStruct, ThriftReader, decodeThrift, encodeThrift, thriftList, thriftStruct } from './thrift-compact';

/** Physical types. */
export enum ParquetType {
  BOOLEAN = 0,
  INT32 = 1,
  INT64 = 2,
  INT96 = 3,
  FLOAT = 4,
  DOUBLE = 5,
  BYTE_ARRAY = 6,
  FIXED_LEN_BYTE_ARRAY = 7,
}

/** Deprecated annotations, still written for older readers. */
export enum ConvertedType {
  UTF8 = 0,
  MAP = 1,
  MAP_KEY_VALUE = 2,
  LIST = 3,
  ENUM = 4,
  DECIMAL = 5,
  DATE = 6,
  TIME_MILLIS = 7,
  TIME_MICROS = 8,
  TIMESTAMP_MILLIS = 9,
  TIMESTAMP_MICROS = 10,
  UINT_8 = 11,
  UINT_16 = 12,
  UINT_32 = 13,
  UINT_64 = 14,
  INT_8 = 15,
  INT_16 = 16,
  INT_32 = 17,
  INT_64 = 18,
  JSON = 19,
  BSON = 20,
}

/** Field repetition. */
export enum Repetition {
  REQUIRED = 0,
  OPTIONAL = 1,
  REPEATED = 2,
}

/** Value and level encodings. */
export enum Encoding {
  PLAIN = 0,
  PLAIN_DICTIONARY = 2,
  RLE = 3,
  BIT_PACKED = 4,
  DELTA_BINARY_PACKED = 5,
  DELTA_LENGTH_BYTE_ARRAY = 6,
  DELTA_BYTE_ARRAY = 7,
  RLE_DICTIONARY = 8,
  BYTE_STREAM_SPLIT = 9,
}

/** Page compression codecs. */
export enum CompressionCodec {
  UNCOMPRESSED = 0,
  SNAPPY = 1,
  GZIP = 2,
  LZO = 3,
  BROTLI = 4,
  LZ4 = 5,
  ZSTD = 6,
  LZ4_RAW = 7,
}

/** Page types. */
export enum PageType {
  DATA_PAGE = 0,
  INDEX_PAGE = 1,
  DICTIONARY_PAGE = 2,
  DATA_PAGE_V2 = 3,
}

/** An empty annotation struct (STRING, UUID, DATE, ...). */
export type Empty = Record<string, never>;

/** TimeUnit union. */
export interface TimeUnit {
  MILLIS?: Empty;
  MICROS?: Empty;
  NANOS?: Empty;
}

/** LogicalType union; exactly one member is set. */
export interface LogicalType {
  STRING?: Empty;
  MAP?: Empty;
  LIST?: Empty;
  ENUM?: Empty;
  DECIMAL?: { scale: number; precision: number };
  DATE?: Empty;
  TIME?: { isAdjustedToUTC: boolean; unit: TimeUnit };
  TIMESTAMP?: { isAdjustedToUTC: boolean; unit: TimeUnit };
  INTEGER?: { bitWidth: number; isSigned: boolean };
  UNKNOWN?: Empty;
  JSON?: Empty;
  BSON?: Empty;
  UUID?: Empty;
  FLOAT16?: Empty;
}

/** One node of the flattened (depth-first) schema. */
export interface SchemaElement {
  type?: ParquetType;
  type_length?: number;
  repetition_type?: Repetition;
  name: string;
  num_children?: number;
  converted_type?: ConvertedType;
  scale?: number;
  precision?: number;
  field_id?: number;
  logicalType?: LogicalType;
}

/** Column chunk or page statistics; min_value/max_value follow the column order. */
export interface Statistics {
  max?: Uint8Array;
  min?: Uint8Array;
  null_count?: number;
  distinct_count?: number;
  max_value?: Uint8Array;
  min_value?: Uint8Array;
  is_max_value_exact?: boolean;
  is_min_value_exact?: boolean;
  nan_count?: number;
}

/** Header of a v1 data page. */
export interface DataPageHeader {
  num_values: number;
  encoding: Encoding;
  definition_level_encoding: Encoding;
  repetition_level_encoding: Encoding;
  statistics?: Statistics;
}

/** Header of a dictionary page. */
export interface DictionaryPageHeader {
  num_values: number;
  encoding: Encoding;
  is_sorted?: boolean;
}

/** Header of a v2 data page (levels stored uncompressed before the values). */
export interface DataPageHeaderV2 {
  num_values: number;
  num_nulls: number;
  num_rows: number;
  encoding: Encoding;
  definition_levels_byte_length: number;
  repetition_levels_byte_length: number;
  is_compressed?: boolean;
  statistics?: Statistics;
}

/** Header preceding every page. */
export interface PageHeader {
  type: PageType;
  uncompressed_page_size: number;
  compressed_page_size: number;
  crc?: number;
  data_page_header?: DataPageHeader;
  dictionary_page_header?: DictionaryPageHeader;
  data_page_header_v2?: DataPageHeaderV2;
}

/** A key/value metadata pair. */
export interface KeyValue {
  key: string;
  value?: string;
}

/** Metadata of one column chunk. */
export interface ColumnMetaData {
  type: ParquetType;
  encodings: Encoding[];
  path_in_schema: string[];
  codec: CompressionCodec;
  num_values: number;
  total_uncompressed_size: number;
  total_compressed_size: number;
  key_value_metadata?: KeyValue[];
  data_page_offset: number;
  index_page_offset?: number;
  dictionary_page_offset?: number;
  statistics?: Statistics;
}

/** A column chunk of a row group. */
export interface ColumnChunk {
  file_path?: string;
  file_offset: number;
  meta_data?: ColumnMetaData;
}

/** A row group. */
export interface RowGroup {
  columns: ColumnChunk[];
  total_byte_size: number;
  num_rows: number;
  file_offset?: number;
  total_compressed_size?: number;
  ordinal?: number;
}

/** ColumnOrder union; TYPE_ORDER means min_value/max_value use the logical type's order. */
export interface ColumnOrder {
  TYPE_ORDER?: Empty;
}

/** The file footer. */
export interface FileMetaData {
  version: number;
  schema: SchemaElement[];
  num_rows: number;
  row_groups: RowGroup[];
  key_value_metadata?: KeyValue[];
  created_by?: string;
  column_orders?: ColumnOrder[];
}

const EMPTY = thriftStruct([]);
const TIME_UNIT = thriftStruct([
  [1, 'MILLIS', EMPTY],
  [2, 'MICROS', EMPTY],
  [3, 'NANOS', EMPTY],
]);
const TIME_TYPE = thriftStruct([
  [1, 'isAdjustedToUTC', 'bool'],
  [2, 'unit', TIME_UNIT],
]);
const LOGICAL_TYPE = thriftStruct([
  [1, 'STRING', EMPTY],
  [2, 'MAP', EMPTY],
  [3, 'LIST', EMPTY],
  [4, 'ENUM', EMPTY],
  [
    5,
    'DECIMAL',
    thriftStruct([
      [1, 'scale', 'i32'],
      [2, 'precision', 'i32'],
    ]),
  ],
  [6, 'DATE', EMPTY],
  [7, 'TIME', TIME_TYPE],
  [8, 'TIMESTAMP', TIME_TYPE],
  [
    10,
    'INTEGER',
    thriftStruct([
      [1, 'bitWidth', 'i8'],
      [2, 'isSigned', 'bool'],
    ]),
  ],
  [11, 'UNKNOWN', EMPTY],
  [12, 'JSON', EMPTY],
  [13, 'BSON', EMPTY],
  [14, 'UUID', EMPTY],
  [15, 'FLOAT16', EMPTY],
]);
const SCHEMA_ELEMENT = thriftStruct([
  [1, 'type', 'i32'],
  [2, 'type_length', 'i32'],
  [3, 'repetition_type', 'i32'],
  [4, 'name', 'string'],
  [5, 'num_children', 'i32'],
  [6, 'converted_type', 'i32'],
  [7, 'scale', 'i32'],
  [8, 'precision', 'i32'],
  [9, 'field_id', 'i32'],
  [10, 'logicalType', LOGICAL_TYPE],
]);
const STATISTICS = thriftStruct([
  [1, 'max', 'binary'],
  [2, 'min', 'binary'],
  [3, 'null_count', 'i64'],
  [4, 'distinct_count', 'i64'],
  [5, 'max_value', 'binary'],
  [6, 'min_value', 'binary'],
  [7, 'is_max_value_exact', 'bool'],
  [8, 'is_min_value_exact', 'bool'],
  [9, 'nan_count', 'i64'],
]);
const KEY_VALUE = thriftStruct([
  [1, 'key', 'string'],
  [2, 'value', 'string'],
]);
const COLUMN_META_DATA = thriftStruct([
  [1, 'type', 'i32'],
  [2, 'encodings', thriftList('i32')],
  [3, 'path_in_schema', thriftList('string')],
  [4, 'codec', 'i32'],
  [5, 'num_values', 'i64'],
  [6, 'total_uncompressed_size', 'i64'],
  [7, 'total_compressed_size', 'i64'],
  [8, 'key_value_metadata', thriftList(KEY_VALUE)],
  [9, 'data_page_offset', 'i64'],
  [10, 'index_page_offset', 'i64'],
  [11, 'dictionary_page_offset', 'i64'],
  [12, 'statistics', STATISTICS],
]);
const COLUMN_CHUNK = thriftStruct([
  [1, 'file_path', 'string'],
  [2, 'file_offset', 'i64'],
  [3, 'meta_data', COLUMN_META_DATA],
]);
const ROW_GROUP = thriftStruct([
  [1, 'columns', thriftList(COLUMN_CHUNK)],
  [2, 'total_byte_size', 'i64'],
  [3, 'num_rows', 'i64'],
  [5, 'file_offset', 'i64'],
  [6, 'total_compressed_size', 'i64'],
  [7, 'ordinal', 'i16'],
]);
const FILE_META_DATA = thriftStruct([
  [1, 'version', 'i32'],
  [2, 'schema', thriftList(SCHEMA_ELEMENT)],
  [3, 'num_rows', 'i64'],
  [4, 'row_groups', thriftList(ROW_GROUP)],
  [5, 'key_value_metadata', thriftList(KEY_VALUE)],
  [6, 'created_by', 'string'],
  [7, 'column_orders', thriftList(thriftStruct([[1, 'TYPE_ORDER', EMPTY]]))],
]);
const DATA_PAGE_HEADER = thriftStruct([
  [1, 'num_values', 'i32'],
  [2, 'encoding', 'i32'],
  [3, 'definition_level_encoding', 'i32'],
  [4, 'repetition_level_encoding', 'i32'],
  [5, 'statistics', STATISTICS],
]);
const DICTIONARY_PAGE_HEADER = thriftStruct([
  [1, 'num_values', 'i32'],
  [2, 'encoding', 'i32'],
  [3, 'is_sorted', 'bool'],
]);
const DATA_PAGE_HEADER_V2 = thriftStruct([
  [1, 'num_values', 'i32'],
  [2, 'num_nulls', 'i32'],
  [3, 'num_rows', 'i32'],
  [4, 'encoding', 'i32'],
  [5, 'definition_levels_byte_length', 'i32'],
  [6, 'repetition_levels_byte_length', 'i32'],
  [7, 'is_compressed', 'bool'],
  [8, 'statistics', STATISTICS],
]);
const PAGE_HEADER = thriftStruct([
  [1, 'type', 'i32'],
  [2, 'uncompressed_page_size', 'i32'],
  [3, 'compressed_page_size', 'i32'],
  [4, 'crc', 'i32'],
  [5, 'data_page_header', DATA_PAGE_HEADER],
  [7, 'dictionary_page_header', DICTIONARY_PAGE_HEADER],
  [8, 'data_page_header_v2', DATA_PAGE_HEADER_V2],
]);

/** Descriptors by struct name, for tests and tools that encode other parquet.thrift structs. */
export const PARQUET_THRIFT: Readonly<Record<string, ThriftStruct>> = {
  LogicalType: LOGICAL_TYPE,
  SchemaElement: SCHEMA_ELEMENT,
  Statistics: STATISTICS,
  ColumnMetaData: COLUMN_META_DATA,
  ColumnChunk: COLUMN_CHUNK,
  RowGroup: ROW_GROUP,
  FileMetaData: FILE_META_DATA,
  PageHeader: PAGE_HEADER,
};

/** Serialises a file footer. */
export function encodeFileMetaData(meta: FileMetaData): Uint8Array {
  return encodeThrift(FILE_META_DATA, meta, new ByteBuffer(4096)).copy();
}

/** Parses a file footer. */
export function decodeFileMetaData(bytes: Uint8Array): FileMetaData {
  return decodeThrift<FileMetaData>(FILE_META_DATA, new ThriftReader(bytes));
}

/** Appends a serialised page header to `out`. */
export function writePageHeader(header: PageHeader, out: ByteBuffer): void {
  encodeThrift(PAGE_HEADER, header, out);
}

/** Parses a page header at `offset`; returns it with the offset just after it. */
export function readPageHeader(bytes: Uint8Array, offset: number): { header: PageHeader; end: number } {
  const reader = new ThriftReader(bytes, offset);
  const header = decodeThrift<PageHeader>(PAGE_HEADER, reader);
  return { header, end: reader.pos };
}
