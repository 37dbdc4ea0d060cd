/**
 * Starting a scheduled job's run for a slot, shared by the timer functions and `POST /api/jobs/{job}/run`: the
 * instance id is the slot's, and an instance of it in any state but Failed or Terminated means the slot is
 * running or ran, so nothing starts. Two starts racing past that check meet at the task hub, which refuses the
 * second (or, on the Azure Storage backend, drops it); the activity also declines a slot that already has a
 * result, so the job runs once either way.
 */
import * as df from 'durable-functions';
import { jobInstanceId } from '../../shared/ops/job-registry';
import { loadJobSettings } from '../../shared/ops/job-settings';
import type { JobHubClient, JobRunInput, ScheduledJob } from '../../shared/ops/scheduled-job';
import { Orchestrations } from '../../orchestrators/names';
import { findInstance } from './durable-instances';

/** What a start did. */
export interface JobStart {
  instanceId: string;
  /** False when the slot already had a run (its status is then `runtimeStatus`). */
  started: boolean;
  runtimeStatus?: string;
}

/** States after which the same slot may run again. */
const RESTARTABLE = new Set(['Failed', 'Terminated']);

/** The task hub, as a job's preparation uses it. */
function hubClient(client: df.DurableClient): JobHubClient {
  return {
    async purgeFinishedBefore(before) {
      const result = await client.purgeInstanceHistoryBy({
        createdTimeFrom: new Date(0),
        createdTimeTo: before,
        runtimeStatus: [df.OrchestrationRuntimeStatus.Completed, df.OrchestrationRuntimeStatus.Failed, df.OrchestrationRuntimeStatus.Terminated],
      });
      return result.instancesDeleted;
    },
    async unfinishedInputs(orchestration) {
      // showInput is passed through to the status query although the filter type does not declare it.
      const filter = { runtimeStatus: [df.OrchestrationRuntimeStatus.Running, df.OrchestrationRuntimeStatus.Pending], showInput: true };
      const statuses = await client.getStatusBy(filter as df.OrchestrationFilter);
      return statuses.filter((s) => s.name === orchestration).map((s) => s.input);
    },
    async listInstances(query) {
      // Inputs can be large and the watch job does not need them; the filter type does not name the option the client honours.
      const filter = {
        runtimeStatus: query.statuses.map((s) => df.OrchestrationRuntimeStatus[s]),
        ...(query.createdSince === undefined ? {} : { createdTimeFrom: query.createdSince }),
        showInput: false,
      };
      const statuses = await client.getStatusBy(filter as df.OrchestrationFilter);
      return statuses.map((s) => ({
        instanceId: s.instanceId,
        name: s.name,
        runtimeStatus: String(s.runtimeStatus),
        customStatus: s.customStatus,
        createdTime: new Date(s.createdTime).toISOString(),
        lastUpdatedTime: new Date(s.lastUpdatedTime).toISOString(),
      }));
    },
  };
}

async function existingRun(client: df.DurableClient, instanceId: string): Promise<JobStart | undefined> {
  const status = await findInstance(client, instanceId);
  if (status === undefined || RESTARTABLE.has(String(status.runtimeStatus))) return undefined;
  return { instanceId, started: false, runtimeStatus: String(status.runtimeStatus) };
}

/** Starts `job` for `slot` unless the slot has a run already; see the module comment. */
export async function startJob(client: df.DurableClient, job: ScheduledJob, slot: string, now: Date): Promise<JobStart> {
  const instanceId = jobInstanceId(job.name, slot);
  const existing = await existingRun(client, instanceId);
  if (existing !== undefined) return existing;
  const prepared = job.prepare === undefined ? undefined : await job.prepare(hubClient(client), loadJobSettings(), now);
  const input: JobRunInput = { job: job.name, slot, ...(prepared === undefined ? {} : { prepared }) };
  try {
    await client.startNew(Orchestrations.runScheduledJob, { instanceId, input });
  } catch (error) {
    // A start of the same slot that got there first: this one starts nothing.
    const raced = await existingRun(client, instanceId);
    if (raced !== undefined) return raced;
    throw error;
  }
  return { instanceId, started: true, runtimeStatus: 'Pending' };
}
