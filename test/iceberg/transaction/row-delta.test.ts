/**
 * The row delta commits data and delete files in one snapshot: its operation, the spec's summary keys and
 * totals, a caller's summary property, idempotence by operation id, the check that position deletes still point
 * at live data files, and manifests an independent Avro reader (avsc) decodes with the right content codes.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import type { WriteFileOptions } from '../../../shared/iceberg/io/file-io';
import { MemoryFileIO } from '../../../shared/iceberg/io/memory-file-io';
import { ManifestContent } from '../../../shared/iceberg/spec/manifest';
import { currentSnapshot } from '../../../shared/iceberg/spec/table-metadata';
import { liveEntries, snapshotManifests } from '../../../shared/iceberg/transaction/manifest-files';
import { rowDelta } from '../../../shared/iceberg/transaction/row-delta';
import { expireSnapshots } from '../../../shared/iceberg/transaction/snapshot-management';
import { fastAppend, overwrite } from '../../../shared/iceberg/transaction/table-operations';
import { writeEqualityDeletes, writePositionDeletes } from '../../../shared/iceberg/writer/delete-writer';
import { avscDecode } from '../avro/avsc-judge';
import { TABLE, newTable, row, scanIds, writeData } from '../scan/delete-fixtures';

async function withData(ids: number[]) {
  const catalog = await newTable();
  const file = await writeData(
    catalog,
    ids.map((i) => row(i)),
  );
  await fastAppend(catalog, TABLE, { dataFiles: [file] });
  return { catalog, file, metadata: (await catalog.loadTable(TABLE)).metadata };
}

/** Runs `race` (another writer's commit) just before the next commit point is written, once. */
class RacingIO extends MemoryFileIO {
  race?: () => Promise<void>;
  override async write(location: string, data: Uint8Array, options?: WriteFileOptions): Promise<void> {
    const race = options?.exclusive ? this.race : undefined;
    if (race) {
      this.race = undefined;
      await race();
    }
    return super.write(location, data, options);
  }
}

const noSleep = { sleep: async () => undefined };

describe('row delta under concurrent commits', () => {
  it('retries on top of a concurrent append and keeps both', async () => {
    const io = new RacingIO();
    const catalog = await newTable(false, io);
    const a = await writeData(catalog, [row(0), row(1)]);
    await fastAppend(catalog, TABLE, { dataFiles: [a] });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const deletes = await writePositionDeletes(catalog.io, metadata, [{ filePath: a.filePath, pos: 0n }]);
    const other = await writeData(catalog, [row(7)]);
    io.race = async () => {
      await fastAppend(catalog, TABLE, { dataFiles: [other] });
    };
    const result = await rowDelta(catalog, TABLE, { deleteFiles: [deletes], ...noSleep });
    expect(result.attempts).toBe(2);
    expect(result.table.metadata.snapshots.map((s) => s.summary.operation)).toEqual(['append', 'append', 'delete']);
    expect(currentSnapshot(result.table.metadata)!.summary['total-data-files']).toBe('2');
    expect(await scanIds(catalog)).toEqual([1, 7]);
  });

  it('fails when a concurrent commit removed the data file its deletes point into', async () => {
    const io = new RacingIO();
    const catalog = await newTable(false, io);
    const a = await writeData(catalog, [row(0), row(1)]);
    await fastAppend(catalog, TABLE, { dataFiles: [a] });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const deletes = await writePositionDeletes(catalog.io, metadata, [{ filePath: a.filePath, pos: 0n }]);
    const rewritten = await writeData(catalog, [row(0), row(1)]);
    io.race = async () => {
      await overwrite(catalog, TABLE, { deleteWhere: () => true, dataFiles: [rewritten] });
    };
    await expect(rowDelta(catalog, TABLE, { deleteFiles: [deletes], ...noSleep })).rejects.toThrow(/not live in the table/);
    expect(await scanIds(catalog)).toEqual([0, 1]);
  });
});

