import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../../cli/support/free-port';

/** A running Azurite blob service and the well-known development credentials it accepts. */
export interface AzuriteInstance {
  connectionString: string;
  /** Blob endpoint including the account path, e.g. `http://127.0.0.1:PORT/devstoreaccount1`. */
  blobEndpoint: string;
  accountName: string;
  accountKey: string;
  /** Stops the server and waits for the process to exit; safe to call more than once. */
  stop(): Promise<void>;
}

/** Options of `startAzurite`. */
export interface StartAzuriteOptions {
  /** How long to wait for the port to accept connections; defaults to 30 s. */
  startTimeoutInMs?: number;
}

/** Azurite's fixed development account; the key is public and documented, not a secret. */
const ACCOUNT_NAME = 'devstoreaccount1';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const HOST = '127.0.0.1';
const OUTPUT_LIMIT = 16 * 1024;
const START_ATTEMPTS = 3;
const STOP_GRACE_IN_MS = 3_000;

/**
 * Starts Azurite's blob service on a free loopback port with in-memory storage. The port comes from a probe on
 * port 0; the tiny window in which another process could take it is covered by retrying on a new port.
 */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteInstance> {
  const timeoutInMs = options.startTimeoutInMs ?? 30_000;
  const failures: string[] = [];
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const workDir = await mkdtemp(path.join(tmpdir(), 'azurite-'));
    const server = launch(port, workDir);
    try {
      await waitForPort(server, port, timeoutInMs);
    } catch (error) {
      await server.stop();
      await rm(workDir, { recursive: true, force: true });
      failures.push(`attempt ${attempt} on port ${port}: ${(error as Error).message}`);
      if (!server.output().includes('EADDRINUSE')) break;
      continue;
    }
    const blobEndpoint = `http://${HOST}:${port}/${ACCOUNT_NAME}`;
    return {
      connectionString: ['DefaultEndpointsProtocol=http', `AccountName=${ACCOUNT_NAME}`, `AccountKey=${ACCOUNT_KEY}`, `BlobEndpoint=${blobEndpoint};`].join(
        ';',
      ),
      blobEndpoint,
      accountName: ACCOUNT_NAME,
      accountKey: ACCOUNT_KEY,
      stop: async () => {
        await server.stop();
        await rm(workDir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`Azurite did not start:\n${failures.join('\n')}`);
}

interface LaunchedServer {
  child: ChildProcess;
  exited: Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

function azuriteBlobScript(): string {
  const packageJson = require.resolve('azurite/package.json');
  const manifest = JSON.parse(readFileSync(packageJson, 'utf8')) as { bin: Record<string, string> };
  const script = manifest.bin['azurite-blob'];
  if (script === undefined) throw new Error('the azurite package has no azurite-blob entry point');
  return path.join(path.dirname(packageJson), script);
}

function launch(port: number, workDir: string): LaunchedServer {
  const args = [
    azuriteBlobScript(),
    '--blobHost',
    HOST,
    '--blobPort',
    String(port),
    '--inMemoryPersistence',
    '--skipApiVersionCheck',
    '--loose',
    '--silent',
    '--disableTelemetry',
  ];
  // Node itself runs the script (no shell, no npx), so the child is the server and killing it stops it.
  const child = spawn(process.execPath, args, { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const capture = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
    child.once('error', (error) => {
      capture(Buffer.from(`spawn failed: ${error.message}\n`));
      resolve();
    });
  });
  // A test runner that exits without calling stop() must not leave a server behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        // Azurite closes gracefully on SIGTERM but waits for keep-alive connections; do not wait for those.
        const graceful = await Promise.race([exited.then(() => true), delay(STOP_GRACE_IN_MS).then(() => false)]);
        if (!graceful) child.kill('SIGKILL');
      }
      await exited;
    })();
    return stopping;
  };
  return { child, exited, output: () => output, stop };
}

async function waitForPort(server: LaunchedServer, port: number, timeoutInMs: number): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  let exited = false;
  void server.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`Azurite exited before listening; output:\n${server.output() || '(none)'}`);
    if ((await canConnect(port)) && server.output().includes('successfully listens')) return;
    await delay(100);
  }
  const output = server.output() || '(none)';
  throw new Error(`Azurite did not listen on ${HOST}:${port} within ${timeoutInMs} ms; output:\n${output}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
