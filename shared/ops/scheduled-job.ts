/**
 * What a scheduled job is: a name, a schedule (a setting with a default), what the starting function gathers from
 * the task hub first, and the work itself. The payloads between the trigger, the `runScheduledJob` orchestration
 * and its activity are here too: names and figures only, JSON without bigint.
 */
import type { RunFigures } from '../alerts/conditions';
import type { RunEnvironment } from '../run/environment';
import type { SyncStatus } from '../run/sync-run';
import type { JobSettings } from './job-settings';
import type { JobStatus } from '../run/job-results';

/** A restore in progress that needs its snapshot: the namespace, the tables (all when absent) and the point in time. */
export interface RestoreHold {
  namespace: string;
  tables?: string[];
  asOf: { snapshotId: string } | { timestampMs: number };
}

/** What the starting function found in the task hub (the activity cannot reach it): see ScheduledJob.prepare. */
export interface JobPreparation {
  /** Finished instances whose history was purged. */
  historyPurged?: number;
  /** Why the purge failed (the job runs all the same, and reports it as a finding). */
  historyPurgeError?: string;
  /** Restores running or waiting to run: their snapshots are not expired. */
  restoreHolds?: RestoreHold[];
  /** The migrations and syncs the watch job evaluates, as their statuses stood when the run was started. */
  watch?: WatchFigures;
}

/** What the watch job found in the task hub: running (or just finished) migrations and running syncs. */
export interface WatchFigures {
  runs: RunFigures[];
  syncs: SyncStatus[];
  /** Instances beyond those carried (the input of an orchestration stays small), counted. */
  omitted: number;
}

/** Which instances `listInstances` answers. */
export interface HubQuery {
  statuses: ReadonlyArray<'Running' | 'Pending' | 'ContinuedAsNew' | 'Completed' | 'Failed' | 'Terminated'>;
  createdSince?: Date;
}

/** An orchestration instance as the task hub lists it. */
export interface HubInstance {
  instanceId: string;
  /** The orchestration's name. */
  name: string;
  runtimeStatus: string;
  customStatus?: unknown;
  /** ISO 8601. */
  createdTime: string;
  /** ISO 8601: when its status last changed. */
  lastUpdatedTime: string;
}

/** The task hub as a job's preparation sees it (implemented over the Durable client by functions/). */
export interface JobHubClient {
  /** Purges the history of instances that finished (completed, failed, terminated) and were created before `before`. */
  purgeFinishedBefore(before: Date): Promise<number>;
  /** The inputs of the running or pending instances of an orchestration. */
  unfinishedInputs(orchestration: string): Promise<unknown[]>;
  /** Instances (without inputs) of every orchestration in one of `query.statuses`, created at or after `query.createdSince` when given. */
  listInstances(query: HubQuery): Promise<HubInstance[]>;
}

/** Input of the runScheduledJob orchestration and of its activity. */
export interface JobRunInput {
  job: string;
  slot: string;
  /** Set by the orchestration: its own instance id and start time (history time, replay-safe). */
  instanceId?: string;
  startedAt?: string;
  prepared?: JobPreparation;
}

/** What a job's work answers; the framework adds who, when and the slot. */
export interface JobOutcome {
  status: Exclude<JobStatus, 'failed'>;
  summary: string;
  figures: Record<string, number>;
  reports?: string;
}

/** What a job's work is given. */
export interface JobRunContext {
  job: string;
  slot: string;
  /** The warehouse root (settings), where results and reports are kept. */
  warehouse: string;
  settings: JobSettings;
  prepared: JobPreparation;
  /** The time the run started (the orchestration's), for ages and report stamps. */
  now: Date;
  /** The settings the run reads (the process environment unless a caller says otherwise). */
  env: NodeJS.ProcessEnv;
}

/** One scheduled job: adding a job is one entry of this shape in job-registry.ts. */
export interface ScheduledJob {
  /** Lower-case letters, digits and dashes: the job's name in results, routes and instance ids. */
  name: string;
  /** The setting holding its NCRONTAB schedule (`ICEBRIDGE_<JOB>_SCHEDULE`). */
  scheduleSetting: string;
  /** Its schedule when the setting is absent: six NCRONTAB fields, UTC. */
  defaultSchedule: string;
  /** Gathered by the function that starts the run, which holds the Durable client the activity lacks. */
  prepare?(client: JobHubClient, settings: JobSettings, now: Date): Promise<JobPreparation>;
  /** The work; thrown errors make the run `failed`. Must be safe to run again for the same slot. */
  run(env: RunEnvironment, context: JobRunContext): Promise<JobOutcome>;
}
