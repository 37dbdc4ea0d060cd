/**
 * POST /api/migrations starts a migration (202 with the app's own status URL); GET /api/migrations/{id}
 * reports its progress. The source database comes from the app's settings, never from the request.
 */
import { randomUUID } from 'node:crypto';
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { IcebridgeError, TableNotFoundError, ValidationError, errorMessage } from '../../shared/errors';
import type { MigrateDatabaseInput } from '../../shared/migrate/contracts';
import { environmentFromSettings, withSource } from '../../shared/migrate/environment';
import { IDEMPOTENCY_KEY_PATTERN, parseMigrationRequest } from '../../shared/migrate/migration-request';
import { type InstanceSnapshot, buildMigrationReport } from '../../shared/migrate/migration-status';
import type { MigrationProgress } from '../../shared/migrate/contracts';
import { describeTables } from '../../shared/postgres/introspect';
import { Orchestrations } from '../../orchestrators/names';
import { json, problem, readJsonBody } from './http-json';

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
    };
  } catch (error) {
    if (error instanceof ValidationError || error instanceof TableNotFoundError) return problem(400, 'invalid request', error.message);
    if (error instanceof IcebridgeError) return problem(error.retryable ? 503 : 400, error.code, error.message);
    context.error(`starting a migration failed: ${errorMessage(error)}`);
    return problem(500, 'internal error', 'the migration could not be started');
  }
  const client = df.getClient(context);
  let existing: df.DurableOrchestrationStatus | undefined;
  try {
    // Starting a finished instance's id replaces it, so the run must be known to be absent before starting one.
    existing = await findInstance(client, input.runId);
    if (!existing) {
      try {
        await client.startNew(Orchestrations.migrateDatabase, { instanceId: input.runId, input });
      } catch (error) {
        // A request with the same key started it between our look and our start: that run is the answer.
        existing = await findInstance(client, input.runId);
        if (!existing) throw error;
      }
    }
  } catch (error) {
    context.error(`starting migration ${input.runId} failed: ${errorMessage(error)}`);
    return problem(503, 'unavailable', 'the migration could not be started; try again');
  }
  const statusUrl = new URL(`/api/migrations/${encodeURIComponent(input.runId)}`, request.url).toString();
  return json(202, { id: input.runId, statusUrl, alreadyStarted: existing !== undefined }, { location: statusUrl, 'retry-after': '5' });
}

/** The instance's status, or undefined when there is none; other failures are thrown, never taken for "none". */
async function findInstance(client: df.DurableClient, instanceId: string): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    const status = await client.getStatus(instanceId, { showInput: false });
    return status.runtimeStatus ? status : undefined;
  } catch (error) {
    // durable-functions reports an unknown instance only through this message.
    if (/HTTP 404 response/.test(errorMessage(error))) return undefined;
    throw error;
  }
}

async function getMigration(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = request.params.id ?? '';
  if (!IDEMPOTENCY_KEY_PATTERN.test(id)) return problem(400, 'invalid request', 'not a migration id');
  const client = df.getClient(context);
  let run: df.DurableOrchestrationStatus | undefined;
  try {
    run = await findInstance(client, id);
  } catch (error) {
    context.error(`reading migration ${id} failed: ${errorMessage(error)}`);
    return problem(503, 'unavailable', 'the migration status could not be read; try again');
  }
  if (!run) return problem(404, 'not found', `no migration with id ${id}`);
  const progress = (run.customStatus ?? {}) as Partial<MigrationProgress>;
  const tables = new Map<string, InstanceSnapshot>();
  await Promise.all(
    Object.entries(progress.tableInstances ?? {}).map(async ([table, instanceId]) => {
      const status = await client.getStatus(instanceId, { showInput: false }).catch(() => undefined);
      if (status?.runtimeStatus) tables.set(table, snapshotOf(status));
    }),
  );
  return json(200, buildMigrationReport(id, snapshotOf(run), tables, Date.now()));
}

function snapshotOf(status: df.DurableOrchestrationStatus): InstanceSnapshot {
  return {
    runtimeStatus: String(status.runtimeStatus),
    customStatus: status.customStatus,
    output: status.output,
    createdTime: status.createdTime,
    lastUpdatedTime: status.lastUpdatedTime,
  };
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
