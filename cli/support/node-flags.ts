/**
 * Node options a command runs best with, applied by running the command line again in a child process that has
 * them (V8 sizes its heap when the process starts: `v8.setFlagsFromString` cannot change it later). Used for
 * `icebridge sync`: its stream and batches allocate fast, and a young generation of 64 MB instead of 32 MB lets
 * most of that garbage die young; a 1M-change catch-up took 8.6 s against 9.3 s (docs/benchmarks.md).
 */
import { fork } from 'node:child_process';

/** The sync's Node options: semi-spaces of 32 MB (Node 20's default is 16 MB). */
export const SYNC_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/** Set in the child, so it never runs itself again. */
const APPLIED = 'ICEBRIDGE_NODE_FLAGS_APPLIED';

/** Whether this process lacks any of `flags` (given on the command line or in NODE_OPTIONS). */
export function lacksNodeFlags(flags: readonly string[], execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env[APPLIED] === '1') return false;
  const options = (env.NODE_OPTIONS ?? '').split(/\s+/);
  const name = (flag: string): string => flag.split('=')[0]!;
  return flags.some((flag) => !execArgv.some((a) => name(a) === name(flag)) && !options.some((a) => name(a) === name(flag)));
}

/**
 * Runs this command line again with `flags` added, and resolves with the child's exit status. The child gets a
 * process group of its own, so a terminal's Ctrl-C reaches it once, passed on by this process, as SIGTERM does.
 */
export function rerunWithNodeFlags(flags: readonly string[], argv: readonly string[], entry: string): Promise<number> {
  // Never a second generation, whatever the caller checked: a child that ran this again would fork without end.
  if (process.env[APPLIED] === '1') return Promise.reject(new Error('this process was already run again with its Node options'));
  const child = fork(entry, [...argv], {
    execArgv: [...process.execArgv, ...flags],
    env: { ...process.env, [APPLIED]: '1' },
    stdio: 'inherit',
    detached: true,
  });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise<number>((resolve) => {
    const done = (code: number): void => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code);
    };
    child.once('error', () => done(1));
    child.once('exit', (code, signal) => done(code ?? (signal === null ? 1 : 128 + (signalNumber(signal) ?? 0))));
  });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[signal as string];
}
