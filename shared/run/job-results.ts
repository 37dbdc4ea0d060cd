/**
 * Results of scheduled jobs (nightly drift, consistency, maintenance): one JSON object per job and schedule slot,
 * kept in the warehouse at `<warehouse>/.icebridge/jobs/<job>/<slot>.json`, so the history of every job is a
 * listing that the dashboard, the CLI and alerts read. A job's full reports (JSON and HTML) go beside it under
 * `<warehouse>/.icebridge/reports/<job>/<slot>/`.
 */
import { ValidationError, errorMessage } from '../errors';
import type { FileIO } from '../iceberg/io/file-io';

/** How a job ended: `ok` found nothing, `findings` found something an operator must look at, `failed` did not finish. */
export type JobStatus = 'ok' | 'findings' | 'failed';

/** What one run of a scheduled job recorded. */
export interface JobResult {
  /** The job's name (`drift`, `consistency`, `maintenance`, ...): lower-case letters, digits and dashes. */
  job: string;
  /** The schedule slot the run belongs to (for a nightly job the UTC date, `2026-12-06`; `now-<stamp>` on demand). */
  slot: string;
  /** The orchestration instance that ran it. */
  instanceId: string;
  startedAt: string;
  finishedAt: string;
  status: JobStatus;
  /** One line for people: what was checked and what was found. */
  summary: string;
  /** Figures of the run (tables checked, differences, files removed, ...), by name. */
  figures: Record<string, number>;
  /** Folder of the run's reports, when it wrote any. */
  reports?: string;
  /** The error of a failed run (never a secret: bounded and redacted like every error the product shows). */
  error?: string;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SLOT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function root(warehouse: string): string {
  return `${warehouse.replace(/\/+$/, '')}/.icebridge`;
}

function checkName(kind: string, value: string, pattern: RegExp): void {
  if (!pattern.test(value)) throw new ValidationError(`${kind} ${JSON.stringify(value)} is not valid: expected ${pattern.source}`);
}

/** The folder of one job run's reports: `<warehouse>/.icebridge/reports/<job>/<slot>`. */
export function jobReportsLocation(warehouse: string, job: string, slot: string): string {
  checkName('job', job, NAME);
  checkName('slot', slot, SLOT);
  return `${root(warehouse)}/reports/${job}/${slot}`;
}

/** Where a job run's result lives: `<warehouse>/.icebridge/jobs/<job>/<slot>.json`. */
export function jobResultLocation(warehouse: string, job: string, slot: string): string {
  checkName('job', job, NAME);
  checkName('slot', slot, SLOT);
  return `${root(warehouse)}/jobs/${job}/${slot}.json`;
}

/** Records a job run's result; a later run of the same slot (a retry) replaces it. */
export async function writeJobResult(io: FileIO, warehouse: string, result: JobResult): Promise<string> {
  const location = jobResultLocation(warehouse, result.job, result.slot);
  await io.write(location, new TextEncoder().encode(`${JSON.stringify(result, null, 2)}\n`));
  return location;
}

/** The result of one job run, or undefined when that slot has none. */
export async function readJobResult(io: FileIO, warehouse: string, job: string, slot: string): Promise<JobResult | undefined> {
  const location = jobResultLocation(warehouse, job, slot);
  if ((await io.stat(location)) === undefined) return undefined;
  return parseResult(location, await io.read(location));
}

/** Results, newest slot first, of one job or of all of them; at most `limit` per job when given. */
export async function listJobResults(io: FileIO, warehouse: string, filter: { job?: string; limit?: number } = {}): Promise<JobResult[]> {
  if (filter.job !== undefined) checkName('job', filter.job, NAME);
  const prefix = `${root(warehouse)}/jobs/${filter.job === undefined ? '' : `${filter.job}/`}`;
  const byJob = new Map<string, string[]>();
  for await (const file of io.list(prefix)) {
    const match = /\/jobs\/([^/]+)\/([^/]+)\.json$/.exec(file.location);
    if (match === null) continue;
    const names = byJob.get(match[1]!) ?? [];
    names.push(file.location);
    byJob.set(match[1]!, names);
  }
  const results: JobResult[] = [];
  for (const [, names] of [...byJob].sort(([a], [b]) => a.localeCompare(b))) {
    names.sort().reverse();
    for (const name of filter.limit === undefined ? names : names.slice(0, filter.limit)) results.push(parseResult(name, await io.read(name)));
  }
  return results;
}

function parseResult(location: string, bytes: Uint8Array): JobResult {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as JobResult;
  } catch (error) {
    throw new ValidationError(`job result ${location} cannot be read: ${errorMessage(error)}`);
  }
}
