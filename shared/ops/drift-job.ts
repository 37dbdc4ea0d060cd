/**
 * The nightly schema drift job: the drift check of shared/drift/ for every namespace the jobs look at (each named
 * after its PostgreSQL schema), a registry version recorded when a schema changed, and the reports of each
 * namespace under the run's reports folder (`<reports>/<namespace>/report.json|html`).
 */
import { runDriftCheck } from '../drift/drift-check';
import { redactUrl } from '../postgres/connection';
import { jobReportsLocation } from '../run/job-results';
import type { RunEnvironment } from '../run/environment';
import type { JobOutcome, JobRunContext, ScheduledJob } from './scheduled-job';

async function run(env: RunEnvironment, context: JobRunContext): Promise<JobOutcome> {
  const reports = jobReportsLocation(context.warehouse, context.job, context.slot);
  const figures: Record<string, number> = {};
  const summaries: string[] = [];
  let drifted = false;
  for (const namespace of context.settings.namespaces) {
    const { outcome } = await runDriftCheck({
      connectSource: () => env.connectSource(),
      sourceLabel: env.sourceUrl === undefined ? 'source' : redactUrl(env.sourceUrl),
      catalog: env.catalog,
      warehouse: context.warehouse,
      schema: namespace,
      namespace,
      reportsFolder: `${reports}/${namespace}`,
      now: () => context.now,
    });
    drifted ||= outcome.status === 'findings';
    summaries.push(outcome.summary);
    for (const [name, value] of Object.entries(outcome.figures)) {
      // Versions are per warehouse, not summed: the newest one stands.
      figures[name] = name === 'registryVersion' ? Math.max(figures[name] ?? 0, value) : (figures[name] ?? 0) + value;
    }
  }
  return { status: drifted ? 'findings' : 'ok', summary: summaries.join('; '), figures, reports };
}

/** Compares every migrated table's live schema with its Iceberg table and the registry, nightly. */
export const driftJob: ScheduledJob = {
  name: 'drift',
  scheduleSetting: 'ICEBRIDGE_DRIFT_SCHEDULE',
  defaultSchedule: '0 30 1 * * *',
  run,
};
