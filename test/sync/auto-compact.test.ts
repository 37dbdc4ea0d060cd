/**
 * Compaction under the applier: past the delete-file threshold the table is compacted and its key index rebuilt,
 * so later batches delete the right rows at their new positions; a compaction from elsewhere makes the next row
 * delta fail its validation, and the applier then rebuilds the index and applies the batch exactly once.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeRow, RowChange } from '../../shared/cdc/change-decoder';
import type { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { compactTable } from '../../shared/iceberg/maintenance/compact';
import { scanToArray } from '../../shared/iceberg/scan/table-scan';
import { currentSnapshot } from '../../shared/iceberg/spec/table-metadata';
import type { Row } from '../../shared/iceberg/spec/values';
import { liveFiles } from '../../shared/iceberg/transaction/manifest-files';
import { MissingDataFilesError } from '../../shared/iceberg/transaction/row-delta';
import { fastAppend } from '../../shared/iceberg/transaction/table-operations';
import { appliedLsn } from '../../shared/sync/applied-lsn';
import { type SyncTable, applyChanges, openSyncTable } from '../../shared/sync/apply-changes';
import { SYNC_CARRIED_PROPERTIES, applyChangesAfterRewrite, maybeCompact } from '../../shared/sync/auto-compact';
import { TABLE, newTable, row, writeData } from '../iceberg/scan/delete-fixtures';
import { transaction } from './change-events';

const SOURCE = { schema: 'public', name: 'changes' };
const SHAPE = { keyColumns: ['id'], rowColumns: ['id', 'name', 'region'] };

const update = (after: ChangeRow): RowChange => ({ op: 'update', table: SOURCE, before: undefined, beforeKind: undefined, after });
const remove = (id: number): RowChange => ({ op: 'delete', table: SOURCE, before: [BigInt(id), null, null], beforeKind: 'key' });

/** 3 files of 20 rows (ids 0..59), opened for syncing. */
async function syncedTable(): Promise<{ catalog: HadoopCatalog; table: SyncTable }> {
  const catalog = await newTable();
  const files = [];
  for (let f = 0; f < 3; f++)
    files.push(
      await writeData(
        catalog,
        Array.from({ length: 20 }, (_, i) => row(f * 20 + i)),
      ),
    );
  await fastAppend(catalog, TABLE, { dataFiles: files, properties: { 'icebridge.cdc.lsn': '0/10' } });
  return { catalog, table: await openSyncTable({ catalog }, TABLE, SOURCE, SHAPE) };
}

async function tableRows(catalog: HadoopCatalog): Promise<Row[]> {
  return (await scanToArray(catalog.io, (await catalog.loadTable(TABLE)).metadata)).sort((a, b) => Number(a[0] as bigint) - Number(b[0] as bigint));
}

async function deleteFileCount(catalog: HadoopCatalog): Promise<number> {
  return (await liveFiles(catalog.io, currentSnapshot((await catalog.loadTable(TABLE)).metadata))).deletes.length;
}

/** What the table must hold: ids 0..59 with the given ones gone and the given names changed. */
function expected(gone: number[], renamed: Map<number, string>): Row[] {
  return Array.from({ length: 60 }, (_, i) => i)
    .filter((i) => !gone.includes(i))
    .map((i) => (renamed.has(i) ? [BigInt(i), renamed.get(i)!, 'eu'] : row(i)));
}

describe('compaction during sync', () => {
  it('compacts past the threshold, rebuilds the index, and later batches change the right rows', async () => {
    const { catalog, table } = await syncedTable();
    const env = { catalog };
    const gone: number[] = [];
    const renamed = new Map<number, string>();
    let lsn = 0x100n;
    let compactions = 0;
    for (let i = 0; i < 8; i++) {
      lsn += 0x10n;
      const id = i * 7;
      gone.push(id);
      renamed.set(id + 1, `v${i}`);
      const result = await applyChanges(env, table, transaction(lsn, remove(id), update([BigInt(id + 1), `v${i}`, 'eu'])));
      expect(result.committed).toBe(true);
      const compacted = await maybeCompact(env, table, { afterDeleteFiles: 2 });
      if (compacted) {
        compactions++;
        expect(compacted.after.deleteFiles).toBe(0);
        expect(await deleteFileCount(catalog)).toBe(0);
        // The compaction's snapshot holds the batch's LSN: the next start neither repeats nor skips a batch.
        const metadata = (await catalog.loadTable(TABLE)).metadata;
        expect(currentSnapshot(metadata)!.summary.operation).toBe('replace');
        expect(appliedLsn(metadata)).toBe(lsn);
      }
      expect(await tableRows(catalog)).toEqual(expected(gone, renamed));
    }
    expect(compactions).toBeGreaterThanOrEqual(2);
    // The index points at the compacted files: a change to a row that was moved lands on it exactly.
    lsn += 0x10n;
    await applyChanges(env, table, transaction(lsn, update([1n, 'last', 'eu'])));
    renamed.set(1, 'last');
    expect(await tableRows(catalog)).toEqual(expected(gone, renamed));
  });

  it('never compacts with threshold 0, nor at or below the threshold', async () => {
    const { catalog, table } = await syncedTable();
    await applyChanges({ catalog }, table, transaction(0x200n, remove(3)));
    await applyChanges({ catalog }, table, transaction(0x210n, remove(4)));
    expect(await maybeCompact({ catalog }, table, { afterDeleteFiles: 0 })).toBeUndefined();
    expect(await maybeCompact({ catalog }, table, { afterDeleteFiles: 2 })).toBeUndefined();
    expect(await deleteFileCount(catalog)).toBe(2);
    expect((await maybeCompact({ catalog }, table, { afterDeleteFiles: 1 }))?.compacted).toBe(true);
  });

  it('re-applies a batch once after a standalone compaction moved the rows its deletes point at', async () => {
    const { catalog, table } = await syncedTable();
    await applyChanges({ catalog }, table, transaction(0x200n, remove(3)));
    await compactTable(catalog, TABLE, { carriedProperties: SYNC_CARRIED_PROPERTIES });
    const batch = transaction(0x210n, remove(5), update([6n, 'moved', 'eu']));
    // As if the compaction landed after the applier read the table (a race the index's snapshot cannot see): the
    // applier alone refuses, its index still pointing into the files the compaction replaced.
    table.snapshotId = (await catalog.loadTable(TABLE)).metadata['current-snapshot-id'];
    await expect(applyChanges({ catalog }, table, batch)).rejects.toThrow(MissingDataFilesError);
    const result = await applyChangesAfterRewrite({ catalog }, table, batch);
    expect(result).toMatchObject({ committed: true, rowsDeleted: 2, rowsAdded: 1 });
    expect(await tableRows(catalog)).toEqual(expected([3, 5], new Map([[6, 'moved']])));
    // Applied once: the same batch again is skipped by its LSN.
    expect(await applyChangesAfterRewrite({ catalog }, table, batch)).toMatchObject({ committed: false, skippedTransactions: 1 });
    expect(await tableRows(catalog)).toEqual(expected([3, 5], new Map([[6, 'moved']])));
  });
});
