/**
 * Scheduled jobs over HTTP. `POST /api/jobs/{job}/run` runs a job now (operator only, like flags): slot
 * `now-<stamp>` unless the body names one (`{"slot": "2026-12-06"}`: a slot that ran, or is running, is not run
 * again); 202 with the result's URL when started, 200 when the slot already had a run. `GET /api/jobs` lists every
 * job with its schedule and latest result; `GET /api/jobs/{job}` its results, newest first (`?limit=`, default 30),
 * or with `?slot=` that slot's result (202 while it runs, 404 when it has none).
 */
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { ValidationError, errorMessage } from '../../shared/errors';
import { SCHEDULED_JOBS, jobInstanceId, jobNamed, jobSchedule, onDemandSlot } from '../../shared/ops/job-registry';
import { jobResultLocation, listJobResults, readJobResult } from '../../shared/run/job-results';
import { environmentFromSettings } from '../../shared/run/environment';
import { isFinished } from '../../shared/run/instance-status';
import { findInstance } from './durable-instances';
import { json, problem, readJsonBody, rejectedRequest } from './http-json';
import { startJob } from './job-start';
import { authorizeOperator } from './operator-auth';

/** Most results one `GET /api/jobs/{job}` lists. */
const MAX_RESULTS = 200;

function warehouseIo(): { warehouse: string; io: ReturnType<typeof environmentFromSettings>['catalog']['io'] } {
  const settings = loadSettings();
  return { warehouse: settings.warehouse, io: environmentFromSettings(settings).catalog.io };
}

function resultUrl(request: HttpRequest, job: string, slot: string): string {
  return new URL(`/api/jobs/${encodeURIComponent(job)}?slot=${encodeURIComponent(slot)}`, request.url).toString();
}

async function runNow(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const operator = authorizeOperator(request);
  if ('response' in operator) return operator.response;
  let job;
  let slot: string;
  const now = new Date();
  try {
    job = jobNamed(request.params.job ?? '');
    const body = (await readJsonBody(request)) as { slot?: unknown } | null;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('the body must be a JSON object');
    const unknown = Object.keys(body).filter((k) => k !== 'slot');
    if (unknown.length > 0) throw new ValidationError(`unknown field ${unknown[0]}`);
    if (body.slot !== undefined && typeof body.slot !== 'string') throw new ValidationError('slot must be a string');
    slot = body.slot ?? onDemandSlot(now);
    // Checks the slot's form (a ValidationError names the rule).
    jobResultLocation('/', job.name, slot);
  } catch (error) {
    return rejectedRequest(error, context, 'job');
  }
  try {
    const start = await startJob(df.getClient(context), job, slot, now);
    context.log(`${operator.actor} ran ${job.name} ${slot}: ${start.started ? 'started' : `already ${start.runtimeStatus}`}`);
    const url = resultUrl(request, job.name, slot);
    return json(start.started ? 202 : 200, { job: job.name, slot, ...start, resultUrl: url }, { location: url });
  } catch (error) {
    context.error(`starting ${job.name} ${slot} failed: ${errorMessage(error)}`);
    return problem(503, 'unavailable', 'the job could not be started; try again');
  }
}

async function listJobs(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const { warehouse, io } = warehouseIo();
    const latest = await listJobResults(io, warehouse, { limit: 1 });
    return json(200, {
      jobs: SCHEDULED_JOBS.map((job) => ({
        job: job.name,
        schedule: jobSchedule(job).expression,
        scheduleSetting: job.scheduleSetting,
        latest: latest.find((r) => r.job === job.name) ?? null,
      })),
    });
  } catch (error) {
    context.error(`listing job results failed: ${errorMessage(error)}`);
    return problem(503, 'unavailable', 'the job results could not be read; try again');
  }
}

async function getJob(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let job;
  let limit = 30;
  try {
    job = jobNamed(request.params.job ?? '');
    const text = request.query.get('limit');
    if (text !== null) {
      limit = Number(text);
      if (!/^\d+$/.test(text) || limit < 1 || limit > MAX_RESULTS) throw new ValidationError(`limit must be an integer from 1 to ${MAX_RESULTS}`);
    }
  } catch (error) {
    return error instanceof ValidationError
      ? problem(error.message.startsWith('no job') ? 404 : 400, 'invalid request', error.message)
      : rejectedRequest(error, context, 'job');
  }
  try {
    const { warehouse, io } = warehouseIo();
    const slot = request.query.get('slot');
    if (slot === null) return json(200, { job: job.name, results: await listJobResults(io, warehouse, { job: job.name, limit }) });
    let result;
    try {
      result = await readJobResult(io, warehouse, job.name, slot);
    } catch (error) {
      if (error instanceof ValidationError) return problem(400, 'invalid request', error.message);
      throw error;
    }
    if (result !== undefined) return json(200, result);
    const instance = await findInstance(df.getClient(context), jobInstanceId(job.name, slot));
    if (instance === undefined || isFinished(String(instance.runtimeStatus)))
      return problem(
        404,
        'not found',
        `${job.name} has no result for slot ${slot}${instance === undefined ? '' : ` (its run ended ${String(instance.runtimeStatus)})`}`,
      );
    return json(202, { job: job.name, slot, runtimeStatus: String(instance.runtimeStatus) }, { location: request.url, 'retry-after': '5' });
  } catch (error) {
    context.error(`reading ${job.name} results failed: ${errorMessage(error)}`);
    return problem(503, 'unavailable', 'the job results could not be read; try again');
  }
}

app.http('runJobNow', {
  route: 'jobs/{job}/run',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: runNow,
});

app.http('listJobs', { route: 'jobs', methods: ['GET'], authLevel: 'function', handler: listJobs });

app.http('getJob', {
  route: 'jobs/{job}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: getJob,
});
