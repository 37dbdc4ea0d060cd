/**
 * POST /api/migrations starts a migration (202 with the app's own status URL); GET /api/migrations/{id}
 * reports its progress (202 while it runs, 200 once finished); POST /api/migrations/{id}/cancel stops it. The
 * source database comes from the app's settings, never from the request.
 */
import { randomUUID } from 'node:crypto';
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { clearCancellation, requestCancellation } from '../../shared/migrate/cancellation';
import type { MigrateDatabaseInput, MigrationProgress } from '../../shared/migrate/contracts';
import { environmentFromSettings, withSource } from '../../shared/run/environment';
import { parseMigrationRequest } from '../../shared/migrate/migration-request';
import { IDEMPOTENCY_KEY_PATTERN } from '../../shared/run/request-fields';
import { buildMigrationReport } from '../../shared/migrate/migration-status';
import { type InstanceSnapshot, isFinished, tablesStarted } from '../../shared/run/instance-status';
import { describeTables } from '../../shared/postgres/introspect';
import { Orchestrations } from '../../orchestrators/names';
import { findInstance, findRun, pageOf, readTables, snapshotOf } from './durable-instances';
import { readJsonBody, rejectedRequest, runStatus } from './http-json';
import { type RunHooks, cancelRun, startRun } from './run-control';
import { errorFields } from '../../shared/telemetry/logger';
import { invocationLog } from './invocation-log';

/** The warehouse's catalog, for the cancellation marker running copies look for. */
const catalog = () => environmentFromSettings(loadSettings()).catalog;

const MIGRATIONS = {
  what: 'migration',
  route: 'migrations',
  idPattern: IDEMPOTENCY_KEY_PATTERN,
  orchestration: Orchestrations.migrateDatabase,
  beforeCancel: (id) => requestCancellation(catalog(), id, new Date()),
  beforeRestart: (id) => clearCancellation(catalog(), id),
} satisfies RunHooks & Record<string, unknown>;

async function startMigration(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let input: MigrateDatabaseInput;
  try {
    const body = parseMigrationRequest(await readJsonBody(request));
    // The allowlist: every requested table must be a real table of the schema before anything starts.
    const settings = loadSettings();
    await withSource(environmentFromSettings(settings), (client) => describeTables(client, body.schema, body.tables));
    input = {
      runId: body.idempotencyKey ?? `mig-${randomUUID()}`,
      sourceSchema: body.schema,
      namespace: body.namespace,
      concurrency: body.concurrency,
      ...(body.tables ? { tables: body.tables } : {}),
      ...(body.tableConfig ? { tableConfig: body.tableConfig } : {}),
      ...(body.partitionSizeInBytes ? { partitionSizeInBytes: body.partitionSizeInBytes } : {}),
      verify: body.verify,
      ...(body.cdc ? { cdc: true } : {}),
    };
  } catch (error) {
    return rejectedRequest(error, context, 'migration');
  }
  return startRun(request, context, MIGRATIONS, input.runId, input);
}

async function getMigration(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const page = pageOf(request);
  if ('response' in page) return page.response;
  const found = await findRun(request, context, MIGRATIONS);
  if ('response' in found) return found.response;
  const { id, client, run } = found;
  const progress = (run.customStatus ?? {}) as Partial<MigrationProgress>;
  const started = tablesStarted(run.customStatus);
  const tables = await readTables(client, id, page.offset, Math.min(page.limit, started - page.offset), context);
  let verification: InstanceSnapshot | undefined;
  if (progress.verificationId !== undefined) {
    try {
      const status = await findInstance(client, progress.verificationId);
      verification = status && snapshotOf(status);
    } catch (error) {
      // The summary then shows the verification as running with no figures; its own status URL has the rest.
      invocationLog(context).error('reading the verification failed', { instanceId: progress.verificationId, ...errorFields(error) });
    }
  }
  return runStatus(request, buildMigrationReport(id, snapshotOf(run), tables, page, Date.now(), verification), isFinished(String(run.runtimeStatus)));
}

app.http('startMigration', {
  route: 'migrations',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: startMigration,
});

app.http('getMigration', {
  route: 'migrations/{id}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: getMigration,
});

app.http('cancelMigration', {
  route: 'migrations/{id}/cancel',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: (request: HttpRequest, context: InvocationContext) => cancelRun(request, context, MIGRATIONS),
});
