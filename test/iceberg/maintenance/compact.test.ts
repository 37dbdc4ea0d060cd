/**
 * Compaction on tables with position deletes: every row the same before and after, no delete file left for the
 * rewritten files, the CDC LSN carried over, small files merged; and against concurrent commits: new deletes on a
 * rewritten file make it plan again (never resurrecting the deleted row), a rewritten file removed meanwhile fails
 * it, an unrelated commit is kept with its newer LSN, and a row delta into a compacted file fails its validation.
 */
import { describe, expect, it } from 'vitest';
import type { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import type { WriteFileOptions } from '../../../shared/iceberg/io/file-io';
import { MemoryFileIO } from '../../../shared/iceberg/io/memory-file-io';
import { compactTable } from '../../../shared/iceberg/maintenance/compact';
import { RewriteConflictError } from '../../../shared/iceberg/maintenance/rewrite-files';
import { scanToArray } from '../../../shared/iceberg/scan/table-scan';
import type { DataFile } from '../../../shared/iceberg/spec/manifest';
import { currentSnapshot } from '../../../shared/iceberg/spec/table-metadata';
import type { Row } from '../../../shared/iceberg/spec/values';
import { liveFiles } from '../../../shared/iceberg/transaction/manifest-files';
import { MissingDataFilesError, rowDelta } from '../../../shared/iceberg/transaction/row-delta';
import { fastAppend, overwrite } from '../../../shared/iceberg/transaction/table-operations';
import { writeEqualityDeletes, writePositionDeletes } from '../../../shared/iceberg/writer/delete-writer';
import { TABLE, newTable, row, writeData } from '../scan/delete-fixtures';

const LSN = 'icebridge.cdc.lsn';
const noSleep = { sleep: async () => undefined };

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

async function rows(catalog: HadoopCatalog): Promise<Row[]> {
  const all = await scanToArray(catalog.io, (await catalog.loadTable(TABLE)).metadata);
  return all.sort((a, b) => Number(a[0] as bigint) - Number(b[0] as bigint));
}

async function files(catalog: HadoopCatalog): Promise<{ data: DataFile[]; deletes: DataFile[] }> {
  const live = await liveFiles(catalog.io, currentSnapshot((await catalog.loadTable(TABLE)).metadata));
  return { data: live.data.map((e) => e.entry.dataFile), deletes: live.deletes.map((e) => e.entry.dataFile) };
}

/** Deletes these positions of a file in one row delta recording `lsn`. */
async function deletePositions(catalog: HadoopCatalog, file: DataFile, positions: number[], lsn: string, partition: string[] = []): Promise<void> {
  const metadata = (await catalog.loadTable(TABLE)).metadata;
  const deletes = await writePositionDeletes(
    catalog.io,
    metadata,
    positions.map((p) => ({ filePath: file.filePath, pos: BigInt(p) })),
    { partition },
  );
  await rowDelta(catalog, TABLE, { deleteFiles: [deletes], referencedDataFiles: [file.filePath], properties: { [LSN]: lsn }, ...noSleep });
}

/** A table of 4 files of 10 rows each (ids 0..39), rows deleted from two of them, a last commit without the LSN. */
async function tableWithDeletes(io = new MemoryFileIO()): Promise<{ catalog: HadoopCatalog; data: DataFile[] }> {
  const catalog = await newTable(false, io);
  const data: DataFile[] = [];
  for (let f = 0; f < 4; f++)
    data.push(
      await writeData(
        catalog,
        Array.from({ length: 10 }, (_, i) => row(f * 10 + i)),
      ),
    );
  await fastAppend(catalog, TABLE, { dataFiles: data });
  await deletePositions(catalog, data[0]!, [0, 5, 9], '0/100');
  await deletePositions(catalog, data[2]!, [3], '0/200');
  await deletePositions(catalog, data[0]!, [1], '0/300');
  // A commit of another writer records no LSN: the reader looks further back, and so must compaction.
  await fastAppend(catalog, TABLE, { dataFiles: [await writeData(catalog, [row(100)])] });
  return { catalog, data };
}

describe('compactTable', () => {
  it('rewrites the files with deletes, keeps every row, drops their delete files and carries the LSN over', async () => {
    const { catalog, data } = await tableWithDeletes();
    const before = await rows(catalog);
    expect(before.map((r) => r[0])).not.toContain(0n);
    expect(before).toHaveLength(41 - 5);
    const result = await compactTable(catalog, TABLE, { carriedProperties: [LSN], minSmallFiles: 100 });
    expect(result).toMatchObject({ compacted: true, rewrittenDataFiles: 2, addedDataFiles: 1, plans: 1 });
    expect(result.before).toMatchObject({ dataFiles: 5, deleteFiles: 3, rows: 36n });
    expect(result.after).toMatchObject({ dataFiles: 4, deleteFiles: 0, rows: 36n });
    expect(await rows(catalog)).toEqual(before);
    const after = await files(catalog);
    expect(after.deletes).toEqual([]);
    expect(after.data.map((f) => f.filePath)).not.toContain(data[0]!.filePath);
    expect(after.data.map((f) => f.filePath)).toContain(data[1]!.filePath);
    const summary = currentSnapshot((await catalog.loadTable(TABLE)).metadata)!.summary;
    expect(summary).toMatchObject({
      operation: 'replace',
      [LSN]: '0/300',
      'deleted-data-files': '2',
      'added-data-files': '1',
      'removed-delete-files': '3',
      'total-delete-files': '0',
      'total-records': '36',
    });
    // Nothing left to do: a second compaction commits nothing.
    const again = await compactTable(catalog, TABLE, { carriedProperties: [LSN], minSmallFiles: 100 });
    expect(again.compacted).toBe(false);
  });

  it('merges small files of a partition when there are enough of them, per partition', async () => {
    const catalog = await newTable(true);
    const eu: DataFile[] = [];
    for (let f = 0; f < 3; f++) eu.push(await writeData(catalog, [row(f * 2, 'eu'), row(f * 2 + 1, 'eu')], ['eu']));
    const us = [await writeData(catalog, [row(50, 'us')], ['us']), await writeData(catalog, [row(51, 'us')], ['us'])];
    await fastAppend(catalog, TABLE, { dataFiles: [...eu, ...us] });
    await deletePositions(catalog, us[0]!, [0], '0/10', ['us']);
    const before = await rows(catalog);
    const result = await compactTable(catalog, TABLE, { minSmallFiles: 3 });
    // The three small eu files become one; of the us files only the one with a delete is rewritten (to nothing).
    expect(result).toMatchObject({ compacted: true, rewrittenDataFiles: 4, addedDataFiles: 1 });
    expect(await rows(catalog)).toEqual(before);
    const after = await files(catalog);
    expect(after.deletes).toEqual([]);
    expect(after.data.map((f) => [f.partition, f.recordCount]).sort()).toEqual([
      [['eu'], 6n],
      [['us'], 1n],
    ]);
  });

  it('plans again when deletes against a rewritten file were committed meanwhile, and never brings the row back', async () => {
    const io = new RacingIO();
    const { catalog, data } = await tableWithDeletes(io);
    io.race = () => deletePositions(catalog, data[0]!, [2], '0/400');
    const result = await compactTable(catalog, TABLE, { carriedProperties: [LSN], minSmallFiles: 100, ...noSleep });
    expect(result.plans).toBe(2);
    const ids = (await rows(catalog)).map((r) => Number(r[0]));
    expect(ids).not.toContain(2);
    expect(ids).toHaveLength(35);
    expect((await files(catalog)).deletes).toEqual([]);
    expect(currentSnapshot((await catalog.loadTable(TABLE)).metadata)!.summary[LSN]).toBe('0/400');
  });

  it('refuses to commit over new deletes against a rewritten file when it may not plan again', async () => {
    const io = new RacingIO();
    const { catalog, data } = await tableWithDeletes(io);
    io.race = () => deletePositions(catalog, data[2]!, [4], '0/400');
    await expect(compactTable(catalog, TABLE, { minSmallFiles: 100, maxPlans: 1, ...noSleep })).rejects.toThrow(RewriteConflictError);
    const ids = (await rows(catalog)).map((r) => Number(r[0]));
    expect(ids).not.toContain(24);
    expect(currentSnapshot((await catalog.loadTable(TABLE)).metadata)!.summary.operation).toBe('delete');
    // The refused attempt's files are removed.
    const compacted: string[] = [];
    for await (const f of catalog.io.list((await catalog.loadTable(TABLE)).metadata.location)) if (f.location.includes('/compact-')) compacted.push(f.location);
    expect(compacted).toEqual([]);
  });

  it('refuses when a rewritten file was removed meanwhile (its rows would come back)', async () => {
    const io = new RacingIO();
    const { catalog } = await tableWithDeletes(io);
    io.race = async () => {
      await overwrite(catalog, TABLE, { deleteWhere: () => true, dataFiles: [] });
    };
    await expect(compactTable(catalog, TABLE, { minSmallFiles: 100, maxPlans: 1, ...noSleep })).rejects.toThrow(/removed by a concurrent commit/);
    expect(await rows(catalog)).toEqual([]);
  });

  it('commits over an unrelated concurrent commit and carries its newer LSN, not the one it read', async () => {
    const io = new RacingIO();
    const { catalog, data } = await tableWithDeletes(io);
    io.race = async () => {
      await deletePositions(catalog, data[3]!, [0], '0/500');
    };
    const result = await compactTable(catalog, TABLE, { carriedProperties: [LSN], minSmallFiles: 100, ...noSleep });
    expect(result.plans).toBe(1);
    const ids = (await rows(catalog)).map((r) => Number(r[0]));
    expect(ids).not.toContain(30);
    expect(ids).toHaveLength(35);
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    expect(currentSnapshot(metadata)!.summary).toMatchObject({ operation: 'replace', [LSN]: '0/500' });
    // The concurrent delete file stays: it deletes a row of a file the compaction did not rewrite.
    expect((await files(catalog)).deletes.map((d) => d.referencedDataFile)).toEqual([data[3]!.filePath]);
  });

  it('applies equality deletes, drops them once they apply to no file that stays, and refuses one committed meanwhile', async () => {
    const io = new RacingIO();
    const catalog = await newTable(false, io);
    const a = await writeData(catalog, [row(1), row(2), row(3)]);
    const b = await writeData(catalog, [row(4), row(5)]);
    await fastAppend(catalog, TABLE, { dataFiles: [a, b] });
    const equality = async (ids: number[]) =>
      writeEqualityDeletes(
        catalog.io,
        (await catalog.loadTable(TABLE)).metadata,
        [1],
        ids.map((i) => [BigInt(i)]),
      );
    await rowDelta(catalog, TABLE, { deleteFiles: [await equality([2, 5])] });
    io.race = async () => {
      await rowDelta(catalog, TABLE, { deleteFiles: [await equality([3])] });
    };
    await expect(compactTable(catalog, TABLE, { maxPlans: 1, ...noSleep })).rejects.toThrow(RewriteConflictError);
    expect((await rows(catalog)).map((r) => Number(r[0]))).toEqual([1, 4]);
    const result = await compactTable(catalog, TABLE, noSleep);
    expect(result).toMatchObject({ compacted: true, rewrittenDataFiles: 2, before: { rows: 2n, deleteFiles: 2 }, after: { rows: 2n, deleteFiles: 0 } });
    expect((await rows(catalog)).map((r) => Number(r[0]))).toEqual([1, 4]);
  });

  it('makes a later row delta into a compacted file fail its validation', async () => {
    const { catalog, data } = await tableWithDeletes();
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const stale = await writePositionDeletes(catalog.io, metadata, [{ filePath: data[0]!.filePath, pos: 4n }]);
    await compactTable(catalog, TABLE, { minSmallFiles: 100 });
    const before = await rows(catalog);
    await expect(rowDelta(catalog, TABLE, { deleteFiles: [stale], referencedDataFiles: [data[0]!.filePath], ...noSleep })).rejects.toThrow(
      MissingDataFilesError,
    );
    expect(await rows(catalog)).toEqual(before);
  });
});
