/**
 * POST /api/verifications starts a verification (202 with the app's own status URL); GET
 * /api/verifications/{id} reports its progress and, once finished, the whole report. The source database comes
 * from the app's settings, never from the request.
 */
import { randomUUID } from 'node:crypto';
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { environmentFromSettings, withSource } from '../../shared/migrate/environment';
import { describeTables } from '../../shared/postgres/introspect';
import type { VerificationProgress, VerifyDatabaseInput } from '../../shared/verify/contracts';
import { VERIFICATION_ID_PATTERN, parseVerificationRequest } from '../../shared/verify/verification-request';
import { buildVerificationStatus } from '../../shared/verify/verification-status';
import { Orchestrations } from '../../orchestrators/names';
import { findRun, snapshotOf, startRun, subInstances } from './durable-instances';
import { json, readJsonBody, rejectedRequest } from './http-json';

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
  const found = await findRun(request, context, VERIFICATIONS);
  if ('response' in found) return found.response;
  const { id, client, run } = found;
  const progress = (run.customStatus ?? {}) as Partial<VerificationProgress>;
  const tables = await subInstances(client, progress.tableInstances ?? {});
  return json(200, buildVerificationStatus(id, snapshotOf(run), tables, Date.now()));
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
