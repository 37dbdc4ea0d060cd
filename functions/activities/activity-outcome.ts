/**
 * Turns a use case's result into what the orchestrator sees: a value, a permanent failure as a result object
 * (so RetryOptions do not retry what cannot succeed), or a thrown Error(reason) for transient failures.
 */
import { IcebridgeError, errorMessage } from '../../shared/errors';
import type { ActivityOutcome } from '../../shared/migrate/contracts';

/** A transient failure as thrown to the orchestration: the message only, plus the code telemetry counts it by. */
export class TransientActivityError extends Error {
  /** The failure's stable code (`UNEXPECTED` for an error that is not an IcebridgeError). */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Runs `fn` and classifies its outcome. */
export async function activityOutcome<T>(fn: () => Promise<T>): Promise<ActivityOutcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    if (error instanceof IcebridgeError && !error.retryable) return { ok: false, code: error.code, reason: error.message };
    // The message only: stacks and causes may carry details that do not belong in history.
    throw new TransientActivityError(error instanceof IcebridgeError ? error.code : 'UNEXPECTED', errorMessage(error));
  }
}
