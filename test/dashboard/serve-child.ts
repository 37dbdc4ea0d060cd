/** `icebridge serve` as a child process for the dashboard's tests: only the given settings, stopped cleanly. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const REPO = path.resolve(__dirname, '../..');
const START_TIMEOUT_IN_MS = 90_000;

/** A running `icebridge serve`. */
export interface ServeChild {
  /** `http://127.0.0.1:<port>/api`. */
  base: string;
  /** Everything it printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `icebridge serve --port 0` in `cwd` with `settings` (none of the runner's own ICEBRIDGE_* values). */
export async function startServe(cwd: string, stateDir: string, settings: Record<string, string>): Promise<ServeChild> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('ICEBRIDGE_') && name !== 'WEBSITE_HOSTNAME') env[name] = value;
  Object.assign(env, settings);
  const tsx = pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--import', tsx, path.join(REPO, 'cli/main.ts'), 'serve', '--port', '0', '--state-dir', stateDir],
    { cwd, env },
  );
  // A test process that dies without its afterAll must not leave the server running.
  process.once('exit', () => child.kill('SIGKILL'));
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`icebridge serve did not start within ${START_TIMEOUT_IN_MS} ms:\n${output}`)), START_TIMEOUT_IN_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /icebridge is serving (http:\/\/\S+\/api) /.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`icebridge serve exited (${code ?? signal}) before serving:\n${output}`));
    });
  });
  return {
    base,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
