/**
 * What the applier reads of a table's existing data files: a row being replaced is read back only when the change
 * leaves some of its values out (unchanged TOASTed values); a delete, or an update that carries the whole row,
 * needs only the row's location, from the key index. Reading a whole data file per batch for nothing made a
 * catch-up of random updates read every data file of the table in every batch.
 */
import { describe, expect, it } from 'vitest';
import { UNCHANGED } from '../../shared/cdc/change-decoder';
import { MemoryFileIO } from '../../shared/iceberg/io/memory-file-io';
import { scanToArray } from '../../shared/iceberg/scan/table-scan';
import { fastAppend } from '../../shared/iceberg/transaction/table-operations';
import { applyChanges, openSyncTable } from '../../shared/sync/apply-changes';
import { TABLE, newTable, row, writeData } from '../iceberg/scan/delete-fixtures';
import { transaction } from './change-events';

const SOURCE = { schema: 'public', name: 'changes' };
const SHAPE = { keyColumns: ['id'], rowColumns: ['id', 'name', 'region'] };

/** A MemoryFileIO that records which locations were read. */
class CountingFileIO extends MemoryFileIO {
  readonly reads: string[] = [];

  override read(location: string, options?: { abortSignal?: AbortSignal }): Promise<Uint8Array> {
    this.reads.push(location);
    return super.read(location, options);
  }

  override readRange(location: string, offset: number, length: number, options?: { abortSignal?: AbortSignal }): Promise<Uint8Array> {
    this.reads.push(location);
    return super.readRange(location, offset, length, options);
  }
}

describe('what applying a batch reads of the existing data files', () => {
  it('reads none for deletes and whole-row updates, and the row being replaced only for unchanged values', async () => {
    const io = new CountingFileIO();
    const catalog = await newTable(false, io);
    const original = await writeData(catalog, [row(1), row(2), row(3), row(4)]);
    await fastAppend(catalog, TABLE, { dataFiles: [original] });
    const table = await openSyncTable({ catalog }, TABLE, SOURCE, SHAPE);

    io.reads.length = 0;
    await applyChanges(
      { catalog },
      table,
      transaction(
        0x10n,
        { op: 'update', table: SOURCE, before: undefined, beforeKind: undefined, after: [1n, 'renamed', 'eu'] },
        { op: 'delete', table: SOURCE, before: [2n, null, null], beforeKind: 'key' },
      ),
    );
    expect(io.reads.filter((location) => location === original.filePath)).toEqual([]);

    io.reads.length = 0;
    await applyChanges(
      { catalog },
      table,
      transaction(0x20n, { op: 'update', table: SOURCE, before: undefined, beforeKind: undefined, after: [3n, UNCHANGED, 'us'] }),
    );
    expect(io.reads).toContain(original.filePath);

    const rows = (await scanToArray(io, (await catalog.loadTable(TABLE)).metadata)).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(rows).toEqual([[1n, 'renamed', 'eu'], [3n, 'name-3', 'us'], row(4)]);
  });
});
