/**
 * One timer function per scheduled job (`<job>Timer`), on the job's NCRONTAB schedule. The schedule is resolved
 * here from the job's setting (`ICEBRIDGE_<JOB>_SCHEDULE`, else its default) rather than written as a
 * `%SETTING%` binding expression: the Functions host would refuse to index a function whose expression names a
 * missing setting, and parsing it here stops the app at start-up with the setting's name when it is wrong. A
 * timer only starts the job's orchestration for its slot (job-start.ts): firing twice runs the job once.
 */
import { type InvocationContext, type Timer, app } from '@azure/functions';
import * as df from 'durable-functions';
import { errorMessage } from '../../shared/errors';
import { SCHEDULED_JOBS, jobSchedule, timerSlot } from '../../shared/ops/job-registry';
import { startJob } from '../http/job-start';

/** The timer function's name of a job. */
export function timerFunctionName(job: string): string {
  return `${job}Timer`;
}

for (const job of SCHEDULED_JOBS) {
  const schedule = jobSchedule(job);
  app.timer(timerFunctionName(job.name), {
    schedule: schedule.expression,
    extraInputs: [df.input.durableClient()],
    handler: async (timer: Timer, context: InvocationContext): Promise<void> => {
      const firedAt = new Date();
      const slot = timerSlot(schedule, firedAt);
      try {
        const start = await startJob(df.getClient(context), job, slot, firedAt);
        context.log(
          start.started ? `${job.name} ${slot}: started ${start.instanceId}` : `${job.name} ${slot}: already ${start.runtimeStatus}, nothing started`,
          timer.isPastDue ? '(past due)' : '',
        );
      } catch (error) {
        context.error(`${job.name} ${slot}: could not start: ${errorMessage(error)}`);
        throw error;
      }
    },
  });
}
