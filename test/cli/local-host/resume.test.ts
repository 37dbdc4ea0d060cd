import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog } from '../../../cli/local-host';

const ROOT = path.resolve(__dirname, '../../..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const SCRIPT = path.join(__dirname, 'fixtures', 'resume-host.ts');
const FAN_OUT = 12;

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

function runHost(
  stateDir: string,
  mode: 'start' | 'resume',
  logFile: string,
): { child: ChildProcess; result: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  // Its own process group: the tsx CLI runs the script in a child process, and a SIGKILL must reach both.
  const child = spawn(process.execPath, [TSX, SCRIPT, stateDir, mode], { cwd: ROOT, detached: true, env: { ...process.env, LOCAL_HOST_TEST_LOG: logFile } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, result };
}

interface Execution {
  what: string;
  input: number;
  pid: number;
}

async function executions(logFile: string): Promise<Execution[]> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [what, input, pid] = line.split(' ');
      return { what: what!, input: Number(input), pid: Number(pid) };
    });
}

describe('local host persistence', () => {
  it('resumes a fan-out killed with SIGKILL: completed activities never run again, in-flight ones run again', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'local-host-resume-'));
    temps.push(dir);
    const stateDir = path.join(dir, 'state');
    const logFile = path.join(dir, 'executions.log');

    const first = runHost(stateDir, 'start', logFile);
    // Kill once part of the fan-out has finished and more of it is still running.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const seen = await executions(logFile);
      const ended = seen.filter((e) => e.what === 'end' && e.input < FAN_OUT).length;
      const running = seen.filter((e) => e.what === 'start').length - seen.filter((e) => e.what === 'end').length;
      if (ended >= 4 && running > 0) break;
      if (Date.now() > deadline) throw new Error(`fan-out never got under way: ${JSON.stringify(seen)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    process.kill(-first.child.pid!, 'SIGKILL');
    const killed = await first.result;
    expect(killed.signal).toBe('SIGKILL');
    const beforeRestart = await executions(logFile);
    const firstPid = beforeRestart[0]!.pid;
    const inFlightAtKill = beforeRestart
      .filter((e) => e.what === 'start' && !beforeRestart.some((o) => o.what === 'end' && o.input === e.input))
      .map((e) => e.input);
    expect(inFlightAtKill.length).toBeGreaterThan(0);

    // What the state directory says was durably completed before the kill (loaded, not resumed).
    const inspector = await LocalHost.load(() => import('./fixtures/resume-app.js').then(() => undefined), { stateDir, log: silentHostLog });
    await inspector.loadInstance('resumable');
    const stored = inspector.getHistory('resumable')!;
    await inspector.close();
    const scheduledInput = new Map(stored.history.filter((e) => e.EventType === 4).map((e) => [e.EventId, Number(e.Input)]));
    const durablyCompleted = [...stored.history, ...stored.pending].filter((e) => e.EventType === 5).map((e) => scheduledInput.get(e.TaskScheduledId!)!);
    // The last results may still have been on their way to disk at the kill; those count as in flight.
    expect(durablyCompleted).toContain(100);
    expect(durablyCompleted.length).toBeGreaterThanOrEqual(3);

    const second = await runHost(stateDir, 'resume', logFile).result;
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const status = JSON.parse(second.stdout) as { runtimeStatus: string; output: number };
    const sumOfSquares = Array.from({ length: FAN_OUT }, (_, i) => i * i).reduce((a, b) => a + b, 0);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 100 * 100 + sumOfSquares + 200 * 200 });

    const all = await executions(logFile);
    const starts = (input: number): Execution[] => all.filter((e) => e.what === 'start' && e.input === input);
    for (const input of durablyCompleted) expect(starts(input), `activity ${input} completed before the kill`).toHaveLength(1);
    for (const input of inFlightAtKill) {
      expect(starts(input), `activity ${input} was in flight at the kill`).toHaveLength(2);
      expect(starts(input)[1]!.pid).not.toBe(firstPid);
    }
    for (const input of [100, ...Array.from({ length: FAN_OUT }, (_, i) => i), 200]) {
      expect(starts(input).length).toBeGreaterThanOrEqual(1);
      expect(starts(input).length).toBeLessThanOrEqual(2);
    }
  }, 90_000);
});
