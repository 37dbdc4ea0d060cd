/**
 * POST /api/migrations/{id}/tables/{table}/retry copies one failed table of a finished migration again, as a
 * migration run of its own (shared/dashboard/table-retry.ts says why). 202 with the retry's status URL (under
 * /api/migrations/) and `alreadyStarted` true when a retry of the table is running or committed already; a retry
 * that failed starts again. It changes production data, so it needs an operator (operator-auth.ts).
 */
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { clearCancellation } from '../../shared/migrate/cancellation';
import { environmentFromSettings, withSource } from '../../shared/run/environment';
import { IDEMPOTENCY_KEY_PATTERN, identifier } from '../../shared/run/request-fields';
import { describeTables } from '../../shared/postgres/introspect';
import { planTableRetry, retryState } from '../../shared/dashboard/table-retry';
import { Orchestrations } from '../../orchestrators/names';
import { findInstance, findRun, snapshotOf } from './durable-instances';
import { problem, rejectedRequest } from './http-json';
import { authorizeOperator } from './operator-auth';
import { startRun } from './run-control';

const catalog = () => environmentFromSettings(loadSettings()).catalog;

const MIGRATIONS = { what: 'migration', route: 'migrations', idPattern: IDEMPOTENCY_KEY_PATTERN, orchestration: Orchestrations.migrateDatabase };

async function retryTable(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const operator = authorizeOperator(request);
  if ('response' in operator) return operator.response;
  let table: string;
  try {
    table = identifier(request.params.table, 'table');
  } catch (error) {
    return rejectedRequest(error, context, 'retry');
  }
  const found = await findRun(request, context, MIGRATIONS, true);
  if ('response' in found) return found.response;
  const { id, client, run } = found;
  const plan = planTableRetry(id, snapshotOf(run), table);
  if ('reason' in plan) return problem(plan.status, plan.status === 404 ? 'not found' : 'conflict', plan.reason);
  try {
    // The allowlist, as for a new migration: the table must still be a real table of the schema.
    await withSource(environmentFromSettings(loadSettings()), (source) => describeTables(source, plan.input.sourceSchema, [table]));
  } catch (error) {
    return rejectedRequest(error, context, 'retry');
  }
  let restart = false;
  try {
    const earlier = await findInstance(client, plan.retryId);
    restart = retryState(earlier && snapshotOf(earlier), table) === 'failed';
  } catch {
    // startRun reads it again and answers 503 when it still cannot.
  }
  context.log(`${operator.actor} retries ${table} of migration ${id} as ${plan.retryId}`);
  return startRun(
    request,
    context,
    { ...MIGRATIONS, restartable: () => restart, beforeRestart: (retryId) => clearCancellation(catalog(), retryId) },
    plan.retryId,
    plan.input,
    client,
  );
}

app.http('retryMigrationTable', {
  route: 'migrations/{id}/tables/{table}/retry',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: retryTable,
});
