import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseDuration, stateCommand } from '../../cli/commands/state';
import { LocalHost, silentHostLog } from '../../cli/local-host';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

const wait = { timeoutInMs: 20_000 };
const DAY_MS = 86_400_000;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (append: (text: string) => void): Writable => new Writable({ write: (chunk: Buffer, _encoding, done) => (append(chunk.toString()), done()) });
  const code = await stateCommand(argv, { out: sink((text) => (out += text)), err: sink((text) => (err += text)) });
  return { code, out, err };
}

function statusFile(dir: string, instanceId: string): string {
  return path.join(dir, 'instances', `${encodeURIComponent(instanceId)}.jsonl.status.json`);
}

/** Moves an instance's recorded last update `days` into the past (the test's stand-in for time passing). */
async function age(dir: string, instanceId: string, days: number): Promise<void> {
  const file = statusFile(dir, instanceId);
  const record = JSON.parse(await readFile(file, 'utf8')) as { status: { lastUpdatedTime: string } };
  record.status.lastUpdatedTime = new Date(Date.now() - days * DAY_MS).toISOString();
  await writeFile(file, JSON.stringify(record));
}

async function files(dir: string): Promise<string[]> {
  return (await readdir(path.join(dir, 'instances'))).sort();
}

let dir: string;

/** old-1 (finished, with a sub-orchestration, 10 days old), new-1 (finished today), open-1 (unfinished, 10 days old), bad-1 (damaged). */
beforeEach(async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'state-command-'));
  temps.push(base);
  dir = path.join(base, 'state');
  const host = await LocalHost.load(() => import('./local-host/fixtures/toy-app.js').then(() => undefined), { stateDir: dir, log: silentHostLog });
  await host.startOrchestration('approvalTree', null, 'old-1');
  for (let i = 0; i < 2_000 && host.getStatus('old-1:approval')?.runtimeStatus !== 'Running'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(host.getStatus('old-1:approval')?.runtimeStatus).toBe('Running');
  await host.raiseEvent('old-1:approval', 'approve', 'yes');
  await host.waitForCompletion('old-1', wait);
  await host.startOrchestration('sequence', ['Ada'], 'new-1');
  await host.waitForCompletion('new-1', wait);
  await host.startOrchestration('awaitApproval', null, 'open-1');
  await host.startOrchestration('sequence', ['Grace'], 'bad-1');
  await host.waitForCompletion('bad-1', wait);
  await host.close();
  await age(dir, 'old-1', 10);
  await age(dir, 'old-1:approval', 10);
  await age(dir, 'open-1', 10);
  // Longer than its recorded length: only reading the journal shows the damage.
  await writeFile(path.join(dir, 'instances', 'bad-1.jsonl'), 'garbage\n'.repeat(1_000));
});

