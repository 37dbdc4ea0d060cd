/**
 * Schema drift on a real PostgreSQL: between two databases (staging and production), between the live source and
 * the registry recorded in the warehouse, and between the live source and its Iceberg tables after a migration.
 * The sensitivity proof of every comparison: each finding's fix (the SQL on its side, or the Iceberg update),
 * applied, makes the drift disappear.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftCommand } from '../../cli/commands/drift';
import { runMigration } from '../../cli/support/run-migration';
import { loadSettings } from '../../shared/config/settings';
import { runDriftCheck, runDriftJob } from '../../shared/drift/drift-check';
import type { DriftFinding } from '../../shared/drift/drift-model';
import { compareDatabases } from '../../shared/drift/drift-sources';
import { listRegistryVersions, readRegistryVersion } from '../../shared/drift/registry-store';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io/local-file-io';
import { parseType } from '../../shared/iceberg/spec/types';
import { updateSchema } from '../../shared/iceberg/transaction/table-evolution';
import { readJobResult } from '../../shared/run/job-results';
import { type PostgresInstance, startPostgres } from './support/postgres';

const SHOP = `
  CREATE TABLE orders (id int PRIMARY KEY, qty int NOT NULL, price numeric(8,2), note varchar(20), weight real, code text, colour text);
  INSERT INTO orders VALUES (1, 2, 3.50, 'short', 1.5, 'a', 'red');
  CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);`;

/** Runs each finding's SQL on the side it names. */
async function applySql(findings: readonly DriftFinding[], before: Client, after: Client): Promise<number> {
  let applied = 0;
  for (const f of findings) {
    if (f.fix.sql === undefined) continue;
    await (f.fix.sqlSide === 'before' ? before : after).query(f.fix.sql);
    applied++;
  }
  return applied;
}

/** Runs `icebridge drift` with captured output. */
async function drift(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await driftCommand(argv, { out: { write: (t: string) => (stdout += t) }, err: { write: (t: string) => (stderr += t) } }, {});
  return { code, stdout, stderr };
}

const summary = (findings: readonly DriftFinding[]): string[] =>
  findings.map((f) => `${f.kind} ${f.table}${f.column ? `.${f.column}` : ''} ${f.severity}${f.fix.syncStops ? ' stops' : ''}`).sort();

