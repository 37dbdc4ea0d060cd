/**
 * The key index and the scan positions under it: every live row's key points at its exact data file and position
 * (counted across row groups and read batches, deleted rows counted too), deleted rows are not indexed, and a
 * keyless table's repeated rows are kept as a multiset.
 */
import { describe, expect, it } from 'vitest';
import { planScan, readScanPositions } from '../../shared/iceberg/scan/table-scan';
import { rowDelta } from '../../shared/iceberg/transaction/row-delta';
import { fastAppend } from '../../shared/iceberg/transaction/table-operations';
import { writeEqualityDeletes, writePositionDeletes } from '../../shared/iceberg/writer/delete-writer';
import { buildKeyIndex } from '../../shared/sync/key-index';
import { TABLE, newTable, row, writeData } from '../iceberg/scan/delete-fixtures';

describe('the key index', () => {
  it('points every live key at its file and position; deleted rows are not indexed', async () => {
    const catalog = await newTable();
    const big = await writeData(
      catalog,
      Array.from({ length: 2500 }, (_, i) => row(i)),
      [],
      4096,
    );
    expect(big.splitOffsets!.length).toBeGreaterThan(2);
    const small = await writeData(catalog, [row(5000), row(5001), row(5002)]);
    await fastAppend(catalog, TABLE, { dataFiles: [big, small] });
    let metadata = (await catalog.loadTable(TABLE)).metadata;
    const deleted = [0, 999, 1000, 2499];
    const positions = await writePositionDeletes(catalog.io, metadata, [
      ...deleted.map((p) => ({ filePath: big.filePath, pos: BigInt(p) })),
      { filePath: small.filePath, pos: 1n },
    ]);
    await rowDelta(catalog, TABLE, { deleteFiles: [positions] });
    metadata = (await catalog.loadTable(TABLE)).metadata;
    // An equality delete too: the scan reads its column beside the key and must not hand it over.
    const byName = await writeEqualityDeletes(catalog.io, metadata, [2], [['name-1500']]);
    await rowDelta(catalog, TABLE, { deleteFiles: [byName] });
    metadata = (await catalog.loadTable(TABLE)).metadata;

    const index = await buildKeyIndex(catalog.io, metadata, [0]);
    expect(index.rows).toBe(2500 - 4 - 1 + 3 - 1);
    for (const id of [1, 998, 1001, 1777, 2498]) {
      const [location] = index.locations(index.keyText([BigInt(id), null, null]));
      expect(index.file(location!).path).toBe(big.filePath);
      expect(location!.pos).toBe(id);
    }
    const [last] = index.locations(index.keyText([5002n, null, null]));
    expect({ path: index.file(last!).path, pos: last!.pos }).toEqual({ path: small.filePath, pos: 2 });
    for (const id of [...deleted, 5001, 1500]) expect(index.locations(index.keyText([BigInt(id), null, null]))).toEqual([]);

    // The positions the scan reports, with only the key column projected: the rows are the key alone.
    const plan = await planScan(catalog.io, metadata, { columns: ['id'] });
    for await (const { rows } of readScanPositions(catalog.io, plan)) for (const r of rows) expect(r).toHaveLength(1);
  });

  it('keeps a keyless table’s repeated rows as a multiset, oldest first', async () => {
    const catalog = await newTable();
    const file = await writeData(catalog, [row(1), row(2), row(1), row(1)]);
    await fastAppend(catalog, TABLE, { dataFiles: [file] });
    const index = await buildKeyIndex(catalog.io, (await catalog.loadTable(TABLE)).metadata, [0, 1, 2]);
    const key = index.keyText(row(1));
    expect(index.locations(key).map((l) => l.pos)).toEqual([0, 2, 3]);
    index.remove(key, 2);
    expect(index.locations(key).map((l) => l.pos)).toEqual([3]);
    expect(() => index.remove(key, 2)).toThrow(/holds 1 row/);
  });
});
