import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaCommand } from '../../cli/commands/schema';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import type { RegistryDiff } from '../../shared/verify/schema-registry/schema-registry-diff';
import { type SchemaRegistry, parseRegistry } from '../../shared/verify/schema-registry/schema-registry';
import { PAGILA_SQL, type PostgresInstance, startPostgres } from './support/postgres';

const ROOT = path.resolve(__dirname, '../..');
const PAGILA_TABLES = [
  'actor',
  'address',
  'category',
  'city',
  'country',
  'customer',
  'film',
  'film_actor',
  'film_category',
  'inventory',
  'language',
  'payment',
  'rental',
  'staff',
  'store',
];

// One column added, one type changed, one NOT NULL dropped, one table dropped.
const ALTERATIONS = `
  ALTER TABLE public.customer ADD COLUMN loyalty_tier text NOT NULL DEFAULT 'basic';
  ALTER TABLE public.film ALTER COLUMN replacement_cost TYPE numeric(7,2);
  ALTER TABLE public.film ALTER COLUMN rental_rate DROP NOT NULL;
  DROP TABLE public.film_category CASCADE;
`;

let server: PostgresInstance;
let pagilaUrl: string;
let alteredUrl: string;
let workDir: string;
let snapshotFile: string;
let warehouse: string;
let snapshot: SchemaRegistry;

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `icebridge schema …` in-process with captured output. */
async function schema(...argv: string[]): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        append(chunk.toString());
        callback();
      },
    });
  const code = await schemaCommand(argv, { out: sink((t) => (stdout += t)), err: sink((t) => (stderr += t)) });
  return { code, stdout, stderr };
}

/** Runs the real command line as a child process. */
function cli(...argv: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'cli/main.ts'), 'schema', ...argv],
      { cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error as Error);
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  server = await startPostgres();
  [pagilaUrl, alteredUrl] = await Promise.all([server.createDatabase('pagila'), server.createDatabase('pagila_altered')]);
  await Promise.all([server.loadSqlFile('pagila', PAGILA_SQL), server.loadSqlFile('pagila_altered', PAGILA_SQL)]);
  const client = new Client({ connectionString: alteredUrl });
  await client.connect();
  try {
    await client.query(ALTERATIONS);
  } finally {
    await client.end();
  }
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-schema-'));
  snapshotFile = path.join(workDir, 'registry.json');
  warehouse = path.join(workDir, 'warehouse');
});

