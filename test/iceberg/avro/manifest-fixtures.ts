/** A table with a column of every partitionable type, a spec partitioning on all of them, and entries covering edge values. */
import { type DataFile, DataFileContent, type ManifestEntry, ManifestEntryStatus, UNASSIGNED_SEQUENCE_NUMBER } from '../../../shared/iceberg/spec/manifest';
import type { PartitionSpec } from '../../../shared/iceberg/spec/partition-spec';
import type { Schema } from '../../../shared/iceberg/spec/schema';
import type { PrimitiveType, StructType } from '../../../shared/iceberg/spec/types';
import type { Value } from '../../../shared/iceberg/spec/values';

export const TABLE_SCHEMA: Schema = {
  type: 'struct',
  'schema-id': 3,
  'identifier-field-ids': [1],
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'i', required: false, type: 'int' },
    { id: 3, name: 'd', required: false, type: 'date' },
    { id: 4, name: 'ts', required: false, type: 'timestamp' },
    { id: 5, name: 'tstz', required: false, type: 'timestamptz' },
    { id: 6, name: 'dec9', required: false, type: 'decimal(9, 2)' },
    { id: 7, name: 'dec38', required: false, type: 'decimal(38, 10)' },
    { id: 8, name: 's', required: false, type: 'string' },
    { id: 9, name: 'u', required: false, type: 'uuid' },
    { id: 10, name: 'b', required: false, type: 'binary' },
    { id: 11, name: 'flag', required: false, type: 'boolean' },
    { id: 12, name: 'l', required: false, type: 'long' },
    { id: 13, name: 'score', required: false, type: 'double' },
    { id: 14, name: 'tags', required: false, type: { type: 'list', 'element-id': 15, element: 'string', 'element-required': false } },
    {
      id: 16,
      name: 'attrs',
      required: false,
      type: { type: 'map', 'key-id': 17, key: 'string', 'value-id': 18, value: 'int', 'value-required': true },
    },
  ],
};

const PARTITION_FIELDS: [number, string, string, PrimitiveType][] = [
  [2, 'i', 'identity', 'int'],
  [3, 'd', 'identity', 'date'],
  [4, 'ts', 'identity', 'timestamp'],
  [5, 'tstz', 'identity', 'timestamptz'],
  [6, 'dec9', 'identity', 'decimal(9, 2)'],
  [6, 'dec9_trunc', 'truncate[100]', 'decimal(9, 2)'],
  [7, 'dec38', 'identity', 'decimal(38, 10)'],
  [8, 's', 'identity', 'string'],
  [9, 'u', 'identity', 'uuid'],
  [10, 'b', 'identity', 'binary'],
  [11, 'flag', 'identity', 'boolean'],
  [12, 'l', 'identity', 'long'],
  [1, 'id-bucket', 'bucket[16]', 'int'],
  [13, 'score', 'identity', 'double'],
];

export const SPEC: PartitionSpec = {
  'spec-id': 2,
  fields: PARTITION_FIELDS.map(([source, name, transform], i) => ({ 'source-id': source, 'field-id': 1000 + i, name, transform })),
};

export const PARTITION_TYPE: StructType = {
  type: 'struct',
  fields: PARTITION_FIELDS.map(([, name, , type], i) => ({ id: 1000 + i, name, required: false, type })),
};

export const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';
export const MAX_LONG = (1n << 63n) - 1n;
export const MIN_LONG = -(1n << 63n);

function file(path: string, partition: DataFile['partition'], extra: Partial<DataFile> = {}): DataFile {
  return {
    content: DataFileContent.Data,
    filePath: `abfss://fs@acct.dfs.core.windows.net/wh/db/t/data/${path}`,
    fileFormat: 'PARQUET',
    partition,
    recordCount: 1000n,
    fileSizeInBytes: 123_456n,
    ...extra,
  };
}

const le64 = (v: bigint): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(v);
  return new Uint8Array(b);
};

