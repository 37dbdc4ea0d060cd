import { describe, expect, it } from 'vitest';
import { readContainerHeader, writeContainer } from '../../../shared/iceberg/avro/container';
import { manifestEntrySchema } from '../../../shared/iceberg/avro/manifest-schema';
import { readManifest } from '../../../shared/iceberg/avro/manifest-reader';
import { writeManifest } from '../../../shared/iceberg/avro/manifest-writer';
import { parseJson } from '../../../shared/iceberg/spec/json';
import {
  type DataFile,
  DataFileContent,
  type ManifestEntry,
  ManifestContent,
  ManifestEntryStatus,
  UNASSIGNED_SEQUENCE_NUMBER,
} from '../../../shared/iceberg/spec/manifest';
import { UNPARTITIONED_SPEC } from '../../../shared/iceberg/spec/partition-spec';
import { allIds, avscDecode, avscEncode, missingIds } from './avsc-judge';
import { ENTRIES, EXPECTED_PARTITIONS, PARTITION_TYPE, SPEC, TABLE_SCHEMA, twos } from './manifest-fixtures';

const OPTIONS = { schema: TABLE_SCHEMA, spec: SPEC, partitionType: PARTITION_TYPE, content: ManifestContent.Data };

/** What a reader must see: inherited sequence numbers come back as null, everything else as written. */
function asRead(entry: ManifestEntry): ManifestEntry {
  const inherit = (v: bigint | null) => (v === UNASSIGNED_SEQUENCE_NUMBER ? null : v);
  return { ...entry, sequenceNumber: inherit(entry.sequenceNumber), fileSequenceNumber: inherit(entry.fileSequenceNumber) };
}

const pairs = (m: Map<number, unknown> | undefined) => (m === undefined ? null : [...m].map(([key, value]) => ({ key, value })));

/** The Avro record of an entry per the spec's manifest_entry schema, for comparison with what avsc decodes. */
function expectedRecord(entry: ManifestEntry, partition: Record<string, unknown>) {
  const f: DataFile = entry.dataFile;
  return {
    status: entry.status,
    snapshot_id: entry.snapshotId,
    sequence_number: entry.sequenceNumber === UNASSIGNED_SEQUENCE_NUMBER ? null : entry.sequenceNumber,
    file_sequence_number: entry.fileSequenceNumber,
    data_file: {
      content: f.content,
      file_path: f.filePath,
      file_format: f.fileFormat,
      partition,
      record_count: f.recordCount,
      file_size_in_bytes: f.fileSizeInBytes,
      column_sizes: pairs(f.columnSizes),
      value_counts: pairs(f.valueCounts),
      null_value_counts: pairs(f.nullValueCounts),
      nan_value_counts: pairs(f.nanValueCounts),
      lower_bounds: pairs(f.lowerBounds),
      upper_bounds: pairs(f.upperBounds),
      key_metadata: f.keyMetadata ?? null,
      split_offsets: f.splitOffsets ?? null,
      equality_ids: f.equalityIds ?? null,
      sort_order_id: f.sortOrderId ?? null,
      referenced_data_file: f.referencedDataFile ?? null,
    },
  };
}

