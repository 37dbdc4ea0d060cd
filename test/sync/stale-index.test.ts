/**
 * A key index is used only on the snapshot it reflects. Two appliers on one table (a second process on the slot,
 * a retry after a commit that landed though it was reported failed) each hold an index; when one commits, the
 * other's index is stale, and applying with it would delete a position already deleted and leave the other's row
 * live: two rows for one key. The applier builds its index again when the table moved past it.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeRow, RowChange } from '../../shared/cdc/change-decoder';
import { scanToArray } from '../../shared/iceberg/scan/table-scan';
import { fastAppend } from '../../shared/iceberg/transaction/table-operations';
import { applyChanges, openSyncTable } from '../../shared/sync/apply-changes';
import { TABLE, newTable, row, writeData } from '../iceberg/scan/delete-fixtures';
import { transaction } from './change-events';

const SOURCE = { schema: 'public', name: 'changes' };
const SHAPE = { keyColumns: ['id'], rowColumns: ['id', 'name', 'region'] };

const update = (after: ChangeRow): RowChange => ({ op: 'update', table: SOURCE, before: undefined, beforeKind: undefined, after });

describe('a stale key index', () => {
  it('is built again when another applier committed: one row per key, the later change wins', async () => {
    const catalog = await newTable();
    await fastAppend(catalog, TABLE, { dataFiles: [await writeData(catalog, [row(1), row(2), row(3)])], properties: { 'icebridge.cdc.lsn': '0/10' } });
    const first = await openSyncTable({ catalog }, TABLE, SOURCE, SHAPE);
    const second = await openSyncTable({ catalog }, TABLE, SOURCE, SHAPE);
    expect((await applyChanges({ catalog }, second, transaction(0x100n, update([2n, 'by second', 'eu'])))).committed).toBe(true);
    // The first applier's index still says key 2 lives in the copy's file; the table moved past it.
    expect((await applyChanges({ catalog }, first, transaction(0x200n, update([2n, 'by first', 'eu'])))).committed).toBe(true);
    const rows = (await scanToArray(catalog.io, (await catalog.loadTable(TABLE)).metadata)).sort((a, b) => Number(a[0] as bigint) - Number(b[0] as bigint));
    expect(rows).toEqual([row(1), [2n, 'by first', 'eu'], row(3)]);
  });
});
