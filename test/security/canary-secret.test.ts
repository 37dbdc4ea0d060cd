/**
 * A canary secret in every secret the product takes (the PostgreSQL password in the URL, a storage account key,
 * an App Configuration connection string's secret, the local operator token, an Entra access token, the alert
 * webhook URL, the state database URL, the Application Insights connection string), then every
 * error path reachable here: a host nobody listens on, a real PostgreSQL refusing the password, Azurite refusing
 * the key, App Configuration refusing the signature or unreachable, a webhook refusing the alert of a scheduled job
 * whose transaction-log write the state database refuses, `icebridge db status` refused or unreachable, telemetry
 * exporting to an unreachable ingestion endpoint, malformed settings, CLI usage errors and failures, and the HTTP API of `icebridge serve` answering errors and running an orchestration into a failure.
 * Everything shown is collected (errors with their causes, process output and console, child output, HTTP
 * bodies and headers, the local host's persisted history) and must hold the canary in no form. Positive
 * controls show each secret was really used, so the suite cannot pass because a secret never reached the code.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../cli/support/free-port';
import { describeSettings, loadSettings } from '../../shared/config/settings';
import { AppConfigurationFlagStore } from '../../shared/flags/app-configuration-store';
import { flagSetupFromEnv } from '../../shared/flags/flag-settings';
import { AzureClients } from '../../shared/iceberg/io/azure-clients';
import { AzureFileIO } from '../../shared/iceberg/io/azure-file-io';
import { connectPostgres, parsePostgresUrl, redactUrl } from '../../shared/postgres/connection';
import { fakeCredential } from '../infra/fake-credential';
import { deployedSources, settingsReadBy } from '../infra/support/settings-in-code';
import { type AppConfigurationStandIn, startAppConfigurationStandIn } from '../flags/app-configuration-stand-in';
import { type AzuriteInstance, startAzurite } from '../integration/support/azurite';
import { type PostgresInstance, startPostgres } from '../integration/support/postgres';
import { runJob } from '../../shared/ops/run-job';
import type { RunFigures } from '../../shared/alerts/conditions';
import { environmentFromSettings } from '../../shared/run/environment';
import { Receiver } from '../alerts/support/webhook-receiver';
import { type Output, captureProcessOutput, describeThrown, findCanary, makeCanary } from './canary';

const REPO = path.resolve(__dirname, '../..');
const TSX = path.join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');
/** Bounds for a child that never comes up or never finishes; nothing here measures time. */
const CHILD_TIMEOUT_IN_MS = 120_000;

const CANARY = makeCanary();
/** An Application Insights instrumentation key: the exporter refuses anything but a GUID. */
const IKEY = '00000000-0000-4000-8000-00000000ca7a';
const outputs: Output[] = [];
/** What a positive control saw: the secret reached the place it is for. */
const controls = new Map<string, string>();

let pg: PostgresInstance;
let azurite: AzuriteInstance;
let standIn: AppConfigurationStandIn;
let workDir: string;
let closedPort: number;

