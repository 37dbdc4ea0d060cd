/**
 * The `icebridge` entry point as users run it (through tsx, as `npm run icebridge` does): help and version are
 * answers, not usage errors; a missing or unknown command is.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageVersion } from '../../cli/main';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function icebridge(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSX, path.join(ROOT, 'cli', 'main.ts'), ...argv], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('icebridge', () => {
  it('prints its help for -h and --help, and exits 0', async () => {
    for (const flag of ['-h', '--help']) {
      const { code, stdout } = await icebridge(flag);
      expect(code, flag).toBe(0);
      expect(stdout).toMatch(/^usage: icebridge <command> \[options\]/);
      for (const command of [
        'migrate',
        'verify',
        'serve',
        'demo',
        'schema',
        'sync',
        'compact',
        'flags',
        'rollback',
        'replay',
        'restore',
        'snapshot',
        'drill',
        'drift',
        'clickhouse',
        'help',
      ])
        expect(stdout).toContain(`\n  ${command} `);
    }
  });

  it('prints the package version for --version', async () => {
    const { code, stdout } = await icebridge('--version');
    expect(code).toBe(0);
    expect(stdout).toBe(`icebridge ${VERSION}\n`);
  });

  it("shows a command's options for <command> -h and help <command>", async () => {
    const direct = await icebridge('migrate', '-h');
    const viaHelp = await icebridge('help', 'migrate');
    expect(direct.code).toBe(0);
    expect(viaHelp).toEqual(direct);
    expect(direct.stdout).toMatch(/^usage: icebridge migrate \[options\]/);
    expect(direct.stdout).toContain('ICEBRIDGE_SOURCE_URL');
    expect(direct.stdout).toMatch(/--warehouse <value>/);
    for (const command of ['verify', 'serve', 'demo', 'schema']) {
      const { code, stdout } = await icebridge(command, '-h');
      expect(code, command).toBe(0);
      expect(stdout, command).toMatch(new RegExp(`^usage: icebridge ${command} `));
    }
  });

  it('exits 2 with the help on stderr for a missing or unknown command', async () => {
    const missing = await icebridge();
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^missing command\n\nusage: icebridge/);
    const unknown = await icebridge('migrat');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^unknown command "migrat"/);
    expect((await icebridge('help', 'nope')).code).toBe(2);
    // Words every JavaScript object answers to are not commands either.
    for (const word of ['constructor', 'toString', '__proto__']) {
      const inherited = await icebridge(word);
      expect(inherited.code, word).toBe(2);
      expect(inherited.stderr, word).toMatch(/^unknown command /);
      expect((await icebridge('help', word)).code, word).toBe(2);
    }
  });

  it('finds the version from the compiled layout too (dist/cli is two folders below package.json)', () => {
    expect(packageVersion(path.join(ROOT, 'dist', 'cli'))).toBe(VERSION);
    expect(packageVersion(path.join(ROOT, 'cli'))).toBe(VERSION);
  });
});
