/**
 * POST /api/verifications starts a verification (202 with the app's own status URL); GET
 * /api/verifications/{id} reports its progress (202 while it runs) and, once finished (200), the report of the
 * page's tables, read from the table reports in storage;
 * POST /api/verifications/{id}/cancel stops it. The source database comes from the app's settings, never from the
 * request.
 */
import { randomUUID } from 'node:crypto';
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { environmentFromSettings, withSource } from '../../shared/run/environment';
import { describeTables } from '../../shared/postgres/introspect';
import type { VerifyDatabaseInput } from '../../shared/verify/contracts';
import { VERIFICATION_ID_PATTERN, parseVerificationRequest } from '../../shared/verify/verification-request';
import { buildVerificationStatus, completedReport } from '../../shared/verify/status/verification-status';
import { Orchestrations } from '../../orchestrators/names';
import { isFinished, tablesStarted } from '../../shared/run/instance-status';
import { findRun, pageOf, readTables, snapshotOf } from './durable-instances';
import { readJsonBody, rejectedRequest, runStatus } from './http-json';
import { cancelRun, startRun } from './run-control';

const VERIFICATIONS = { what: 'verification', route: 'verifications', idPattern: VERIFICATION_ID_PATTERN, orchestration: Orchestrations.verifyDatabase };

async function startVerification(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let input: VerifyDatabaseInput;
  try {
    const body = parseVerificationRequest(await readJsonBody(request));
    // The allowlist: every requested table must be a real table of the schema before anything starts.
    await withSource(environmentFromSettings(loadSettings()), (client) => describeTables(client, body.schema, body.tables));
    input = {
      verificationId: body.idempotencyKey ?? `ver-${randomUUID()}`,
      sourceSchema: body.schema,
      namespace: body.namespace,
      level: body.level,
      concurrency: body.concurrency,
      ...(body.tables ? { tables: body.tables } : {}),
      ...(body.tableConfig ? { tableConfig: body.tableConfig } : {}),
      ...(body.maxDifferences !== undefined ? { maxDifferences: body.maxDifferences } : {}),
      ...(body.samples !== undefined ? { samples: body.samples } : {}),
    };
  } catch (error) {
    return rejectedRequest(error, context, 'verification');
  }
  return startRun(request, context, VERIFICATIONS, input.verificationId, input);
}

async function getVerification(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const page = pageOf(request);
  if ('response' in page) return page.response;
  const found = await findRun(request, context, VERIFICATIONS);
  if ('response' in found) return found.response;
  const { id, client, run } = found;
  const started = tablesStarted(run.customStatus);
  const tables = await readTables(client, id, page.offset, Math.min(page.limit, started - page.offset), context);
  const snapshot = snapshotOf(run);
  const report = await completedReport(environmentFromSettings(loadSettings()).catalog.io, snapshot, page);
  return runStatus(request, buildVerificationStatus(id, snapshot, tables, page, Date.now(), report), isFinished(String(run.runtimeStatus)));
}

app.http('startVerification', {
  route: 'verifications',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: startVerification,
});

app.http('getVerification', {
  route: 'verifications/{id}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: getVerification,
});

app.http('cancelVerification', {
  route: 'verifications/{id}/cancel',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: (request: HttpRequest, context: InvocationContext) => cancelRun(request, context, VERIFICATIONS),
});
