/**
 * `icebridge compact` on a local warehouse: a table with position deletes is compacted (the same rows, no delete
 * files, the CDC LSN kept), the line or JSON says what changed, a second run has nothing to do, and usage errors
 * (no warehouse, a table that does not exist, a bad size) exit 2.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactCommand } from '../../cli/commands/compact';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { DataFileWriter } from '../../shared/iceberg/parquet/data-file-writer';
import { scanToArray } from '../../shared/iceberg/scan/table-scan';
import { currentSchema, currentSnapshot } from '../../shared/iceberg/spec/table-metadata';
import { rowDelta } from '../../shared/iceberg/transaction/row-delta';
import { fastAppend } from '../../shared/iceberg/transaction/table-operations';
import { writePositionDeletes } from '../../shared/iceberg/writer/delete-writer';
import { SCHEMA, row } from '../iceberg/scan/delete-fixtures';

const ID = { namespace: ['public'], name: 'orders' };
let dir: string;
let catalog: HadoopCatalog;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'icebridge-compact-'));
  catalog = new HadoopCatalog(new LocalFileIO(), dir);
  const { metadata } = await catalog.createTable(ID, { schema: SCHEMA });
  const writer = new DataFileWriter({
    io: catalog.io,
    schema: currentSchema(metadata),
    partition: [],
    newLocation: () => `${metadata.location}/data/a.parquet`,
  });
  await writer.writeRows(Array.from({ length: 100 }, (_, i) => row(i)));
  const [file] = await writer.close();
  await fastAppend(catalog, ID, { dataFiles: [file!] });
  for (const pos of [3n, 50n]) {
    const at = (await catalog.loadTable(ID)).metadata;
    const deletes = await writePositionDeletes(catalog.io, at, [{ filePath: file!.filePath, pos }]);
    await rowDelta(catalog, ID, { deleteFiles: [deletes], referencedDataFiles: [file!.filePath], properties: { 'icebridge.cdc.lsn': `0/${pos}` } });
  }
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await compactCommand(argv, { write: (t) => void out.push(t) }, { write: (t) => void err.push(t) }, {});
  return { status, out: out.join(''), err: err.join('') };
}

describe('icebridge compact', () => {
  it('compacts a table with deletes, keeps its rows and LSN, then has nothing to do', async () => {
    const before = await scanToArray(catalog.io, (await catalog.loadTable(ID)).metadata);
    const first = await run(['--warehouse', dir]);
    expect(first.status, first.err).toBe(0);
    expect(first.out).toMatch(/^public\.orders: 1 data \+ 2 delete files, .* -> 1 data \+ 0 delete files, .*; 98 rows; 1 files rewritten into 1; /);
    const metadata = (await catalog.loadTable(ID)).metadata;
    expect(await scanToArray(catalog.io, metadata)).toEqual(before);
    expect(currentSnapshot(metadata)!.summary).toMatchObject({ operation: 'replace', 'icebridge.cdc.lsn': '0/50' });
    const second = await run(['--warehouse', dir, '--tables', 'orders', '--json']);
    expect(second.status, second.err).toBe(0);
    const report = JSON.parse(second.out) as Array<{ table: string; result: { compacted: boolean; after: { deleteFiles: number; rows: string } } }>;
    expect(report.map((r) => [r.table, r.result.compacted])).toEqual([['public.orders', false]]);
    expect(report[0]!.result.after).toMatchObject({ deleteFiles: 0, rows: '98' });
  });

  it('exits 2 on usage errors', async () => {
    expect((await run([])).status).toBe(2);
    const missing = await run(['--warehouse', dir, '--tables', 'orders,nope']);
    expect(missing.status).toBe(2);
    expect(missing.err).toContain('no such table in namespace public: nope');
    expect((await run(['--warehouse', dir, '--target-file-size-mb', 'big'])).status).toBe(2);
    expect((await run(['--warehouse', dir, '--namespace', 'empty'])).status).toBe(2);
  });
});
