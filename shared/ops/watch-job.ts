/**
 * The watch job, every few minutes: the alert conditions of shared/alerts/conditions.ts over the migrations and
 * syncs running in the app (a stalled run, failed tables, a slow copy, a sync behind its source), each raised
 * through the webhook once per incident and listed in the job's result. The starting function gathers the
 * statuses from the task hub (the activity cannot reach it); the run evaluates them with the thresholds of
 * `ICEBRIDGE_ALERT_*` as they are when it runs.
 */
import type { Alert } from '../alerts/alert';
import { type AlertThresholds, alertThresholdsFromEnv } from '../alerts/alert-settings';
import { type RunFigures, lowThroughput, migrationErrorRate, migrationStalled, syncLag } from '../alerts/conditions';
import { raiseAlert } from '../alerts/raise-alert';
import { ValidationError } from '../errors';
import type { FileIO } from '../iceberg/io/file-io';
import type { MigrationProgress } from '../migrate/contracts';
import { isFinished } from '../run/instance-status';
import { jobResultLocation } from '../run/job-results';
import type { SyncStatus } from '../run/sync-run';
import type { JobHubClient, JobOutcome, JobPreparation, JobRunContext, ScheduledJob, WatchFigures } from './scheduled-job';

/** The orchestrations' names, as the task hub knows them (orchestrators/names.ts). */
const MIGRATION_ORCHESTRATION = 'migrateDatabase';
const SYNC_ORCHESTRATION = 'syncDatabase';

/** Finished runs are looked for among those created this long ago (running ones whatever their age). */
export const WATCH_CREATED_DAYS = 30;
/** A run that finished within this long is still looked at, so failures at its end raise their alert. */
export const WATCH_FINISHED_MINUTES = 60;
/** Migrations, and syncs, carried to the run at most (newest first): the input of an orchestration stays small. */
export const WATCH_MAX_INSTANCES = 50;

const DAY_MS = 86_400_000;

function emptyProgress(): MigrationProgress {
  return { phase: 'planning', tables: { total: 0, started: 0, done: 0, failed: 0 }, partitions: { total: 0, done: 0 }, rows: 0, recentFailures: [] };
}

/** Gathers the figures of the app's migrations and syncs from the task hub: what the watch run evaluates. */
export async function gatherWatchFigures(client: Pick<JobHubClient, 'listInstances'>, now: Date): Promise<WatchFigures> {
  // Two listings: a sync runs for months, so running instances are listed whatever their age; finished ones only
  // matter for a while, and the task hub keeps many of them (every table of every run is one).
  const [running, finished] = await Promise.all([
    client.listInstances({ statuses: ['Running', 'Pending', 'ContinuedAsNew'] }),
    client.listInstances({ statuses: ['Completed', 'Failed', 'Terminated'], createdSince: new Date(now.getTime() - WATCH_CREATED_DAYS * DAY_MS) }),
  ]);
  const instances = [...running, ...finished];
  // Root instances only: a run's tables and verification are `<run>:…`, and their figures are the run's.
  const roots = instances.filter((i) => !i.instanceId.includes(':')).sort((a, b) => Date.parse(b.createdTime) - Date.parse(a.createdTime));
  const finishedSince = now.getTime() - WATCH_FINISHED_MINUTES * 60_000;
  const migrations = roots.filter(
    (i) => i.name === MIGRATION_ORCHESTRATION && (!isFinished(i.runtimeStatus) || Date.parse(i.lastUpdatedTime) >= finishedSince),
  );
  const syncs = roots.filter((i) => i.name === SYNC_ORCHESTRATION && !isFinished(i.runtimeStatus) && isSyncStatus(i.customStatus));
  const runs = migrations.slice(0, WATCH_MAX_INSTANCES).map((i): RunFigures => ({
    runId: i.instanceId,
    runtimeStatus: i.runtimeStatus,
    // A run not started yet has no status: it is planning, and not moving is what the stall condition watches.
    progress: isProgress(i.customStatus) ? i.customStatus : emptyProgress(),
    lastUpdatedAt: i.lastUpdatedTime,
    startedAt: i.createdTime,
  }));
  const statuses = syncs.slice(0, WATCH_MAX_INSTANCES).map((i): SyncStatus => {
    const status = i.customStatus as SyncStatus;
    // The per-table positions are not needed to judge lag and would only swell the orchestration's input.
    return { ...status, tables: [], tablesOmitted: status.tables.length + status.tablesOmitted };
  });
  return { runs, syncs: statuses, omitted: migrations.length - runs.length + (syncs.length - statuses.length) };
}

