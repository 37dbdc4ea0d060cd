/**
 * An oid column verifies like any other integer: PostgreSQL has no sum(oid), so the source's aggregates sum it as
 * the bigint it fits in (values up to 4294967295, past the int4 range).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { verifyFull } from './support/cdc-proof';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let url: string;
let workDir: string;

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('oids');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-verify-oid-'));
  await withClient(url, async (client) => {
    await client.query(`CREATE TABLE objects (id int PRIMARY KEY, o oid)`);
    await client.query(`INSERT INTO objects VALUES (1, 0), (2, 4294967295), (3, NULL), (4, 2147483648)`);
  });
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('verification of an oid column', () => {
  it('is exact, its sum included', async () => {
    const warehouse = path.join(workDir, 'warehouse');
    const report = await runMigration({
      input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['objects'], verify: 'none' },
      sourceUrl: url,
      warehouse,
      stateDir: path.join(workDir, 'state'),
    });
    expect(report.runtimeStatus, report.lastError).toBe('Completed');
    const result = await verifyFull(url, warehouse, 'public', 'objects');
    expect({ status: result.status, error: result.error }).toEqual({ status: 'ok', error: undefined });
    expect(result.aggregates.find((a) => a.column === 'o' && a.aggregate === 'sum')).toMatchObject({ source: '6442450943', target: '6442450943', ok: true });
  }, 300_000);
});
