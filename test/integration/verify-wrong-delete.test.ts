/**
 * Full verification catches a wrong position delete: the source deletes one row, the Iceberg table gets a
 * position delete that removes another one instead. Counts agree (one row gone on each side); only the rows tell,
 * and the full level must name both keys: the row the table still holds and the row it lost.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { LocalFileIO } from '../../shared/iceberg/io';
import { currentSchema } from '../../shared/iceberg/spec/table-metadata';
import { rowDelta } from '../../shared/iceberg/transaction/row-delta';
import { writePositionDeletes } from '../../shared/iceberg/writer/delete-writer';
import { buildKeyIndex, keyTextOf } from '../../shared/sync/key-index';
import { verifyFull } from './support/cdc-proof';
import { localCatalog, withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let url: string;
let workDir: string;

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('wrongdelete');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-wrong-delete-'));
  await withClient(url, async (client) => {
    await client.query(`CREATE TABLE items (id int PRIMARY KEY, note text NOT NULL)`);
    await client.query(`INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 1000) g`);
  });
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('full verification of a table with a wrong position delete', () => {
  it('reports the row the delete should have removed and the row it removed instead, though the counts agree', async () => {
    const warehouse = path.join(workDir, 'warehouse');
    const report = await runMigration({
      input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['items'], verify: 'none' },
      sourceUrl: url,
      warehouse,
      stateDir: path.join(workDir, 'state'),
    });
    expect(report.runtimeStatus, report.lastError).toBe('Completed');
    expect((await verifyFull(url, warehouse, 'public', 'items')).status).toBe('ok');

    await withClient(url, (client) => client.query(`DELETE FROM items WHERE id = 3`));
    // The delete lands on id 8's position instead of id 3's.
    const catalog = localCatalog(warehouse);
    const id = { namespace: ['public'], name: 'items' };
    const { metadata } = await catalog.loadTable(id);
    const io = new LocalFileIO();
    const index = await buildKeyIndex(io, metadata, [0]);
    const [location] = index.locations(keyTextOf(currentSchema(metadata), [0])([8]));
    const file = index.file(location!);
    const deletes = await writePositionDeletes(io, metadata, [{ filePath: file.path, pos: BigInt(location!.pos) }], {
      partition: file.partition,
      specId: file.specId,
    });
    await rowDelta(catalog, id, { deleteFiles: [deletes], referencedDataFiles: [file.path] });

    const result = await verifyFull(url, warehouse, 'public', 'items');
    expect(result.status).toBe('differs');
    expect(result.counts).toMatchObject({ source: '999', targetManifest: '999' });
    expect(result.rows?.differences.map((d) => [d.key.id, d.kind]).sort()).toEqual([
      ['3', 'EXTRA_IN_TARGET'],
      ['8', 'MISSING_IN_TARGET'],
    ]);
  }, 300_000);
});
