import { IcebridgeError, ValidationError } from '../../errors';

/** Stable error codes FileIO implementations raise besides NOT_FOUND, ALREADY_EXISTS and INVALID_ARGUMENT. */
export const StorageErrorCode = {
  /** The caller's abort signal fired. */
  aborted: 'ABORTED',
  /** The storage did not answer within the configured time. */
  timeout: 'STORAGE_TIMEOUT',
  /** A transient failure (5xx, throttling, connection reset); retrying may succeed. */
  unavailable: 'STORAGE_UNAVAILABLE',
  /** The credentials were refused; a person has to fix the settings. */
  accessDenied: 'STORAGE_ACCESS_DENIED',
  /** Any other storage failure. */
  failed: 'STORAGE_ERROR',
} as const;

/**
 * Drops a query string or fragment before a location goes into a message: a pasted SAS URL carries its token
 * there, and messages end up in logs and HTTP responses.
 */
export function redactLocation(location: string): string {
  const cut = location.search(/[?#]/);
  return cut === -1 ? location : `${location.slice(0, cut)}?<redacted>`;
}

/** Error for an operation whose caller aborted it. */
export function abortedError(operation: string, location: string): IcebridgeError {
  return new IcebridgeError(StorageErrorCode.aborted, `${operation} of ${redactLocation(location)} was aborted`);
}

/** Throws the aborted error when `signal` has fired, so no work starts after a caller gave up. */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string, location: string): void {
  if (signal?.aborted) throw abortedError(operation, location);
}

/** Checks `readRange` arguments that can be rejected without looking at the file. */
export function validateRangeArguments(location: string, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new ValidationError(`readRange of ${redactLocation(location)}: offset and length must be non-negative integers ` + `(got ${offset}, ${length})`);
  }
}

/** Error for a range that does not lie inside the file: a short read would silently truncate what the caller parses. */
export function rangeOutsideFileError(location: string, offset: number, length: number, size: number): ValidationError {
  return new ValidationError(`readRange of ${redactLocation(location)}: bytes [${offset}, ${offset + length}) ` + `lie outside the file (size ${size})`);
}
