/**
 * Runs one candidate in its own Node process. Separate processes keep one writer's retained memory (wasm heaps
 * never shrink, DuckDB keeps buffers) out of the next one's RSS figures, and a crash or abort inside native code
 * costs one row of the report instead of the whole run.
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import type { CandidateName } from './candidate';
import type { OrdersDigest } from './orders-data';

/** Figures a child sends back after measuring its candidate. */
export interface MeasuredReport {
  kind: 'measured';
  name: CandidateName;
  wallMs: number[];
  cpuMs: number[];
  peakRssDeltaBytes: number[];
  /** Bytes of the last run's output. */
  bytes: number;
  /** Local paths of the last run's output files. */
  paths: string[];
  /** One-off conversion of the generated data into the candidate's input form (not in wallMs). */
  prepareMs: number;
  /** Per-phase times of every run, when the candidate reports phases. */
  phasesMs: Record<string, number[]>;
  digest: OrdersDigest;
  note?: string;
}

/** Everything a child can report. */
export type CandidateReport =
  MeasuredReport | { kind: 'unavailable'; name: CandidateName; reason: string } | { kind: 'failed'; name: CandidateName; stage: string; reason: string };

/** What the child process is asked to do. */
export interface ChildRunOptions {
  rows: number;
  runs: number;
  outputDir: string;
  timeoutInMs: number;
}

const CHILD_ENTRY = path.join(__dirname, 'candidate-process.ts');

/** Runs `name` in a child process and resolves with its report; never rejects. */
export function runCandidateInChild(name: CandidateName, options: ChildRunOptions): Promise<CandidateReport> {
  return new Promise((resolve) => {
    const child = fork(CHILD_ENTRY, [name, String(options.rows), String(options.runs), options.outputDir], {
      // Reuse the tsx loader flags this process was started with, and let the child collect garbage between runs.
      execArgv: [...process.execArgv, '--expose-gc'],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    let report: CandidateReport | undefined;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.on('message', (message: unknown) => {
      if (isReport(message)) report = message;
    });
    const timer = setTimeout(() => {
      report ??= { kind: 'failed', name, stage: 'timeout', reason: `no result after ${options.timeoutInMs} ms` };
      child.kill('SIGKILL');
    }, options.timeoutInMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const lastLine = stderr.trim().split('\n').slice(-3).join(' | ');
      resolve(
        report ?? {
          kind: 'failed',
          name,
          stage: 'process',
          reason: `exited with ${signal ?? `code ${String(code)}`}${lastLine ? `: ${lastLine}` : ''}`,
        },
      );
    });
  });
}

function isReport(message: unknown): message is CandidateReport {
  if (typeof message !== 'object' || message === null) return false;
  const kind = (message as { kind?: unknown }).kind;
  return kind === 'measured' || kind === 'unavailable' || kind === 'failed';
}
