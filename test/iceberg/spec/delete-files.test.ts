/**
 * The spec's rules for which delete file applies to which data file ("Scan Planning"): sequence numbers (<= for
 * position deletes, < for equality deletes), partitions (same spec and values, or a delete of an unpartitioned
 * spec applying everywhere), and a position delete's referenced data file.
 */
import { describe, expect, it } from 'vitest';
import { type DataFileRef, type DeleteFileEntry, deleteApplies, isUnpartitioned } from '../../../shared/iceberg/spec/delete-files';
import { type DataFile, DataFileContent } from '../../../shared/iceberg/spec/manifest';

function file(content: DataFileContent, partition: DataFile['partition'] = ['eu'], extra: Partial<DataFile> = {}): DataFile {
  return { content, filePath: `memory://t/${content}.parquet`, fileFormat: 'PARQUET', partition, recordCount: 1n, fileSizeInBytes: 1n, ...extra };
}

const data = (sequenceNumber: bigint, partition: DataFile['partition'] = ['eu'], specId = 0): DataFileRef => ({
  file: file(DataFileContent.Data, partition),
  sequenceNumber,
  specId,
});

const deletion = (
  content: DataFileContent,
  sequenceNumber: bigint,
  options: Partial<Omit<DeleteFileEntry, 'file'>> & { partition?: DataFile['partition']; file?: Partial<DataFile> } = {},
): DeleteFileEntry => ({
  file: file(content, options.partition ?? ['eu'], options.file ?? {}),
  sequenceNumber,
  specId: options.specId ?? 0,
  global: options.global ?? false,
});

describe('which delete files apply to a data file', () => {
  it('position deletes: data sequence number <= the delete’s', () => {
    expect(deleteApplies(deletion(DataFileContent.PositionDeletes, 5n), data(4n))).toBe(true);
    expect(deleteApplies(deletion(DataFileContent.PositionDeletes, 5n), data(5n))).toBe(true);
    expect(deleteApplies(deletion(DataFileContent.PositionDeletes, 5n), data(6n))).toBe(false);
  });

  it('equality deletes: data sequence number strictly < the delete’s', () => {
    expect(deleteApplies(deletion(DataFileContent.EqualityDeletes, 5n), data(4n))).toBe(true);
    expect(deleteApplies(deletion(DataFileContent.EqualityDeletes, 5n), data(5n))).toBe(false);
    expect(deleteApplies(deletion(DataFileContent.EqualityDeletes, 5n), data(6n))).toBe(false);
  });

  it('same partition values and spec, unless the delete’s spec is unpartitioned', () => {
    expect(deleteApplies(deletion(DataFileContent.EqualityDeletes, 5n, { partition: ['us'] }), data(1n))).toBe(false);
    expect(deleteApplies(deletion(DataFileContent.EqualityDeletes, 5n, { specId: 1 }), data(1n))).toBe(false);
    expect(deleteApplies(deletion(DataFileContent.EqualityDeletes, 5n, { partition: [], specId: 1, global: true }), data(1n, ['us']))).toBe(true);
    expect(deleteApplies(deletion(DataFileContent.PositionDeletes, 5n, { partition: [null] }), data(1n, [null]))).toBe(true);
    expect(deleteApplies(deletion(DataFileContent.PositionDeletes, 5n, { partition: [Uint8Array.of(1)] }), data(1n, [Uint8Array.of(1)]))).toBe(true);
    expect(deleteApplies(deletion(DataFileContent.PositionDeletes, 5n, { partition: [Uint8Array.of(1)] }), data(1n, [Uint8Array.of(2)]))).toBe(false);
  });

  it('a position delete naming one data file applies to that file only; data files are never deletes', () => {
    const named = deletion(DataFileContent.PositionDeletes, 5n, { file: { referencedDataFile: 'memory://t/other.parquet' } });
    expect(deleteApplies(named, data(1n))).toBe(false);
    expect(deleteApplies(named, { ...data(1n), file: { ...data(1n).file, filePath: 'memory://t/other.parquet' } })).toBe(true);
    expect(deleteApplies(deletion(DataFileContent.Data, 5n), data(1n))).toBe(false);
  });

  it('only a spec without fields makes its deletes global (a void field still ties them to their spec)', () => {
    expect(isUnpartitioned({ 'spec-id': 0, fields: [] })).toBe(true);
    expect(isUnpartitioned({ 'spec-id': 1, fields: [{ 'source-id': 1, 'field-id': 1000, name: 'x', transform: 'void' }] })).toBe(false);
    expect(isUnpartitioned({ 'spec-id': 2, fields: [{ 'source-id': 1, 'field-id': 1000, name: 'x', transform: 'identity' }] })).toBe(false);
  });
});
