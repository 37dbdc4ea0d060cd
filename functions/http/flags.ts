/**
 * The cutover flags over HTTP: `GET /api/flags` (every flag with its etag), `PUT /api/flags/{name}` (a reason
 * required, `If-Match` honoured: 412 when the flag changed since it was read) and `POST /api/rollback` (every
 * icebridge flag back to PostgreSQL, audited, alerting, idempotent). Changing calls need an operator
 * (operator-auth.ts).
 */
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import { loadSettings } from '../../shared/config/settings';
import { raiseRollbackAlert } from '../../shared/alerts/raise-alert';
import { IcebridgeError, ValidationError } from '../../shared/errors';
import { type FeatureFlag, parseFeatureFlag } from '../../shared/flags/feature-flag';
import { type RollbackAlert, flagFromValue, rollbackToPostgres, setFlag } from '../../shared/flags/flag-changes';
import { FlagConflictError } from '../../shared/flags/flag-store';
import { type FlagSetup, flagSetupFromEnv } from '../../shared/flags/flag-settings';
import { json, problem, readJsonBody } from './http-json';
import { authorizeOperator } from './operator-auth';
import { type LogFields, errorFields } from '../../shared/telemetry/logger';
import { invocationLog } from './invocation-log';

function setup(): FlagSetup {
  const settings = loadSettings();
  return flagSetupFromEnv(process.env, settings.warehouse, settings.storage);
}

async function listFlags(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    return json(200, { flags: await setup().store.list() });
  } catch (error) {
    return failed(error, context, 'listing flags');
  }
}

interface PutBody {
  reason?: unknown;
  table?: unknown;
  /** `on`, `off` or a percentage, or… */
  value?: unknown;
  /** …a whole feature-flag document. */
  flag?: unknown;
}

async function putFlag(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const operator = authorizeOperator(request);
  if ('response' in operator) return operator.response;
  const name = request.params['name'] ?? '';
  try {
    const body = ((await readJsonBody(request)) ?? {}) as PutBody;
    if (typeof body.reason !== 'string' || body.reason.trim() === '') throw new ValidationError('a reason is required: {"reason": "…"}');
    if (body.table !== undefined && typeof body.table !== 'string') throw new ValidationError('"table" must be schema.table');
    let flag: FeatureFlag;
    if (body.flag !== undefined) flag = parseFeatureFlag(name, body.flag);
    else if (typeof body.value === 'string' || typeof body.value === 'number' || typeof body.value === 'boolean')
      flag = flagFromValue(name, valueText(body.value));
    else throw new ValidationError('give "value" (on, off or a percentage) or "flag" (a feature-flag document)');
    const ifMatch = request.headers.get('if-match')?.replace(/^"(.*)"$/, '$1');
    const { store, audit } = setup();
    const result = await setFlag(
      store,
      audit,
      { name, ...(body.table === undefined ? {} : { label: body.table }), flag, ...(ifMatch ? { ifMatch } : {}) },
      { actor: operator.actor, reason: body.reason },
    );
    return json(200, result, { etag: `"${result.etag}"` });
  } catch (error) {
    return failed(error, context, `setting flag ${name}`);
  }
}

async function rollback(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const operator = authorizeOperator(request);
  if ('response' in operator) return operator.response;
  try {
    const body = ((await readJsonBody(request)) ?? {}) as { reason?: unknown };
    if (typeof body.reason !== 'string' || body.reason.trim() === '') throw new ValidationError('a reason is required: {"reason": "…"}');
    const { store, audit } = setup();
    const result = await rollbackToPostgres(store, audit, { actor: operator.actor, reason: body.reason }, async (event) => {
      invocationLog(context).error('emergency rollback to PostgreSQL', rollbackAlertFields(event));
      await raiseRollbackAlert(event);
    });
    return json(200, result);
  } catch (error) {
    return failed(error, context, 'the emergency rollback');
  }
}

function valueText(value: string | number | boolean): string {
  return typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
}

function failed(error: unknown, context: InvocationContext, what: string): HttpResponseInit {
  if (error instanceof FlagConflictError) return problem(412, 'precondition failed', error.message);
  if (error instanceof ValidationError) return problem(400, 'invalid request', error.message);
  if (error instanceof IcebridgeError) return problem(error.retryable ? 503 : 400, error.code, error.message);
  invocationLog(context).error(`${what} failed`, errorFields(error));
  return problem(500, 'internal error', `${what} failed`);
}

/** The alert as log fields: the entries an unwritable audit trail would have held travel as one JSON text. */
function rollbackAlertFields(alert: RollbackAlert): LogFields {
  const { changed, entries, ...rest } = alert;
  return { ...rest, changed: changed.join(', '), ...(entries === undefined ? {} : { entries: JSON.stringify(entries) }) };
}

app.http('listFlags', { route: 'flags', methods: ['GET'], authLevel: 'function', handler: listFlags });
app.http('putFlag', { route: 'flags/{name}', methods: ['PUT'], authLevel: 'function', handler: putFlag });
app.http('emergencyRollback', { route: 'rollback', methods: ['POST'], authLevel: 'function', handler: rollback });
