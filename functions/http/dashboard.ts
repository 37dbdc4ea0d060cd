/**
 * The operations dashboard: `GET /api/dashboard` (the page), `GET /api/dashboard/data` (the same figures as
 * JSON), `GET /api/dashboard/sections` (the page's live part, which the page polls), and the drill-downs
 * `GET /api/dashboard/verifications/{id}/report` (a finished verification's HTML report) and
 * `GET /api/dashboard/jobs/{job}/{slot}/report` (a scheduled job run's HTML report). Polling rather than
 * server-sent events: Azure Functions streams HTTP responses in Node only behind an app-wide opt-in with its own
 * limits, and a request every few seconds costs a handful of status reads. `?days=` (1 to 90, default 7) sets
 * which runs are listed; `?refresh=` the page's refresh interval in seconds.
 */
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { errorMessage } from '../../shared/errors';
import { jobReportsLocation } from '../../shared/run/job-results';
import { environmentFromSettings } from '../../shared/run/environment';
import type { DashboardData } from '../../shared/dashboard/dashboard-data';
import { renderDashboardSections } from '../../shared/dashboard/dashboard-html';
import { DASHBOARD_CSP, REFRESH_SECONDS, renderDashboardPage } from '../../shared/dashboard/dashboard-page';
import { renderHtmlReport } from '../../shared/verify/reports/report-html';
import { completedReport } from '../../shared/verify/status/verification-status';
import { VERIFICATION_ID_PATTERN } from '../../shared/verify/verification-request';
import { Orchestrations } from '../../orchestrators/names';
import { DEFAULT_WINDOW_DAYS, readDashboard } from './dashboard-sources';
import { findInstance, snapshotOf } from './durable-instances';
import { json, problem } from './http-json';

const MAX_WINDOW_DAYS = 90;

/** A whole-number query parameter within bounds, its default when absent, or undefined when it is not one. */
function whole(request: HttpRequest, name: string, fallback: number, min: number, max: number): number | undefined {
  const text = request.query.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  return /^\d+$/.test(text) && value >= min && value <= max ? value : undefined;
}

function html(status: number, body: string, csp?: string): HttpResponseInit {
  return {
    status,
    body,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...(csp === undefined ? {} : { 'content-security-policy': csp }),
    },
  };
}

async function read(request: HttpRequest, context: InvocationContext): Promise<{ data: DashboardData } | { response: HttpResponseInit }> {
  const days = whole(request, 'days', DEFAULT_WINDOW_DAYS, 1, MAX_WINDOW_DAYS);
  if (days === undefined) return { response: problem(400, 'invalid request', `days must be a whole number from 1 to ${MAX_WINDOW_DAYS}`) };
  return { data: await readDashboard(df.getClient(context), context, days) };
}

async function dashboardPage(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const refresh = whole(request, 'refresh', REFRESH_SECONDS.default, REFRESH_SECONDS.min, REFRESH_SECONDS.max);
  if (refresh === undefined)
    return problem(400, 'invalid request', `refresh must be a whole number of seconds from ${REFRESH_SECONDS.min} to ${REFRESH_SECONDS.max}`);
  const found = await read(request, context);
  if ('response' in found) return found.response;
  return html(200, renderDashboardPage(found.data, { refreshSeconds: refresh }), DASHBOARD_CSP);
}

async function dashboardData(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const found = await read(request, context);
  if ('response' in found) return found.response;
  return json(200, found.data, { 'cache-control': 'no-store' });
}

async function dashboardSections(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const found = await read(request, context);
  if ('response' in found) return found.response;
  return html(200, renderDashboardSections(found.data));
}

/** A finished verification's report as the self-contained HTML page `icebridge verify --report` writes. */
async function verificationReport(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = request.params.id ?? '';
  if (!VERIFICATION_ID_PATTERN.test(id)) return problem(400, 'invalid request', 'not a verification id');
  try {
    const status = await findInstance(df.getClient(context), id);
    if (!status || status.name !== Orchestrations.verifyDatabase) return problem(404, 'not found', `no verification with id ${id}`);
    const report = await completedReport(environmentFromSettings(loadSettings()).catalog.io, snapshotOf(status));
    if (report === undefined) return problem(409, 'conflict', `the verification ${id} has not completed; its report is written when it has`);
    // The report page carries its own Content-Security-Policy (it fetches nothing at all).
    return html(200, renderHtmlReport(report, { title: `icebridge verification ${id}` }));
  } catch (error) {
    context.error(`reading the report of ${id} failed: ${errorMessage(error)}`);
    return problem(503, 'unavailable', 'the report could not be read; try again');
  }
}

/** The Content-Security-Policy of a job's report: its own inline style and script, nothing fetched. */
const JOB_REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** A scheduled job run's HTML report (`report.html` in its reports folder), as the job wrote it. */
async function jobReport(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const settings = loadSettings();
  let location: string;
  try {
    location = `${jobReportsLocation(settings.warehouse, request.params.job ?? '', request.params.slot ?? '')}/report.html`;
  } catch (error) {
    return problem(400, 'invalid request', errorMessage(error));
  }
  try {
    const io = environmentFromSettings(settings).catalog.io;
    if ((await io.stat(location)) === undefined) return problem(404, 'not found', 'this job run wrote no HTML report');
    return html(200, new TextDecoder().decode(await io.read(location)), JOB_REPORT_CSP);
  } catch (error) {
    context.error(`reading a job report failed: ${errorMessage(error)}`);
    return problem(503, 'unavailable', 'the report could not be read; try again');
  }
}

for (const [name, route, handler] of [
  ['dashboard', 'dashboard', dashboardPage],
  ['dashboardData', 'dashboard/data', dashboardData],
  ['dashboardSections', 'dashboard/sections', dashboardSections],
  ['dashboardVerificationReport', 'dashboard/verifications/{id}/report', verificationReport],
  ['dashboardJobReport', 'dashboard/jobs/{job}/{slot}/report', jobReport],
] as const) {
  app.http(name, { route, methods: ['GET'], authLevel: 'function', extraInputs: [df.input.durableClient()], handler });
}
