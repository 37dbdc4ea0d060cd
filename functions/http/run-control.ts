/**
 * Starting and cancelling runs for the HTTP functions. A start tells the truth on every backend: the run's input
 * carries a hash of the normalized request and the start's own token, and after starting the instance is read
 * back, because Azure Storage accepts every start of one id and drops the duplicates later. A cancel terminates the
 * run's whole tree of orchestrations (termination does not reach sub-orchestrations by itself).
 */
import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { type RequestStamp, requestDifferences, requestHash } from '../../shared/run/request-stamp';
import { isCancelled, isFinished, tablesStarted } from '../../shared/run/instance-status';
import { tableInstanceId } from '../../orchestrators/names';
import { mapBounded } from '../../shared/concurrency';
import { type RunKind, findInstance, findRun, STATUS_READS_AT_ONCE } from './durable-instances';
import { accepted, json, problem, statusUrlOf } from './http-json';
import { errorFields } from '../../shared/telemetry/logger';
import { invocationLog } from './invocation-log';

/** What a kind of run does around cancels and fresh starts beyond its orchestrations. */
export interface RunHooks {
  /** Before the run's orchestrations are terminated: stop what termination cannot reach (running activities). */
  beforeCancel?: (id: string) => Promise<void>;
  /** Before a cancelled run's id is started again. */
  beforeRestart?: (id: string) => Promise<void>;
  /** Whether a run in this state starts again when its id is posted; default: only a cancelled one. */
  restartable?: (runtimeStatus: string) => boolean;
}

/** Reads of a terminated root before its custom status is taken as final (tables it started). */
const SETTLE_ATTEMPTS = 40;
const SETTLE_PAUSE_MS = 250;

/** The fields a stored input and ours differ in; none when its stored hash is ours. */
function differencesFrom(stored: unknown, input: object, stamp: RequestStamp): string[] {
  const storedInput = (stored ?? {}) as Partial<RequestStamp> & object;
  if (storedInput.requestHash === stamp.requestHash) return [];
  const fields = requestDifferences(storedInput, input);
  return fields.length > 0 ? fields : ['the request'];
}

function conflict(kind: RunKind, id: string, fields: string[]): HttpResponseInit {
  return json(409, {
    error: 'conflict',
    reason: `the ${kind.what} ${id} was started with a different request (${fields.join(', ')} differ${fields.length === 1 ? 's' : ''}); use another idempotencyKey`,
    differences: fields,
  });
}

/**
 * Starts the run `id` unless it exists: 202 with `alreadyStarted` false for the start that created it and true for
 * the same request again (a finished run is not started again; a cancelled one is), 409 naming the fields when the
 * id's run was started with a different request, 503 when the task hub cannot be reached.
 */
export async function startRun(
  request: HttpRequest,
  context: InvocationContext,
  kind: RunKind & RunHooks,
  id: string,
  input: object,
  client: df.DurableClient = df.getClient(context),
): Promise<HttpResponseInit> {
  const stamp: RequestStamp = { requestHash: requestHash(input), startToken: randomUUID() };
  try {
    const existing = await findInstance(client, id, true);
    if (existing && existing.name !== kind.orchestration)
      return problem(409, 'conflict', `the id ${id} is taken by another kind of run; use another idempotencyKey`);
    const restartable = kind.restartable ?? isCancelled;
    if (existing && !restartable(String(existing.runtimeStatus))) {
      const fields = differencesFrom(existing.input, input, stamp);
      return fields.length > 0 ? conflict(kind, id, fields) : accepted(request, kind.route, id, true);
    }
    if (existing) {
      // A cancelled run starts again only once its whole tree has stopped: a table of it still running would take
      // the new run's table instance id.
      if ((await stopTree(client, id, existing)) > 0) {
        return json(503, { error: 'unavailable', reason: `the cancelled ${kind.what} ${id} is still stopping; try again` }, { 'retry-after': '2' });
      }
      await kind.beforeRestart?.(id);
    }
    let startError: unknown;
    try {
      await client.startNew(kind.orchestration, { instanceId: id, input: { ...input, ...stamp } });
    } catch (error) {
      // The local host refuses an id in use; a request with the same key got there first. Its run is read below.
      startError = error;
    }
    const stored = await findInstance(client, id, true);
    if (!stored) {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- the start's own error, rethrown exactly as it was caught
      if (startError !== undefined) throw startError;
      return accepted(request, kind.route, id, false);
    }
    const storedStamp = (stored.input ?? {}) as Partial<RequestStamp>;
    // Still the cancelled run we replaced: the backend has not shown our start yet.
    if (storedStamp.startToken === stamp.startToken || (existing && restartable(String(stored.runtimeStatus)))) return accepted(request, kind.route, id, false);
    const fields = differencesFrom(stored.input, input, stamp);
    return fields.length > 0 ? conflict(kind, id, fields) : accepted(request, kind.route, id, true);
  } catch (error) {
    invocationLog(context).error(`starting the ${kind.what} failed`, { instanceId: id, ...errorFields(error) });
    return problem(503, 'unavailable', `the ${kind.what} could not be started; try again`);
  }
}

