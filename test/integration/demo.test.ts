/**
 * The first thing a new user runs: `npm run demo`. It must start its own PostgreSQL, generate the shop, migrate
 * every table and find every count equal — run here exactly as the command runs it.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoCommand } from '../../cli/commands/demo';
import { DEMO_SIZES } from '../../cli/demo/demo-dataset';

describe('icebridge demo', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('migrates the generated shop and every table matches its source count', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-demo-'));
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
    const report = JSON.parse(written.join('')) as { runtimeStatus: string; details: Array<{ table: string; status: string; rows: number; sourceRows: number }> };
    expect(code, JSON.stringify(report, null, 2)).toBe(0);
    expect(report.runtimeStatus).toBe('Completed');
    expect(Object.fromEntries(report.details.map((t) => [t.table, [t.status, t.rows, t.sourceRows]]))).toEqual(
      Object.fromEntries(Object.entries(DEMO_SIZES).map(([table, n]) => [table, ['committed', n, n]])),
    );
    expect((await readdir(path.join(dir, 'warehouse', 'shop'))).sort()).toEqual(Object.keys(DEMO_SIZES).sort());
  });
});
