/**
 * Runs one activity the way the extension's activity shim does and answers with the completion event: TaskCompleted
 * with the JSON result, or TaskFailed with Reason `Activity function '<name>' failed: <message>` and the cause as JSON
 * in Details. durable-functions turns that into `new Error(Reason + " \n " + Details)` in the orchestrator; with an
 * exception properties provider registered, the activity wrapper puts failure JSON in the message, which becomes
 * FailureDetails (the library then raises a TaskFailedError).
 */
import { EventType, fromJsonText, historyEvent, type FailureDetailsPayload, type HistoryEvent } from './history-events';
import { createInvocationContext, type HostLog } from './invocation-context';
import { hasTrigger, type FunctionRegistration } from './registry';

/** The activity call the engine hands over. */
export interface ActivityCall {
  registration: FunctionRegistration | undefined;
  scheduled: HistoryEvent;
  instanceId: string;
  log: HostLog;
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
  try {
    const input = fromJsonText(scheduled.Input);
    const context = createInvocationContext(registration, call.log, { instanceId: call.instanceId });
    const result = await registration.handler(input, context);
    return historyEvent(EventType.TaskCompleted, new Date().toISOString(), {
      TaskScheduledId: scheduled.EventId,
      // A function without a return value reports null, which the library parses back to null.
      Result: JSON.stringify(result) ?? 'null',
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const stack = error instanceof Error ? error.stack : undefined;
    const failureDetails = failureDetailsFrom(message);
    const reasonMessage = failureDetails ? failureDetails.ErrorMessage : message;
    return taskFailed(scheduled, reasonMessage, JSON.stringify({ Message: reasonMessage, StackTrace: stack ?? null }), failureDetails);
  }
}