/**
 * POST .../{id}/cancel: 202 once the run's orchestrations are terminated (its status then says cancelled), 404 for
 * an unknown id, 409 when the run already finished.
 */
export async function cancelRun(request: HttpRequest, context: InvocationContext, kind: RunKind & RunHooks): Promise<HttpResponseInit> {
  const found = await findRun(request, context, kind);
  if ('response' in found) return found.response;
  const { id, client, run } = found;
  const runtimeStatus = String(run.runtimeStatus);
  if (isFinished(runtimeStatus)) {
    return json(409, { error: 'conflict', reason: `the ${kind.what} ${id} already finished (${runtimeStatus})`, runtimeStatus });
  }
  try {
    await kind.beforeCancel?.(id);
    await client.terminate(id, 'cancelled');
    // The root's custom status is final once it is terminated: only then does it name every table it started.
    let root = run;
    for (let attempt = 0; attempt < SETTLE_ATTEMPTS && !isFinished(String(root.runtimeStatus)); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_PAUSE_MS));
      root = (await findInstance(client, id)) ?? root;
    }
    await stopTree(client, id, root);
  } catch (error) {
    invocationLog(context).error(`cancelling the ${kind.what} failed`, { instanceId: id, ...errorFields(error) });
    return problem(503, 'unavailable', `the ${kind.what} could not be cancelled; try again`);
  }
  const statusUrl = statusUrlOf(request, kind.route, id);
  return json(202, { id, statusUrl, cancelling: true }, { location: statusUrl, 'retry-after': '2' });
}

/**
 * Terminates every sub-orchestration of `root` that is still running: its tables (`<id>:table:<n>` for n below
 * the tables it started) and a migration's verification with its tables. Returns how many were running.
 */
export async function stopTree(client: df.DurableClient, id: string, root: df.DurableOrchestrationStatus): Promise<number> {
  const progress = (root.customStatus ?? {}) as { tables?: { started?: number }; verificationId?: string };
  const children = Array.from({ length: tablesStarted(root.customStatus) }, (_, n) => tableInstanceId(id, n));
  const running = await mapBounded(children, STATUS_READS_AT_ONCE, async (childId): Promise<number> => {
    const child = await findInstance(client, childId);
    if (!child || isFinished(String(child.runtimeStatus))) return 0;
    await client.terminate(childId, 'cancelled');
    return 1;
  });
  let count = running.reduce((a, b) => a + b, 0);
  if (progress.verificationId !== undefined) {
    const verification = await findInstance(client, progress.verificationId);
    if (verification) {
      if (!isFinished(String(verification.runtimeStatus))) {
        await client.terminate(progress.verificationId, 'cancelled');
        count++;
      }
      count += await stopTree(client, progress.verificationId, verification);
    }
  }
  return count;
}
