/**
 * runScheduledJob: one scheduled job for one slot, as one `runJob` activity that runs it and records its result in
 * the warehouse. The instance id is the slot's (`<job>:<slot>`), so a timer firing twice, or on two instances,
 * finds the first run and starts nothing. A run that failed (recorded as `failed`, or unable to record anything)
 * fails the instance, which lets the slot run again. The start time is the orchestration's (history time), so a replay or a
 * retried activity records the same one.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { taskFailureReason } from '../shared/errors';
import type { JobResult } from '../shared/run/job-results';
import type { JobRunInput } from '../shared/ops/scheduled-job';
import { callActivity } from './activity-table';
import { Orchestrations } from './names';

/** Custom status of runScheduledJob. */
export interface JobRunStatus {
  job: string;
  slot: string;
  phase: 'running' | 'done';
  status?: JobResult['status'];
}

/** The orchestration generator. */
export const runScheduledJob: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<JobRunInput>();
  const progress: JobRunStatus = { job: input.job, slot: input.slot, phase: 'running' };
  context.df.setCustomStatus(progress);
  let reason: string;
  try {
    const answer = yield* callActivity(context, 'runJob', {
      ...input,
      instanceId: context.df.instanceId,
      startedAt: context.df.currentUtcDateTime.toISOString(),
    });
    if (answer.ok) {
      progress.phase = 'done';
      progress.status = answer.value.status;
      context.df.setCustomStatus(progress);
      if (answer.value.status !== 'failed') return answer.value;
      // Recorded as failed; the instance fails too, so the slot's next firing (or a run-now of it) runs it again.
      reason = `failed: ${answer.value.error ?? answer.value.summary}`;
    } else reason = answer.reason;
  } catch (error) {
    // Transient failures retried to the end: the activity's last reason.
    reason = taskFailureReason(error);
  }
  // No result could be recorded: failing the instance lets the next firing of the slot start it again.
  throw new Error(`${input.job} ${input.slot}: ${reason}`);
};

df.app.orchestration(Orchestrations.runScheduledJob, runScheduledJob);
