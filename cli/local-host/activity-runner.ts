/**
 * Runs one activity the way the extension's activity shim does and answers with the completion event: TaskCompleted
 * with the JSON result, or TaskFailed with Reason `Activity function '<name>' failed: <message>` and the cause as JSON
 * in Details. durable-functions turns that into `new Error(Reason + " \n " + Details)` in the orchestrator; with an
 * exception properties provider registered, the activity wrapper puts failure JSON in the message, which becomes
 * FailureDetails (the library then raises a TaskFailedError).
 */
import { EventType, fromJsonText, historyEvent, type FailureDetailsPayload, type HistoryEvent } from './history-events';
import { createInvocationContext, type HostLog } from './invocation-context';
import { formatTimeSpan, payloadProblem, type DurableLimits } from './limits';
import { hasTrigger, type FunctionRegistration } from './registry';

/** The activity call the engine hands over. */
export interface ActivityCall {
  registration: FunctionRegistration | undefined;
  scheduled: HistoryEvent;
  instanceId: string;
  log: HostLog;
  limits: DurableLimits;
  /** Told of an invocation that timed out but still runs, so its concurrency slot is held until it ends. */
  onAbandoned?: (work: Promise<unknown>) => void;
}

/** A TaskFailed event for `scheduled` with the extension's reason wording. */
export function taskFailed(scheduled: HistoryEvent, message: string, details: string, failureDetails?: FailureDetailsPayload): HistoryEvent {
  return historyEvent(EventType.TaskFailed, new Date().toISOString(), {
    TaskScheduledId: scheduled.EventId,
    Reason: `Activity function '${scheduled.Name ?? ''}' failed: ${message}`,
    Details: details,
    FailureDetails: failureDetails,
  });
}

function failureDetailsFrom(message: string): FailureDetailsPayload | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const dto = parsed as Record<string, unknown>;
    if (typeof dto.errorType !== 'string' || typeof dto.errorMessage !== 'string') return undefined;
    return {
      ErrorType: dto.errorType,
      ErrorMessage: dto.errorMessage,
      StackTrace: typeof dto.stackTrace === 'string' ? dto.stackTrace : undefined,
      IsNonRetriable: dto.isNonRetriable === true,
      Properties: typeof dto.properties === 'object' && dto.properties !== null ? (dto.properties as Record<string, unknown>) : undefined,
    };
  } catch {
    return undefined;
  }
}

/** Invokes the activity and returns its TaskCompleted or TaskFailed event. */
export async function runActivity(call: ActivityCall): Promise<HistoryEvent> {
  const { registration, scheduled } = call;
  const name = scheduled.Name ?? '';
  if (!registration || !hasTrigger(registration, 'activityTrigger')) {
    const message = `Activity function '${name}' does not exist.`;
    return taskFailed(scheduled, message, JSON.stringify({ Message: message }));
  }
  const tooLarge = (what: string, json: string | undefined): HistoryEvent | undefined => {
    const problem = payloadProblem(call.limits, what, json);
    return problem === undefined ? undefined : taskFailed(scheduled, problem, JSON.stringify({ Message: problem }));
  };
  const refusedInput = tooLarge(`The input of activity '${name}' (instance '${call.instanceId}')`, scheduled.Input);
  if (refusedInput) return refusedInput;
  try {
    const input = fromJsonText(scheduled.Input);
    const context = createInvocationContext(registration, call.log, { instanceId: call.instanceId });
    const work = Promise.resolve(registration.handler(input, context));
    const outcome = await withTimeout(work, call.limits.functionTimeoutInMs);
    if (outcome.timedOut) {
      call.onAbandoned?.(work);
      // As on Azure the invocation fails and whatever it returns later is dropped (the promise is left to settle alone).
      const message = `Timeout value of ${formatTimeSpan(outcome.timeoutInMs)} exceeded by function 'Functions.${name}' (Id: '${context.invocationId}'). Initiating cancellation.`;
      return taskFailed(scheduled, message, JSON.stringify({ Message: message, ErrorType: 'Microsoft.Azure.WebJobs.Host.FunctionTimeoutException' }));
    }
    // A function without a return value reports null, which the library parses back to null.
    const result = JSON.stringify(outcome.value) ?? 'null';
    return (
      tooLarge(`The result of activity '${name}' (instance '${call.instanceId}')`, result) ??
      historyEvent(EventType.TaskCompleted, new Date().toISOString(), { TaskScheduledId: scheduled.EventId, Result: result })
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const stack = error instanceof Error ? error.stack : undefined;
    const failureDetails = failureDetailsFrom(message);
    const reasonMessage = failureDetails ? failureDetails.ErrorMessage : message;
    return taskFailed(scheduled, reasonMessage, JSON.stringify({ Message: reasonMessage, StackTrace: stack ?? null }), failureDetails);
  }
}

type TimedOutcome<T> = { timedOut: false; value: T } | { timedOut: true; timeoutInMs: number };

/** Settles with the work's value, or as timed out after `timeoutInMs` (the work itself cannot be stopped). */
function withTimeout<T>(work: Promise<T>, timeoutInMs: number | false): Promise<TimedOutcome<T>> {
  if (timeoutInMs === false) return work.then((value) => ({ timedOut: false, value }));
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<TimedOutcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true, timeoutInMs }), timeoutInMs);
  });
  // A late rejection of abandoned work must not become an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work.then((value): TimedOutcome<T> => ({ timedOut: false, value })), expired]).finally(() => clearTimeout(timer));
}
