/** Starting and reading orchestration instances for the HTTP functions: one id, one run, however often asked. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { errorMessage } from '../../shared/errors';
import type { InstanceSnapshot } from '../../shared/migrate/migration-status';
import { accepted, problem } from './http-json';

/** The instance's status, or undefined when there is none; other failures are thrown, never taken for "none". */
export async function findInstance(client: df.DurableClient, instanceId: string): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    const status = await client.getStatus(instanceId, { showInput: false });
    return status.runtimeStatus ? status : undefined;
  } catch (error) {
    // durable-functions reports an unknown instance only through this message.
    if (/HTTP 404 response/.test(errorMessage(error))) return undefined;
    throw error;
  }
}

/**
 * Starts `orchestration` as `instanceId` unless that instance exists; returns whether it already did. Starting a
 * finished instance's id replaces it, so the run must be known to be absent before starting one.
 */
export async function startOnce(client: df.DurableClient, orchestration: string, instanceId: string, input: unknown): Promise<boolean> {
  let existing = await findInstance(client, instanceId);
  if (!existing) {
    try {
      await client.startNew(orchestration, { instanceId, input });
    } catch (error) {
      // A request with the same key started it between our look and our start: that run is the answer.
      existing = await findInstance(client, instanceId);
      if (!existing) throw error;
    }
  }
  return existing !== undefined;
}

/** The statuses of sub-orchestrations by name; instances not (yet) there are left out. */
export async function subInstances(client: df.DurableClient, ids: Record<string, string>): Promise<Map<string, InstanceSnapshot>> {
  const out = new Map<string, InstanceSnapshot>();
  await Promise.all(
    Object.entries(ids).map(async ([name, instanceId]) => {
      const status = await client.getStatus(instanceId, { showInput: false }).catch(() => undefined);
      if (status?.runtimeStatus) out.set(name, snapshotOf(status));
    }),
  );
  return out;
}

/** The parts of a durable status the reports are built from. */
export function snapshotOf(status: df.DurableOrchestrationStatus): InstanceSnapshot {
  return {
    runtimeStatus: String(status.runtimeStatus),
    customStatus: status.customStatus,
    output: status.output,
    createdTime: status.createdTime,
    lastUpdatedTime: status.lastUpdatedTime,
  };
}

/** What kind of run a route serves. */
export interface RunKind {
  /** 'migration' or 'verification', for messages. */
  what: string;
  idPattern: RegExp;
  orchestration: string;
}

/**
 * The run named by the request's `{id}`, or the response to give instead: 400 for a malformed id, 404 for none
 * (or an instance of another kind: ids share one instance space), 503 when the status cannot be read.
 */
export async function findRun(
  request: HttpRequest,
  context: InvocationContext,
  kind: RunKind,
): Promise<{ id: string; client: df.DurableClient; run: df.DurableOrchestrationStatus } | { response: HttpResponseInit }> {
  const id = request.params.id ?? '';
  if (!kind.idPattern.test(id)) return { response: problem(400, 'invalid request', `not a ${kind.what} id`) };
  const client = df.getClient(context);
  let run: df.DurableOrchestrationStatus | undefined;
  try {
    run = await findInstance(client, id);
  } catch (error) {
    context.error(`reading ${kind.what} ${id} failed: ${errorMessage(error)}`);
    return { response: problem(503, 'unavailable', `the ${kind.what} status could not be read; try again`) };
  }
  if (!run || run.name !== kind.orchestration) return { response: problem(404, 'not found', `no ${kind.what} with id ${id}`) };
  return { id, client, run };
}

/** Starts the run unless it exists (startOnce), answering 202 with its status URL, or 503 when that fails. */
export async function startRun(request: HttpRequest, context: InvocationContext, kind: RunKind & { route: string }, id: string, input: unknown): Promise<HttpResponseInit> {
  let alreadyStarted: boolean;
  try {
    alreadyStarted = await startOnce(df.getClient(context), kind.orchestration, id, input);
  } catch (error) {
    context.error(`starting ${kind.what} ${id} failed: ${errorMessage(error)}`);
    return problem(503, 'unavailable', `the ${kind.what} could not be started; try again`);
  }
  return accepted(request, kind.route, id, alreadyStarted);
}
