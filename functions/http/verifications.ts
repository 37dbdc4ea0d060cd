/**
 * POST /api/verifications starts a verification (202 with the app's own status URL); GET
 * /api/verifications/{id} reports its progress and, once finished, the whole report. The source database comes
 * from the app's settings, never from the request.
 */
import { randomUUID } from 'node:crypto';
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { errorMessage } from '../../shared/errors';
import { environmentFromSettings, withSource } from '../../shared/migrate/environment';
import { describeTables } from '../../shared/postgres/introspect';
import type { VerificationProgress, VerifyDatabaseInput } from '../../shared/verify/contracts';
import { VERIFICATION_ID_PATTERN, parseVerificationRequest } from '../../shared/verify/verification-request';
import { buildVerificationStatus } from '../../shared/verify/verification-status';
import { Orchestrations } from '../../orchestrators/names';
import { findInstance, snapshotOf, startOnce, subInstances } from './durable-instances';
import { accepted, json, problem, readJsonBody, rejectedRequest } from './http-json';

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
  const client = df.getClient(context);
  let alreadyStarted: boolean;
  try {
    alreadyStarted = await startOnce(client, Orchestrations.verifyDatabase, input.verificationId, input);
  } catch (error) {
    context.error(`starting verification ${input.verificationId} failed: ${errorMessage(error)}`);
    return problem(503, 'unavailable', 'the verification could not be started; try again');
  }
  return accepted(request, 'verifications', input.verificationId, alreadyStarted);
}

async function getVerification(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = request.params.id ?? '';
  if (!VERIFICATION_ID_PATTERN.test(id)) return problem(400, 'invalid request', 'not a verification id');
  const client = df.getClient(context);
  let run: df.DurableOrchestrationStatus | undefined;
  try {
    run = await findInstance(client, id);
  } catch (error) {
    context.error(`reading verification ${id} failed: ${errorMessage(error)}`);
    return problem(503, 'unavailable', 'the verification status could not be read; try again');
  }
  // Ids share one instance space: a verification id names a verifyDatabase instance, nothing else.
  if (!run || run.name !== Orchestrations.verifyDatabase) return problem(404, 'not found', `no verification with id ${id}`);
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
