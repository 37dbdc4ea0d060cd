/**
 * The verifier's target side on a table with row-level deletes: the snapshot's count subtracts deleted rows, the
 * target scan streams live rows only (whole and in scan-range file groups), and a wrong delete (a position in the
 * wrong file) makes the count check, and so the table's status, report a difference.
 */
import { describe, expect, it } from 'vitest';
import { currentSnapshot } from '../../shared/iceberg/spec/table-metadata';
import { rowDelta } from '../../shared/iceberg/transaction/row-delta';
import { fastAppend } from '../../shared/iceberg/transaction/table-operations';
import { writeEqualityDeletes, writePositionDeletes } from '../../shared/iceberg/writer/delete-writer';
import { manifestRowCount } from '../../shared/verify/checks/count-check';
import type { ComparedColumn } from '../../shared/verify/checks/compared-columns';
import { scanTarget } from '../../shared/verify/checks/target-scan';
import type { TableVerification } from '../../shared/verify/contracts';
import { countCheck, statusOf } from '../../shared/verify/status/table-status';
import { TABLE, idsWithout, newTable, row, writeData } from '../iceberg/scan/delete-fixtures';

const ID: ComparedColumn = { name: 'id', type: 'long', plan: { kind: 'int8' }, valueSql: '"id"', canonicalSql: '("id")::text', nullable: false };

/** Ten rows in two files, then one row delta deleting id 3 by position (into `positionFile`) and id 5 by key. */
async function tableWithDeletes(positionInto: 'right' | 'wrong') {
  const catalog = await newTable();
  const a = await writeData(
    catalog,
    [0, 1, 2, 3, 4].map((i) => row(i)),
  );
  const b = await writeData(
    catalog,
    [5, 6, 7, 8, 9].map((i) => row(i)),
  );
  await fastAppend(catalog, TABLE, { dataFiles: [a, b] });
  const before = (await catalog.loadTable(TABLE)).metadata;
  const position = await writePositionDeletes(catalog.io, before, [
    { filePath: (positionInto === 'right' ? a : b).filePath, pos: 3n },
    // A second file named keeps the row delta from checking a single referenced file (which would catch the wrong one).
    { filePath: `${before.location}/data/gone.parquet`, pos: 0n },
  ]);
  const equality = await writeEqualityDeletes(catalog.io, before, [1], [[5n]]);
  await rowDelta(catalog, TABLE, { deleteFiles: [position, equality] });
  const metadata = (await catalog.loadTable(TABLE)).metadata;
  return { catalog, metadata, snapshot: currentSnapshot(metadata)! };
}

async function targetIds(fixture: Awaited<ReturnType<typeof tableWithDeletes>>, files?: { group: number; groups: number }): Promise<number[]> {
  const ids: number[] = [];
  await scanTarget(fixture.catalog.io, fixture.metadata, [ID], { snapshotId: fixture.snapshot['snapshot-id'], ...(files ? { files } : {}) }, (r) =>
    ids.push(Number(r[0] as bigint)),
  );
  return ids.sort((x, y) => x - y);
}

function verification(counts: TableVerification['counts']): TableVerification {
  return { table: 'public.changes', target: 'ns.changes', level: 'quick', status: 'ok', schema: [], counts, aggregates: [], samples: [], durationMs: 0 };
}

describe('verification of a table with deletes', () => {
  it('counts and streams the live rows only', async () => {
    const fixture = await tableWithDeletes('right');
    const expected = idsWithout(0, 10, [3, 5]);
    expect(await manifestRowCount(fixture.catalog.io, fixture.metadata, fixture.snapshot)).toBe('8');
    expect(await targetIds(fixture)).toEqual(expected);
    // Scan ranges read file groups; each group applies its files' deletes.
    const grouped = [...(await targetIds(fixture, { group: 0, groups: 2 })), ...(await targetIds(fixture, { group: 1, groups: 2 }))];
    expect(grouped.sort((x, y) => x - y)).toEqual(expected);
    const check = countCheck(String(expected.length), await manifestRowCount(fixture.catalog.io, fixture.metadata, fixture.snapshot), String(expected.length));
    expect(statusOf(verification(check))).toBe('ok');
  });

  it('a position delete into the wrong file leaves a row the source no longer has, and the table differs', async () => {
    const fixture = await tableWithDeletes('wrong');
    const ids = await targetIds(fixture);
    expect(ids).toContain(3);
    expect(ids).not.toContain(8);
    // The source deleted ids 3 and 5: 8 rows. The wrong delete removed id 8 instead, so the counts agree and
    // only the rows tell; a delete that points nowhere leaves one row too many and the count tells too.
    const source = idsWithout(0, 10, [3, 5]);
    expect(ids).not.toEqual(source);
    const nowhere = await newTable();
    const a = await writeData(
      nowhere,
      [0, 1, 2].map((i) => row(i)),
    );
    await fastAppend(nowhere, TABLE, { dataFiles: [a] });
    const before = (await nowhere.loadTable(TABLE)).metadata;
    const misdirected = await writePositionDeletes(nowhere.io, before, [
      { filePath: `${a.filePath}-elsewhere`, pos: 1n },
      { filePath: `${before.location}/data/gone.parquet`, pos: 0n },
    ]);
    await rowDelta(nowhere, TABLE, { deleteFiles: [misdirected] });
    const metadata = (await nowhere.loadTable(TABLE)).metadata;
    const counted = await manifestRowCount(nowhere.io, metadata, currentSnapshot(metadata));
    expect(counted).toBe('3');
    const check = countCheck('2', counted, undefined);
    expect(check.ok).toBe(false);
    expect(statusOf(verification(check))).toBe('differs');
  });
});
