import { describe, expect, it } from 'vitest';
import { writeContainer } from '../../../shared/iceberg/avro/container';
import { readManifestList, writeManifestList } from '../../../shared/iceberg/avro/manifest-list';
import { manifestFileSchema } from '../../../shared/iceberg/avro/manifest-schema';
import { ManifestContent, type ManifestFile, UNASSIGNED_SEQUENCE_NUMBER } from '../../../shared/iceberg/spec/manifest';
import { allIds, avscDecode, avscEncode, missingIds } from './avsc-judge';

const SNAPSHOT = 2n ** 62n + 12345n;

const FILES: ManifestFile[] = [
  {
    manifestPath: 'abfss://fs@acct.dfs.core.windows.net/wh/t/metadata/new-m0.avro',
    manifestLength: 7_000n,
    partitionSpecId: 2,
    content: ManifestContent.Data,
    sequenceNumber: UNASSIGNED_SEQUENCE_NUMBER,
    minSequenceNumber: UNASSIGNED_SEQUENCE_NUMBER,
    addedSnapshotId: SNAPSHOT,
    addedFilesCount: 3,
    existingFilesCount: 0,
    deletedFilesCount: 0,
    addedRowsCount: 2n ** 40n,
    existingRowsCount: 0n,
    deletedRowsCount: 0n,
    partitions: [
      { containsNull: true, containsNan: false, lowerBound: Uint8Array.of(1, 0, 0, 0), upperBound: Uint8Array.of(9, 0, 0, 0) },
      { containsNull: true },
      { containsNull: false, containsNan: true, lowerBound: new Uint8Array(0), upperBound: Uint8Array.of(0xff) },
    ],
  },
  {
    manifestPath: '/wh/t/metadata/old-m1.avro',
    manifestLength: 2n ** 33n,
    partitionSpecId: 0,
    content: ManifestContent.Deletes,
    sequenceNumber: 4n,
    minSequenceNumber: 1n,
    addedSnapshotId: 77n,
    addedFilesCount: 0,
    existingFilesCount: 2147483647,
    deletedFilesCount: 1,
    addedRowsCount: 0n,
    existingRowsCount: (1n << 63n) - 1n,
    deletedRowsCount: 5n,
    partitions: [],
    keyMetadata: Uint8Array.of(1, 2, 3),
  },
  {
    manifestPath: '/wh/t/metadata/old-m2.avro',
    manifestLength: 1n,
    partitionSpecId: 1,
    content: ManifestContent.Data,
    sequenceNumber: 9n,
    minSequenceNumber: 9n,
    addedSnapshotId: 78n,
    addedFilesCount: 1,
    existingFilesCount: 0,
    deletedFilesCount: 0,
    addedRowsCount: 1n,
    existingRowsCount: 0n,
    deletedRowsCount: 0n,
  },
];

const OPTIONS = { snapshotId: SNAPSHOT, parentSnapshotId: 78n, sequenceNumber: 10n };

/** New manifests take the snapshot's sequence number; the rest keep theirs. */
const READ_BACK: ManifestFile[] = [{ ...FILES[0]!, sequenceNumber: 10n, minSequenceNumber: 10n }, FILES[1]!, FILES[2]!];

