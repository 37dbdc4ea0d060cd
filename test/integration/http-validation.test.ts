/**
 * Each kind of refusal of POST /api/migrations and POST /api/verifications over real HTTP, against `icebridge
 * serve` started from an empty temporary folder (so no local.settings.json of a developer's checkout is read).
 * Every refusal is a 400 whose reason is exactly the validator's message, and none of them starts anything. The
 * source URL points at a port where nothing listens: a refusal must come before any connection is tried.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../cli/support/free-port';
import { parseMigrationRequest } from '../../shared/migrate/migration-request';
import { parseVerificationRequest } from '../../shared/verify/verification-request';

const REPO = path.resolve(__dirname, '../..');
const TSX = path.join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');
/** Only a bound for a server that never comes up; startup itself is not what is tested. */
const SERVE_START_TIMEOUT_IN_MS = 120_000;

let serve: ChildProcessWithoutNullStreams | undefined;
let serveOutput = '';
let workDir: string;
let stateDir: string;
let warehouse: string;
let base: string;

const wide64 = 'é'.repeat(32);

/** One request per kind of reason; the expected reason is what the validator itself says about the body. */
const MIGRATION_CASES: Array<{ kind: string; body: Record<string, unknown> }> = [
  { kind: 'unknown field', body: { tables: ['orders'], colour: 'blue' } },
  { kind: 'verify value', body: { verify: 'fast' } },
  { kind: 'idempotencyKey format', body: { idempotencyKey: '../other-run' } },
  { kind: 'idempotencyKey length', body: { idempotencyKey: 'k'.repeat(65) } },
  { kind: 'tableConfig not an object', body: { tableConfig: ['orders'] } },
  { kind: 'tableConfig unknown field', body: { tableConfig: { orders: { keys: ['id'] } } } },
  { kind: 'tableConfig targetName', body: { tableConfig: { orders: { targetName: '' } } } },
  { kind: 'tableConfig key', body: { tableConfig: { orders: { key: ['id', 'id'] } } } },
  { kind: 'tableConfig excludeColumns', body: { tableConfig: { orders: { excludeColumns: 'note' } } } },
  { kind: 'tableConfig partitionSpec', body: { tableConfig: { orders: { partitionSpec: [{ source: 'id', transform: 'weekly' }] } } } },
  { kind: 'duplicate tables', body: { tables: ['orders', 'orders'] } },
  { kind: 'identifier length in bytes', body: { tables: [wide64] } },
  { kind: 'schema length', body: { schema: 's'.repeat(64) } },
  { kind: 'concurrency 0', body: { concurrency: 0 } },
  { kind: 'concurrency 65', body: { concurrency: 65 } },
  { kind: 'concurrency not an integer', body: { concurrency: 2.5 } },
  { kind: 'partitionSizeInBytes', body: { partitionSizeInBytes: 1024 } },
];

const VERIFICATION_CASES: Array<{ kind: string; body: Record<string, unknown> }> = [
  { kind: 'unknown field', body: { verify: 'full' } },
  { kind: 'level value', body: { level: 'none' } },
  { kind: 'maxDifferences', body: { maxDifferences: -1 } },
  { kind: 'samples', body: { samples: 1_001 } },
  { kind: 'partitionSpec in tableConfig', body: { tableConfig: { orders: { partitionSpec: [{ source: 'id', transform: 'day' }] } } } },
  { kind: 'idempotencyKey format', body: { idempotencyKey: 'a b' } },
  { kind: 'concurrency 65', body: { concurrency: 65 } },
  { kind: 'duplicate tables', body: { tables: ['a', 'a'] } },
];

function validatorReason(parse: (body: unknown) => unknown, body: unknown): string {
  try {
    parse(body);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`the validator accepts ${JSON.stringify(body)}`);
}

async function post(route: string, body: string): Promise<{ status: number; json: { error?: string; reason?: string } | undefined; text: string }> {
  const response = await fetch(`${base}/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await response.text();
  let json: { error?: string; reason?: string } | undefined;
  try {
    json = JSON.parse(text) as { error?: string; reason?: string };
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

async function startServe(cwd: string, sourceUrl: string): Promise<string> {
  const env: NodeJS.ProcessEnv = {};
  // None of the runner's ICEBRIDGE_* settings: only what this test sets.
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('ICEBRIDGE_') && name !== 'WEBSITE_HOSTNAME') env[name] = value;
  env.ICEBRIDGE_SOURCE_URL = sourceUrl;
  env.ICEBRIDGE_WAREHOUSE = warehouse;
  const child = spawn(process.execPath, [TSX, path.join(REPO, 'cli/main.ts'), 'serve', '--port', '0', '--state-dir', stateDir], { cwd, env });
  serve = child;
  process.once('exit', () => child.kill('SIGKILL'));
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`icebridge serve did not start within ${SERVE_START_TIMEOUT_IN_MS} ms:\n${serveOutput}`)),
      SERVE_START_TIMEOUT_IN_MS,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      serveOutput += chunk.toString('utf8');
      const match = /icebridge is serving (http:\/\/\S+\/api) /.exec(serveOutput);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (serveOutput += chunk.toString('utf8')));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`icebridge serve exited (${code ?? signal}) before serving:\n${serveOutput}`));
    });
  });
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-http-validation-'));
  stateDir = path.join(workDir, 'state');
  warehouse = path.join(workDir, 'warehouse');
  const cwd = path.join(workDir, 'cwd');
  await mkdir(cwd);
  const closedPort = await freePort();
  base = await startServe(cwd, `postgresql://reader:never-shown@127.0.0.1:${closedPort}/source`);
}, SERVE_START_TIMEOUT_IN_MS + 10_000);

afterAll(async () => {
  const child = serve;
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("POST /api/migrations refuses with 400 and the validator's reason", () => {
  it.each(MIGRATION_CASES)('$kind', async ({ body }) => {
    const answer = await post('migrations', JSON.stringify(body));
    expect(answer.status, answer.text).toBe(400);
    expect(answer.json?.reason).toBe(validatorReason(parseMigrationRequest, body));
    expect(answer.text).not.toContain('never-shown');
  });

  it('malformed JSON and a body that is not an object', async () => {
    const malformed = await post('migrations', '{"schema": ');
    expect(malformed.status).toBe(400);
    expect(malformed.json?.reason).toBe('the request body is not valid JSON');
    const array = await post('migrations', '[]');
    expect(array.status).toBe(400);
    expect(array.json?.reason).toBe('the request body must be a JSON object');
  });
});

describe("POST /api/verifications refuses with 400 and the validator's reason", () => {
  it.each(VERIFICATION_CASES)('$kind', async ({ body }) => {
    const answer = await post('verifications', JSON.stringify(body));
    expect(answer.status, answer.text).toBe(400);
    expect(answer.json?.reason).toBe(validatorReason(parseVerificationRequest, body));
  });
});

describe('after every refusal', () => {
  it('nothing was started and nothing was written', () => {
    expect(filesUnder(path.join(stateDir, 'instances'))).toEqual([]);
    expect(filesUnder(warehouse)).toEqual([]);
    expect(serveOutput).not.toContain('never-shown');
  });
});
