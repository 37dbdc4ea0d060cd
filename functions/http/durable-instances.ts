/** Starting and reading orchestration instances for the HTTP functions: one id, one run, however often asked. */
import * as df from 'durable-functions';
import { errorMessage } from '../../shared/errors';
import type { InstanceSnapshot } from '../../shared/migrate/migration-status';

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
