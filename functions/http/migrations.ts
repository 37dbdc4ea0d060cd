/**
 * POST /api/migrations starts a migration (202 with the app's own status URL); GET /api/migrations/{id}
 * reports its progress. The source database comes from the app's settings, never from the request.
 */
import { randomUUID } from 'node:crypto';
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import type { MigrateDatabaseInput } from '../../shared/migrate/contracts';
import { environmentFromSettings, withSource } from '../../shared/migrate/environment';
import { IDEMPOTENCY_KEY_PATTERN, parseMigrationRequest } from '../../shared/migrate/migration-request';
import { buildMigrationReport } from '../../shared/migrate/migration-status';
import type { MigrationProgress } from '../../shared/migrate/contracts';
import { describeTables } from '../../shared/postgres/introspect';
import { Orchestrations } from '../../orchestrators/names';
import { findRun, snapshotOf, startRun, subInstances } from './durable-instances';
import { json, readJsonBody, rejectedRequest } from './http-json';

const MIGRATIONS = { what: 'migration', route: 'migrations', idPattern: IDEMPOTENCY_KEY_PATTERN, orchestration: Orchestrations.migrateDatabase };

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
    };
  } catch (error) {
    return rejectedRequest(error, context, 'migration');
  }
  return startRun(request, context, MIGRATIONS, input.runId, input);
}

async function getMigration(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const found = await findRun(request, context, MIGRATIONS);
  if ('response' in found) return found.response;
  const { id, client, run } = found;
  const progress = (run.customStatus ?? {}) as Partial<MigrationProgress>;
  const tables = await subInstances(client, progress.tableInstances ?? {});
  const verification = progress.verificationId === undefined ? undefined : (await subInstances(client, { v: progress.verificationId })).get('v');
  return json(200, buildMigrationReport(id, snapshotOf(run), tables, Date.now(), verification));
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
