import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog } from '../../../cli/local-host';
import { startOrResume, untilNextLook } from '../../../cli/support/local-run';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

const wait = { timeoutInMs: 20_000 };
const loadToyApp = (): Promise<void> => import('./fixtures/toy-app.js').then(() => undefined);

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'local-host-state-'));
  temps.push(dir);
  return path.join(dir, 'state');
}

function journalOf(dir: string, instanceId: string): string {
  return path.join(dir, 'instances', `${encodeURIComponent(instanceId)}.jsonl`);
}

/** Leaves an unfinished run `victim-1` (waiting for an event) and a finished one `done-1` in `dir`. */
async function leaveRuns(dir: string): Promise<void> {
  const host = await LocalHost.load(loadToyApp, { stateDir: dir, log: silentHostLog });
  await host.startOrchestration('awaitApproval', { note: 'n'.repeat(2_000) }, 'victim-1');
  await host.raiseEvent('victim-1', 'noise', 'x'.repeat(2_000));
  await host.startOrchestration('sequence', ['Ada'], 'done-1');
  await host.waitForCompletion('done-1', wait);
  await host.close();
}

/** A second command from the same folder: starts or resumes its own run and completes it. */
async function secondRun(dir: string): Promise<{ host: LocalHost; output: unknown }> {
  const host = await LocalHost.load(loadToyApp, { stateDir: dir, log: silentHostLog });
  const id = await startOrResume(host, 'other', 'sequence', () => ['Grace']);
  const status = await host.waitForCompletion(id, wait);
  return { host, output: status.output };
}

function expectClearError(action: () => unknown, file: string, what: RegExp): void {
  let message = '';
  try {
    action();
  } catch (error) {
    message = error instanceof Error ? error.message : String(error);
  }
  expect(message).toContain(file);
  expect(message).toMatch(what);
  expect(message).toContain('icebridge state prune');
}