/** Runs `work`, which must fail, and records everything its error shows; returns that text. */
async function failure(where: string, work: () => unknown): Promise<string> {
  let thrown: unknown;
  try {
    await work();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error(`${where}: expected a failure`);
  const text = describeThrown(thrown);
  outputs.push({ where, text });
  return text;
}

beforeAll(async () => {
  [pg, azurite, standIn] = await Promise.all([startPostgres(), startAzurite(), startAppConfigurationStandIn()]);
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-canary-'));
  closedPort = await freePort();
});

afterAll(async () => {
  await Promise.all([pg?.stop(), azurite?.stop(), standIn?.close()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Every setting the product reads that holds a secret, and where this suite puts the canary into it. */
const SECRET_SETTINGS_COVERED: Record<string, string> = {
  ICEBRIDGE_SOURCE_URL: 'the password in the URL: icebridge serve',
  ICEBRIDGE_STORAGE_KEY: 'icebridge serve, and AzureFileIO in this process',
  ICEBRIDGE_STORAGE_CONNECTION_STRING: 'AzureFileIO and AzureClients in this process, loadSettings',
  ICEBRIDGE_APPCONFIG_CONNECTION_STRING: 'icebridge serve and icebridge flags list',
  ICEBRIDGE_LOCAL_TOKEN: 'icebridge serve',
  PGPASSWORD: 'icebridge migrate from the libpq variables',
  ICEBRIDGE_ALERT_WEBHOOK_URL: "a scheduled job's alerts refused by the webhook, in this process",
  ICEBRIDGE_STATE_DATABASE_URL: "icebridge db status, and a scheduled job's transaction-log write in this process",
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'telemetry set up and flushed to an unreachable ingestion endpoint, in a child',
  // Not yet put through this suite's paths; each one's own suite checks that it never shows:
  ICEBRIDGE_WEAVIATE_URL: 'test/weaviate/weaviate-secrets.test.ts: credentials in the URL refused unshown, a query never shown',
  ICEBRIDGE_WEAVIATE_API_KEY: 'test/weaviate/weaviate-secrets.test.ts: a refused key and an unreachable server',
  ICEBRIDGE_WEAVIATE_EMBEDDING_URL: 'test/weaviate/weaviate-secrets.test.ts: credentials in the URL refused unshown, a query never shown',
  ICEBRIDGE_WEAVIATE_EMBEDDING_KEY: 'test/weaviate/weaviate-secrets.test.ts: an endpoint echoing the key, and one unreachable',
  ICEBRIDGE_CLICKHOUSE_PASSWORD: "test/integration/clickhouse-cli.test.ts: the real server's password, refused, a closed port, the CLI failing",
  ICEBRIDGE_CLICKHOUSE_URL: 'test/integration/clickhouse-cli.test.ts: credentials in the URL refused without showing them, a malformed URL',
  ICEBRIDGE_KAFKA_SASL_PASSWORD:
    'test/kafka/kafka-settings.test.ts (settings, errors, kafkajs log lines) and test/integration/outbox-relay.test.ts (a failing relay: last_error and log)',
};

describe('the canary search', () => {
  it('covers every setting the code reads that can hold a secret', () => {
    // A new secret setting (a webhook URL, another database URL) fails here until this suite puts the canary in it.
    const secretShaped = [...settingsReadBy(deployedSources(REPO)).keys()].filter(
      (name) => /KEY$|SECRET|CONNECTION_STRING|PASSWORD|TOKEN|_URL$/.test(name) && name !== 'ICEBRIDGE_FLAGS_SENTINEL_KEY',
    );
    expect(secretShaped.filter((name) => !(name in SECRET_SETTINGS_COVERED))).toEqual([]);
    expect(secretShaped).toEqual(expect.arrayContaining(['ICEBRIDGE_SOURCE_URL', 'ICEBRIDGE_STORAGE_KEY', 'ICEBRIDGE_LOCAL_TOKEN']));
  });

  it('catches a deliberately leaked canary in each form, and nothing in clean text', () => {
    const canary = makeCanary();
    expect(canary).toMatch(/^[a-z0-9]{32}$/);
    expect(Buffer.from(canary, 'base64').toString('base64')).toBe(canary);
    const leaked = [
      { where: 'message', text: `cannot connect to postgresql://u:${canary}@h/db` },
      { where: 'header', text: `authorization: Basic ${Buffer.from(canary).toString('base64')}` },
      { where: 'hex dump', text: `key <Buffer ${Buffer.from(canary, 'base64').toString('hex')}>` },
      { where: 'clean', text: `cannot connect to postgresql://u@h/db (${canary.slice(0, 12)}…)` },
    ];
    expect(findCanary(canary, leaked).map((leak) => leak.split(':')[0])).toEqual(['message', 'header', 'hex dump']);
  });

  it('catches the webhook URL, the state database URL and the connection string as each would leak', async () => {
    const canary = makeCanary();
    const receiver = new Receiver(canary);
    await receiver.start();
    try {
      // The receiver's own refusal echoes the path it was called on: a notifier that passed the body on would leak it.
      const refusal = await (await fetch(receiver.url, { method: 'POST', body: '{}' })).text();
      receiver.script = [400];
      const refused = await (await fetch(receiver.url, { method: 'POST', body: '{}' })).text();
      const leaked = [
        { where: 'webhook answer', text: refused },
        { where: 'state database', text: `could not record: postgresql://postgres:${canary}@127.0.0.1:5432/ops` },
        { where: 'connection string', text: `exporting to InstrumentationKey=${IKEY};IngestionEndpoint=https://x/${canary}/` },
        { where: 'webhook success', text: refusal },
      ];
      expect(findCanary(canary, leaked).map((leak) => leak.split(':')[0])).toEqual(['webhook answer', 'state database', 'connection string']);
    } finally {
      await receiver.stop();
    }
  });
});

describe('in this process', () => {
  let capture: ReturnType<typeof captureProcessOutput>;
  beforeAll(() => {
    capture = captureProcessOutput();
  });
  afterAll(() => {
    capture.stop();
    outputs.push(...capture.outputs);
  });

  it('PostgreSQL: an unreachable host, a refused password, malformed URLs and an Entra token are never shown', async () => {
    const unreachable = `postgresql://reader:${CANARY}@127.0.0.1:${closedPort}/source`;
    await failure('connect to a closed port', () => connectPostgres(unreachable, { connectTimeoutInMs: 5_000 }));
    const refused = await failure('connect with a wrong password', () => connectPostgres(`postgresql://postgres:${CANARY}@${pg.host}:${pg.port}/postgres`));
    controls.set('the PostgreSQL password was sent and refused', refused);
    expect(refused).toMatch(/password authentication failed/);
    await failure('connect to a bad port', () => connectPostgres(`postgresql://u:${CANARY}@127.0.0.1:99999/db`));
    await failure('an unknown sslmode', () => parsePostgresUrl(`postgresql://u@h/db?password=${CANARY}&sslmode=bogus`));
    await failure('a badly encoded password', () => parsePostgresUrl(`postgresql://u:${CANARY}%zz@h/db`));
    outputs.push({ where: 'redactUrl', text: redactUrl(`postgresql://u:${CANARY}@h/db?password=${CANARY}`) });
    const tokens = fakeCredential([{ token: CANARY, expiresOnTimestamp: Date.now() + 3_600_000 }]);
    const entra = { env: { ICEBRIDGE_SOURCE_AUTH: 'entra' }, credential: tokens };
    const token = await failure('connect with a refused Entra token', () =>
      connectPostgres(`postgresql://postgres@${pg.host}:${pg.port}/postgres`, { login: entra }),
    );
    expect(tokens.scopes).toHaveLength(1);
    controls.set('the Entra token was sent and refused', token);
  });

  it('settings: malformed values around secrets name the setting, never the value', async () => {
    await failure('source URL of another scheme', () => loadSettings({ ICEBRIDGE_SOURCE_URL: `mysql://u:${CANARY}@h/db` }));
    await failure('a key without an account', () => loadSettings({ ICEBRIDGE_STORAGE_KEY: CANARY }));
    await failure('a bad blob endpoint', () => new AzureClients({ accounts: [{ accountName: 'acct01', accountKey: CANARY, blobEndpoint: `::${CANARY}` }] }));
    const described = describeSettings(
      loadSettings({
        ICEBRIDGE_SOURCE_URL: `postgresql://u:${CANARY}@h/db`,
        ICEBRIDGE_STORAGE_CONNECTION_STRING: `AccountName=acct02;AccountKey=${CANARY}`,
        ICEBRIDGE_STORAGE_ACCOUNT: 'acct01',
        ICEBRIDGE_STORAGE_KEY: CANARY,
      }),
    );
    outputs.push({ where: 'describeSettings', text: JSON.stringify(described) });
    await failure('a connection string without an account', () => new AzureClients({ accounts: [{ connectionString: `AccountKey=${CANARY}` }] }));
    await failure('a malformed connection string', () =>
      new AzureClients({ accounts: [{ connectionString: `AccountName=acct03;AccountKey=${CANARY};BlobEndpoint=${CANARY}` }] }).forAccount(
        'acct03',
        'core.windows.net',
      ),
    );
    await failure('flags refresh setting', () =>
      flagSetupFromEnv({
        ICEBRIDGE_APPCONFIG_CONNECTION_STRING: `Endpoint=https://x.azconfig.io;Id=i;Secret=${CANARY}`,
        ICEBRIDGE_FLAGS_REFRESH_SECONDS: 'soon',
      }),
    );
  });

  it('storage: Azurite refuses the key, and no request, listing or commit failure shows it', async () => {
    const io = new AzureFileIO({
      accounts: [{ accountName: azurite.accountName, accountKey: CANARY, blobEndpoint: azurite.blobEndpoint }],
      maxTries: 1,
    });
    const location = `abfss://lake@${azurite.accountName}.dfs.core.windows.net/warehouse/x.json`;
    const refused = await failure('write with a wrong key', () => io.write(location, Buffer.from('{}')));
    controls.set('the storage key signed a request Azurite refused', refused);
    expect(refused).toMatch(/403|AuthorizationFailure|authenticat/i);
    await failure('read with a wrong key', () => io.read(location));
    await failure('list with a wrong key', async () => {
      for await (const file of io.list(`abfss://lake@${azurite.accountName}.dfs.core.windows.net/warehouse/`)) void file;
    });
    const viaString = new AzureFileIO({
      accounts: [
        { connectionString: `DefaultEndpointsProtocol=http;AccountName=${azurite.accountName};AccountKey=${CANARY};BlobEndpoint=${azurite.blobEndpoint};` },
      ],
      maxTries: 1,
    });
    await failure('exists with a wrong connection string', () => viaString.stat(location));
  });

  it('a scheduled job: its alerts refused by the webhook, its transaction-log write refused by the state database', async () => {
    const receiver = new Receiver(CANARY);
    await receiver.start();
    const warehouse = path.join(workDir, 'job-warehouse');
    const saved = { ...process.env };
    try {
      // A refusal that is not retried, whose body echoes the URL's path (and so the canary).
      receiver.script = [400];
      process.env.ICEBRIDGE_WAREHOUSE = warehouse;
      process.env.ICEBRIDGE_SOURCE_URL = pg.url;
      process.env.ICEBRIDGE_ALERT_WEBHOOK_URL = receiver.url;
      process.env.ICEBRIDGE_STATE_DATABASE_URL = `postgresql://postgres:${CANARY}@${pg.host}:${pg.port}/postgres`;
      const env = environmentFromSettings(loadSettings());
      const stalled: RunFigures = {
        runId: 'canary-run',
        runtimeStatus: 'Running',
        progress: { phase: 'copying', tables: { total: 1, started: 1, done: 0, failed: 0 }, partitions: { total: 4, done: 1 }, rows: 10, recentFailures: [] },
        lastUpdatedAt: new Date(Date.now() - 3_600_000).toISOString(),
        startedAt: new Date(Date.now() - 7_200_000).toISOString(),
      };
      const found = await runJob(env, warehouse, { job: 'watch', slot: 'canary-1', prepared: { watch: { runs: [stalled], syncs: [], omitted: 0 } } });
      // Without its statuses the job fails, and a failed job raises an alert of its own.
      const failed = await runJob(env, warehouse, { job: 'watch', slot: 'canary-2' });
      expect([found.status, found.figures.undelivered, failed.status]).toEqual(['findings', 1, 'failed']);
      outputs.push({ where: 'job results', text: JSON.stringify([found, failed]) });
      expect(receiver.received.map((r) => r.path)).toEqual([expect.stringContaining(CANARY), expect.stringContaining(CANARY)]);
      controls.set('the webhook URL was posted to, and refused', JSON.stringify(receiver.received.map((r) => r.body)));
      const warnings = capture.outputs.filter((o) => o.text.includes('state database did not record')).map((o) => o.text);
      expect(warnings.join('\n')).toMatch(/password authentication failed/);
      controls.set("the state database refused the job's transaction-log write", warnings.join('\n'));
      // Everything the jobs left in the warehouse: results, incident records (with the delivery's failure), reports.
      for (const file of readdirSync(warehouse, { recursive: true, withFileTypes: true })) {
        if (file.isFile()) outputs.push({ where: `warehouse ${file.name}`, text: readFileSync(path.join(file.parentPath, file.name), 'latin1') });
      }
    } finally {
      process.env = saved;
      await receiver.stop();
    }
  });

  it('App Configuration: a refused signature and an unreachable store never show the secret', async () => {
    const forged = standIn.connectionString.replace(/Secret=[^;]+/, `Secret=${CANARY}`);
    expect(forged).toContain(CANARY);
    const refused = await failure('App Configuration refuses the signature', () => new AppConfigurationFlagStore({ connectionString: forged }).list());
    controls.set('the App Configuration secret signed a request the store refused', refused);
    expect(refused).toMatch(/HTTP 401/);
    await failure('App Configuration unreachable', () =>
      new AppConfigurationFlagStore({ connectionString: `Endpoint=http://127.0.0.1:${closedPort};Id=id;Secret=${CANARY}` }).get('use-iceberg-storage'),
    );
    await failure(
      'App Configuration over plain http to another host',
      () => new AppConfigurationFlagStore({ connectionString: `Endpoint=http://example.com;Id=id;Secret=${CANARY}` }),
    );
  });
});

/** Runs the CLI with `env` added to a clean environment; records its output. */
function icebridge(where: string, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; text: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSX, path.join(REPO, 'cli/main.ts'), ...argv],
      { cwd: workDir, env: { ...cleanEnv(), ...env }, timeout: CHILD_TIMEOUT_IN_MS },
      (error, stdout, stderr) => {
        const text = `${stdout}\n${stderr}`;
        outputs.push({ where: `icebridge ${where}`, text });
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, text });
      },
    );
  });
}

