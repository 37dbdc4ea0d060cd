/**
 * A source whose schema changes between runs: a dropped nullable column stays in the Iceberg table and reads
 * null for the new rows; an added column is added to the Iceberg table. A dropped column that the table
 * requires stops that table with the reason.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io/local-file-io';
import { scanToArray } from '../../shared/iceberg/scan/table-scan';
import { currentSchema } from '../../shared/iceberg/spec/table-metadata';
import { type PostgresInstance, startPostgres } from './support/postgres';

describe('source schema changes between runs', () => {
  let pg: PostgresInstance;
  let dir: string;
  let url: string;
  let client: Client;

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase('evolving');
    client = new Client({ connectionString: url });
    await client.connect();
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-evolution-'));
  });
  afterAll(async () => {
    await client?.end();
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const migrate = () =>
    runMigration({
      input: { sourceSchema: 'public', namespace: 'public', concurrency: 1 },
      sourceUrl: url,
      warehouse: path.join(dir, 'warehouse'),
      stateDir: path.join(dir, 'state'),
    });

  it('keeps dropped optional columns as nulls and adds new columns', async () => {
    await client.query(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, colour text);
                        INSERT INTO items SELECT g, 'item ' || g, 'red' FROM generate_series(1, 100) g;
                        CREATE TABLE strict (id int PRIMARY KEY, code text NOT NULL);
                        INSERT INTO strict VALUES (1, 'a');`);
    let report = await migrate();
    expect(report.details.map((t) => [t.table, t.status])).toEqual([
      ['items', 'committed'],
      ['strict', 'committed'],
    ]);

    await client.query(`ALTER TABLE items DROP COLUMN colour; ALTER TABLE items ADD COLUMN weight numeric(6,2);
                        UPDATE items SET weight = id / 4.0; ALTER TABLE strict DROP COLUMN code;`);
    report = await migrate();
    const byTable = Object.fromEntries(report.details.map((t) => [t.table, t]));
    expect(byTable.items?.status, byTable.items?.reason).toBe('committed');
    expect(byTable.strict?.status).toBe('failed');
    expect(byTable.strict?.reason).toMatch(/required column code .*no longer exist/);

    const catalog = new HadoopCatalog(new LocalFileIO(), path.join(dir, 'warehouse'));
    const table = await catalog.loadTable({ namespace: ['public'], name: 'items' });
    expect(currentSchema(table.metadata).fields.map((f) => [f.name, f.type, f.required])).toEqual([
      ['id', 'int', true],
      ['name', 'string', true],
      ['colour', 'string', false],
      ['weight', 'decimal(6, 2)', false],
    ]);
    const rows = (await scanToArray(catalog.io, table.metadata)).sort((a, b) => (a[0] as number) - (b[0] as number));
    expect(rows).toHaveLength(100);
    expect(rows[3]).toEqual([4, 'item 4', null, 100n]);
  });
});
