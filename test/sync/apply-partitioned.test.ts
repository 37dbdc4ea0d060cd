/**
 * The applier on a partitioned table, fed decoded change events directly: deletes land in one position delete
 * file per partition (a delete file of one partition cannot apply to another's rows), a row moving partition is
 * a delete in the old one and a row in the new one, and the snapshot records the end LSN as 'X/Y'.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeRow, RowChange } from '../../shared/cdc/change-decoder';
import { scanToArray } from '../../shared/iceberg/scan/table-scan';
import { DataFileContent } from '../../shared/iceberg/spec/manifest';
import { currentSnapshot } from '../../shared/iceberg/spec/table-metadata';
import { liveFiles } from '../../shared/iceberg/transaction/manifest-files';
import { fastAppend, overwrite } from '../../shared/iceberg/transaction/table-operations';
import { appliedLsn } from '../../shared/sync/applied-lsn';
import { applyChanges, openSyncTable } from '../../shared/sync/apply-changes';
import { TABLE, newTable, row, writeData } from '../iceberg/scan/delete-fixtures';
import { transaction } from './change-events';

const SOURCE = { schema: 'public', name: 'changes' };
const SHAPE = { keyColumns: ['id'], rowColumns: ['id', 'name', 'region'] };

const update = (before: ChangeRow | undefined, after: ChangeRow): RowChange => ({
  op: 'update',
  table: SOURCE,
  before,
  beforeKind: before ? 'key' : undefined,
  after,
});

describe('applying changes to a partitioned table', () => {
  it('writes one position delete file per partition and moves rows between partitions', async () => {
    const catalog = await newTable(true);
    const eu = await writeData(catalog, [row(1, 'eu'), row(2, 'eu'), row(3, 'eu')], ['eu']);
    const us = await writeData(catalog, [row(4, 'us'), row(5, 'us')], ['us']);
    await fastAppend(catalog, TABLE, { dataFiles: [eu, us] });
    const table = await openSyncTable({ catalog }, TABLE, SOURCE, SHAPE);
    const batch = [
      ...transaction(0x1_0000_0010n, update(undefined, [1n, 'renamed', 'eu']), { op: 'delete', table: SOURCE, before: [4n, null, null], beforeKind: 'key' }),
      ...transaction(0x1_0000_0020n, update(undefined, [2n, 'moved', 'us']), { op: 'insert', table: SOURCE, after: [6n, 'new', 'eu'] }),
    ];
    const result = await applyChanges({ catalog }, table, batch);
    expect(result).toMatchObject({ committed: true, transactions: 2, rowsAdded: 3, rowsDeleted: 3, through: 0x1_0000_0020n });

    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const rows = (await scanToArray(catalog.io, metadata)).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(rows).toEqual([[1n, 'renamed', 'eu'], [2n, 'moved', 'us'], row(3, 'eu'), row(5, 'us'), [6n, 'new', 'eu']]);
    const deletes = (await liveFiles(catalog.io, currentSnapshot(metadata))).deletes.map((e) => e.entry.dataFile);
    expect(deletes.map((d) => [d.content, d.partition, d.recordCount]).sort()).toEqual([
      [DataFileContent.PositionDeletes, ['eu'], 2n],
      [DataFileContent.PositionDeletes, ['us'], 1n],
    ]);
    expect(currentSnapshot(metadata)!.summary['icebridge.cdc.lsn']).toBe('1/20');
    expect(appliedLsn(metadata)).toBe(0x1_0000_0020n);

    // The index followed the commit: the moved and new rows can be changed again, the deleted one cannot.
    await applyChanges(
      { catalog },
      table,
      transaction(0x1_0000_0030n, { op: 'delete', table: SOURCE, before: [2n, null, null], beforeKind: 'key' }, update(undefined, [6n, 'newer', 'eu'])),
    );
    const after = (await scanToArray(catalog.io, (await catalog.loadTable(TABLE)).metadata)).map((r) => r[1]).sort();
    expect(after).toEqual(['name-3', 'name-5', 'newer', 'renamed']);
    await expect(applyChanges({ catalog }, table, transaction(0x1_0000_0040n, update(undefined, [4n, 'x', 'us'])))).rejects.toThrow(/holds no row with key/);
    // Changes whose columns are not the table's, in its order, are refused before anything is applied.
    await expect(openSyncTable({ catalog }, TABLE, SOURCE, { keyColumns: ['id'], rowColumns: ['id', 'region', 'name'] })).rejects.toThrow(
      /the changes carry columns \(id, region, name\), the Iceberg table has \(id, name, region\)/,
    );
  });

  it('refuses deletes into a file another writer replaced, and applies them once the table is opened again', async () => {
    const catalog = await newTable(true);
    const eu = await writeData(catalog, [row(1, 'eu'), row(2, 'eu')], ['eu']);
    await fastAppend(catalog, TABLE, { dataFiles: [eu] });
    const table = await openSyncTable({ catalog }, TABLE, SOURCE, SHAPE);
    // A compaction rewrites the file: same rows, another file, other positions.
    const rewritten = await writeData(catalog, [row(2, 'eu'), row(1, 'eu')], ['eu']);
    await overwrite(catalog, TABLE, { deleteWhere: (f) => f.filePath === eu.filePath, dataFiles: [rewritten] });
    const batch = transaction(0x2_0000_0010n, { op: 'delete', table: SOURCE, before: [1n, null, null], beforeKind: 'key' });
    // As if the rewrite landed after this applier read the table (a race the index's snapshot cannot see): the
    // row delta's own validation must refuse.
    table.snapshotId = (await catalog.loadTable(TABLE)).metadata['current-snapshot-id'];
    await expect(applyChanges({ catalog }, table, batch)).rejects.toThrow(/not live in the table/);
    // The refused batch's delete file is removed: nothing of a commit known not to have landed stays behind.
    const location = (await catalog.loadTable(TABLE)).metadata.location;
    const leftovers: string[] = [];
    for await (const file of catalog.io.list(`${location}/data`)) if (file.location.includes('/cdc-')) leftovers.push(file.location);
    expect(leftovers).toEqual([]);
    const reopened = await openSyncTable({ catalog }, TABLE, SOURCE, SHAPE);
    expect(await applyChanges({ catalog }, reopened, batch)).toMatchObject({ committed: true, rowsDeleted: 1 });
    expect(await scanToArray(catalog.io, (await catalog.loadTable(TABLE)).metadata)).toEqual([row(2, 'eu')]);
  });
});