function isProgress(value: unknown): value is MigrationProgress {
  const v = value as Partial<MigrationProgress> | null | undefined;
  return typeof v === 'object' && v !== null && typeof v.phase === 'string' && typeof v.tables === 'object' && typeof v.partitions === 'object';
}

function isSyncStatus(value: unknown): value is SyncStatus {
  const v = value as Partial<SyncStatus> | null | undefined;
  return typeof v === 'object' && v !== null && typeof v.runId === 'string' && Array.isArray(v.tables) && Array.isArray(v.stoppedTables);
}

/** Every alert the conditions raise over `figures` at `now`. Pure. */
export function evaluateWatch(figures: Pick<WatchFigures, 'runs' | 'syncs'>, thresholds: AlertThresholds, now: Date): Alert[] {
  const alerts: Array<Alert | undefined> = [];
  for (const run of figures.runs) alerts.push(migrationStalled(run, thresholds, now), migrationErrorRate(run, thresholds), lowThroughput(run, thresholds, now));
  for (const sync of figures.syncs) alerts.push(syncLag(sync, thresholds, now));
  return alerts.filter((a): a is Alert => a !== undefined);
}

async function prepare(client: JobHubClient, _settings: unknown, now: Date): Promise<JobPreparation> {
  return { watch: await gatherWatchFigures(client, now) };
}

/** The watch job's own results are kept this many days: it records one every 5 minutes. */
export const WATCH_RESULTS_KEPT_DAYS = 7;

/**
 * Removes the watch job's results written more than WATCH_RESULTS_KEPT_DAYS before `now` (by the store's time; a
 * result without one is kept), so the listing the dashboard and the CLI read stays short. Answers how many went.
 */
export async function pruneWatchResults(io: FileIO, warehouse: string, now: Date): Promise<number> {
  const folder = jobResultLocation(warehouse, 'watch', 'x').replace(/[^/]+$/, '');
  const before = now.getTime() - WATCH_RESULTS_KEPT_DAYS * DAY_MS;
  const old: string[] = [];
  for await (const file of io.list(folder))
    if (file.location.endsWith('.json') && file.lastModifiedMs !== undefined && file.lastModifiedMs < before) old.push(file.location);
  for (const location of old) await io.delete(location);
  return old.length;
}

async function run(env: { catalog: { io: FileIO } }, context: JobRunContext): Promise<JobOutcome> {
  const figures = context.prepared.watch;
  // Without the statuses there is nothing to judge: saying `ok` would hide a stalled run.
  if (figures === undefined)
    throw new ValidationError('the watch job was given no statuses: start it by its timer, POST /api/jobs/watch/run or icebridge jobs run watch');
  const alerts = evaluateWatch(figures, alertThresholdsFromEnv(context.env), context.now);
  const delivery = { sent: 0, duplicates: 0, undelivered: 0, unsent: 0 };
  for (const alert of alerts) {
    const outcome = await raiseAlert(alert, { env: context.env });
    if (outcome === undefined) delivery.unsent += 1;
    else if (outcome.outcome === 'sent') delivery.sent += 1;
    else if (outcome.outcome === 'duplicate') delivery.duplicates += 1;
    else delivery.undelivered += 1;
  }
  const resultsRemoved = await pruneWatchResults(env.catalog.io, context.warehouse, context.now);
  const counts = { migrations: figures.runs.length, syncs: figures.syncs.length, omitted: figures.omitted, alerts: alerts.length, ...delivery, resultsRemoved };
  const watched = `${counts.migrations} migrations and ${counts.syncs} syncs watched${counts.omitted > 0 ? ` (${counts.omitted} more not looked at)` : ''}`;
  if (alerts.length === 0) return { status: 'ok', summary: `${watched}: no alert`, figures: counts };
  const undelivered = delivery.undelivered > 0 ? `; ${delivery.undelivered} could not be delivered` : '';
  return {
    status: 'findings',
    summary: `${watched}: ${alerts
      .slice(0, 3)
      .map((a) => a.title)
      .join('; ')}${alerts.length > 3 ? `; and ${alerts.length - 3} more` : ''}${undelivered}`,
    figures: counts,
  };
}

/** Evaluates the alert conditions over running migrations and syncs (`ICEBRIDGE_WATCH_SCHEDULE`, every 5 minutes). */
export const watchJob: ScheduledJob = {
  name: 'watch',
  scheduleSetting: 'ICEBRIDGE_WATCH_SCHEDULE',
  defaultSchedule: '0 */5 * * * *',
  prepare,
  run,
};
