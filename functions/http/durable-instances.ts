/** Reading orchestration instances for the HTTP functions: a run, and its tables page by page with bounded fan-out. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { errorMessage } from '../../shared/errors';
import type { InstanceSnapshot, TableInstanceRead } from '../../shared/run/instance-status';
import { tableInstanceId } from '../../orchestrators/names';
import { problem } from './http-json';
import { mapBounded } from '../../shared/concurrency';
import { errorFields } from '../../shared/telemetry/logger';
import { invocationLog } from './invocation-log';

/** getStatus calls in flight at once for one request, so a run of 1,000 tables cannot flood the task hub. */
export const STATUS_READS_AT_ONCE = 8;

/** durable-functions reports an unknown instance only through this message. */
function isNotFound(error: unknown): boolean {
  return /HTTP 404 response/.test(errorMessage(error));
}

/** The instance's status, or undefined when there is none; other failures are thrown, never taken for "none". */
export async function findInstance(client: df.DurableClient, instanceId: string, showInput = false): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    const status = await client.getStatus(instanceId, { showInput });
    return status.runtimeStatus ? status : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The parts of a durable status the reports are built from. */
export function snapshotOf(status: df.DurableOrchestrationStatus): InstanceSnapshot {
  return {
    runtimeStatus: String(status.runtimeStatus),
    customStatus: status.customStatus,
    output: status.output,
    ...(status.input !== undefined && status.input !== null ? { input: status.input } : {}),
    createdTime: status.createdTime,
    lastUpdatedTime: status.lastUpdatedTime,
  };
}

/**
 * The statuses of tables `offset` .. `offset + count - 1` of the run `parentId`. A table not created yet has no
 * status; one whose status cannot be read says why, so no table silently drops out of a report.
 */
export async function readTables(
  client: df.DurableClient,
  parentId: string,
  offset: number,
  count: number,
  context: InvocationContext,
): Promise<TableInstanceRead[]> {
  const indexes = Array.from({ length: Math.max(0, count) }, (_, i) => offset + i);
  return mapBounded(indexes, STATUS_READS_AT_ONCE, async (index): Promise<TableInstanceRead> => {
    const instanceId = tableInstanceId(parentId, index);
    try {
      let status = await findInstance(client, instanceId);
      // A table that has not reported its name yet is named by its input (read only then: inputs can be large).
      if (status && (status.customStatus as { table?: unknown } | null | undefined)?.table === undefined)
        status = (await findInstance(client, instanceId, true)) ?? status;
      return status ? { index, instanceId, status: snapshotOf(status) } : { index, instanceId };
    } catch (error) {
      invocationLog(context).error('reading an instance failed', { instanceId, ...errorFields(error) });
      return { index, instanceId, unreadable: 'its status could not be read; try again' };
    }
  });
}

/** What kind of run a route serves. */
export interface RunKind {
  /** 'migration' or 'verification', for messages. */
  what: string;
  /** The path under /api/ of its collection. */
  route: string;
  idPattern: RegExp;
  orchestration: string;
}

/** A run found by findRun. */
export interface FoundRun {
  id: string;
  client: df.DurableClient;
  run: df.DurableOrchestrationStatus;
}

/**
 * The run named by the request's `{id}`, or the response to give instead: 400 for a malformed id, 404 for none
 * (or an instance of another kind: ids share one instance space), 503 when the status cannot be read.
 */
export async function findRun(
  request: HttpRequest,
  context: InvocationContext,
  kind: RunKind,
  showInput = false,
): Promise<FoundRun | { response: HttpResponseInit }> {
  const id = request.params.id ?? '';
  if (!kind.idPattern.test(id)) return { response: problem(400, 'invalid request', `not a ${kind.what} id`) };
  const client = df.getClient(context);
  let run: df.DurableOrchestrationStatus | undefined;
  try {
    run = await findInstance(client, id, showInput);
  } catch (error) {
    invocationLog(context).error(`reading the ${kind.what} failed`, { instanceId: id, ...errorFields(error) });
    return { response: problem(503, 'unavailable', `the ${kind.what} status could not be read; try again`) };
  }
  if (!run || run.name !== kind.orchestration) return { response: problem(404, 'not found', `no ${kind.what} with id ${id}`) };
  return { id, client, run };
}

/** Most tables one status response details. */
export const MAX_TABLES_PER_PAGE = 100;

/** The `?offset=&limit=` of a status request (defaults 0 and MAX_TABLES_PER_PAGE), or the 400 to answer. */
export function pageOf(request: HttpRequest): { offset: number; limit: number } | { response: HttpResponseInit } {
  const read = (name: string, fallback: number, min: number, max: number): number | undefined => {
    const text = request.query.get(name);
    if (text === null || text === '') return fallback;
    const value = Number(text);
    return /^\d+$/.test(text) && value >= min && value <= max ? value : undefined;
  };
  const offset = read('offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = read('limit', MAX_TABLES_PER_PAGE, 1, MAX_TABLES_PER_PAGE);
  if (offset === undefined) return { response: problem(400, 'invalid request', 'offset must be an integer of 0 or more') };
  if (limit === undefined) return { response: problem(400, 'invalid request', `limit must be an integer from 1 to ${MAX_TABLES_PER_PAGE}`) };
  return { offset, limit };
}