describe('manifests', () => {
  it.each(['deflate', 'null'] as const)('round trip every partition type and full stats (%s codec)', (codec) => {
    const bytes = writeManifest(ENTRIES, { ...OPTIONS, codec });
    const { entries, metadata } = readManifest(bytes);
    expect(entries).toEqual(ENTRIES.map(asRead));
    expect(Object.is(entries[0]!.dataFile.partition[13], -0)).toBe(true);
    expect(metadata['avro.codec']).toBe(codec);
  });

  it('is read by avsc as the exact records the spec describes', async () => {
    const avsc = await avscDecode(writeManifest(ENTRIES, OPTIONS));
    expect(avsc.codec).toBe('deflate');
    expect(avsc.records).toEqual(ENTRIES.map((e, i) => expectedRecord(e, EXPECTED_PARTITIONS[i]!)));
  });

  it('carries the manifest metadata the spec requires', async () => {
    const { meta } = await avscDecode(writeManifest(ENTRIES, OPTIONS));
    expect(Object.keys(meta).sort()).toEqual(
      ['avro.codec', 'avro.schema', 'content', 'format-version', 'partition-spec', 'partition-spec-id', 'schema', 'schema-id'].sort(),
    );
    expect(meta['format-version']).toBe('2');
    expect(meta['content']).toBe('data');
    expect(meta['schema-id']).toBe('3');
    expect(meta['partition-spec-id']).toBe('2');
    expect(parseJson(meta['schema']!)).toEqual(TABLE_SCHEMA);
    expect(parseJson(meta['partition-spec']!)).toEqual(SPEC.fields);
  });

  it('embeds a schema where every field, element, key and value carries its id', async () => {
    const { meta } = await avscDecode(writeManifest(ENTRIES, OPTIONS));
    const schema = JSON.parse(meta['avro.schema']!) as SchemaNode;
    expect(missingIds(schema)).toEqual([]);
    const expected = [0, 1, 2, 3, 4, 100, 101, 102, 103, 104, 108, 109, 110, 117, 118, 119, 120, 121, 122, 125, 126, 127, 128, 129, 130];
    expected.push(131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 143, ...PARTITION_TYPE.fields.map((f) => f.id));
    expect(allIds(schema)).toEqual(expected.sort((a, b) => a - b));
    expect(schema.name).toBe('manifest_entry');
    const dataFile = schema.fields.find((f) => f.name === 'data_file')!.type;
    expect(dataFile.name).toBe('r2');
    const partition = dataFile.fields.find((f) => f.name === 'partition')!;
    expect(partition['field-id']).toBe(102);
    expect(partition.type.name).toBe('r102');
    const bucket = partition.type.fields.find((f) => f.name === 'id_x2Dbucket')!;
    expect(bucket['iceberg-field-name']).toBe('id-bucket');
    const columnSizes = dataFile.fields.find((f) => f.name === 'column_sizes')!;
    expect((columnSizes.type as unknown as unknown[])[1]).toMatchObject({ type: 'array', logicalType: 'map', items: { name: 'k117_v118' } });
  });

  it('writes an empty partition record for unpartitioned tables', async () => {
    const entry: ManifestEntry = { ...ENTRIES[1]!, dataFile: { ...ENTRIES[1]!.dataFile, partition: [] } };
    const bytes = writeManifest([entry], { ...OPTIONS, spec: UNPARTITIONED_SPEC, partitionType: { type: 'struct', fields: [] } });
    expect(readManifest(bytes).entries).toEqual([entry]);
    expect((await avscDecode(bytes)).records).toEqual([expectedRecord(entry, {})]);
    expect(readManifest(bytes).metadata['partition-spec']).toBe('[]');
  });

  it('writes delete manifests with equality ids and a position delete file’s referenced data file', async () => {
    const deletes: ManifestEntry[] = [
      { ...ENTRIES[0]!, dataFile: { ...ENTRIES[0]!.dataFile, content: DataFileContent.EqualityDeletes, equalityIds: [1, 12] } },
      { ...ENTRIES[1]!, dataFile: { ...ENTRIES[1]!.dataFile, content: DataFileContent.PositionDeletes, referencedDataFile: 's3://b/data/one.parquet' } },
    ];
    const bytes = writeManifest(deletes, { ...OPTIONS, content: ManifestContent.Deletes });
    const read = readManifest(bytes);
    expect(read.metadata['content']).toBe('deletes');
    expect(read.entries).toEqual(deletes.map(asRead));
    const avsc = await avscDecode(bytes);
    expect((avsc.records[0] as { data_file: { equality_ids: number[] } }).data_file.equality_ids).toEqual([1, 12]);
    expect((avsc.records[1] as { data_file: { content: number; referenced_data_file: string } }).data_file).toMatchObject({
      content: 1,
      referenced_data_file: 's3://b/data/one.parquet',
    });
    const misplaced = { ...deletes[0]!, dataFile: { ...deletes[0]!.dataFile, referencedDataFile: 'x' } };
    expect(() => writeManifest([misplaced], { ...OPTIONS, content: ManifestContent.Deletes })).toThrow(/only a position delete file refers to a data file/);
    const noIds = { ...deletes[0]!, dataFile: { ...deletes[0]!.dataFile, equalityIds: [] } };
    expect(() => writeManifest([noIds], { ...OPTIONS, content: ManifestContent.Deletes })).toThrow(/needs its equality field ids/);
  });

  it('writes an empty manifest', () => {
    expect(readManifest(writeManifest([], OPTIONS)).entries).toEqual([]);
  });

  it('refuses entries that would make an invalid manifest', () => {
    const [added, existing] = ENTRIES as [ManifestEntry, ManifestEntry];
    const write =
      (entries: ManifestEntry[], overrides = {}) =>
      () =>
        writeManifest(entries, { ...OPTIONS, ...overrides });
    expect(write([{ ...existing, sequenceNumber: null }])).toThrow(/sequenceNumber is required for an entry with status Existing/);
    expect(write([{ ...existing, status: ManifestEntryStatus.Deleted, fileSequenceNumber: UNASSIGNED_SEQUENCE_NUMBER }])).toThrow(
      /fileSequenceNumber is required/,
    );
    expect(write([added], { content: ManifestContent.Deletes })).toThrow(/data file cannot be listed in a delete manifest/);
    const partition = [...added.dataFile.partition];
    partition[4] = 10n ** 9n;
    expect(write([{ ...added, dataFile: { ...added.dataFile, partition } }])).toThrow(/partition field dec9: expected at most 9 digits/);
    partition[4] = '12.30';
    expect(write([{ ...added, dataFile: { ...added.dataFile, partition } }])).toThrow(/partition field dec9: expected unscaled decimal/);
    expect(write([{ ...added, dataFile: { ...added.dataFile, partition: partition.slice(1) } }])).toThrow(/partition has 13 values/);
    const badUuid = [...added.dataFile.partition];
    badUuid[8] = 'not-a-uuid';
    expect(write([{ ...added, dataFile: { ...added.dataFile, partition: badUuid } }])).toThrow(/partition field u: expected uuid/);
    expect(write([added], { partitionType: { type: 'struct', fields: PARTITION_TYPE.fields.slice(1) } })).toThrow(/do not match the partition spec/);
    const required = { type: 'struct' as const, fields: PARTITION_TYPE.fields.map((f) => ({ ...f, required: true })) };
    expect(write([existing], { partitionType: required })).toThrow(/partition field i is required/);
  });
});