describe('row delta', () => {
  it('records the operation and the delete summary keys, with running totals and a caller property', async () => {
    const { catalog, file, metadata } = await withData([0, 1, 2, 3]);
    const position = await writePositionDeletes(catalog.io, metadata, [
      { filePath: file.filePath, pos: 0n },
      { filePath: file.filePath, pos: 2n },
    ]);
    const onlyDeletes = await rowDelta(catalog, TABLE, { deleteFiles: [position], properties: { 'icebridge.cdc.lsn': '0/16B3748' } });
    const first = currentSnapshot(onlyDeletes.table.metadata)!.summary;
    expect(first).toMatchObject({
      operation: 'delete',
      'icebridge.cdc.lsn': '0/16B3748',
      'added-delete-files': '1',
      'added-position-delete-files': '1',
      'added-position-deletes': '2',
      'total-delete-files': '1',
      'total-position-deletes': '2',
      'total-equality-deletes': '0',
      'total-records': '4',
      'total-data-files': '1',
    });
    expect(first['added-files-size']).toBe(String(position.fileSizeInBytes));
    expect(first['added-data-files']).toBeUndefined();

    const equality = await writeEqualityDeletes(catalog.io, metadata, [1], [[3n]]);
    const data = await writeData(catalog, [row(3), row(9)]);
    const both = await rowDelta(catalog, TABLE, { dataFiles: [data], deleteFiles: [equality] });
    const second = currentSnapshot(both.table.metadata)!.summary;
    expect(second).toMatchObject({
      operation: 'overwrite',
      'added-data-files': '1',
      'added-records': '2',
      'added-equality-delete-files': '1',
      'added-equality-deletes': '1',
      'total-delete-files': '2',
      'total-position-deletes': '2',
      'total-equality-deletes': '1',
      'total-records': '6',
    });
    expect(await scanIds(catalog)).toEqual([1, 3, 9]);

    const append = await rowDelta(catalog, TABLE, { dataFiles: [await writeData(catalog, [row(20)])] });
    expect(currentSnapshot(append.table.metadata)!.summary.operation).toBe('append');
    await expect(rowDelta(catalog, TABLE, {})).rejects.toThrow(ValidationError);
  });

  it('is committed once per operation id', async () => {
    const { catalog, file, metadata } = await withData([0, 1]);
    const deletes = await writePositionDeletes(catalog.io, metadata, [{ filePath: file.filePath, pos: 1n }]);
    const first = await rowDelta(catalog, TABLE, { deleteFiles: [deletes], operationId: 'cdc:batch-7' });
    const again = await rowDelta(catalog, TABLE, { deleteFiles: [deletes], operationId: 'cdc:batch-7' });
    expect(again.created).toBe(false);
    expect(again.snapshotId).toBe(first.snapshotId);
    expect((await catalog.loadTable(TABLE)).metadata.snapshots).toHaveLength(2);
  });

  it('refuses deletes into a data file a concurrent commit removed', async () => {
    const { catalog, file, metadata } = await withData([0, 1]);
    const deletes = await writePositionDeletes(catalog.io, metadata, [{ filePath: file.filePath, pos: 1n }]);
    // The rows were rewritten elsewhere (a compaction, a re-migration) between planning the deletes and committing.
    await overwrite(catalog, TABLE, { deleteWhere: () => true, dataFiles: [await writeData(catalog, [row(0), row(1)])] });
    await expect(rowDelta(catalog, TABLE, { deleteFiles: [deletes] })).rejects.toThrow(/not live in the table/);
    await expect(rowDelta(catalog, TABLE, { deleteFiles: [deletes], referencedDataFiles: [file.filePath] })).rejects.toThrow(ValidationError);
    expect(await scanIds(catalog)).toEqual([0, 1]);
  });

  it('refuses data files among the deletes and delete files among the data', async () => {
    const { catalog, file, metadata } = await withData([0]);
    await expect(rowDelta(catalog, TABLE, { deleteFiles: [file] })).rejects.toThrow(/is a data file/);
    const deletes = await writePositionDeletes(catalog.io, metadata, [{ filePath: file.filePath, pos: 0n }]);
    await expect(rowDelta(catalog, TABLE, { dataFiles: [deletes] })).rejects.toThrow(/is a delete file/);
    await expect(fastAppend(catalog, TABLE, { dataFiles: [deletes] })).rejects.toThrow(ValidationError);
  });

  it('an overwrite of the whole table drops the delete files too, so readers of data files alone work again', async () => {
    const { catalog, file, metadata } = await withData([0, 1, 2]);
    const deletes = await writePositionDeletes(catalog.io, metadata, [{ filePath: file.filePath, pos: 1n }]);
    await rowDelta(catalog, TABLE, { deleteFiles: [deletes] });
    const replaced = await overwrite(catalog, TABLE, { deleteWhere: () => true, dataFiles: [await writeData(catalog, [row(7)])] });
    const summary = currentSnapshot(replaced.table.metadata)!.summary;
    expect(summary).toMatchObject({ 'removed-delete-files': '1', 'removed-position-deletes': '1', 'total-delete-files': '0', 'deleted-records': '3' });
    expect((await liveEntries(catalog.io, currentSnapshot(replaced.table.metadata))).map((e) => e.entry.dataFile.recordCount)).toEqual([1n]);
    expect(await scanIds(catalog)).toEqual([7]);
  });

  it('an overwrite never removes a delete file that still applies to a data file it keeps', async () => {
    const catalog = await newTable();
    const a = await writeData(catalog, [row(0), row(1), row(2)]);
    const b = await writeData(catalog, [row(10), row(11), row(12)]);
    await fastAppend(catalog, TABLE, { dataFiles: [a, b] });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const intoA = await writePositionDeletes(catalog.io, metadata, [{ filePath: a.filePath, pos: 1n }]);
    const intoB = await writePositionDeletes(catalog.io, metadata, [{ filePath: b.filePath, pos: 0n }]);
    const byKey = await writeEqualityDeletes(catalog.io, metadata, [1], [[11n]]);
    await rowDelta(catalog, TABLE, { deleteFiles: [intoA, intoB, byKey] });
    expect(await scanIds(catalog)).toEqual([0, 2, 12]);

    // A predicate that happens to match the delete files' record counts (1) matches no data file: nothing changes.
    await overwrite(catalog, TABLE, { deleteWhere: (f) => f.recordCount === 1n });
    expect(await scanIds(catalog)).toEqual([0, 2, 12]);

    // Replacing file a drops the delete into a only; the deletes into b stay with b.
    const replaced = await overwrite(catalog, TABLE, { deleteWhere: (f) => f.filePath === a.filePath, dataFiles: [await writeData(catalog, [row(20)])] });
    expect(currentSnapshot(replaced.table.metadata)!.summary).toMatchObject({
      'removed-delete-files': '1',
      'total-delete-files': '2',
      'deleted-data-files': '1',
    });
    expect(await scanIds(catalog)).toEqual([12, 20]);
  });

  it('snapshot expiry keeps a delete file while a snapshot references it and deletes it after', async () => {
    const { catalog, file, metadata } = await withData([0, 1, 2]);
    const deletes = await writePositionDeletes(catalog.io, metadata, [{ filePath: file.filePath, pos: 1n }]);
    const withDeletes = (await rowDelta(catalog, TABLE, { deleteFiles: [deletes] })).snapshotId;
    await fastAppend(catalog, TABLE, { dataFiles: [await writeData(catalog, [row(4)])] });
    const first = (await catalog.loadTable(TABLE)).metadata.snapshots[0]!['snapshot-id'];
    await expireSnapshots(catalog, TABLE, { snapshotIds: [first] });
    expect(await catalog.io.stat(deletes.filePath)).toBeDefined();
    expect(await scanIds(catalog)).toEqual([0, 2, 4]);
    await overwrite(catalog, TABLE, { deleteWhere: () => true, dataFiles: [await writeData(catalog, [row(9)])] });
    const current = (await catalog.loadTable(TABLE)).metadata['current-snapshot-id']!;
    const older = (await catalog.loadTable(TABLE)).metadata.snapshots.map((s) => s['snapshot-id']).filter((s) => s !== current);
    expect(older).toContain(withDeletes);
    const expired = await expireSnapshots(catalog, TABLE, { snapshotIds: older });
    expect(expired.deletedFiles).toContain(deletes.filePath);
    expect(await catalog.io.stat(deletes.filePath)).toBeUndefined();
    expect(await scanIds(catalog)).toEqual([9]);
  });

  it('writes manifests avsc decodes: content codes, equality ids, referenced data file, inherited sequence numbers', async () => {
    const { catalog, file, metadata } = await withData([0, 1, 2]);
    const position = await writePositionDeletes(catalog.io, metadata, [{ filePath: file.filePath, pos: 1n }]);
    const equality = await writeEqualityDeletes(catalog.io, metadata, [1], [[2n]]);
    const result = await rowDelta(catalog, TABLE, { dataFiles: [await writeData(catalog, [row(5)])], deleteFiles: [position, equality] });
    const snapshot = currentSnapshot(result.table.metadata)!;

    const list = await avscDecode(await catalog.io.read(snapshot['manifest-list']));
    const records = list.records as Array<Record<string, unknown>>;
    const byContent = (content: number) => records.filter((r) => r.content === content);
    expect(byContent(ManifestContent.Data)).toHaveLength(2);
    const [deleteManifest] = byContent(ManifestContent.Deletes);
    expect(deleteManifest).toMatchObject({ added_files_count: 2, existing_files_count: 0, deleted_files_count: 0, added_rows_count: 2n, sequence_number: 2n });
    expect(deleteManifest!.added_snapshot_id).toBe(snapshot['snapshot-id']);

    const manifest = await avscDecode(await catalog.io.read(deleteManifest!.manifest_path as string));
    expect(manifest.meta.content).toBe('deletes');
    const schema = JSON.parse(manifest.meta['avro.schema']!) as {
      fields: Array<{ name: string; type: { fields: Array<{ name: string; 'field-id': number }> } }>;
    };
    const dataFileFields = schema.fields.find((f) => f.name === 'data_file')!.type.fields;
    expect(dataFileFields.find((f) => f.name === 'referenced_data_file')!['field-id']).toBe(143);
    expect(dataFileFields.find((f) => f.name === 'equality_ids')!['field-id']).toBe(135);
    const entries = (manifest.records as Array<{ status: number; sequence_number: unknown; data_file: Record<string, unknown> }>).map((e) => ({
      status: e.status,
      sequence: e.sequence_number,
      content: e.data_file.content,
      equalityIds: e.data_file.equality_ids,
      referenced: e.data_file.referenced_data_file,
      records: e.data_file.record_count,
    }));
    expect(entries).toEqual([
      { status: 1, sequence: null, content: 1, equalityIds: null, referenced: file.filePath, records: 1n },
      { status: 1, sequence: null, content: 2, equalityIds: [1], referenced: null, records: 1n },
    ]);
    const manifests = await snapshotManifests(catalog.io, snapshot);
    expect(manifests.map((m) => m.content).sort()).toEqual([0, 0, 1]);
  });
});
