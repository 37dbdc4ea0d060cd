/**
 * POST /api/restores starts a restore of PostgreSQL tables as of an Iceberg snapshot (202 with the app's own
 * status URL; the same idempotencyKey starts it once); GET /api/restores/{id} reports its progress (202 while it
 * runs, 200 with each table's rows, backup and verification once finished). The source and the warehouse come from
 * the app's settings. Guarded by a function key.
 */
import { randomUUID } from 'node:crypto';
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { describeTables } from '../../shared/postgres/introspect';
import { type RestoreDatabaseInput, type RestoreOutcome, type RestoreProgress, parseRestoreRequest } from '../../shared/restore/restore-run';
import { environmentFromSettings, withSource } from '../../shared/run/environment';
import { failureMessage, isFinished } from '../../shared/run/instance-status';
import { IDEMPOTENCY_KEY_PATTERN } from '../../shared/run/request-fields';
import { Orchestrations } from '../../orchestrators/names';
import { findRun } from './durable-instances';
import { readJsonBody, rejectedRequest, runStatus } from './http-json';
import { authorizeOperator } from './operator-auth';
import { type RunHooks, startRun } from './run-control';

const RESTORES = {
  what: 'restore',
  route: 'restores',
  idPattern: IDEMPOTENCY_KEY_PATTERN,
  orchestration: Orchestrations.restoreDatabase,
  // A finished restore is history: posting its key again answers with it instead of writing the tables again.
  restartable: () => false,
} satisfies RunHooks & Record<string, unknown>;

async function startRestore(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  // Writing production tables back needs an operator, not only a function key (operator-auth.ts).
  const operator = authorizeOperator(request);
  if ('response' in operator) return operator.response;
  let input: RestoreDatabaseInput;
  try {
    input = parseRestoreRequest(await readJsonBody(request), () => `restore-${randomUUID()}`);
    // The allowlist: every named table must be a real table of the schema before anything starts.
    await withSource(environmentFromSettings(loadSettings()), (client) => describeTables(client, input.schema, input.tables));
  } catch (error) {
    return rejectedRequest(error, context, 'restore');
  }
  return startRun(request, context, RESTORES, input.restoreId, input);
}

/** The body of `GET /api/restores/{id}`: progress while it runs, the outcome once it has finished. */
export interface RestoreReport {
  id: string;
  runtimeStatus: string;
  progress?: RestoreProgress;
  outcome?: RestoreOutcome;
  error?: string;
}

async function getRestore(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const found = await findRun(request, context, RESTORES);
  if ('response' in found) return found.response;
  const { id, run } = found;
  const runtimeStatus = String(run.runtimeStatus);
  const report: RestoreReport = { id, runtimeStatus };
  if (run.customStatus) report.progress = run.customStatus as RestoreProgress;
  if (runtimeStatus === 'Completed') report.outcome = run.output as RestoreOutcome;
  if (runtimeStatus === 'Failed' || runtimeStatus === 'Terminated') report.error = failureMessage(run.output);
  return runStatus(request, report, isFinished(runtimeStatus));
}

app.http('startRestore', {
  route: 'restores',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: startRestore,
});

app.http('getRestore', {
  route: 'restores/{id}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: getRestore,
});
