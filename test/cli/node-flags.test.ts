/**
 * `icebridge sync` runs itself again with the sync's Node options: the child has them, its exit status is the
 * command's, and SIGINT or SIGTERM sent to the command reach the child once (it stops cleanly, not killed).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_NODE_FLAGS, lacksNodeFlags } from '../../cli/support/node-flags';

const TSX = createRequire(__filename).resolve('tsx/cjs');
const FLAGS_MODULE = path.resolve(__dirname, '../../cli/support/node-flags.ts');
const MAIN = path.resolve(__dirname, '../../cli/main.ts');

/** A child that records its options, then exits 7, or, with `wait`, exits 0 once a SIGINT or SIGTERM comes (counted). */
const CHILD = `
const fs = require('node:fs');
const [out, mode] = process.argv.slice(2);
fs.writeFileSync(out, JSON.stringify({ execArgv: process.execArgv, signals: [] }));
if (mode !== 'wait') process.exit(7);
const signals = [];
const stop = (s) => { signals.push(s); fs.writeFileSync(out, JSON.stringify({ execArgv: process.execArgv, signals })); setTimeout(() => process.exit(0), 200); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => undefined, 1000);
`;

function runParent(dir: string, args: string[]): { exit: Promise<number>; pid: number } {
  // A file, not --eval: a forked child inherits the parent's execArgv, and an --eval there would run again.
  const parent = spawn(process.execPath, ['--require', TSX, path.join(dir, 'parent.js'), ...args], { stdio: 'ignore' });
  return { pid: parent.pid!, exit: new Promise((resolve) => parent.once('exit', (code) => resolve(code ?? -1))) };
}

async function waitFor(file: string): Promise<{ execArgv: string[]; signals: string[] }> {
  for (let i = 0; i < 200; i++) {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as { execArgv: string[]; signals: string[] };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${file} never written`);
}

describe('the sync command runs with its Node options', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-node-flags-'));
    await writeFile(path.join(dir, 'child.js'), CHILD);
    await writeFile(
      path.join(dir, 'parent.js'),
      `require(${JSON.stringify(FLAGS_MODULE)}).rerunWithNodeFlags(${JSON.stringify(SYNC_NODE_FLAGS)}, process.argv.slice(2), ${JSON.stringify(path.join(dir, 'child.js'))}).then((c) => process.exit(c));`,
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('knows when the options are already there, from the command line, NODE_OPTIONS or a parent', () => {
    expect(lacksNodeFlags(SYNC_NODE_FLAGS, [], {})).toBe(true);
    expect(lacksNodeFlags(SYNC_NODE_FLAGS, ['--max-semi-space-size=64'], {})).toBe(false);
    expect(lacksNodeFlags(SYNC_NODE_FLAGS, [], { NODE_OPTIONS: '--max-semi-space-size=16 --enable-source-maps' })).toBe(false);
    expect(lacksNodeFlags(SYNC_NODE_FLAGS, [], { ICEBRIDGE_NODE_FLAGS_APPLIED: '1' })).toBe(false);
  });

  it("gives the child the options and answers with the child's exit status", async () => {
    const out = path.join(dir, 'plain.json');
    const { exit } = runParent(dir, [out]);
    expect(await exit).toBe(7);
    expect((await waitFor(out)).execArgv).toEqual(expect.arrayContaining([...SYNC_NODE_FLAGS]));
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('passes %s on to the child once, and the child stops cleanly', async (signal) => {
    const out = path.join(dir, `${signal}.json`);
    const { exit, pid } = runParent(dir, [out, 'wait']);
    await waitFor(out);
    process.kill(pid, signal);
    expect(await exit).toBe(0);
    expect((await waitFor(out)).signals).toEqual([signal]);
  });

  it('icebridge sync answers a usage error with exit 2 through the child', async () => {
    const child = spawn(process.execPath, ['--require', TSX, MAIN, 'sync', '--no-such-option'], { stdio: 'ignore' });
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(2);
  });
});
