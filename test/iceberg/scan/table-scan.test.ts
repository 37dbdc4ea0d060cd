/**
 * Whole tables: rows written through TableWriter and committed, then read back through the scan at the current
 * snapshot, at an older snapshot and as of a time, with partition and min/max pruning, across schema evolution
 * and rollback. DuckDB reads the data files the manifests list and must agree with our reader.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../../shared/iceberg/catalog/catalog';
import { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../../shared/iceberg/io/local-file-io';
import { planScan, scanToArray } from '../../../shared/iceberg/scan/table-scan';
import { and, bindByName } from '../../../shared/iceberg/spec/expressions';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import { currentSnapshot } from '../../../shared/iceberg/spec/table-metadata';
import type { Row } from '../../../shared/iceberg/spec/values';
import { liveEntries } from '../../../shared/iceberg/transaction/manifest-files';
import { rollbackTo } from '../../../shared/iceberg/transaction/snapshot-management';
import { updateSchema } from '../../../shared/iceberg/transaction/table-evolution';
import { fastAppend } from '../../../shared/iceberg/transaction/table-operations';
import { TableWriter } from '../../../shared/iceberg/writer/table-writer';

const DAY_US = 86_400_000_000n;
const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'name', required: false, type: 'string' },
  { id: 3, name: 'amount', required: true, type: 'decimal(12, 2)' },
  { id: 4, name: 'created_at', required: true, type: 'timestamptz' },
  { id: 5, name: 'qty', required: false, type: 'int' },
  { id: 6, name: 'tags', required: false, type: { type: 'list', 'element-id': 7, element: 'string', 'element-required': false } },
]);
const spec = { 'spec-id': 0, fields: [{ 'source-id': 4, 'field-id': 1000, name: 'created_at_day', transform: 'day' }] };

function makeRows(from: number, count: number): Row[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    // Days before and after the epoch, with microsecond detail, so pruning meets negative partition values.
    const created = (BigInt(i % 10) - 5n) * DAY_US + BigInt(i) * 1_000_003n + 1n;
    return [
      BigInt(i),
      i % 7 === 0 ? null : `name-${i}-ü`,
      BigInt(i) * 101n - 50_000n,
      created,
      i % 5 === 0 ? null : i,
      i % 3 === 0 ? null : [`t${i % 4}`, null],
    ];
  });
}

const byId = (a: Row, b: Row) => Number((a[0] as bigint) - (b[0] as bigint));

describe('table scan', () => {
  let dir: string;
  let catalog: Catalog;
  const id = { namespace: ['sales'], name: 'orders' };
  let first: bigint;
  let firstAt: number;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-scan-'));
    catalog = new HadoopCatalog(new LocalFileIO(), path.join(dir, 'warehouse'));
    const table = await catalog.createTable(id, { schema, spec });
    const writer = new TableWriter({ io: catalog.io, metadata: table.metadata, rowGroupSizeInBytes: 1024, targetFileSizeInBytes: 2048 });
    await writer.writeRows(makeRows(0, 3000));
    first = (await fastAppend(catalog, id, { dataFiles: await writer.close(), now: () => 1_000_000 })).snapshotId;
    firstAt = (await catalog.loadTable(id)).metadata.snapshots[0]!['timestamp-ms'];
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one directory per day partition, with Java-style paths', async () => {
    const table = await catalog.loadTable(id);
    const live = await liveEntries(catalog.io, currentSnapshot(table.metadata));
    const dirs = new Set(live.map((e) => path.basename(path.dirname(e.entry.dataFile.filePath))));
    expect(dirs.size).toBe(10);
    expect(live.length).toBeGreaterThan(10);
    expect(dirs).toContain('created_at_day=1969-12-27');
    expect(dirs).toContain('created_at_day=1970-01-01');
  });

  it('reads every row back exactly', async () => {
    const table = await catalog.loadTable(id);
    const rows = (await scanToArray(catalog.io, table.metadata)).sort(byId);
    expect(rows).toEqual(makeRows(0, 3000));
  });

  it('prunes by partition and by column bounds, and still returns exactly the matching rows', async () => {
    const table = await catalog.loadTable(id);
    const day = -3n * DAY_US;
    const filter = and(bindByName(schema, 'created_at', 'gtEq', day), bindByName(schema, 'created_at', 'lt', day + DAY_US));
    const plan = await planScan(catalog.io, table.metadata, { filter });
    expect(plan.skipped.files).toBeGreaterThan(0);
    const rows = (await scanToArray(catalog.io, table.metadata, { filter })).sort(byId);
    expect(rows).toEqual(makeRows(0, 3000).filter((r) => (r[3] as bigint) >= day && (r[3] as bigint) < day + DAY_US));
    expect(rows.length).toBeGreaterThan(0);

    const byBounds = bindByName(schema, 'id', 'lt', 40n);
    const boundsPlan = await planScan(catalog.io, table.metadata, { filter: byBounds });
    expect(boundsPlan.skipped.files).toBeGreaterThan(0);
    expect((await scanToArray(catalog.io, table.metadata, { filter: byBounds, columns: ['name'] })).length).toBe(40);
  });

  it('DuckDB reading the files the manifests list agrees with our reader', async () => {
    const table = await catalog.loadTable(id);
    const files = (await liveEntries(catalog.io, currentSnapshot(table.metadata))).map((e) => e.entry.dataFile.filePath);
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    const reader = await duck.runAndReadAll(
      `SELECT count(*)::VARCHAR AS n, sum(amount)::VARCHAR AS total, count(name)::VARCHAR AS names,
              sum(epoch_us(created_at))::VARCHAR AS micros, sum(len(tags))::VARCHAR AS tags
       FROM read_parquet([${list}])`,
    );
    const rows = makeRows(0, 3000);
    const expected = {
      n: '3000',
      total: (() => {
        const cents = rows.reduce((s, r) => s + (r[2] as bigint), 0n);
        const sign = cents < 0n ? '-' : '';
        const abs = cents < 0n ? -cents : cents;
        return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
      })(),
      names: String(rows.filter((r) => r[1] !== null).length),
      micros: String(rows.reduce((s, r) => s + (r[3] as bigint), 0n)),
      tags: String(rows.reduce((s, r) => s + (r[5] === null ? 0 : 2), 0)),
    };
    expect(reader.getRowObjectsJS()[0]).toEqual(expected);
  });

  it('time travels by snapshot id and by timestamp, reads old files through schema changes, and rolls back', async () => {
    let table = await catalog.loadTable(id);
    const writer = new TableWriter({ io: catalog.io, metadata: table.metadata });
    await writer.writeRows(makeRows(3000, 500));
    await fastAppend(catalog, id, { dataFiles: await writer.close(), now: () => firstAt + 10_000 });
    table = await catalog.loadTable(id);
    expect((await scanToArray(catalog.io, table.metadata)).length).toBe(3500);
    expect((await scanToArray(catalog.io, table.metadata, { snapshotId: first })).length).toBe(3000);
    expect((await scanToArray(catalog.io, table.metadata, { asOfTimestampMs: firstAt + 5_000 })).length).toBe(3000);
    await expect(scanToArray(catalog.io, table.metadata, { asOfTimestampMs: firstAt - 1 })).rejects.toThrow(/no snapshot as of/);

    table = await updateSchema(catalog, id, (u) => u.renameColumn('name', 'full_name').updateColumnType('qty', 'long').addColumn('note', 'string'));
    const evolved = (await scanToArray(catalog.io, table.metadata)).sort(byId);
    const expected = makeRows(0, 3500).map((r) => [r[0], r[1], r[2], r[3], r[4] === null ? null : BigInt(r[4] as number), r[5], null]);
    expect(evolved).toEqual(expected);

    table = await rollbackTo(catalog, id, first);
    expect((await scanToArray(catalog.io, table.metadata)).length).toBe(3000);
  });
});