/** The parts of a record schema's JSON that these assertions walk. */
interface SchemaNode {
  name: string;
  type: SchemaNode;
  fields: SchemaNode[];
  'field-id'?: number;
  'iceberg-field-name'?: string;
}

/** Deep copy of a schema JSON without Iceberg ids, as a writer that knows nothing of Iceberg would store it. */
function withoutIds(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema), (key, value: unknown) =>
    ['field-id', 'element-id', 'key-id', 'value-id', 'iceberg-field-name'].includes(key) ? undefined : value,
  );
}

describe('manifests written by other writers', () => {
  const partitionType = {
    type: 'struct' as const,
    fields: [
      { id: 1000, name: 'i', required: false, type: 'int' as const },
      { id: 1001, name: 'dec', required: false, type: 'decimal(9, 2)' as const },
      { id: 1002, name: 'u', required: false, type: 'uuid' as const },
    ],
  };

  it('reads an avsc-written v2 manifest without ids, with an extra field and fewer optional fields', async () => {
    const schema = withoutIds(manifestEntrySchema(partitionType)) as { fields: { name: string; type: { fields: { name: string }[] } }[] };
    const dataFile = schema.fields[4]!.type;
    dataFile.fields = dataFile.fields.filter((f) => !['nan_value_counts', 'equality_ids', 'key_metadata'].includes(f.name));
    dataFile.fields.push({ name: 'extra_field', type: ['null', 'string'], default: null } as never);
    const record = {
      status: 1,
      snapshot_id: 42n,
      sequence_number: null,
      file_sequence_number: null,
      data_file: {
        content: 0,
        file_path: 's3://b/f.parquet',
        file_format: 'parquet',
        partition: { i: null, dec: Buffer.from([0xff, 0xff, 0xff, 0x85]), u: Buffer.alloc(16, 0xab) },
        record_count: 2n ** 40n,
        file_size_in_bytes: 10n,
        column_sizes: [{ key: 1, value: 5n }],
        value_counts: null,
        null_value_counts: null,
        lower_bounds: [{ key: 1, value: Buffer.from([1]) }],
        upper_bounds: null,
        split_offsets: [4n],
        sort_order_id: null,
        referenced_data_file: null,
        extra_field: 'ignored',
      },
    };
    const bytes = await avscEncode(schema, [record], 'null');
    expect(readContainerHeader(bytes).codec).toBe('null');
    const { entries } = readManifest(bytes);
    expect(entries).toEqual([
      {
        status: ManifestEntryStatus.Added,
        snapshotId: 42n,
        sequenceNumber: null,
        fileSequenceNumber: null,
        dataFile: {
          content: DataFileContent.Data,
          filePath: 's3://b/f.parquet',
          fileFormat: 'PARQUET',
          // avsc keeps no logical types it does not know in the header, so the file says plain fixed and
          // the values are the stored bytes; a reader must not guess a decimal or uuid the file does not declare.
          partition: [null, Uint8Array.of(0xff, 0xff, 0xff, 0x85), new Uint8Array(16).fill(0xab)],
          recordCount: 2n ** 40n,
          fileSizeInBytes: 10n,
          columnSizes: new Map([[1, 5n]]),
          lowerBounds: new Map([[1, Uint8Array.of(1)]]),
          splitOffsets: [4n],
        },
      },
    ]);
  });

  it('converts partition values by the logical types a writer declares, including other encodings', () => {
    const schema = withoutIds(manifestEntrySchema({ type: 'struct', fields: [] })) as {
      fields: { name: string; type: { fields: { name: string; type: unknown }[] } }[];
    };
    const partition = schema.fields[4]!.type.fields.find((f) => f.name === 'partition')!;
    partition.type = {
      type: 'record',
      name: 'r102',
      fields: [
        { name: 'dec_bytes', type: ['null', { type: 'bytes', logicalType: 'decimal', precision: 20, scale: 3 }], default: null },
        { name: 'uuid_text', type: ['null', { type: 'string', logicalType: 'uuid' }], default: null },
        { name: 'local_ts', type: ['null', { type: 'long', logicalType: 'local-timestamp-micros' }], default: null },
        { name: 'dec_fixed', type: ['null', { type: 'fixed', name: 'd', size: 9, logicalType: 'decimal', precision: 20, scale: 0 }] },
        { name: 'again', type: ['null', 'd'] },
      ],
    };
    const entry = { ...ENTRIES[1]!, dataFile: { ...ENTRIES[1]!.dataFile, partition: [] } };
    const record = expectedRecord(entry, {
      dec_bytes: Uint8Array.of(0xfe, 0x0c),
      uuid_text: 'ABCDEF00-0000-0000-0000-000000000001',
      local_ts: -5n,
      dec_fixed: twos(-(10n ** 19n), 9),
      again: twos(10n ** 19n, 9),
    });
    const { entries } = readManifest(writeContainer(schema as never, [record]));
    expect(entries[0]!.dataFile.partition).toEqual([-500n, 'abcdef00-0000-0000-0000-000000000001', -5n, -(10n ** 19n), 10n ** 19n]);
  });

  it('reads a v1 manifest: no content or sequence numbers, deprecated fields ignored', async () => {
    const schema = {
      type: 'record',
      name: 'manifest_entry',
      fields: [
        { name: 'status', type: 'int' },
        { name: 'snapshot_id', type: 'long' },
        {
          name: 'data_file',
          type: {
            type: 'record',
            name: 'r2',
            fields: [
              { name: 'file_path', type: 'string' },
              { name: 'file_format', type: 'string' },
              { name: 'partition', type: { type: 'record', name: 'r102', fields: [{ name: 'day', type: ['null', { type: 'int', logicalType: 'date' }] }] } },
              { name: 'record_count', type: 'long' },
              { name: 'file_size_in_bytes', type: 'long' },
              { name: 'block_size_in_bytes', type: 'long' },
            ],
          },
        },
      ],
    };
    const record = {
      status: 0,
      snapshot_id: 7n,
      data_file: {
        file_path: '/t/a.avro',
        file_format: 'avro',
        partition: { day: 19000 },
        record_count: 3n,
        file_size_in_bytes: 99n,
        block_size_in_bytes: 67108864n,
      },
    };
    const { entries } = readManifest(await avscEncode(schema, [record], 'deflate'));
    expect(entries).toEqual([
      {
        status: ManifestEntryStatus.Existing,
        snapshotId: 7n,
        sequenceNumber: 0n,
        fileSequenceNumber: 0n,
        dataFile: { content: DataFileContent.Data, filePath: '/t/a.avro', fileFormat: 'AVRO', partition: [19000], recordCount: 3n, fileSizeInBytes: 99n },
      },
    ]);
  });

  it('finds fields by field id when a writer named them differently', () => {
    const schema = manifestEntrySchema({ type: 'struct', fields: [] });
    const dataFile = schema.fields[4]!.type as { fields: { name: string; 'field-id'?: number }[] };
    dataFile.fields.find((f) => f['field-id'] === 100)!.name = 'path';
    dataFile.fields.find((f) => f['field-id'] === 103)!.name = 'rows';
    // A field that shares a spec name but carries another id must not be mistaken for it.
    dataFile.fields.push({ name: 'file_path', type: 'string', 'field-id': 9999 } as never);
    const entry = { ...ENTRIES[1]!, dataFile: { ...ENTRIES[1]!.dataFile, partition: [] } };
    const record = expectedRecord(entry, {}) as { data_file: Record<string, unknown> };
    const { file_path, record_count, ...rest } = record.data_file;
    const renamed = { ...record, data_file: { ...rest, path: file_path, rows: record_count, file_path: 'decoy' } };
    const { entries } = readManifest(writeContainer(schema, [renamed]));
    expect(entries).toEqual([entry]);
  });
});
