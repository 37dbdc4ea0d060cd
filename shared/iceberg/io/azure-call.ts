import { AlreadyExistsError, IcebridgeError, NotFoundError } from '../../errors';
import { StorageErrorCode, abortedError, redactLocation } from './io-errors';

/** What one SDK call gets: the signal to hand to the SDK, and a way to say the call is still making progress. */
export interface AzureCallContext {
  signal: AbortSignal;
  /** Restarts the deadline; called per received chunk so long downloads fail on stalls, not on size. */
  touch: () => void;
}

/** Options of `callAzure`. */
export interface CallAzureOptions {
  abortSignal?: AbortSignal;
  timeoutInMs: number;
  /** Turns 409/412 into AlreadyExistsError: only right for requests that carried `If-None-Match: *`. */
  exclusive?: boolean;
}

/** Facts about an SDK error that are safe to render: never its message, which can carry request details. */
export interface AzureErrorFacts {
  statusCode?: number;
  errorCode?: string;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const SAFE_TOKEN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Runs one SDK call under a deadline joined with the caller's signal, and turns whatever it throws into our
 * errors. The SDK's own retries run inside the deadline, so an unreachable endpoint fails within `timeoutInMs`.
 */
export async function callAzure<T>(
  operation: string,
  location: string,
  options: CallAzureOptions,
  call: (context: AzureCallContext) => Promise<T>,
): Promise<T> {
  const caller = options.abortSignal;
  if (caller?.aborted) throw abortedError(operation, location);
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const touch = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, options.timeoutInMs);
  };
  const onCallerAbort = (): void => controller.abort();
  caller?.addEventListener('abort', onCallerAbort, { once: true });
  touch();
  try {
    return await call({ signal: controller.signal, touch });
  } catch (error) {
    if (caller?.aborted) throw abortedError(operation, location);
    if (timedOut) {
      throw new IcebridgeError(StorageErrorCode.timeout, `Azure ${operation} of ${redactLocation(location)} made no progress for ${options.timeoutInMs} ms`, {
        retryable: true,
      });
    }
    throw toStorageError(error, operation, location, options.exclusive === true);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    caller?.removeEventListener('abort', onCallerAbort);
  }
}

/** Status and service error code of an SDK error, if it has them. */
export function azureErrorFacts(error: unknown): AzureErrorFacts {
  if (typeof error !== 'object' || error === null) return {};
  const record = error as { statusCode?: unknown; code?: unknown; details?: unknown };
  const statusCode = typeof record.statusCode === 'number' ? record.statusCode : undefined;
  let errorCode = typeof record.code === 'string' ? record.code : undefined;
  // HEAD responses have no body, so the service's code only arrives in details (from x-ms-error-code).
  if (errorCode === undefined && typeof record.details === 'object' && record.details !== null) {
    const fromDetails = (record.details as { errorCode?: unknown }).errorCode;
    if (typeof fromDetails === 'string') errorCode = fromDetails;
  }
  return { statusCode, errorCode: errorCode !== undefined && SAFE_TOKEN.test(errorCode) ? errorCode : undefined };
}

/**
 * Our error for an SDK error. The message is built only from operation, location, status and error code; the SDK
 * error is deliberately not kept as `cause` because its request (URL with a SAS, headers) can hold secrets.
 */
export function toStorageError(error: unknown, operation: string, location: string, exclusive: boolean): Error {
  if (error instanceof IcebridgeError) return error;
  const { statusCode, errorCode } = azureErrorFacts(error);
  const where = redactLocation(location);
  const kind = error instanceof Error && SAFE_TOKEN.test(error.name) ? error.name : 'error';
  // Without a status, an error code means the request never got an answer (ECONNREFUSED, ECONNRESET, ...).
  const isNetwork = statusCode === undefined && errorCode !== undefined;
  const detail = statusCode !== undefined ? `HTTP ${statusCode} ${errorCode ?? ''}`.trim() : isNetwork ? `network error ${errorCode}` : `unexpected ${kind}`;
  const message = `Azure ${operation} of ${where} failed: ${detail}`;
  // An abort nobody here asked for (a shared container creation that hit another call's deadline) is transient.
  if (kind === 'AbortError') {
    const cutShort = `Azure ${operation} of ${where} was cut short`;
    return new IcebridgeError(StorageErrorCode.timeout, cutShort, { retryable: true });
  }
  if (statusCode === 404) return new NotFoundError(`Azure ${operation}: ${where} does not exist (${detail})`);
  if (exclusive && (statusCode === 409 || statusCode === 412)) {
    return new AlreadyExistsError(`Azure ${operation}: ${where} already exists (${detail})`);
  }
  if (statusCode === 401 || statusCode === 403) {
    return new IcebridgeError(StorageErrorCode.accessDenied, `${message}; check the storage account credentials`);
  }
  if (isNetwork || (statusCode !== undefined && RETRYABLE_STATUS.has(statusCode))) {
    return new IcebridgeError(StorageErrorCode.unavailable, message, { retryable: true });
  }
  return new IcebridgeError(StorageErrorCode.failed, message);
}