/** Added (inherits its sequence numbers), existing, deleted, and added with an explicit older data sequence number. */
export const ENTRIES: ManifestEntry[] = [
  {
    status: ManifestEntryStatus.Added,
    snapshotId: null,
    sequenceNumber: UNASSIGNED_SEQUENCE_NUMBER,
    fileSequenceNumber: null,
    dataFile: file(
      'a.parquet',
      [-5, -719162, -1n, 1_700_000_000_123_456n, 1234567n, -1234500n, -(10n ** 37n), 'zürich 🚀', UUID, Uint8Array.of(0, 1, 0, 255), true, MAX_LONG, 7, -0],
      {
        columnSizes: new Map([
          [1, 800n],
          [8, 2n ** 40n],
        ]),
        valueCounts: new Map([
          [1, 1000n],
          [8, 1000n],
          [13, 1000n],
        ]),
        nullValueCounts: new Map([
          [1, 0n],
          [8, 12n],
        ]),
        nanValueCounts: new Map([[13, 3n]]),
        lowerBounds: new Map([
          [1, le64(-5n)],
          [8, new TextEncoder().encode('aa')],
        ]),
        upperBounds: new Map([
          [1, le64(MAX_LONG)],
          [8, Uint8Array.of(0x7a, 0x00, 0x7a)],
        ]),
        keyMetadata: Uint8Array.of(0xde, 0xad, 0xbe, 0xef),
        splitOffsets: [4n, 2n ** 40n],
        sortOrderId: 1,
      },
    ),
  },
  {
    status: ManifestEntryStatus.Existing,
    snapshotId: 2n ** 62n + 1n,
    sequenceNumber: 5n,
    fileSequenceNumber: 4n,
    dataFile: file('b.parquet', new Array<Value>(PARTITION_FIELDS.length).fill(null), { recordCount: 0n, fileSizeInBytes: 4n }),
  },
  {
    status: ManifestEntryStatus.Deleted,
    snapshotId: 3n,
    sequenceNumber: 7n,
    fileSequenceNumber: 7n,
    dataFile: file(
      'c.parquet',
      [
        2147483647,
        2932896,
        MIN_LONG,
        MAX_LONG,
        999999999n,
        -999999999n,
        10n ** 38n - 1n,
        '',
        '00000000-0000-0000-0000-000000000000',
        new Uint8Array(0),
        false,
        MIN_LONG,
        -2147483648,
        Number.NaN,
      ],
      {
        columnSizes: new Map(),
        valueCounts: new Map(),
        nullValueCounts: new Map(),
        nanValueCounts: new Map(),
        lowerBounds: new Map(),
        upperBounds: new Map(),
        splitOffsets: [],
        sortOrderId: 0,
      },
    ),
  },
  {
    status: ManifestEntryStatus.Added,
    snapshotId: 9n,
    sequenceNumber: 3n,
    fileSequenceNumber: null,
    dataFile: file('d.parquet', [0, 0, 0n, 0n, 0n, 0n, 1n, 'x', 'ffffffff-ffff-ffff-ffff-ffffffffffff', Uint8Array.of(0), true, 0n, 0, Infinity]),
  },
];

/** Big-endian two's complement by a different route than the code under test: BigInt.asUintN and hex. */
export function twos(value: bigint, size: number): Uint8Array {
  return new Uint8Array(
    Buffer.from(
      BigInt.asUintN(size * 8, value)
        .toString(16)
        .padStart(size * 2, '0'),
      'hex',
    ),
  );
}

/** The Avro partition records the entries above must produce, written out by hand. */
export const EXPECTED_PARTITIONS: Record<string, unknown>[] = [
  {
    i: -5,
    d: -719162,
    ts: -1n,
    tstz: 1_700_000_000_123_456n,
    dec9: Uint8Array.of(0x00, 0x12, 0xd6, 0x87),
    dec9_trunc: Uint8Array.of(0xff, 0xed, 0x29, 0xbc),
    dec38: twos(-(10n ** 37n), 16),
    s: 'zürich 🚀',
    u: Uint8Array.of(0x0f, 0x8f, 0xad, 0x5b, 0xd9, 0xcb, 0x46, 0x9f, 0xa1, 0x65, 0x70, 0x86, 0x77, 0x28, 0x95, 0x0e),
    b: Uint8Array.of(0, 1, 0, 255),
    flag: true,
    l: MAX_LONG,
    id_x2Dbucket: 7,
    score: -0,
  },
  Object.fromEntries(['i', 'd', 'ts', 'tstz', 'dec9', 'dec9_trunc', 'dec38', 's', 'u', 'b', 'flag', 'l', 'id_x2Dbucket', 'score'].map((k) => [k, null])),
  {
    i: 2147483647,
    d: 2932896,
    ts: MIN_LONG,
    tstz: MAX_LONG,
    dec9: Uint8Array.of(0x3b, 0x9a, 0xc9, 0xff),
    dec9_trunc: Uint8Array.of(0xc4, 0x65, 0x36, 0x01),
    dec38: twos(10n ** 38n - 1n, 16),
    s: '',
    u: new Uint8Array(16),
    b: new Uint8Array(0),
    flag: false,
    l: MIN_LONG,
    id_x2Dbucket: -2147483648,
    score: Number.NaN,
  },
  {
    i: 0,
    d: 0,
    ts: 0n,
    tstz: 0n,
    dec9: new Uint8Array(4),
    dec9_trunc: new Uint8Array(4),
    dec38: twos(1n, 16),
    s: 'x',
    u: new Uint8Array(16).fill(0xff),
    b: Uint8Array.of(0),
    flag: true,
    l: 0n,
    id_x2Dbucket: 0,
    score: Infinity,
  },
];