describe('schema drift on a real PostgreSQL', () => {
  let pg: PostgresInstance;
  let dir: string;
  const clients: Client[] = [];

  const connect = async (url: string): Promise<Client> => {
    const client = new Client({ connectionString: url });
    await client.connect();
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    pg = await startPostgres();
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-drift-'));
  });
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds drift between two databases, and each fix makes it disappear', async () => {
    const stagingUrl = await pg.createDatabase('staging');
    const productionUrl = await pg.createDatabase('production');
    const staging = await connect(stagingUrl);
    const production = await connect(productionUrl);
    await staging.query(SHOP);
    await production.query(SHOP);
    const compare = () => compareDatabases({ client: staging, label: 'staging' }, { client: production, label: 'production' }, 'public');
    expect((await compare()).findings).toEqual([]);
    // Describing a database leaves its session as it found it (the statements below resolve names through it).
    expect((await production.query<{ search_path: string }>('SHOW search_path')).rows[0]!.search_path).toBe('"$user", public');

    await production.query(`
      ALTER TABLE orders ALTER COLUMN qty TYPE bigint;
      ALTER TABLE orders ALTER COLUMN note TYPE varchar(10);
      ALTER TABLE orders ALTER COLUMN price TYPE numeric(6,2);
      ALTER TABLE orders RENAME COLUMN weight TO mass;
      ALTER TABLE orders DROP COLUMN colour;
      ALTER TABLE orders ADD COLUMN extra int;
      ALTER TABLE orders ALTER COLUMN code SET NOT NULL;
      ALTER TABLE orders ALTER COLUMN price SET DEFAULT 0;
      ALTER TABLE orders REPLICA IDENTITY FULL;
      ALTER TABLE customers RENAME TO clients;`);
    const drifted = await compare();
    expect(summary(drifted.findings)).toEqual([
      'column-added public.orders.extra safe stops',
      'column-dropped public.orders.colour unsafe stops',
      'column-renamed public.orders.weight safe stops',
      'default-changed public.orders.price safe',
      'nullability-changed public.orders.code safe',
      'replica-identity-changed public.orders unsafe stops',
      'table-renamed public.customers unsafe stops',
      'type-changed public.orders.note safe stops',
      'type-changed public.orders.price unsafe stops',
      'type-widened public.orders.qty safe stops',
    ]);
    const widened = drifted.findings.find((f) => f.kind === 'type-widened')!;
    expect(widened.fix.iceberg).toBe('update-column "qty" int -> long');
    expect(widened.fix.sql).toBe('ALTER TABLE "public"."orders" ALTER COLUMN "qty" TYPE integer USING "qty"::integer');
    expect(drifted.findings.find((f) => f.kind === 'column-added')!.fix).toMatchObject({
      sql: 'ALTER TABLE "public"."orders" ADD COLUMN "extra" integer',
      sqlSide: 'before',
    });

    const cli = await drift('--source', stagingUrl, '--against', productionUrl, '--json');
    expect(cli.code, cli.stderr).toBe(1);
    expect((JSON.parse(cli.stdout) as { comparisons: Array<{ findings: unknown[] }> }).comparisons[0]!.findings).toEqual(drifted.findings);
    expect(cli.stdout).not.toContain(pg.password);
    const text = await drift('--source', stagingUrl, '--against', productionUrl);
    expect(text.stdout).toContain('UNSAFE table-renamed public.customers: customers -> clients [sync stops]');

    expect(await applySql(drifted.findings, staging, production)).toBe(drifted.findings.length);
    expect((await compare()).findings).toEqual([]);
    expect((await drift('--source', stagingUrl, '--against', productionUrl)).code).toBe(0);
    const unknown = await drift('--source', stagingUrl, '--against', productionUrl, '--tables', 'orders,nowhere');
    expect([unknown.code, unknown.stderr]).toEqual([2, 'neither database has table(s) nowhere\n']);
  });

  it('compares the live source with its Iceberg tables and the registry, records versions only on change, and each fix makes the drift disappear', async () => {
    const url = await pg.createDatabase('source');
    const source = await connect(url);
    await source.query(`
      CREATE TABLE items (id int PRIMARY KEY, qty int, amount real, price numeric(6,2), label varchar(20), gone text, code bigint);
      INSERT INTO items SELECT g, g, g / 2.0, g / 4.0, 'item ' || g, 'x', g FROM generate_series(1, 50) g;
      CREATE TABLE ledger (id int PRIMARY KEY, note varchar(20), amount numeric(8,2));
      INSERT INTO ledger VALUES (1, 'opening', 10);
      CREATE TABLE not_migrated (id int);`);
    const warehouse = path.join(dir, 'warehouse');
    const report = await runMigration({
      input: { sourceSchema: 'public', namespace: 'public', tables: ['items', 'ledger'], concurrency: 1 },
      sourceUrl: url,
      warehouse,
      stateDir: path.join(dir, 'state'),
    });
    expect(report.details.map((t) => t.status)).toEqual(['committed', 'committed']);
    const catalog = new HadoopCatalog(new LocalFileIO(), warehouse);
    const check = (record = false) => runDriftCheck({ connectSource: () => connect(url), sourceLabel: 'source', catalog, warehouse, record });
    const comparison = async (name: 'iceberg' | 'registry', record = false) => (await check(record)).report.comparisons.find((c) => c.name === name);

    // A warehouse without migrated tables, or a table nobody has, is a mistake, not "no drift".
    const empty = await drift('--warehouse', path.join(dir, 'elsewhere'), '--source', url);
    expect([empty.code, empty.stderr]).toEqual([
      2,
      `no table of public was migrated into namespace public of ${path.join(dir, 'elsewhere')}: nothing to check\n`,
    ]);
    expect((await drift('--warehouse', warehouse, '--source', url, '--tables', 'items,nowhere')).stderr).toBe(
      'neither the source nor the warehouse has table(s) nowhere\n',
    );
    const wrong = url.replace(`:${pg.password}@`, ':not-the-password-42@');
    const failed = await runDriftJob({
      settings: loadSettings({ ICEBRIDGE_WAREHOUSE: warehouse, ICEBRIDGE_SOURCE_URL: wrong }),
      slot: 'now-1',
      instanceId: 'i',
    });
    expect(failed).toMatchObject({ status: 'failed', summary: 'the drift check did not finish' });
    expect(failed.error).toContain('password authentication failed');
    expect(JSON.stringify(await readJobResult(catalog.io, warehouse, 'drift', 'now-1'))).not.toContain('not-the-password-42');

    // Right after the migration: no drift, and the first check records version 1.
    const first = await check(true);
    expect(first.findings).toEqual([]);
    expect(first.report.tables).toEqual(['items', 'ledger']);
    expect(first.report.registry).toEqual({ version: 1, written: true });
    const v1 = await readRegistryVersion(catalog.io, warehouse, 1);
    const ledger = v1.tables.find((t) => t.name === 'ledger')!;
    expect(ledger.primaryKey).toEqual(['id']);
    expect(ledger.replicaIdentity).toEqual({ mode: 'default', columns: ['id'] });
    expect(ledger.columns.map((c) => [c.name, c.pgType, c.notNull])).toEqual([
      ['id', 'integer', true],
      ['note', 'character varying(20)', false],
      ['amount', 'numeric(8,2)', false],
    ]);
    expect((await check(true)).report.registry).toEqual({ version: 1, written: false });

    // The registry sees what the Iceberg types cannot (a typmod, a default, the replica identity); its SQL reverts it.
    await source.query(`ALTER TABLE ledger ALTER COLUMN note TYPE varchar(40);
                        ALTER TABLE ledger ALTER COLUMN amount SET DEFAULT 0;
                        ALTER TABLE ledger REPLICA IDENTITY FULL;`);
    const registry = (await comparison('registry'))!;
    expect(summary(registry.findings)).toEqual([
      'default-changed public.ledger.amount safe',
      'replica-identity-changed public.ledger unsafe stops',
      'type-changed public.ledger.note safe stops',
    ]);
    expect((await comparison('iceberg'))!.findings).toEqual([]);
    expect(await applySql(registry.findings, source, source)).toBe(3);
    expect((await comparison('registry'))!.findings).toEqual([]);

    // Against the Iceberg table: safe widenings, an unsafe narrowing, a dropped and an added column.
    await source.query(`ALTER TABLE items ALTER COLUMN qty TYPE bigint;
                        ALTER TABLE items ALTER COLUMN amount TYPE double precision;
                        ALTER TABLE items ALTER COLUMN price TYPE numeric(10,2);
                        ALTER TABLE items ALTER COLUMN code TYPE integer;
                        ALTER TABLE items DROP COLUMN gone;
                        ALTER TABLE items ADD COLUMN added text;`);
    const iceberg = (await comparison('iceberg'))!;
    expect(summary(iceberg.findings)).toEqual([
      'column-added public.items.added safe',
      'column-dropped public.items.gone unsafe stops',
      'type-changed public.items.code unsafe stops',
      'type-widened public.items.amount safe stops',
      'type-widened public.items.price safe stops',
      'type-widened public.items.qty safe stops',
    ]);
    expect(iceberg.findings.find((f) => f.column === 'price')!.fix.iceberg).toMatch(/^update-column id=4 "price" decimal\(6, 2\) -> decimal\(10, 2\)$/);
    expect(iceberg.findings.find((f) => f.column === 'gone')!.fix.sql).toBe('ALTER TABLE "public"."items" ADD COLUMN "gone" text');

    // The job run: findings, reports in the job's folder, a new registry version; its result recorded.
    const settings = loadSettings({ ICEBRIDGE_WAREHOUSE: warehouse, ICEBRIDGE_SOURCE_URL: url });
    const job = await runDriftJob({ settings, slot: '2026-12-06', instanceId: 'drift-2026-12-06' });
    expect(job).toMatchObject({ job: 'drift', slot: '2026-12-06', status: 'findings', figures: { tables: 2, findings: 12, unsafe: 4, registryVersion: 2 } });
    expect(job.summary).not.toContain('icebridge-test');
    expect(await readJobResult(catalog.io, warehouse, 'drift', '2026-12-06')).toEqual(job);
    const html = await readFile(path.join(job.reports!, 'report.html'), 'utf8');
    expect(html).toContain('update-column id=4 &quot;price&quot;');
    expect(html).not.toMatch(/<script|https?:\/\//);
    const json = JSON.parse(await readFile(path.join(job.reports!, 'report.json'), 'utf8')) as { comparisons: Array<{ findings: unknown[] }> };
    expect(json.comparisons.map((c) => c.findings.length)).toEqual([6, 6]);
    expect(await listRegistryVersions(catalog.io, warehouse)).toEqual([1, 2]);
    const versions = await drift('--warehouse', warehouse, '--from-version', '1', '--to-version', '2', '--json');
    expect(versions.code, versions.stderr).toBe(1);
    expect(summary((JSON.parse(versions.stdout) as { comparisons: Array<{ findings: DriftFinding[] }> }).comparisons[0]!.findings)).toEqual(
      summary(iceberg.findings),
    );
    expect((await drift('--warehouse', warehouse, '--from-version', '2', '--source', url)).code).toBe(0);
    expect((await drift('--warehouse', warehouse, '--from-version', '7', '--source', url)).stderr).toContain(
      'schema registry version 7 does not exist; versions: 1, 2',
    );

    // The fixes: the Iceberg updates for what the copy can take on, the SQL for the rest.
    for (const f of iceberg.findings) {
      if (f.severity === 'safe') {
        const update = f.fix.iceberg!;
        await updateSchema(catalog, { namespace: ['public'], name: 'items' }, (u) => {
          const widened = /^update-column id=\d+ "(.+)" .+ -> (.+)$/.exec(update);
          const added = /^add-column "(.+)" (.+) optional$/.exec(update);
          if (widened) u.updateColumnType(widened[1]!, parseType(widened[2]!));
          else if (added) u.addColumn(added[1]!, parseType(added[2]!));
          else throw new Error(`unexpected update ${update}`);
        });
      } else await source.query(f.fix.sql!);
    }
    expect((await comparison('iceberg'))!.findings).toEqual([]);
  });
});
