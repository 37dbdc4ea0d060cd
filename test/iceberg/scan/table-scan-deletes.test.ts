/**
 * The scan applies row-level deletes: position deletes drop exact (file, position) rows, equality deletes drop
 * rows by key, each only where the spec's sequence-number and partition rules say it applies. Rows, counts,
 * time travel, projections and filters are checked against the exact ids that must come back.
 */
import { describe, expect, it } from 'vitest';
import { countScanRows, planScan, readScan, scanToArray } from '../../../shared/iceberg/scan/table-scan';
import { bindByName } from '../../../shared/iceberg/spec/expressions';
import { currentSnapshot } from '../../../shared/iceberg/spec/table-metadata';
import { liveEntries, liveFiles } from '../../../shared/iceberg/transaction/manifest-files';
import { rowDelta } from '../../../shared/iceberg/transaction/row-delta';
import { setPartitionSpec } from '../../../shared/iceberg/transaction/table-evolution';
import { fastAppend } from '../../../shared/iceberg/transaction/table-operations';
import { writeEqualityDeletes, writePositionDeletes } from '../../../shared/iceberg/writer/delete-writer';
import { SCHEMA, TABLE, idsWithout, newTable, row, scanIds, writeData } from './delete-fixtures';

async function counted(catalog: Awaited<ReturnType<typeof newTable>>): Promise<bigint> {
  const metadata = (await catalog.loadTable(TABLE)).metadata;
  return countScanRows(catalog.io, await planScan(catalog.io, metadata, { columns: [] }));
}

describe('position deletes', () => {
  it('drop exactly the rows at their positions, in the files they name, and nowhere else', async () => {
    const catalog = await newTable();
    const a = await writeData(
      catalog,
      Array.from({ length: 10 }, (_, i) => row(i)),
    );
    const b = await writeData(
      catalog,
      Array.from({ length: 10 }, (_, i) => row(10 + i)),
    );
    const first = (await fastAppend(catalog, TABLE, { dataFiles: [a, b] })).snapshotId;
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const deletes = await writePositionDeletes(catalog.io, metadata, [
      { filePath: b.filePath, pos: 9n },
      { filePath: a.filePath, pos: 3n },
      { filePath: b.filePath, pos: 0n },
      { filePath: b.filePath, pos: 0n },
    ]);
    expect(deletes.recordCount).toBe(3n);
    await rowDelta(catalog, TABLE, { deleteFiles: [deletes], referencedDataFiles: [a.filePath, b.filePath] });

    expect(await scanIds(catalog)).toEqual(idsWithout(0, 20, [3, 10, 19]));
    expect(await counted(catalog)).toBe(17n);
    // Time travel to before the deletes sees every row.
    expect(await scanIds(catalog, { snapshotId: first })).toEqual(idsWithout(0, 20, []));
  });

  it('apply to data files committed in the same snapshot (data sequence number <= the delete’s)', async () => {
    const catalog = await newTable();
    const old = await writeData(catalog, [row(0), row(1)]);
    await fastAppend(catalog, TABLE, { dataFiles: [old] });
    const fresh = await writeData(catalog, [row(100), row(101), row(102)]);
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const deletes = await writePositionDeletes(catalog.io, metadata, [{ filePath: fresh.filePath, pos: 1n }]);
    expect(deletes.referencedDataFile).toBe(fresh.filePath);
    await rowDelta(catalog, TABLE, { dataFiles: [fresh], deleteFiles: [deletes] });
    expect(await scanIds(catalog)).toEqual([0, 1, 100, 102]);
  });

  it('do not apply to a data file added by a later snapshot, even at a position that exists', async () => {
    const catalog = await newTable();
    const a = await writeData(catalog, [row(0), row(1)]);
    await fastAppend(catalog, TABLE, { dataFiles: [a] });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    // A delete naming a file that only exists later: the file is added after the delete's snapshot.
    const laterPath = `${metadata.location}/data/later.parquet`;
    // Two files named, so the delete file names no single referenced file, which the row delta would check.
    const deletes = await writePositionDeletes(catalog.io, metadata, [
      { filePath: laterPath, pos: 0n },
      { filePath: a.filePath, pos: 1n },
    ]);
    await rowDelta(catalog, TABLE, { deleteFiles: [deletes] });
    const later = await writeData(catalog, [row(50), row(51)]);
    await catalog.io.write(laterPath, await catalog.io.read(later.filePath));
    await fastAppend(catalog, TABLE, { dataFiles: [{ ...later, filePath: laterPath }] });
    expect(await scanIds(catalog)).toEqual([0, 50, 51]);
  });

  it('a delete naming the wrong file or position leaves the row that should have gone, and takes another', async () => {
    const catalog = await newTable();
    const a = await writeData(catalog, [row(0), row(1), row(2)]);
    await fastAppend(catalog, TABLE, { dataFiles: [a] });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const wrongFile = await writePositionDeletes(catalog.io, metadata, [
      { filePath: `${a.filePath}.other`, pos: 1n },
      { filePath: a.filePath, pos: 0n },
    ]);
    await rowDelta(catalog, TABLE, { deleteFiles: [wrongFile] });
    expect(await scanIds(catalog)).toEqual([1, 2]);
    expect(await counted(catalog)).toBe(2n);
    const wrongPosition = await writePositionDeletes(catalog.io, metadata, [{ filePath: a.filePath, pos: 2n }]);
    await rowDelta(catalog, TABLE, { deleteFiles: [wrongPosition] });
    expect(await scanIds(catalog)).toEqual([1]);
  });

  it('count positions across row groups and read batches, from the start of the file', async () => {
    const catalog = await newTable();
    const big = await writeData(
      catalog,
      Array.from({ length: 2500 }, (_, i) => row(i)),
      [],
      4096,
    );
    expect(big.splitOffsets!.length).toBeGreaterThan(2);
    await fastAppend(catalog, TABLE, { dataFiles: [big] });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const positions = [0, 999, 1000, 1001, 1777, 2499];
    const deletes = await writePositionDeletes(
      catalog.io,
      metadata,
      positions.map((p) => ({ filePath: big.filePath, pos: BigInt(p) })),
    );
    await rowDelta(catalog, TABLE, { deleteFiles: [deletes] });
    expect(await scanIds(catalog)).toEqual(idsWithout(0, 2500, positions));
    expect(await counted(catalog)).toBe(2494n);
  });

  it('positions past the end of the file delete nothing and are not subtracted from the count', async () => {
    const catalog = await newTable();
    const a = await writeData(catalog, [row(0), row(1)]);
    await fastAppend(catalog, TABLE, { dataFiles: [a] });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const deletes = await writePositionDeletes(catalog.io, metadata, [
      { filePath: a.filePath, pos: 1n },
      { filePath: a.filePath, pos: 7n },
    ]);
    await rowDelta(catalog, TABLE, { deleteFiles: [deletes] });
    expect(await scanIds(catalog)).toEqual([0]);
    expect(await counted(catalog)).toBe(1n);
  });
});

