/**
 * The routing library against a real PostgreSQL and a migrated Iceberg table: reads follow the flags (sticky per
 * routing key), both sides answer in one representation, validated reads find a difference planted on one side
 * and count it while the caller gets the primary's answer, a failing secondary never fails the caller, writes go
 * to PostgreSQL, and a write while Iceberg is primary goes to Iceberg only (test/router/router-writes.test.ts has
 * the rest of Iceberg-primary writes).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { ICEBRIDGE_FLAGS, percentageFlag, switchFlag } from '../../shared/flags/feature-flag';
import { FlagEvaluator } from '../../shared/flags/flag-evaluator';
import { LocalFlagStore } from '../../shared/flags/local-flag-store';
import { type ReadDifference, type Router, createRouter } from '../../shared/router/router';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let url: string;
let workDir: string;
let warehouse: string;

const TABLE = `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE accounts (
  id bigint PRIMARY KEY, region text NOT NULL, name text, balance numeric(12,2), big numeric, opened timestamptz, born date,
  tags text[], attrs jsonb, token uuid, photo bytea, wait interval, mood mood, score float8, ok boolean, addr inet
)`;

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('router');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-router-'));
  warehouse = path.join(workDir, 'warehouse');
  await withClient(url, async (client) => {
    await client.query(TABLE);
    await client.query(`INSERT INTO accounts
      SELECT g, CASE WHEN g % 3 = 0 THEN 'eu' ELSE 'us' END, 'name ' || g || ' é', g * 1.25, (g::numeric ^ 3) / 7, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 hour',
             DATE '2000-01-01' + g, ARRAY['a' || g, NULL, 'x,y'], jsonb_build_object('g', g, 'nested', jsonb_build_array(1, 'two')),
             md5(g::text)::uuid, decode(lpad(to_hex(g), 8, '0'), 'hex'), make_interval(days => g, secs => g / 7.0), (ARRAY['sad','ok','happy'])[1 + g % 3]::mood,
             g / 3.0, g % 2 = 0, ('10.0.' || (g % 250) || '.1')::inet
      FROM generate_series(1, 500) g`);
  });
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['accounts'], verify: 'none' },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(workDir, 'state'),
  });
  if (report.runtimeStatus !== 'Completed') throw new Error(`migration failed: ${report.lastError ?? ''}`);
}, 300_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function flagsWith(setup: (store: LocalFlagStore) => Promise<void>): Promise<FlagEvaluator> {
  const store = new LocalFlagStore(path.join(await mkdtemp(path.join(workDir, 'flags-')), 'flags.json'));
  await setup(store);
  return new FlagEvaluator(store, { refreshIntervalMs: 0 });
}

function router(flags: FlagEvaluator, differences: ReadDifference[] = [], failures: string[] = []): Router {
  return createRouter({
    postgres: { url, max: 2 },
    warehouse,
    flags,
    onDifference: (d) => differences.push(d),
    onSecondaryError: (f) => failures.push(f.side),
  });
}

describe('router', () => {
  it('answers the same rows from PostgreSQL and from Iceberg', async () => {
    const toPostgres = router(await flagsWith(async () => undefined));
    const toIceberg = router(await flagsWith(async (s) => void (await s.put(switchFlag(ICEBRIDGE_FLAGS.useIcebergStorage, true), undefined, 'absent'))));
    try {
      const fromPg = await (await toPostgres.table('public.accounts')).findById(42n);
      const fromIceberg = await (await toIceberg.table('public.accounts')).findById(42n);
      expect(fromPg).toBeDefined();
      expect(fromIceberg).toEqual(fromPg);
      expect(fromPg!['name']).toBe('name 42 é');
      expect(toPostgres.stats().reads).toEqual({ postgres: 1, iceberg: 0 });
      expect(toIceberg.stats().reads).toEqual({ postgres: 0, iceberg: 1 });
      const euPg = await (await toPostgres.table('public.accounts')).find({ region: 'eu' }, { limit: 1000 });
      const euIceberg = await (await toIceberg.table('public.accounts')).find({ region: 'eu' }, { limit: 1000 });
      expect(euPg).toHaveLength(166);
      expect(euIceberg).toEqual(euPg);
      expect(await (await toIceberg.table('public.accounts')).findById(100_000n)).toBeUndefined();
    } finally {
      await toPostgres.close();
      await toIceberg.close();
    }
  });

  it('sends about the read percentage of keys to Iceberg, the same keys every time', async () => {
    const r = router(
      await flagsWith(async (s) => {
        await s.put(switchFlag(ICEBRIDGE_FLAGS.useIcebergStorage, true), undefined, 'absent');
        await s.put(percentageFlag(ICEBRIDGE_FLAGS.icebergReadPercentage, 30), undefined, 'absent');
      }),
    );
    try {
      const accounts = await r.table('public.accounts');
      for (let round = 0; round < 2; round++) for (let id = 1n; id <= 100n; id++) await accounts.findById(id, { routingKey: `customer-${id}` });
      const { postgres, iceberg } = r.stats().reads;
      expect(postgres + iceberg).toBe(200);
      expect(iceberg % 2).toBe(0);
      expect(iceberg).toBeGreaterThan(30);
      expect(iceberg).toBeLessThan(90);
    } finally {
      await r.close();
    }
  });

  it('validates reads: a difference planted in PostgreSQL is found and counted, the caller gets the primary', async () => {
    const differences: ReadDifference[] = [];
    const r = router(
      await flagsWith(async (s) => {
        await s.put(switchFlag(ICEBRIDGE_FLAGS.validateDualWrites, true), undefined, 'absent');
      }),
      differences,
    );
    try {
      const accounts = await r.table('public.accounts');
      await accounts.findById(7n);
      expect(differences).toEqual([]);
      await withClient(url, (client) => client.query(`UPDATE accounts SET balance = balance + 0.01 WHERE id = 8`));
      const answer = await accounts.findById(8n);
      expect(answer?.['balance']).toBe(1001n);
      expect(differences).toEqual([
        { table: 'public.accounts', operation: 'findById', lookup: '(id)=(8)', primary: 'postgres', onlyPrimary: 0, onlySecondary: 0, columns: ['balance'] },
      ]);
      await withClient(url, (client) => client.query(`DELETE FROM accounts WHERE id = 9`));
      expect(await accounts.findById(9n)).toBeUndefined();
      expect(differences[1]).toMatchObject({ onlyPrimary: 0, onlySecondary: 1 });
      expect(r.stats()).toMatchObject({ validatedReads: 3, differences: 2 });
    } finally {
      await r.close();
    }
  });

  it('never fails the caller for a failing secondary', async () => {
    const failures: string[] = [];
    const flags = await flagsWith(async (s) => void (await s.put(switchFlag(ICEBRIDGE_FLAGS.validateDualWrites, true), undefined, 'absent')));
    const r = createRouter({
      postgres: { url, max: 2 },
      warehouse: path.join(workDir, 'no-such-warehouse'),
      flags,
      onSecondaryError: (f) => failures.push(f.side),
    });
    try {
      expect((await (await r.table('public.accounts')).findById(10n))?.['id']).toBe(10n);
      expect(failures).toEqual(['iceberg']);
      expect(r.stats().secondaryFailures).toBe(1);
    } finally {
      await r.close();
    }
  });

  it('writes to PostgreSQL exactly, and to Iceberg alone while Iceberg is primary', async () => {
    const r = router(await flagsWith(async () => undefined));
    try {
      const accounts = await r.table('public.accounts');
      const row = { ...(await accounts.findById(20n))!, id: 10_001n, name: 'new ☃', tags: ['p', null, 'q"r'], photo: new Uint8Array([0, 255, 1]) };
      await accounts.save(row);
      expect(await accounts.findById(10_001n)).toEqual(row);
      await accounts.save({ ...row, name: 'renamed' });
      expect((await accounts.findById(10_001n))?.['name']).toBe('renamed');
      expect(await accounts.delete(10_001n)).toBe(true);
      expect(await accounts.findById(10_001n)).toBeUndefined();
    } finally {
      await r.close();
    }
    const primary = router(await flagsWith(async (s) => void (await s.put(switchFlag(ICEBRIDGE_FLAGS.useIcebergAsPrimary, true), undefined, 'absent'))));
    try {
      const accounts = await primary.table('public.accounts');
      // Iceberg applies no defaults: a new row there gives every column.
      const row = { ...(await accounts.findById(21n))!, id: 10_002n, region: 'eu' };
      await accounts.save(row);
      expect(primary.stats()).toMatchObject({ writes: 1, icebergCommits: 1 });
      await withClient(url, async (client) => expect((await client.query('SELECT 1 FROM accounts WHERE id = 10002')).rowCount).toBe(0));
    } finally {
      await primary.close();
    }
  });
});
