/**
 * POST /api/syncs starts the change capture of a migrate --cdc run (202 with the app's own status URL, the same
 * sync for the same run however often it is posted); GET /api/syncs/{id} reports its lag, positions and rate;
 * POST /api/syncs/{id}/stop stops it cleanly. The source and the warehouse come from the app's settings.
 */
import * as path from 'node:path';
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { ValidationError } from '../../shared/errors';
import { handoverName } from '../../shared/migrate/handover-names';
import { environmentFromSettings, withSource } from '../../shared/run/environment';
import { failureMessage, isFinished } from '../../shared/run/instance-status';
import { SYNC_ID_PATTERN, type SyncDatabaseInput, type SyncStatus, parseSyncRequest, syncInstanceId, syncTablesProblem } from '../../shared/run/sync-run';
import { clearSyncStop, requestSyncStop } from '../../shared/run/sync-stop';
import { publicationTables } from '../../shared/sync/sync-loop';
import { Orchestrations } from '../../orchestrators/names';
import { findRun } from './durable-instances';
import { json, problem, readJsonBody, rejectedRequest, runStatus, statusUrlOf } from './http-json';
import { type RunHooks, startRun } from './run-control';
import { errorFields } from '../../shared/telemetry/logger';
import { invocationLog } from './invocation-log';

const environment = () => environmentFromSettings(loadSettings());

const SYNCS = {
  what: 'sync',
  route: 'syncs',
  idPattern: SYNC_ID_PATTERN,
  orchestration: Orchestrations.syncDatabase,
  // A sync that ended (stopped, failed, every table stopped) starts again when posted: it resumes from what the
  // tables hold. Its old stop marker goes first, or the new sync would stop at its first batch.
  restartable: isFinished,
  beforeRestart: (id) => clearSyncStop(environment().catalog, id),
} satisfies RunHooks & Record<string, unknown>;

/** The same place, whichever way it is written (a trailing slash, a relative local path). */
function sameWarehouse(asked: string, configured: string): boolean {
  const trim = (location: string): string => location.replace(/\/+$/, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(asked) || /^[a-z][a-z0-9+.-]*:\/\//i.test(configured)) return trim(asked) === trim(configured);
  return path.resolve(asked) === path.resolve(configured);
}

async function startSync(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let input: SyncDatabaseInput;
  try {
    const body = parseSyncRequest(await readJsonBody(request));
    const settings = loadSettings();
    // The warehouse is the app's, like the source: a request may name it (as the CLI's --warehouse) but not move it.
    if (body.warehouse !== undefined && !sameWarehouse(body.warehouse, settings.warehouse)) {
      throw new ValidationError("warehouse is not this app's warehouse (ICEBRIDGE_WAREHOUSE): a sync applies changes to the tables the app migrated");
    }
    const publication = handoverName(body.runId);
    const published = await withSource(environmentFromSettings(settings), (client) => publicationTables(client, publication));
    if (published.length === 0) throw new ValidationError(`no publication ${publication} with tables on the source: was run ${body.runId} migrated with cdc?`);
    const refused = syncTablesProblem(published, body.tables);
    if (refused !== undefined) throw new ValidationError(refused);
    input = {
      runId: body.runId,
      ...(body.namespace === undefined ? {} : { namespace: body.namespace }),
      ...(body.tables === undefined ? {} : { tables: body.tables }),
      flushIntervalMs: body.flushIntervalMs,
      batchSeconds: body.batchSeconds,
    };
  } catch (error) {
    return rejectedRequest(error, context, 'sync');
  }
  return startRun(request, context, SYNCS, syncInstanceId(input.runId), input);
}

/** The body of `GET /api/syncs/{id}`: the orchestration's figures and, once it ended, how. */
export interface SyncReport extends Partial<SyncStatus> {
  id: string;
  runtimeStatus: string;
  /** Why the sync failed (runtimeStatus Failed). */
  error?: string;
}

async function getSync(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const found = await findRun(request, context, SYNCS);
  if ('response' in found) return found.response;
  const { id, run } = found;
  const runtimeStatus = String(run.runtimeStatus);
  const report: SyncReport = { id, runtimeStatus, ...((run.customStatus ?? {}) as Partial<SyncStatus>) };
  if (runtimeStatus === 'Failed') report.error = failureMessage(run.output);
  if (runtimeStatus === 'Terminated') report.error = `terminated: ${failureMessage(run.output)}`;
  return runStatus(request, report, isFinished(runtimeStatus));
}

/**
 * POST /api/syncs/{id}/stop: 202 while the sync stops (its running batch applies and confirms what it holds, then
 * no batch starts), 200 once it has ended; the same answer however often it is posted. 404 for an unknown id.
 */
async function stopSync(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const found = await findRun(request, context, SYNCS);
  if ('response' in found) return found.response;
  const { id, run } = found;
  const statusUrl = statusUrlOf(request, SYNCS.route, id);
  const runtimeStatus = String(run.runtimeStatus);
  if (isFinished(runtimeStatus)) return json(200, { id, statusUrl, stopping: false, runtimeStatus });
  try {
    await requestSyncStop(environment().catalog, id, new Date());
  } catch (error) {
    invocationLog(context).error('stopping the sync failed', { instanceId: id, ...errorFields(error) });
    return problem(503, 'unavailable', 'the sync could not be stopped; try again');
  }
  return json(202, { id, statusUrl, stopping: true }, { location: statusUrl, 'retry-after': '2' });
}

app.http('startSync', {
  route: 'syncs',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: startSync,
});

app.http('getSync', {
  route: 'syncs/{id}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: getSync,
});

app.http('stopSync', {
  route: 'syncs/{id}/stop',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: stopSync,
});
