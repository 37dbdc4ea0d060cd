/**
 * Telemetry of every activity invocation, applied once where activities are registered: a span in the trace of
 * the orchestration instance that called it (shared/telemetry/tracing.ts explains the trace ids), and failures
 * counted by code. A permanent failure is an answer ({ ok: false, code }); a transient one is thrown and retried.
 */
import type { InvocationContext } from '@azure/functions';
import { errorMessage } from '../../shared/errors';
import type { ActivityOutcome } from '../../shared/migrate/contracts';
import { recordActivityFailure } from '../../shared/telemetry/metrics';
import { AttributeNames } from '../../shared/telemetry/names';
import { endActivitySpan, startActivitySpan, withActiveSpan } from '../../shared/telemetry/tracing';
import { TransientActivityError } from './activity-outcome';

/** The code of a thrown failure that did not come through activityOutcome. */
const UNCLASSIFIED = 'UNEXPECTED';

/** The orchestration instance that scheduled the activity: Durable's trigger metadata carries it. */
export function invocationInstanceId(context: InvocationContext): string | undefined {
  const id = context.triggerMetadata?.instanceId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Runs one activity invocation inside its span and records how it failed, if it did. */
export async function observeActivity<T>(
  activity: string,
  input: unknown,
  context: InvocationContext,
  run: () => Promise<ActivityOutcome<T>>,
): Promise<ActivityOutcome<T>> {
  const span = startActivitySpan(activity, invocationInstanceId(context), input);
  // The host's own request record of this invocation has another operation id; its invocation id joins the two.
  span.setAttribute(AttributeNames.invocationId, context.invocationId);
  try {
    const answer = await withActiveSpan(span, run);
    if (answer.ok) endActivitySpan(span);
    else {
      recordActivityFailure({ activity, code: answer.code, retryable: false });
      endActivitySpan(span, { code: answer.code, message: answer.reason });
    }
    return answer;
  } catch (error) {
    const code = error instanceof TransientActivityError ? error.code : UNCLASSIFIED;
    recordActivityFailure({ activity, code, retryable: true });
    endActivitySpan(span, { code, message: errorMessage(error) });
    throw error;
  }
}
