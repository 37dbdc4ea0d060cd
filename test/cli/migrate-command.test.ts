/**
 * `icebridge migrate` in-process, with fake output streams, against a real embedded PostgreSQL: every exit
 * status, the summary table and its verified column, the --json keys, the progress frames, and a source that
 * comes from the libpq environment and a password file without the password ever reaching the output.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateCommand, migrationSucceeded } from '../../cli/commands/migrate';
import { demoDatasetSql } from '../../cli/demo/demo-dataset';
import type { MigrationReport } from '../../shared/migrate/migration-status';
import { type PostgresInstance, startPostgres } from '../integration/support/postgres';

const SIZES = { users: 120, customers: 100, products: 30, orders: 150, transactions: 160 };
const REPORT_KEYS = [
  'details',
  'elapsedSeconds',
  'failures',
  'id',
  'page',
  'partitions',
  'phase',
  'rows',
  'rowsPerSecond',
  'runtimeStatus',
  'tables',
  'unreadable',
  'verification',
];

/** A stream that records what is written; `isTTY` decides between progress bars and plain lines. */
function sink(isTTY = false): { write(text: string): boolean; isTTY: boolean; columns: number; text(): string } {
  const chunks: string[] = [];
  return { write: (text: string) => chunks.push(text) > 0, isTTY, columns: 120, text: () => chunks.join('') };
}