afterAll(async () => {
  await server?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const FILM_DIFFERENCES = [
  {
    kind: 'NULLABILITY_MISMATCH',
    field: 'rental_rate',
    expected: { type: 'decimal(4, 2) (numeric(4,2))', required: true },
    actual: { type: 'decimal(4, 2) (numeric(4,2))', required: false },
    fixSql: 'ALTER TABLE "public"."film" ALTER COLUMN "rental_rate" SET NOT NULL',
  },
  {
    kind: 'TYPE_MISMATCH',
    field: 'replacement_cost',
    expected: { type: 'decimal(5, 2) (numeric(5,2))', required: true },
    actual: { type: 'decimal(7, 2) (numeric(7,2))', required: true },
    fixSql: 'ALTER TABLE "public"."film" ALTER COLUMN "replacement_cost" TYPE numeric(5,2) USING "replacement_cost"::numeric(5,2)',
  },
];

/** What pagila (left) against the altered copy (right) must find, whichever form the left side takes. */
function expectPagilaAgainstAltered(diff: RegistryDiff): void {
  expect(diff.equal).toBe(false);
  expect(diff.tables.map((t) => t.table)).toEqual(PAGILA_TABLES.map((t) => `public.${t}`));
  expect(diff.tables.filter((t) => t.status !== 'equal').map((t) => [t.table, t.status])).toEqual([
    ['public.customer', 'differs'],
    ['public.film', 'differs'],
    ['public.film_category', 'MISSING_TABLE'],
  ]);
  const byName = new Map(diff.tables.map((t) => [t.table, t]));
  // Dropping the added column is not suggested: the fix would destroy data.
  expect(byName.get('public.customer')!.differences).toEqual([
    { kind: 'EXTRA_FIELD', field: 'loyalty_tier', actual: { type: 'string (text)', required: true } },
  ]);
  expect(byName.get('public.film')!.differences).toEqual(FILM_DIFFERENCES);
  expect(byName.get('public.film_category')!.fixSql).toBe(
    'CREATE TABLE "public"."film_category" (\n  "film_id" integer NOT NULL,\n  "category_id" integer NOT NULL,\n  "last_update" timestamp with time zone NOT NULL\n)',
  );
}

describe('icebridge schema snapshot', () => {
  it('writes a versioned registry of every Pagila table, with signatures and no password', async () => {
    const result = await schema('snapshot', '--source', pagilaUrl, '--schema', 'public');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).not.toContain(server.password);
    await writeFile(snapshotFile, result.stdout);
    snapshot = parseRegistry(JSON.parse(result.stdout));
    expect(snapshot).toMatchObject({
      format: 'icebridge-schema-registry',
      version: 1,
      source: { kind: 'postgres', location: `postgresql://postgres@127.0.0.1:${server.port}/pagila`, schema: 'public' },
    });
    expect(Object.keys(snapshot.tables)).toEqual(PAGILA_TABLES.map((t) => `public.${t}`));
    for (const table of Object.values(snapshot.tables)) expect(table.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(snapshot.tables['public.film']!.columns.find((c) => c.name === 'release_year')).toEqual({
      name: 'release_year',
      pgType: 'public.year',
      icebergType: 'int',
      required: false,
    });
  });

  it('captures the same signatures from an identical database', async () => {
    const again = await schema('snapshot', '--source', pagilaUrl, '--tables', 'film,actor');
    const registry = parseRegistry(JSON.parse(again.stdout));
    expect(Object.keys(registry.tables)).toEqual(['public.actor', 'public.film']);
    expect(registry.tables['public.film']!.signature).toBe(snapshot.tables['public.film']!.signature);
  });
});

describe('icebridge schema diff', () => {
  it('finds nothing between a database and its own snapshot (exit 0)', async () => {
    const result = await schema('diff', snapshotFile, pagilaUrl);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no differences in 15 table(s)');
  });

  it('finds exactly the alterations between two databases (exit 1)', async () => {
    const result = await schema('diff', pagilaUrl, alteredUrl, '--json');
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain(server.password);
    expectPagilaAgainstAltered(JSON.parse(result.stdout) as RegistryDiff);
  });

  it('finds the same between the snapshot file and the altered database, and prints them as a table', async () => {
    const asJson = await schema('diff', snapshotFile, alteredUrl, '--json');
    expect(asJson.code).toBe(1);
    expectPagilaAgainstAltered(JSON.parse(asJson.stdout) as RegistryDiff);
    const table = await schema('diff', snapshotFile, alteredUrl);
    expect(table.code).toBe(1);
    const lines = table.stdout.split('\n');
    expect(lines).toContain('public.customer       loyalty_tier      EXTRA_FIELD           -                                      string (text) not null');
    expect(
      lines.some((l) =>
        /^public\.film +replacement_cost +TYPE_MISMATCH +decimal\(5, 2\) \(numeric\(5,2\)\) not null +decimal\(7, 2\) \(numeric\(7,2\)\) not null$/.test(l),
      ),
    ).toBe(true);
    expect(lines.some((l) => /^public\.film_category +MISSING_TABLE +table +-$/.test(l))).toBe(true);
    expect(table.stdout).toContain('3 of 15 table(s) differ');
    expect(table.stdout).toContain('ALTER TABLE "public"."film" ALTER COLUMN "rental_rate" SET NOT NULL;');
  });

  it('limits the comparison to --tables', async () => {
    const result = await schema('diff', snapshotFile, alteredUrl, '--tables', 'actor,film_category', '--json');
    expect(result.code).toBe(1);
    const diff = JSON.parse(result.stdout) as RegistryDiff;
    expect(diff.tables.map((t) => [t.table, t.status])).toEqual([
      ['public.actor', 'equal'],
      ['public.film_category', 'MISSING_TABLE'],
    ]);
  });

  it('compares a database with a warehouse, fixing the database side', async () => {
    const catalog = new HadoopCatalog(new LocalFileIO(), warehouse);
    for (const table of Object.values(snapshot.tables)) {
      await catalog.createTable({ namespace: ['public'], name: table.identifier.name }, { schema: table.schema });
    }
    expect((await schema('diff', pagilaUrl, warehouse)).code).toBe(0);
    const result = await schema('diff', alteredUrl, `file://${warehouse}`, '--json');
    expect(result.code).toBe(1);
    const diff = JSON.parse(result.stdout) as RegistryDiff;
    expect(diff.right).toEqual({ kind: 'warehouse', location: `file://${warehouse}`, schema: 'public' });
    const byName = new Map(diff.tables.map((t) => [t.table, t]));
    expect(byName.get('public.customer')!.differences).toEqual([
      { kind: 'MISSING_FIELD', field: 'loyalty_tier', expected: { type: 'string (text)', required: true } },
    ]);
    expect(byName.get('public.film')!.differences).toEqual([
      {
        kind: 'NULLABILITY_MISMATCH',
        field: 'rental_rate',
        expected: { type: 'decimal(4, 2) (numeric(4,2))', required: false },
        actual: { type: 'decimal(4, 2)', required: true },
        fixSql: 'ALTER TABLE "public"."film" ALTER COLUMN "rental_rate" SET NOT NULL',
      },
      {
        kind: 'TYPE_MISMATCH',
        field: 'replacement_cost',
        expected: { type: 'decimal(7, 2) (numeric(7,2))', required: true },
        actual: { type: 'decimal(5, 2)', required: true },
        fixSql: 'ALTER TABLE "public"."film" ALTER COLUMN "replacement_cost" TYPE numeric(5,2) USING "replacement_cost"::numeric(5,2)',
      },
    ]);
    expect(byName.get('public.film_category')).toMatchObject({
      status: 'EXTRA_TABLE',
      fixSql:
        'CREATE TABLE "public"."film_category" (\n  "film_id" integer NOT NULL,\n  "category_id" integer NOT NULL,\n  "last_update" timestamptz NOT NULL\n)',
    });
  });

  it('reports an unreachable database clearly, without its password (exit 2)', async () => {
    const result = await schema('diff', `postgresql://postgres:Sup3rSecret@127.0.0.1:9/nowhere`, snapshotFile);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/127\.0\.0\.1:9/);
    expect(result.stderr).not.toContain('Sup3rSecret');
    const snap = await schema('snapshot', '--source', `postgresql://postgres:Sup3rSecret@127.0.0.1:9/nowhere`);
    expect(snap.code).toBe(1);
    expect(snap.stderr).not.toContain('Sup3rSecret');
  });

  it('treats a wrong number of sides, a missing file or a damaged snapshot as usage errors (exit 2)', async () => {
    expect((await schema('diff', snapshotFile)).code).toBe(2);
    const missing = await schema('diff', snapshotFile, path.join(workDir, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    const damaged = path.join(workDir, 'damaged.json');
    const doc = JSON.parse(JSON.stringify(snapshot)) as SchemaRegistry;
    doc.tables['public.actor']!.schema.fields[0]!.required = false;
    await writeFile(damaged, JSON.stringify(doc));
    const result = await schema('diff', damaged, pagilaUrl);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('signature does not match');
    const noSchema = await schema('diff', pagilaUrl, alteredUrl, '--schema', 'nope');
    expect(noSchema.code).toBe(2);
    expect(noSchema.stderr).toContain('schema "nope" does not exist');
    expect((await schema('snapshot')).code).toBe(2);
    expect((await schema('frobnicate')).code).toBe(2);
  });

  it('runs from the command line with the documented exit statuses', async () => {
    const equal = await cli('diff', pagilaUrl, snapshotFile);
    expect(equal.code).toBe(0);
    const different = await cli('diff', snapshotFile, alteredUrl);
    expect(different.code).toBe(1);
    expect(different.stdout).toContain('3 of 15 table(s) differ');
    expect((await cli('diff', '--json')).code).toBe(2);
  }, 120_000);
});
