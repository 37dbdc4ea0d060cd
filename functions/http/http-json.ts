/** JSON request and response helpers for the HTTP functions: bounded bodies, 4xx with a reason, no internals. */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { IcebridgeError, TableNotFoundError, ValidationError } from '../../shared/errors';
import { errorFields } from '../../shared/telemetry/logger';
import { invocationLog } from './invocation-log';

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } };
}

/** A 4xx/5xx response with a reason a person can act on. */
export function problem(status: number, error: string, reason: string): HttpResponseInit {
  return json(status, { error, reason });
}

/** Reads and parses a JSON body; a ValidationError for a missing, oversized or malformed one. */
export async function readJsonBody(request: HttpRequest): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw new ValidationError(`the request body is larger than ${MAX_BODY_BYTES} bytes`);
  const text = await request.text();
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw new ValidationError(`the request body is larger than ${MAX_BODY_BYTES} bytes`);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('the request body is not valid JSON');
  }
}

/** The answer to a start request that failed before anything started: 400 for bad input, 503 when retrying may help. */
export function rejectedRequest(error: unknown, context: InvocationContext, what: string): HttpResponseInit {
  if (error instanceof ValidationError || error instanceof TableNotFoundError) return problem(400, 'invalid request', error.message);
  if (error instanceof IcebridgeError) return problem(error.retryable ? 503 : 400, error.code, error.message);
  invocationLog(context).error(`starting a ${what} failed`, errorFields(error));
  return problem(500, 'internal error', `the ${what} could not be started`);
}

/**
 * The answer to an operation that failed after it was accepted (callers answer their own 404 and 409 first): 400 for
 * bad input, 503 when retrying may help, else 500 with the reason left in the app log (`logged`), never in the reply.
 */
export function failedOperation(error: unknown, context: InvocationContext, what: string, logged = `${what} failed`): HttpResponseInit {
  if (error instanceof ValidationError) return problem(400, 'invalid request', error.message);
  if (error instanceof IcebridgeError && error.retryable) return problem(503, error.code, error.message);
  invocationLog(context).error(logged, errorFields(error));
  return problem(500, 'internal error', `the ${what} failed; the reason is in the app log`);
}

/** The app's own status URL of the run `id` under `/api/<route>/`. */
export function statusUrlOf(request: HttpRequest, route: string, id: string): string {
  return new URL(`/api/${route}/${encodeURIComponent(id)}`, request.url).toString();
}

/** 202 Accepted with the app's own status URL for the run `id` under `/api/<route>/`. */
export function accepted(request: HttpRequest, route: string, id: string, alreadyStarted: boolean): HttpResponseInit {
  const statusUrl = statusUrlOf(request, route, id);
  return json(202, { id, statusUrl, alreadyStarted }, { location: statusUrl, 'retry-after': String(RETRY_AFTER_SECONDS) });
}

/** Seconds a poller is asked to wait before asking again about a run in progress. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * A run's status report as Durable's async HTTP pattern answers it: 202 with Location (this URL) and
 * Retry-After while the run is in progress, 200 once it has finished; the body is the report either way.
 */
export function runStatus(request: HttpRequest, report: unknown, finished: boolean): HttpResponseInit {
  if (finished) return json(200, report);
  // The page asked for is kept; anything else in the query (a function key) is not echoed back.
  const location = new URL(request.url);
  for (const name of [...location.searchParams.keys()]) if (name !== 'offset' && name !== 'limit') location.searchParams.delete(name);
  return json(202, report, { location: location.toString(), 'retry-after': String(RETRY_AFTER_SECONDS) });
}