describe('icebridge migrate', () => {
  let pg: PostgresInstance;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase('shopm');
    const client = new Client({ connectionString: url });
    await client.connect();
    await client.query(demoDatasetSql(SIZES));
    // A value Iceberg cannot hold exactly stops its table (and only it).
    await client.query(`CREATE SCHEMA broken;
      CREATE TABLE broken.events (id int PRIMARY KEY, happened_on date NOT NULL);
      INSERT INTO broken.events VALUES (1, '2024-01-01'), (2, 'infinity');
      CREATE TABLE broken.fine (id int PRIMARY KEY);
      INSERT INTO broken.fine SELECT generate_series(1, 10);`);
    await client.end();
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-migrate-cli-'));
    // The password only in a 0600 password file: nothing secret in the environment or on the command line.
    const pgpass = path.join(dir, 'pgpass');
    await writeFile(pgpass, `${pg.host}:${pg.port}:shopm:${pg.user}:${pg.password.replace(/[:\\]/g, '\\$&')}\n`, { mode: 0o600 });
    await chmod(pgpass, 0o600);
    env = { PATH: process.env.PATH, HOME: dir, PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGDATABASE: 'shopm', PGPASSFILE: pgpass };
  });
  afterAll(async () => {
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function migrate(
    argv: string[],
    options: { tty?: boolean; env?: NodeJS.ProcessEnv; now?: () => number } = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = sink();
    const err = sink(options.tty ?? false);
    const code = await migrateCommand([...argv, '--state-dir', path.join(dir, 'state')], out, err, {
      env: options.env ?? env,
      ...(options.now ? { now: options.now } : {}),
    });
    const result = { code, stdout: out.text(), stderr: err.text() };
    expect(result.stdout + result.stderr).not.toContain(pg.password);
    return result;
  }

  it('exits 0 and prints the summary with its verified column, reading the source from PG* and the password file', async () => {
    // A clock that never moves: every frame is drawn at one instant, so no rate can be known yet.
    const { code, stdout, stderr } = await migrate(['--warehouse', path.join(dir, 'wh-ok'), '--schema', 'shop'], { tty: true, now: () => 1_700_000_000_000 });
    expect(code, stderr + stdout).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^table +status +source rows +iceberg rows +partitions +snapshot +verified +reason$/);
    for (const [table, rows] of Object.entries(SIZES)) {
      expect(stdout).toMatch(new RegExp(`\\n${table} +committed +${rows} +${rows} +1/1 +\\d+ +ok\\n`));
    }
    expect(stdout).toMatch(/\n5 of 5 tables committed, 560 rows in /);
    expect(stdout).toMatch(/\nverification \(quick, [^)]+\): 5 of 5 tables exact\n/);
    // Progress on a terminal: bars redrawn in place, the last frame at 100% for every table.
    // eslint-disable-next-line no-control-regex -- the terminal's escape sequences are what is checked
    expect(stderr).toMatch(/\u001b\[2K\w+ +\[[#-]+\] +\d+%/);
    // eslint-disable-next-line no-control-regex -- frames are split at the terminal's cursor-up sequence
    const frames = stderr.split(/\u001b\[\d+F/);
    const last = frames[frames.length - 1]!;
    for (const table of Object.keys(SIZES)) expect(last).toMatch(new RegExp(`${table} +\\[#+\\] 100% .* committed`));
    expect(stderr).not.toMatch(/\d rows\/s/);
    expect(last).toContain('-- rows/s');
  });

  it('prints the report as JSON with --json and no progress', async () => {
    const { code, stdout, stderr } = await migrate([
      '--warehouse',
      path.join(dir, 'wh-json'),
      '--schema',
      'shop',
      '--tables',
      'users,products',
      '--verify',
      'full',
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('');
    const report = JSON.parse(stdout) as MigrationReport;
    expect(Object.keys(report).sort()).toEqual(REPORT_KEYS);
    expect(report.verification).toMatchObject({ level: 'full', status: 'ok', tables: { total: 2, done: 2, differing: 0, errors: 0 } });
    expect(report.details.map((t) => [t.table, t.status, t.rows, t.sourceRows, t.verified]).sort()).toEqual([
      ['products', 'committed', 30, 30, 'ok'],
      ['users', 'committed', 120, 120, 'ok'],
    ]);
  });

  it('exits 1 when a table fails, still committing the others and saying why', async () => {
    const { code, stdout } = await migrate(['--warehouse', path.join(dir, 'wh-broken'), '--schema', 'broken']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/\nevents +failed .*infinity/i);
    expect(stdout).toMatch(/\nfine +committed +10 +10 /);
    expect(stdout).toMatch(/1 of 2 tables committed.*; 1 failed/);
  });

  it('exits 1 when the verification differs, even with every table committed', () => {
    const report = { runtimeStatus: 'Completed', tables: { total: 1, done: 1, failed: 0 } } as MigrationReport;
    expect(migrationSucceeded(report)).toBe(true);
    expect(
      migrationSucceeded({ ...report, verification: { id: 'v', level: 'quick', status: 'ok', tables: { total: 1, done: 1, differing: 0, errors: 0 } } }),
    ).toBe(true);
    expect(
      migrationSucceeded({ ...report, verification: { id: 'v', level: 'quick', status: 'differs', tables: { total: 1, done: 1, differing: 1, errors: 0 } } }),
    ).toBe(false);
    expect(
      migrationSucceeded({ ...report, verification: { id: 'v', level: 'quick', status: 'error', tables: { total: 1, done: 1, differing: 0, errors: 1 } } }),
    ).toBe(false);
  });

  it('exits 2 for usage errors, unknown tables and unknown schemas, naming what exists', async () => {
    const wh = ['--warehouse', path.join(dir, 'wh-usage')];
    const badFlag = await migrate([...wh, '--concurrency', '0']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--concurrency must be an integer from 1 to 64/);
    const unknownOption = await migrate([...wh, '--colour']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/^unknown option --colour\n\nusage: icebridge migrate/);
    const missing = await migrate(['--schema', 'shop']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^--warehouse is required/);
    const table = await migrate([...wh, '--schema', 'shop', '--tables', 'users,nope']);
    expect(table.code).toBe(2);
    expect(table.stderr).toMatch(/nope/);
    expect(table.stderr).toMatch(/users|orders/);
    const schema = await migrate([...wh, '--schema', 'nowhere']);
    expect(schema.code, schema.stderr).toBe(2);
    expect(schema.stderr).toMatch(/nowhere/);
    const noSource = await migrate([...wh, '--schema', 'shop'], { env: { PATH: process.env.PATH } });
    expect(noSource.code).toBe(2);
    expect(noSource.stderr).toMatch(/ICEBRIDGE_SOURCE_URL/);
  });

  it('never shows the password of a source given as a URL, even when the migration fails', async () => {
    const { code, stdout, stderr } = await migrate(['--warehouse', path.join(dir, 'wh-bad-login'), '--schema', 'shop'], {
      env: { PATH: process.env.PATH, ICEBRIDGE_SOURCE_URL: `postgresql://${pg.user}:wrong-${pg.password}@${pg.host}:${pg.port}/shopm` },
    });
    expect(code).toBe(1);
    expect(stdout + stderr).not.toContain('wrong-');
    expect(stderr).toMatch(/migration failed: /);
  });
});