describe('a state folder that one bad journal cannot break', () => {
  it('runs a second command after a journal was truncated mid-line in the middle; the cut instance reports the cut', async () => {
    const dir = await stateDir();
    await leaveRuns(dir);
    const file = journalOf(dir, 'victim-1');
    const size = (await stat(file)).size;
    await truncate(file, Math.floor(size / 2));
    const { host, output } = await secondRun(dir);
    try {
      expect(output).toEqual(['Hello Grace']);
      expect(host.getStatus('done-1')!.output).toEqual(['Hello Ada']);
      expectClearError(() => host.getStatus('victim-1'), file, /cut short/);
      await expect(host.resumeTree('victim-1')).rejects.toThrow(/cut short/);
      await expect(startOrResume(host, 'victim', 'awaitApproval', () => null)).rejects.toThrow(file);
    } finally {
      await host.close();
    }
    expect((await stat(file)).size, 'a damaged journal is left as it is').toBe(Math.floor(size / 2));
  });

  it('runs a second command after a journal was filled with garbage; resuming that instance names its file', async () => {
    const dir = await stateDir();
    await leaveRuns(dir);
    const file = journalOf(dir, 'victim-1');
    const size = (await stat(file)).size;
    const garbage = Buffer.alloc(size);
    for (let i = 0; i < size; i++) garbage[i] = (i * 7919 + 13) % 251;
    await writeFile(file, garbage);
    const { host, output } = await secondRun(dir);
    try {
      expect(output).toEqual(['Hello Grace']);
      await expect(startOrResume(host, 'victim', 'awaitApproval', () => null)).rejects.toThrow(/damaged.*icebridge state prune/s);
      // Once found, the damage is the instance's status too.
      expectClearError(() => host.getStatus('victim-1'), file, /damaged/);
      await expect(host.startOrchestration('awaitApproval', null, 'victim-1')).rejects.toThrow(file);
    } finally {
      await host.close();
    }
    expect(await readFile(file)).toEqual(garbage);
  });

  it('runs a second command beside a 600 MB journal without reading it; that instance is refused with the bound', async () => {
    const dir = await stateDir();
    await leaveRuns(dir);
    const file = journalOf(dir, 'victim-1');
    // Sparse: 600 MB on paper, nothing on disk. Reading it into one string would fail as it did for users.
    const handle = await open(file, 'r+');
    await handle.truncate(600 * 1024 * 1024);
    await handle.close();
    const before = process.memoryUsage().rss;
    const { host, output } = await secondRun(dir);
    try {
      expect(output).toEqual(['Hello Grace']);
      expect(process.memoryUsage().rss - before, 'the journal was not read into memory').toBeLessThan(300 * 1024 * 1024);
      expectClearError(() => host.getStatus('victim-1'), file, /600 MiB, over the 256 MiB a journal may have/);
      await expect(host.resumeTree('victim-1')).rejects.toThrow(/over the 256 MiB/);
    } finally {
      await host.close();
    }
  });

  it('resumes only the command own run tree: other unfinished runs are neither read nor continued', async () => {
    const dir = await stateDir();
    const first = await LocalHost.load(loadToyApp, { stateDir: dir, log: silentHostLog });
    await first.startOrchestration('approvalTree', null, 'mine-1');
    await first.startOrchestration('approvalTree', null, 'theirs-1');
    for (const id of ['mine-1:approval', 'theirs-1:approval']) {
      for (let i = 0; i < 2_000 && first.getStatus(id)?.runtimeStatus !== 'Running'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(first.getStatus(id)?.runtimeStatus).toBe('Running');
    }
    await first.close();
    // Their journal is garbage now: if it were read at start-up or resumed, this run would fail.
    await writeFile(journalOf(dir, 'theirs-1:approval'), 'not a journal\n'.repeat(10));

    const second = await LocalHost.load(loadToyApp, { stateDir: dir, log: silentHostLog });
    try {
      expect(await startOrResume(second, 'mine', 'approvalTree', () => null)).toBe('mine-1');
      expect(() => second.getHistory('theirs-1'), 'the other run stays unloaded').toThrow(/not loaded/);
      expect(second.getHistory('mine-1:approval')).toBeDefined();
      expect(await second.raiseEvent('mine-1:approval', 'approve', { by: 'Ada' })).toBe('accepted');
      expect((await second.waitForCompletion('mine-1', wait)).output).toEqual({ by: 'Ada' });
      expect(second.getStatus('theirs-1')!.runtimeStatus).toBe('Running');
    } finally {
      await second.close();
    }
    expect((await readdir(path.join(dir, 'instances'))).filter((name) => name.endsWith('.status.json')).length).toBe(4);
  });

  it('resumes a sub-orchestration together with its whole run, so its result reaches the parent', async () => {
    const dir = await stateDir();
    const first = await LocalHost.load(loadToyApp, { stateDir: dir, log: silentHostLog });
    await first.startOrchestration('approvalTree', null, 'solo-1');
    for (let i = 0; i < 2_000 && first.getStatus('solo-1:approval')?.runtimeStatus !== 'Running'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(first.getStatus('solo-1:approval')?.runtimeStatus).toBe('Running');
    await first.close();
    const second = await LocalHost.load(loadToyApp, { stateDir: dir, log: silentHostLog });
    try {
      await second.resumeTree('solo-1:approval');
      expect(second.getHistory('solo-1'), 'the parent was loaded with its child').toBeDefined();
      await second.raiseEvent('solo-1:approval', 'approve', 'yes');
      expect((await second.waitForCompletion('solo-1', { timeoutInMs: 10_000 })).output).toBe('yes');
    } finally {
      await second.close();
    }
  });

  it('completes an episode whose status record cannot be written, journaling it once; the next start rebuilds the record', async () => {
    const dir = await stateDir();
    const host = await LocalHost.load(loadToyApp, { stateDir: dir, log: silentHostLog });
    const record = `${journalOf(dir, 'unrecorded')}.status.json`;
    try {
      await host.startOrchestration('awaitApproval', null, 'unrecorded');
      for (let i = 0; i < 2_000 && host.getStatus('unrecorded')?.runtimeStatus !== 'Running'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(host.getStatus('unrecorded')?.runtimeStatus).toBe('Running');
      // A directory where the record goes: neither writing nor removing the record can succeed.
      await rm(record);
      await mkdir(record);
      await host.raiseEvent('unrecorded', 'approve', 'yes');
      expect((await host.waitForCompletion('unrecorded', { timeoutInMs: 10_000 })).output).toBe('yes');
    } finally {
      await host.close();
    }
    const lines = (await readFile(journalOf(dir, 'unrecorded'), 'utf8')).split('\n').filter((line) => line !== '');
    expect(lines.map((line) => (JSON.parse(line) as { k: string }).k)).toEqual(['start', 'episode', 'inbox', 'episode']);
    await rm(record, { recursive: true });
    const next = await LocalHost.load(loadToyApp, { stateDir: dir, log: silentHostLog });
    try {
      expect(next.getStatus('unrecorded')!.runtimeStatus).toBe('Completed');
    } finally {
      await next.close();
    }
  });

  it('terminates a whole run: the root and its sub-orchestrations', async () => {
    const host = await LocalHost.load(loadToyApp, { log: silentHostLog });
    try {
      await host.startOrchestration('approvalTree', null, 'cancel-me');
      for (let i = 0; i < 2_000 && host.getStatus('cancel-me:approval')?.runtimeStatus !== 'Running'; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(host.getStatus('cancel-me:approval')?.runtimeStatus).toBe('Running');
      expect((await host.terminateTree('cancel-me', 'stop')).sort()).toEqual(['cancel-me', 'cancel-me:approval']);
      expect((await host.waitForCompletion('cancel-me', wait)).runtimeStatus).toBe('Terminated');
      expect((await host.waitForCompletion('cancel-me:approval', wait)).runtimeStatus).toBe('Terminated');
    } finally {
      await host.close();
    }
  });

  it("ends a command's wait between two looks at its run when the run ends, not at the next look", async () => {
    const host = await LocalHost.load(loadToyApp, { log: silentHostLog });
    try {
      await host.startOrchestration('awaitApproval', null, 'look');
      // Still running: the wait ends at its interval, without an error.
      await expect(untilNextLook(host, 'look', 10)).resolves.toBeUndefined();
      // An interval far beyond the test's timeout: only the run's end can finish this wait in time.
      const look = untilNextLook(host, 'look', 3_600_000);
      await host.raiseEvent('look', 'approve', 'yes');
      await look;
      expect(host.getStatus('look')?.runtimeStatus).toBe('Completed');
    } finally {
      await host.close();
    }
  });
});