/** The runner's environment without any icebridge, libpq or Azure setting, so only what a test sets applies. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!/^(ICEBRIDGE_|PG|AZURE_|WEBSITE_|FUNCTIONS_)/.test(name)) env[name] = value;
  return env;
}

describe('the CLI', () => {
  it('usage errors and failures print no secret', async () => {
    const source = `postgresql://postgres:${CANARY}@${pg.host}:${pg.port}/postgres`;
    const warehouse = path.join(workDir, 'cli-warehouse');
    const results = await Promise.all([
      icebridge('migrate with a refused password', ['migrate', '--source', source, '--warehouse', warehouse, '--state-dir', path.join(workDir, 'cli-state')]),
      icebridge('migrate with the URL as an argument', ['migrate', source]),
      icebridge('migrate with a misspelt flag', ['migrate', `--sourse=${source}`]),
      icebridge('migrate with a flag missing its value', ['migrate', '--warehouse', warehouse, '--source']),
      icebridge('verify with a bad source', ['verify', '--source', `mysql://u:${CANARY}@h/db`, '--warehouse', warehouse]),
      icebridge('flags list with a refused secret', ['flags', 'list'], {
        ICEBRIDGE_APPCONFIG_CONNECTION_STRING: standIn.connectionString.replace(/Secret=[^;]+/, `Secret=${CANARY}`),
      }),
      icebridge('migrate with PGPASSWORD', ['migrate', '--warehouse', warehouse, '--state-dir', path.join(workDir, 'cli-state-2')], {
        PGHOST: pg.host,
        PGPORT: String(pg.port),
        PGUSER: 'postgres',
        PGPASSWORD: CANARY,
      }),
    ]);
    for (const result of results) expect(result.code, result.text).not.toBe(0);
    expect(results[0]!.text).toMatch(/password authentication failed/);
    controls.set('the CLI sent the password from --source', results[0]!.text);
  });

  it('icebridge db status refused by the state database, or not reaching it, prints no secret', async () => {
    const [refused, unreachable] = await Promise.all([
      icebridge('db status with a refused state database password', ['db', 'status'], {
        ICEBRIDGE_STATE_DATABASE_URL: `postgresql://postgres:${CANARY}@${pg.host}:${pg.port}/postgres`,
      }),
      icebridge('db status with an unreachable state database', ['db', 'status'], {
        ICEBRIDGE_STATE_DATABASE_URL: `postgresql://ops:${CANARY}@127.0.0.1:${closedPort}/ops?sslmode=disable`,
      }),
    ]);
    expect([refused.code, unreachable.code]).not.toContain(0);
    expect(refused.text).toMatch(/password authentication failed/);
    controls.set('icebridge db status sent the state database password', refused.text);
  });
});

describe('the HTTP API of icebridge serve', () => {
  let serve: ChildProcessWithoutNullStreams | undefined;
  let serveOutput = '';
  let base = '';
  const stateDir = () => path.join(workDir, 'serve-state');

  beforeAll(async () => {
    const cwd = path.join(workDir, 'serve-cwd');
    await mkdir(cwd, { recursive: true });
    // Here the canary is the source's real password, so runs start and fail further on (at the storage key).
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE canary_reader SUPERUSER LOGIN PASSWORD '${CANARY}'`);
      await admin.query(
        'CREATE TABLE public.orders (id int PRIMARY KEY, note text); INSERT INTO public.orders SELECT g, md5(g::text) FROM generate_series(1, 100) g',
      );
    } finally {
      await admin.end();
    }
    const env: NodeJS.ProcessEnv = {
      ...cleanEnv(),
      ICEBRIDGE_SOURCE_URL: `postgresql://canary_reader:${CANARY}@${pg.host}:${pg.port}/postgres`,
      ICEBRIDGE_WAREHOUSE: `abfss://lake@${azurite.accountName}.dfs.core.windows.net/warehouse`,
      ICEBRIDGE_STORAGE_ACCOUNT: azurite.accountName,
      ICEBRIDGE_STORAGE_KEY: CANARY,
      ICEBRIDGE_STORAGE_BLOB_ENDPOINT: azurite.blobEndpoint,
      ICEBRIDGE_APPCONFIG_CONNECTION_STRING: `Endpoint=http://127.0.0.1:${closedPort};Id=id;Secret=${CANARY}`,
      ICEBRIDGE_LOCAL_TOKEN: CANARY,
    };
    const child = spawn(process.execPath, [TSX, path.join(REPO, 'cli/main.ts'), 'serve', '--port', '0', '--state-dir', stateDir()], { cwd, env });
    serve = child;
    child.stderr.on('data', (chunk: Buffer) => (serveOutput += chunk.toString('utf8')));
    base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`icebridge serve did not start:\n${serveOutput}`)), CHILD_TIMEOUT_IN_MS);
      child.stdout.on('data', (chunk: Buffer) => {
        serveOutput += chunk.toString('utf8');
        const match = /icebridge is serving (http:\/\/\S+\/api) /.exec(serveOutput);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`icebridge serve exited (${code}) before serving:\n${serveOutput}`));
      });
    });
  }, CHILD_TIMEOUT_IN_MS + 10_000);

  afterAll(async () => {
    const child = serve;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    outputs.push({ where: 'icebridge serve output', text: serveOutput });
    // The local host keeps each instance's history on disk: an error recorded there is shown by status calls later.
    const dir = stateDir();
    for (const file of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (file.isFile()) outputs.push({ where: `state ${file.name}`, text: readFileSync(path.join(file.parentPath, file.name), 'latin1') });
    }
  });

  async function call(method: string, route: string, options: { body?: unknown; token?: string } = {}): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${base}/${route}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
    const text = await response.text();
    outputs.push({ where: `${method} /api/${route} → ${response.status}`, text: `${JSON.stringify([...response.headers])}\n${text}` });
    return { status: response.status, text };
  }

  it('answers refused, failed and unknown calls without a secret', async () => {
    expect((await call('PUT', 'flags/use-iceberg-storage', { body: { value: 'on', reason: 'test' } })).status).toBe(401);
    expect((await call('PUT', 'flags/use-iceberg-storage', { body: { value: 'on', reason: 'test' }, token: `${CANARY}x` })).status).toBe(401);
    const authorised = await call('PUT', 'flags/use-iceberg-storage', { body: { value: 'on', reason: 'test' }, token: CANARY });
    // Past the token check (the canary is the token), then the store is unreachable.
    expect(authorised.status).not.toBe(401);
    controls.set('the local token authorised a changing call', authorised.text);
    await call('GET', 'flags');
    await call('POST', 'rollback', { body: { reason: 'test' }, token: CANARY });
    await call('POST', 'tables/public/orders/rollback', { body: { snapshotId: '1', reason: 'test' }, token: CANARY });
    await call('POST', 'verifications', { body: { idempotencyKey: 'canary-verification' } });
    await call('POST', 'syncs', { body: { runId: 'canary-run' } });
    await call('POST', 'restores', { body: { snapshot: 'latest', tables: ['public.orders'] }, token: CANARY });
    await call('GET', 'migrations/nothing-here');
    await call('POST', 'migrations/nothing-here/cancel');
  });

  it('runs a migration into the storage failure and reports it without a secret', async () => {
    const started = await call('POST', 'migrations', { body: { schema: 'public', tables: ['orders'], idempotencyKey: 'canary-migration' } });
    // The source accepted the canary password: the run started.
    expect(started.status, started.text).toBe(202);
    controls.set('the source password logged in under serve', started.text);
    // Read until the run ends; bounded by the test's timeout, not by a guess at how long it takes.
    let status = await call('GET', 'migrations/canary-migration');
    while (status.status === 202) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      status = await call('GET', 'migrations/canary-migration');
    }
    expect(status.text).toMatch(/403|AuthorizationFailure|authenticat/i);
    controls.set("the storage key signed the run's requests, refused", status.text);
  }, 180_000);
});

describe('telemetry', () => {
  it(
    'set up with the canary in the connection string, exporting to an unreachable ingestion endpoint, shows nothing',
    async () => {
      // A command that loads the app (which starts telemetry from the settings) and flushes telemetry as it ends.
      const result = await icebridge(
        'jobs run watch with telemetry to an unreachable endpoint',
        [
          'jobs',
          'run',
          'watch',
          '--warehouse',
          path.join(workDir, 'telemetry-warehouse'),
          '--source',
          pg.url,
          '--state-dir',
          path.join(workDir, 'telemetry-state'),
        ],
        {
          // The exporter takes only a GUID as the key, so the canary is in the endpoints, which a leak would show whole.
          APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${IKEY};IngestionEndpoint=http://127.0.0.1:${closedPort}/${CANARY}/;LiveEndpoint=http://127.0.0.1:${closedPort}/${CANARY}/`,
          // Statsbeat reports to Microsoft's own endpoint, which a test must not call.
          APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL: 'true',
        },
      );
      // The exporter tried the endpoint of the connection string; its refusal is a warning, not the command's failure.
      expect(result.text).toMatch(/telemetry: what was buffered could not be sent \(ECONNREFUSED\)/);
      expect(result.text).not.toMatch(/jobs failed: .*ECONNREFUSED/);
      controls.set('telemetry exported to the endpoint of the connection string', result.text);
    },
    CHILD_TIMEOUT_IN_MS,
  );
});

describe('everything shown', () => {
  it('holds no form of the canary, while every secret was really used', () => {
    expect([...controls.keys()].sort()).toEqual(
      [
        'the App Configuration secret signed a request the store refused',
        'the CLI sent the password from --source',
        'the webhook URL was posted to, and refused',
        "the state database refused the job's transaction-log write",
        'icebridge db status sent the state database password',
        'telemetry exported to the endpoint of the connection string',
        'the Entra token was sent and refused',
        'the PostgreSQL password was sent and refused',
        'the local token authorised a changing call',
        'the source password logged in under serve',
        "the storage key signed the run's requests, refused",
        'the storage key signed a request Azurite refused',
      ].sort(),
    );
    expect(outputs.length).toBeGreaterThan(30);
    expect(findCanary(CANARY, outputs)).toEqual([]);
  });
});