describe('manifest lists', () => {
  it.each(['deflate', 'null'] as const)('round trip, assigning the sequence number to new manifests (%s codec)', (codec) => {
    expect(readManifestList(writeManifestList(FILES, { ...OPTIONS, codec }))).toEqual(READ_BACK);
  });

  it('is read by avsc as the spec records, with the required metadata and ids', async () => {
    const avsc = await avscDecode(writeManifestList(FILES, OPTIONS));
    expect(avsc.meta).toMatchObject({ 'snapshot-id': SNAPSHOT.toString(), 'parent-snapshot-id': '78', 'sequence-number': '10', 'format-version': '2' });
    expect(Object.keys(avsc.meta).sort()).toEqual(['avro.codec', 'avro.schema', 'format-version', 'parent-snapshot-id', 'sequence-number', 'snapshot-id']);
    const schema = JSON.parse(avsc.meta['avro.schema']!) as { name: string };
    expect(schema.name).toBe('manifest_file');
    expect(missingIds(schema)).toEqual([]);
    expect(allIds(schema)).toEqual([500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510, 511, 512, 513, 514, 515, 516, 517, 518, 519]);
    expect(avsc.records[0]).toEqual({
      manifest_path: FILES[0]!.manifestPath,
      manifest_length: 7_000n,
      partition_spec_id: 2,
      content: 0,
      sequence_number: 10n,
      min_sequence_number: 10n,
      added_snapshot_id: SNAPSHOT,
      added_files_count: 3,
      existing_files_count: 0,
      deleted_files_count: 0,
      added_rows_count: 2n ** 40n,
      existing_rows_count: 0n,
      deleted_rows_count: 0n,
      partitions: [
        { contains_null: true, contains_nan: false, lower_bound: Uint8Array.of(1, 0, 0, 0), upper_bound: Uint8Array.of(9, 0, 0, 0) },
        { contains_null: true, contains_nan: null, lower_bound: null, upper_bound: null },
        { contains_null: false, contains_nan: true, lower_bound: new Uint8Array(0), upper_bound: Uint8Array.of(0xff) },
      ],
      key_metadata: null,
    });
    expect(avsc.records[1]).toMatchObject({
      content: 1,
      sequence_number: 4n,
      existing_rows_count: (1n << 63n) - 1n,
      partitions: [],
      key_metadata: Uint8Array.of(1, 2, 3),
    });
    expect(avsc.records[2]).toMatchObject({ partitions: null });
  });

  it('writes "null" as the parent of a first snapshot', async () => {
    const bytes = writeManifestList([FILES[0]!], { snapshotId: SNAPSHOT, sequenceNumber: 1n });
    expect((await avscDecode(bytes)).meta['parent-snapshot-id']).toBe('null');
    expect(readManifestList(bytes)[0]!.sequenceNumber).toBe(1n);
  });

  it('refuses an unassigned sequence number on a manifest another snapshot added', () => {
    const stale = { ...FILES[2]!, sequenceNumber: UNASSIGNED_SEQUENCE_NUMBER };
    expect(() => writeManifestList([stale], OPTIONS)).toThrow(/sequenceNumber is unassigned but the manifest was added by snapshot 78/);
    expect(() => writeManifestList([{ ...FILES[2]!, content: 5 as ManifestContent }], OPTIONS)).toThrow(/content must be 0/);
  });

  it('reads a v1 list written by avsc: no ids, old field names, no content or sequence numbers', async () => {
    const schema = {
      type: 'record',
      name: 'manifest_file',
      fields: [
        { name: 'manifest_path', type: 'string' },
        { name: 'manifest_length', type: 'long' },
        { name: 'partition_spec_id', type: 'int' },
        { name: 'added_snapshot_id', type: ['null', 'long'] },
        { name: 'added_data_files_count', type: ['null', 'int'] },
        { name: 'existing_data_files_count', type: ['null', 'int'] },
        { name: 'deleted_data_files_count', type: ['null', 'int'] },
        {
          name: 'partitions',
          type: [
            'null',
            {
              type: 'array',
              items: {
                type: 'record',
                name: 'r508',
                fields: [
                  { name: 'contains_null', type: 'boolean' },
                  { name: 'lower_bound', type: ['null', 'bytes'] },
                  { name: 'upper_bound', type: ['null', 'bytes'] },
                ],
              },
            },
          ],
        },
        { name: 'added_rows_count', type: ['null', 'long'] },
        { name: 'existing_rows_count', type: ['null', 'long'] },
        { name: 'deleted_rows_count', type: ['null', 'long'] },
      ],
    };
    const record = {
      manifest_path: '/m.avro',
      manifest_length: 10n,
      partition_spec_id: 0,
      added_snapshot_id: 5n,
      added_data_files_count: 1,
      existing_data_files_count: 2,
      deleted_data_files_count: 0,
      partitions: [{ contains_null: false, lower_bound: Buffer.from([1]), upper_bound: null }],
      added_rows_count: 3n,
      existing_rows_count: 4n,
      deleted_rows_count: 0n,
    };
    expect(readManifestList(await avscEncode(schema, [record], 'null'))).toEqual([
      {
        manifestPath: '/m.avro',
        manifestLength: 10n,
        partitionSpecId: 0,
        content: ManifestContent.Data,
        sequenceNumber: 0n,
        minSequenceNumber: 0n,
        addedSnapshotId: 5n,
        addedFilesCount: 1,
        existingFilesCount: 2,
        deletedFilesCount: 0,
        addedRowsCount: 3n,
        existingRowsCount: 4n,
        deletedRowsCount: 0n,
        partitions: [{ containsNull: false, lowerBound: Uint8Array.of(1) }],
      },
    ]);
    const unknownCounts = { ...record, added_rows_count: null };
    expect(() => readManifestList(writeContainer(schema as never, [unknownCounts]))).toThrow(/no added_rows_count/);
  });

  it('finds manifest list fields by id under other names', () => {
    const schema = manifestFileSchema();
    schema.fields.find((f) => f['field-id'] === 504)!.name = 'added_data_files_count';
    schema.fields.find((f) => f['field-id'] === 500)!.name = 'path';
    const record = {
      path: '/x.avro',
      manifest_length: 1n,
      partition_spec_id: 0,
      content: 0,
      sequence_number: 1n,
      min_sequence_number: 1n,
      added_snapshot_id: 1n,
      added_data_files_count: 6,
      existing_files_count: 0,
      deleted_files_count: 0,
      added_rows_count: 1n,
      existing_rows_count: 0n,
      deleted_rows_count: 0n,
      partitions: null,
      key_metadata: null,
    };
    const [file] = readManifestList(writeContainer(schema, [record]));
    expect(file).toMatchObject({ manifestPath: '/x.avro', addedFilesCount: 6 });
  });
});
