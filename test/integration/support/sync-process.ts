/** `icebridge sync` as a child process (its own process group, for `killGroup`), with the test switches of sync-child.ts. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { type CliResult, type CliRun, REPO_ROOT } from './migration-fixtures';

const TSX = path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const CHILD = path.join(__dirname, 'sync-child.ts');

/** Where a child holds (see sync-child.ts): the Nth batch of the process, before its commits or before its confirm. */
export interface SyncHold {
  at: 'before-apply' | 'after-apply';
  batch: number;
  /** File the child writes when it holds. */
  marker: string;
}

/** Options of `startSync`. */
export interface StartSyncOptions {
  hold?: SyncHold;
  /** Confirm each batch to the server before applying it: the defect the kill tests must catch. */
  confirmBeforeApply?: boolean;
}

/** Starts `icebridge sync <args>` in a child process. */
export function startSync(args: string[], options: StartSyncOptions = {}): CliRun {
  const started = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (options.hold) {
    env.ICEBRIDGE_TEST_SYNC_HOLD = `${options.hold.at}:${options.hold.batch}`;
    env.ICEBRIDGE_TEST_SYNC_HOLD_MARKER = options.hold.marker;
  }
  if (options.confirmBeforeApply === true) env.ICEBRIDGE_TEST_SYNC_CONFIRM_BEFORE_APPLY = '1';
  const child = spawn(process.execPath, [TSX, CHILD, ...args], { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, elapsedMs: Date.now() - started }));
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}
