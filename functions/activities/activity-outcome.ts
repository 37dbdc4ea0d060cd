/**
 * Turns a use case's result into what the orchestrator sees: a value, a permanent failure as a result object
 * (so RetryOptions do not retry what cannot succeed), or a thrown Error(reason) for transient failures.
 */
import { IcebridgeError, errorMessage } from '../../shared/errors';
import type { ActivityOutcome } from '../../shared/migrate/contracts';

/** Runs `fn` and classifies its outcome. */
export async function activityOutcome<T>(fn: () => Promise<T>): Promise<ActivityOutcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    if (error instanceof IcebridgeError && !error.retryable) return { ok: false, code: error.code, reason: error.message };
    // A plain Error with the message only: stacks and causes may carry details that do not belong in history.
    throw new Error(errorMessage(error));
  }
}