describe('equality deletes', () => {
  it('an update in one row delta: the old row goes, the new row with the same key stays', async () => {
    const catalog = await newTable();
    await fastAppend(catalog, TABLE, {
      dataFiles: [
        await writeData(
          catalog,
          Array.from({ length: 8 }, (_, i) => row(i)),
        ),
      ],
    });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const deletes = await writeEqualityDeletes(catalog.io, metadata, [1], [[5n], [6n]]);
    const replacement = await writeData(catalog, [[5n, 'renamed', 'eu']]);
    const result = await rowDelta(catalog, TABLE, { dataFiles: [replacement], deleteFiles: [deletes] });
    expect(result.table.metadata.snapshots.at(-1)!.summary.operation).toBe('overwrite');

    const rows = await scanToArray(catalog.io, (await catalog.loadTable(TABLE)).metadata);
    expect(rows.filter((r) => r[0] === 5n)).toEqual([[5n, 'renamed', 'eu']]);
    expect(await scanIds(catalog)).toEqual(idsWithout(0, 8, [6]));
    expect(await counted(catalog)).toBe(7n);
  });

  it('do not apply to rows added by a later snapshot', async () => {
    const catalog = await newTable();
    await fastAppend(catalog, TABLE, { dataFiles: [await writeData(catalog, [row(1), row(2)])] });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    await rowDelta(catalog, TABLE, { deleteFiles: [await writeEqualityDeletes(catalog.io, metadata, [1], [[2n]])] });
    await fastAppend(catalog, TABLE, { dataFiles: [await writeData(catalog, [row(2)])] });
    expect(await scanIds(catalog)).toEqual([1, 2]);
  });

  it('match null to null and compare every equality column', async () => {
    const catalog = await newTable();
    const rows = [
      [1n, null, 'eu'],
      [2n, 'x', 'eu'],
      [3n, 'x', 'us'],
    ];
    await fastAppend(catalog, TABLE, { dataFiles: [await writeData(catalog, rows)] });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const byName = await writeEqualityDeletes(
      catalog.io,
      metadata,
      [2, 3],
      [
        [null, 'eu'],
        ['x', 'us'],
      ],
    );
    expect(byName.equalityIds).toEqual([2, 3]);
    await rowDelta(catalog, TABLE, { deleteFiles: [byName] });
    expect(await scanIds(catalog)).toEqual([2]);
  });

  it('apply whatever columns the scan projects and filters on', async () => {
    const catalog = await newTable();
    await fastAppend(catalog, TABLE, {
      dataFiles: [
        await writeData(
          catalog,
          Array.from({ length: 6 }, (_, i) => row(i)),
        ),
      ],
    });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    await rowDelta(catalog, TABLE, { deleteFiles: [await writeEqualityDeletes(catalog.io, metadata, [1], [[2n], [4n]])] });
    const loaded = (await catalog.loadTable(TABLE)).metadata;
    const plan = await planScan(catalog.io, loaded, { columns: ['name'], filter: bindByName(SCHEMA, 'id', 'gt', 0n) });
    const names: string[] = [];
    for await (const batch of readScan(catalog.io, plan)) for (const r of batch) names.push(r[0] as string);
    expect(names.sort()).toEqual(['name-1', 'name-3', 'name-5']);
  });
});

