/** JSON request and response helpers for the HTTP functions: bounded bodies, 4xx with a reason, no internals. */
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { ValidationError } from '../../shared/errors';

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
