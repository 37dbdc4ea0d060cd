/**
 * `icebridge jobs run <job> [--slot s]`: runs a scheduled job now through the local host, exactly as its timer
 * would (the `runScheduledJob` orchestration, one run per slot), and prints its result. `icebridge jobs list`:
 * every job with its schedule and latest result, from the warehouse.
 */
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { errorMessage } from '../../shared/errors';
import { SCHEDULED_JOBS, jobNamed, jobSchedule, onDemandSlot } from '../../shared/ops/job-registry';
import { type JobResult, jobResultLocation, listJobResults, readJobResult } from '../../shared/run/job-results';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { environmentFromSettings } from '../../shared/run/environment';
import { startJob } from '../../functions/http/job-start';
import type { LocalHost } from '../local-host';
import { type FlagSpec, UsageError, parseOrExit, stringFlag, usage } from '../support/args';
import { DEFAULT_STATE_DIR, withLocalHost } from '../support/local-run';
import type { ProgressOutput } from '../support/progress';
import { asUsageError, resolveWarehouse } from './migrate';

/** Flags of `icebridge jobs`. */
export const JOBS_FLAGS: FlagSpec[] = [
  { name: 'warehouse', value: true, description: 'warehouse root: a directory, file://… or abfss://… (default: ICEBRIDGE_WAREHOUSE)' },
  { name: 'source', value: true, description: 'PostgreSQL URL (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'slot', value: true, description: 'run: the slot to run (default now-<UTC stamp>); a slot that ran is not run again' },
  { name: 'state-dir', value: true, description: `run: where orchestration history is kept (default ${DEFAULT_STATE_DIR})` },
  { name: 'json', description: 'print JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Scheduled jobs (${SCHEDULED_JOBS.map((j) => j.name).join(', ')}).
  icebridge jobs run <job> [--slot s] [--json]   run a job now, as its timer would, and print its result
  icebridge jobs list [--json]                   every job's schedule and latest result
Exit status: 0 ok, 1 the job failed or found something (run), 2 usage error.`;

/** The usage text of `icebridge jobs`. */
export const JOBS_USAGE = usage('jobs', SUMMARY, JOBS_FLAGS, '<run|list> [<job>] [options]');

function warehouseOf(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const location = flag ?? env.ICEBRIDGE_WAREHOUSE;
  if (location === undefined || location.trim() === '') throw new UsageError('--warehouse is required (or set ICEBRIDGE_WAREHOUSE)');
  return resolveWarehouse(location);
}

/** A Durable client over the local host, as a function with a durableClient input gets one. */
function clientOf(host: LocalHost): df.DurableClient {
  const input = df.input.durableClient();
  const context = new InvocationContext({
    functionName: 'icebridge-jobs',
    options: { trigger: { type: 'manualTrigger', name: 'manual' }, extraInputs: [input], extraOutputs: [] },
  });
  context.extraInputs.set(input, host.clientBindingData());
  return df.getClient(context);
}

function line(result: JobResult): string {
  return `${result.job} ${result.slot}: ${result.status} (${result.summary})${result.reports ? `\n  reports: ${result.reports}` : ''}${result.error ? `\n  error: ${result.error}` : ''}`;
}

/** Runs the command; returns the exit status. */
export async function jobsCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, JOBS_FLAGS, JOBS_USAGE, out, err, { positionals: true });
  if (typeof parsed === 'number') return parsed;
  const { flags, positionals } = parsed;
  try {
    const [action, name, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected ${JSON.stringify(rest.join(' '))}`);
    const warehouse = warehouseOf(stringFlag(flags, 'warehouse'), env);
    if (action === 'list') {
      if (name !== undefined) throw new UsageError('list takes no job');
      const settings = loadSettings({ ...env, ICEBRIDGE_WAREHOUSE: warehouse });
      const latest = await listJobResults(environmentFromSettings(settings).catalog.io, warehouse, { limit: 1 });
      const jobs = SCHEDULED_JOBS.map((job) => ({
        job: job.name,
        schedule: jobSchedule(job, env).expression,
        latest: latest.find((r) => r.job === job.name) ?? null,
      }));
      if (flags.json) out.write(`${JSON.stringify(jobs, null, 2)}\n`);
      else for (const j of jobs) out.write(`${j.job} (${j.schedule}): ${j.latest === null ? 'never ran' : line(j.latest)}\n`);
      return 0;
    }
    if (action !== 'run' || name === undefined) throw new UsageError('expected run <job> or list');
    const job = (() => {
      try {
        return jobNamed(name);
      } catch (error) {
        return asUsageError(error);
      }
    })();
    const slot = stringFlag(flags, 'slot') ?? onDemandSlot(new Date());
    try {
      jobResultLocation(warehouse, job.name, slot);
    } catch (error) {
      asUsageError(error);
    }
    const { url } = await resolveSourceUrl(stringFlag(flags, 'source'), { env, warn: (m) => err.write(`${m}\n`) }).catch(asUsageError);
    const stateDir = stringFlag(flags, 'state-dir') ?? DEFAULT_STATE_DIR;
    const result = await withLocalHost({ sourceUrl: url, warehouse, stateDir }, async (host) => {
      const start = await startJob(clientOf(host), job, slot, new Date());
      // A run of the slot left unfinished by an earlier process continues here.
      if (!start.started) await host.resumeTree(start.instanceId);
      const status = await host.waitForCompletion(start.instanceId, { timeoutInMs: 24 * 3_600_000 });
      const recorded = await readJobResult(environmentFromSettings(loadSettings()).catalog.io, warehouse, job.name, slot);
      if (recorded === undefined) throw new Error(`${job.name} ${slot} recorded no result (its run ended ${status.runtimeStatus})`);
      return recorded;
    });
    out.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${line(result)}\n`);
    return result.status === 'ok' ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n\n${JOBS_USAGE}`);
      return 2;
    }
    err.write(`jobs failed: ${errorMessage(error)}\n`);
    return 1;
  }
}