describe('partitioned tables', () => {
  it('a delete applies within its own partition only', async () => {
    const catalog = await newTable(true);
    const eu = await writeData(catalog, [row(1, 'eu'), row(2, 'eu')], ['eu']);
    const us = await writeData(catalog, [row(1, 'us'), row(2, 'us')], ['us']);
    await fastAppend(catalog, TABLE, { dataFiles: [eu, us] });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const equality = await writeEqualityDeletes(catalog.io, metadata, [1], [[1n]], { partition: ['eu'] });
    const position = await writePositionDeletes(catalog.io, metadata, [{ filePath: us.filePath, pos: 1n }], { partition: ['us'] });
    expect(equality.filePath).toContain('/data/region=eu/');
    await rowDelta(catalog, TABLE, { deleteFiles: [equality, position] });
    const rows = await scanToArray(catalog.io, (await catalog.loadTable(TABLE)).metadata);
    expect(rows.map((r) => `${r[2] as string}:${(r[0] as bigint).toString()}`).sort()).toEqual(['eu:2', 'us:1']);
  });

  it('an equality delete of the unpartitioned spec applies across the partitions of a later spec', async () => {
    const catalog = await newTable();
    await fastAppend(catalog, TABLE, { dataFiles: [await writeData(catalog, [row(1), row(2)])] });
    const unpartitioned = (await catalog.loadTable(TABLE)).metadata;
    await setPartitionSpec(catalog, TABLE, [{ source: 'region', transform: 'identity' }]);
    const eu = await writeData(catalog, [row(1, 'eu'), row(3, 'eu')], ['eu']);
    const us = await writeData(catalog, [row(1, 'us'), row(4, 'us')], ['us']);
    await fastAppend(catalog, TABLE, { dataFiles: [eu, us] });
    const global = await writeEqualityDeletes(catalog.io, unpartitioned, [1], [[1n]], { specId: 0 });
    await rowDelta(catalog, TABLE, { deleteFiles: [global], deleteSpecId: 0 });
    expect(await scanIds(catalog)).toEqual([2, 3, 4]);
  });

  it('a position delete filed under another partition does not apply', async () => {
    const catalog = await newTable(true);
    const eu = await writeData(catalog, [row(1, 'eu'), row(2, 'eu')], ['eu']);
    await fastAppend(catalog, TABLE, { dataFiles: [eu] });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    const misfiled = await writePositionDeletes(catalog.io, metadata, [{ filePath: eu.filePath, pos: 0n }], { partition: ['us'] });
    await rowDelta(catalog, TABLE, { deleteFiles: [misfiled] });
    expect(await scanIds(catalog)).toEqual([1, 2]);
  });
});

describe('readers of data files alone', () => {
  it('liveEntries refuses a snapshot with delete files; liveFiles lists both kinds', async () => {
    const catalog = await newTable();
    const a = await writeData(catalog, [row(0), row(1)]);
    await fastAppend(catalog, TABLE, { dataFiles: [a] });
    const metadata = (await catalog.loadTable(TABLE)).metadata;
    await rowDelta(catalog, TABLE, { deleteFiles: [await writePositionDeletes(catalog.io, metadata, [{ filePath: a.filePath, pos: 0n }])] });
    const snapshot = currentSnapshot((await catalog.loadTable(TABLE)).metadata);
    await expect(liveEntries(catalog.io, snapshot)).rejects.toThrow(/has 1 row-level delete file\(s\)/);
    const { data, deletes } = await liveFiles(catalog.io, snapshot);
    expect([data.length, deletes.length]).toEqual([1, 1]);
  });
});
