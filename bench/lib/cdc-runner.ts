/**
 * The parent side of a change capture drain: forks bench/lib/cdc-child.ts, gathers its progress, samples its RSS
 * from /proc once a second, and can ask it to stop (a clean stop of the sync, as SIGINT gives the CLI).
 */
import { SYNC_NODE_FLAGS } from '../../cli/support/node-flags';
import { type ChildProcess, fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CdcChildDone, CdcChildJob, CdcChildMessage, CdcChildProgress } from './cdc-child';

const CHILD_ENTRY = path.join(__dirname, 'cdc-child.ts');
const RSS_EVERY_MS = 1000;

/** One RSS reading of the child. */
export interface RssSample {
  /** Milliseconds since the child said it was ready. */
  atMs: number;
  bytes: number;
}

/** A running drain. */
export interface CdcDrain {
  /** Resolves when the child has started its clock (modules loaded), with that moment on the monotonic clock in µs. */
  ready: Promise<number>;
  /** Resolves with the child's figures, or rejects with its failure. */
  done: Promise<CdcChildDone>;
  progress: CdcChildProgress[];
  rss: RssSample[];
  /** Process id of the child. */
  pid: number | undefined;
  /** Resolves when the process has exited (a CPU profile is written by then). */
  exited: Promise<void>;
  /** Asks the sync to stop cleanly (it finishes the batch being applied). */
  stop(): void;
}

/** Reads VmRSS of a process in bytes; undefined once it is gone. */
export async function processRss(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const match = status === undefined ? null : /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** Starts a drain in a child; `profileDir` writes a CPU profile of it there. */
export function startDrain(job: CdcChildJob, options: { profileDir?: string; timeoutInMs: number }): CdcDrain {
  const profile = options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`];
  const child: ChildProcess = fork(CHILD_ENTRY, [JSON.stringify(job)], {
    // The Node options `icebridge sync` runs itself with (cli/support/node-flags.ts), for both of icebridge's drains.
    execArgv: [...process.execArgv, ...SYNC_NODE_FLAGS, ...profile, ...(job.gcEverySeconds === undefined ? [] : ['--expose-gc'])],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  let readyAt: number | undefined;
  let markReady: (monotonicUs: number) => void = () => undefined;
  const ready = new Promise<number>((resolve) => (markReady = resolve));
  let exited: () => void = () => undefined;
  const exit = new Promise<void>((resolve) => (exited = resolve));
  const drain: CdcDrain = {
    ready,
    done: undefined as unknown as Promise<CdcChildDone>,
    progress: [],
    rss: [],
    exited: exit,
    pid: child.pid,
    stop: () => {
      if (child.connected) child.send('stop');
    },
  };
  const sampler = setInterval(() => {
    if (readyAt === undefined || child.pid === undefined) return;
    const atMs = performance.now() - readyAt;
    void processRss(child.pid).then((bytes) => {
      if (bytes !== undefined) drain.rss.push({ atMs, bytes });
    });
  }, RSS_EVERY_MS);
  drain.done = new Promise<CdcChildDone>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, done?: CdcChildDone): void => {
      if (settled) return;
      settled = true;
      clearInterval(sampler);
      clearTimeout(timer);
      if (child.connected) child.disconnect();
      if (error) reject(error);
      else resolve(done!);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`the drain of slot ${job.slot} took longer than ${options.timeoutInMs / 1000} s`));
    }, options.timeoutInMs);
    child.on('message', (message: CdcChildMessage) => {
      if (message.kind === 'ready') {
        readyAt = performance.now();
        markReady(message.monotonicUs);
      } else if (message.kind === 'progress') {
        drain.progress.push(message);
      } else if (message.kind === 'done') {
        finish(undefined, message);
      } else {
        finish(new Error(message.error));
      }
    });
    child.once('error', (error) => finish(error));
    // A profile is written at exit: wait for it before reading the directory.
    child.once('exit', (code, signal) => {
      exited();
      finish(new Error(`the drain's process exited with ${code ?? signal ?? '?'} before reporting: ${stderr.trim()}`));
    });
  });
  return drain;
}