describe('icebridge state', () => {
  it('lists runs with orchestration, status, times, instances and size; a damaged run names its file', async () => {
    const listed = await run(['list', '--state-dir', dir, '--json']);
    expect(listed.code).toBe(0);
    const runs = JSON.parse(listed.out) as Array<{
      id: string;
      orchestration: string;
      status: string;
      instances: number;
      sizeInBytes: number;
      createdTime: string;
      lastUpdatedTime: string;
      problems: string[];
    }>;
    expect(runs.map((r) => [r.id, r.orchestration, r.status, r.instances]).sort()).toEqual([
      ['bad-1', 'sequence', 'Completed', 1],
      ['new-1', 'sequence', 'Completed', 1],
      ['old-1', 'approvalTree', 'Completed', 2],
      ['open-1', 'awaitApproval', 'Running', 1],
    ]);
    for (const r of runs) expect(r.sizeInBytes, r.id).toBeGreaterThan(100);
    expect(Date.parse(runs.find((r) => r.id === 'old-1')!.lastUpdatedTime)).toBeLessThan(Date.now() - 9 * DAY_MS);

    const text = await run(['list', '--state-dir', dir]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^ID\s+ORCHESTRATION\s+STATUS\s+CREATED\s+LAST UPDATED\s+INSTANCES\s+SIZE$/m);
    expect(text.out).toMatch(/^old-1\s+approvalTree\s+Completed\s+\S+\s+\S+\s+2\s+[\d.]+ (B|KiB)$/m);

    // Cut short: the status record says how long the journal was, so a listing sees it without reading the journal.
    const journal = path.join(dir, 'instances', 'new-1.jsonl');
    await writeFile(journal, '{');
    const damaged = await run(['list', '--state-dir', dir]);
    expect(damaged.out).toMatch(/^new-1\s+sequence\s+Damaged\s/m);
    expect(damaged.out).toContain(`new-1: the state of instance 'new-1' cannot be loaded: ${journal} is 1 bytes, shorter than`);
    expect(damaged.out).toContain('icebridge state prune --damaged');
  });

  it('prunes finished runs older than the duration with their sub-instances, keeps recent and unfinished ones; --dry-run deletes nothing', async () => {
    const before = await files(dir);
    const dry = await run(['prune', '--older-than', '7d', '--state-dir', dir, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('would delete old-1 (approvalTree, Completed, 2 instances');
    expect(await files(dir)).toEqual(before);

    const pruned = await run(['prune', '--older-than', '7d', '--state-dir', dir]);
    expect(pruned.code).toBe(0);
    expect(pruned.out).toContain('deleted old-1');
    expect(pruned.out).not.toContain('open-1');
    expect(await files(dir)).toEqual(before.filter((name) => !name.startsWith('old-1')));

    const unfinished = await run(['prune', '--older-than', '7d', '--include-unfinished', '--state-dir', dir]);
    expect(unfinished.out).toContain('deleted open-1 (awaitApproval, Running');
    expect((await files(dir)).filter((name) => name.startsWith('open-1'))).toEqual([]);
    expect((await files(dir)).filter((name) => name.startsWith('new-1'))).toHaveLength(2);
  });

  it('prunes damaged runs when asked, after which a host over the folder reports nothing damaged', async () => {
    expect((await run(['prune', '--damaged', '--dry-run', '--state-dir', dir])).out).toContain('would delete bad-1 (sequence, Damaged');
    const pruned = await run(['prune', '--damaged', '--state-dir', dir]);
    expect(pruned.code).toBe(0);
    expect(pruned.out).toContain('deleted bad-1 (sequence, Damaged');
    expect((await files(dir)).filter((name) => name.startsWith('bad-1'))).toEqual([]);
    const host = await LocalHost.load(() => import('./local-host/fixtures/toy-app.js').then(() => undefined), { stateDir: dir, log: silentHostLog });
    try {
      expect(await host.resumeAll()).toEqual([]);
      expect(host.getStatus('open-1')!.runtimeStatus).toBe('Running');
    } finally {
      await host.close();
    }
  });

  it('exits 2 on usage errors and 0 with help', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['prune', '--state-dir', dir])).code).toBe(2);
    expect((await run(['prune', '--older-than', '7x', '--state-dir', dir])).code).toBe(2);
    expect((await run(['prune', '--older-than', '7d', '--all-finished', '--state-dir', dir])).code).toBe(2);
    expect((await run(['list', '--bogus'])).code).toBe(2);
    const help = await run(['prune', '-h']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--older-than');
    expect(await files(dir)).toHaveLength(10);
  });

  it('parses durations in s, m, h, d and w', () => {
    expect([parseDuration('30m'), parseDuration('12h'), parseDuration('7d'), parseDuration('2w'), parseDuration('5s')]).toEqual([
      30 * 60_000,
      12 * 3_600_000,
      7 * DAY_MS,
      14 * DAY_MS,
      5_000,
    ]);
    expect(() => parseDuration('7')).toThrow(/not a duration/);
  });
});
