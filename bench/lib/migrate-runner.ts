/**
 * Runs one benchmark job in a Node process of its own and reads that process's peak RSS from the kernel, so no
 * other candidate's memory (nor the benchmark's own) is mixed into it.
 */
import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ChildMessage } from './migrate-child';
import type { JobResult, MigrateJob } from './migrate-candidates';

/** A job's figures plus what the parent observed from outside. */
export interface JobMeasurement extends JobResult {
  /** VmHWM of the child when it reported: the highest RSS it ever had. */
  peakRssBytes: number;
  /**
   * Highest sampled RSS in each quarter of the timed part. Flat from the second quarter on means memory does not
   * grow with the amount of data read; a staircase means it does.
   */
  rssByQuarterBytes: number[];
  /** CPU the PostgreSQL server spent while the job ran, when a meter is given. */
  serverCpuMs?: number;
}

/** Options of {@link runJobInChild}. */
export interface RunJobOptions {
  timeoutInMs: number;
  /** Extra node flags for the child, e.g. --cpu-prof. */
  execArgv?: string[];
  /** Reads the server's cumulative CPU, sampled before and after the job. */
  serverCpuMs?: () => Promise<number>;
}

const CHILD_ENTRY = path.join(__dirname, 'migrate-child.ts');
const RSS_SAMPLE_EVERY_MS = 200;

/** Runs `job` in a child process; rejects with the child's error, a crash, or a timeout. */
export async function runJobInChild(job: MigrateJob, options: RunJobOptions): Promise<JobMeasurement> {
  const serverBefore = await options.serverCpuMs?.();
  const child = fork(CHILD_ENTRY, [JSON.stringify(job)], {
    // The tsx loader flags this process was started with, so the child can load TypeScript too.
    execArgv: [...process.execArgv, ...(options.execArgv ?? [])],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const samples: Array<{ atMs: number; rssBytes: number }> = [];
  const sampler = setInterval(() => {
    readStatusKb(child.pid!, 'VmRSS').then(
      (kb) => samples.push({ atMs: Date.now(), rssBytes: kb * 1024 }),
      () => undefined,
    );
  }, RSS_SAMPLE_EVERY_MS);
  try {
    const message = await new Promise<ChildMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${job.kind} did not finish within ${options.timeoutInMs / 1000} s`)), options.timeoutInMs);
      child.once('message', (m: unknown) => {
        clearTimeout(timer);
        resolve(m as ChildMessage);
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${job.kind} child exited with code ${String(code)} before reporting${stderr ? `:\n${stderr.trim()}` : ''}`));
      });
    });
    if (!message.ok) throw new Error(`${job.kind} failed: ${message.error}`);
    // Read while the child is still alive: /proc/<pid> disappears with it.
    const peakRssBytes = (await readStatusKb(child.pid!, 'VmHWM')) * 1024;
    const serverAfter = await options.serverCpuMs?.();
    const measurement: JobMeasurement = {
      ...message.result,
      peakRssBytes,
      rssByQuarterBytes: byQuarter(samples, message.result.startedAtMs, message.result.wallMs),
    };
    if (serverBefore !== undefined && serverAfter !== undefined) measurement.serverCpuMs = serverAfter - serverBefore;
    return measurement;
  } finally {
    clearInterval(sampler);
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

function byQuarter(samples: ReadonlyArray<{ atMs: number; rssBytes: number }>, startMs: number, wallMs: number): number[] {
  const quarters = [0, 0, 0, 0];
  for (const { atMs, rssBytes } of samples) {
    const q = Math.floor(((atMs - startMs) / wallMs) * 4);
    if (q >= 0 && q < 4) quarters[q] = Math.max(quarters[q]!, rssBytes);
  }
  return quarters;
}

async function readStatusKb(pid: number, field: string): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}
