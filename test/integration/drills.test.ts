/**
 * The rollback drills against a real PostgreSQL and a warehouse on disk: `icebridge drill all` runs the three and
 * each passes, leaving no scratch schema, namespace or file behind; and a drill whose recovery step is sabotaged
 * fails, names that step, and still removes its scratch objects.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drillCommand } from '../../cli/commands/drill';
import { runMigration } from '../../cli/support/run-migration';
import type { DrillEnvironment } from '../../shared/drills/drill-environment';
import { type DrillName, type DrillResult, runDrill } from '../../shared/drills/run-drill';
import { SCRATCH_PREFIX, namespacePrefix, removeScratch } from '../../shared/drills/scratch';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { connectPostgres } from '../../shared/postgres/connection';
import { withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let url: string;
let dir: string;
let warehouse: string;
let catalog: HadoopCatalog;

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('drills');
  dir = await mkdtemp(path.join(tmpdir(), 'icebridge-drills-'));
  warehouse = path.join(dir, 'warehouse');
  catalog = new HadoopCatalog(new LocalFileIO(), warehouse);
  // A table of the user's beside the scratch ones: the drills must leave it alone.
  await withClient(url, async (client) => {
    await client.query('CREATE TABLE public.mine (id int PRIMARY KEY, v text)');
    await client.query("INSERT INTO public.mine VALUES (1, 'untouched')");
  });
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Scratch schemas left in the database, and files left under scratch namespaces of the warehouse. */
async function leftovers(results: DrillResult[]): Promise<{ schemas: string[]; files: string[] }> {
  const schemas = await withClient(url, async (client) => {
    const { rows } = await client.query<{ nspname: string }>("SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname LIKE 'icebridge\\_drill\\_%'");
    return rows.map((r) => r.nspname);
  });
  const files: string[] = [];
  for (const r of results) {
    expect(r.scratch.name.startsWith(SCRATCH_PREFIX)).toBe(true);
    expect(await catalog.listTables([r.scratch.name])).toEqual([]);
    for await (const f of catalog.io.list(namespacePrefix(catalog, r.scratch.name))) files.push(f.location);
  }
  return { schemas, files };
}

function drillEnvironment(name: string): DrillEnvironment {
  return {
    env: { catalog, connectSource: () => connectPostgres(url) },
    migrate: (request) =>
      runMigration({
        input: { sourceSchema: request.schema, namespace: request.namespace, tables: request.tables, concurrency: 2, verify: 'none' },
        sourceUrl: url,
        warehouse,
        stateDir: path.join(dir, `state-${name}`),
      }),
    tempDir: path.join(dir, `drill-${name}`),
    actor: 'drill-test',
  };
}

describe('icebridge drill', () => {
  it('runs all three drills, each passes and leaves nothing behind', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await drillCommand(
      ['all', '--warehouse', warehouse, '--source', url, '--json'],
      { write: (t) => void out.push(t) },
      { write: (t) => void err.push(t) },
    );
    const report = JSON.parse(out.join('')) as { passed: boolean; drills: DrillResult[] };
    expect(report.drills.map((d) => [d.drill, d.passed, d.failedStep])).toEqual([
      ['snapshot-rollback', true, undefined],
      ['point-in-time', true, undefined],
      ['partial-failure', true, undefined],
    ]);
    expect(code, err.join('')).toBe(0);
    for (const d of report.drills) {
      expect(d.steps.every((s) => s.outcome === 'passed')).toBe(true);
      expect(d.steps.at(-1)!.name).toBe('remove the scratch schema and namespace');
    }
    // What each drill proved is in its steps' details: the failure named table, column and value.
    const failure = report.drills[2]!.steps.find((s) => s.name.startsWith('migrate the three tables'))!;
    expect(failure.detail).toMatch(/events.*happened_at.*infinity/s);
    expect(await leftovers(report.drills)).toEqual({ schemas: [], files: [] });
    // Nothing else wrote to this warehouse yet: the drills' audit entries and run markers went with their scratch too.
    const anywhere: string[] = [];
    for await (const f of catalog.io.list(`${warehouse}/`)) anywhere.push(f.location);
    expect(anywhere).toEqual([]);
    const mine = await withClient(url, (client) => client.query<{ v: string }>('SELECT v FROM public.mine'));
    expect(mine.rows).toEqual([{ v: 'untouched' }]);
  }, 900_000);

  it.each<[DrillName, string]>([
    ['snapshot-rollback', 'the current snapshot is the good one'],
    ['point-in-time', 'restore as of S1 into a new table'],
    ['partial-failure', 'the emergency flag rollback puts every flag back to PostgreSQL'],
  ])(
    'fails %s when its recovery step is sabotaged, naming the step, and still cleans up',
    async (name, step) => {
      const result = await runDrill(name, drillEnvironment(`${name}-sabotaged`), { sabotageRecovery: true });
      expect(result.passed).toBe(false);
      expect(result.failedStep).toBe(step);
      expect(result.steps.find((s) => s.outcome === 'failed')!.name).toBe(step);
      expect(result.steps.at(-1)).toMatchObject({ name: 'remove the scratch schema and namespace', outcome: 'passed' });
      expect(await leftovers([result])).toEqual({ schemas: [], files: [] });
    },
    600_000,
  );

  it('keeps the scratch objects with --keep, and refuses an unknown drill as a usage error', async () => {
    const err: string[] = [];
    expect(await drillCommand(['rehearse', '--warehouse', warehouse, '--source', url], { write: () => undefined }, { write: (t) => void err.push(t) })).toBe(2);
    expect(err.join('')).toMatch(/unknown drill "rehearse"/);
    expect(await drillCommand(['--warehouse', warehouse], { write: () => undefined }, { write: (t) => void err.push(t) })).toBe(2);
    expect(err.join('')).toMatch(/name a drill/);
    expect(await drillCommand(['all', '--source', url], { write: () => undefined }, { write: (t) => void err.push(t) })).toBe(2);
    expect(err.join('')).toMatch(/--warehouse is required/);
    const result = await runDrill('snapshot-rollback', drillEnvironment('kept'), { keep: true });
    expect(result.passed).toBe(true);
    expect(result.scratch.kept).toBe(true);
    expect((await catalog.listTables([result.scratch.name])).map((t) => t.name)).toEqual(['orders']);
    const schemas = await withClient(url, (client) => client.query('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [result.scratch.name]));
    expect(schemas.rowCount).toBe(1);
    // Removed with the drill's own cleanup, as a later run without --keep would have.
    await removeScratch({ catalog, connectSource: () => connectPostgres(url) }, { name: result.scratch.name, runs: [] });
    expect(await leftovers([result])).toEqual({ schemas: [], files: [] });
  }, 600_000);
});
