/**
 * The scheduled jobs. Adding one is one entry here: the timer functions, the `runScheduledJob` orchestration, the
 * HTTP routes and the CLI all read this list. Schedules are NCRONTAB (six fields, UTC), from the job's setting.
 */
import { ValidationError } from '../errors';
import { consistencyJob } from './consistency-job';
import { driftJob } from './drift-job';
import { maintenanceJob } from './maintenance-job';
import { type NcrontabSchedule, parseNcrontab } from './ncrontab';
import type { ScheduledJob } from './scheduled-job';
import { watchJob } from './watch-job';

/** Every scheduled job, by name. */
export const SCHEDULED_JOBS: readonly ScheduledJob[] = [consistencyJob, maintenanceJob, driftJob, watchJob];

/** The job named `name`, or a ValidationError listing the jobs there are. */
export function jobNamed(name: string): ScheduledJob {
  const job = SCHEDULED_JOBS.find((j) => j.name === name);
  if (job === undefined) throw new ValidationError(`no job ${JSON.stringify(name)}: the jobs are ${SCHEDULED_JOBS.map((j) => j.name).join(', ')}`);
  return job;
}

/** The job's schedule: its setting when set, else its default; a ValidationError names a wrong setting. */
export function jobSchedule(job: ScheduledJob, env: NodeJS.ProcessEnv = process.env): NcrontabSchedule {
  const configured = env[job.scheduleSetting]?.trim();
  try {
    return parseNcrontab(configured || job.defaultSchedule);
  } catch (error) {
    throw new ValidationError(`${job.scheduleSetting}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The slot of a scheduled run: the UTC date of the time it was due (one run per day per job). */
export function scheduledSlot(due: Date): string {
  return due.toISOString().slice(0, 10);
}

/** The slot of an on-demand run: `now-<UTC stamp to the millisecond>`. */
export function onDemandSlot(at: Date): string {
  return `now-${at.toISOString().replace(/[-:]/g, '').replace('.', '')}`;
}

/** The orchestration instance id of a job's slot: the same slot is the same instance, so it runs once. */
export function jobInstanceId(job: string, slot: string): string {
  return `${job}:${slot}`;
}

/**
 * The slot of a timer firing at `firedAt`: the UTC date for a schedule that fires at most once a day (the nightly
 * jobs), else the UTC minute (`2026-12-06T0230`). Timers fire at or after the time due, never before, so two
 * firings of one occurrence (twice, or on two instances) fall in the same slot.
 */
export function timerSlot(schedule: NcrontabSchedule, firedAt: Date): string {
  const daily = schedule.seconds.size === 1 && schedule.minutes.size === 1 && schedule.hours.size === 1;
  if (daily) return scheduledSlot(firedAt);
  return firedAt.toISOString().slice(0, 16).replace(':', '');
}
