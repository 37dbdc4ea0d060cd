/**
 * One orchestrator episode through durable-functions' own replay engine: the registered handler (the library's
 * `createOrchestrator` wrapper) gets the trigger input the extension sends — `{ history, input, instanceId,
 * isReplaying, parentInstanceId, upperSchemaVersion, ... }` — and answers with an `OrchestratorState`, or throws an
 * `OrchestrationFailureError` whose message carries that state after `$OutOfProcData$:` (its `error` field has the
 * orchestrator's message). The state is JSON round-tripped before decoding, as on the wire.
 */
import { decodeOrchestratorState, UPPER_SCHEMA_VERSION, type OrchestratorOutcome } from './actions';
import { EventType, type HistoryEvent } from './history-events';
import { createInvocationContext, type HostLog } from './invocation-context';
import type { FunctionRegistration } from './registry';

/** Timer settings the extension sends with schema V3+. The local host fires any timer natively, so "short" is 10 years. */
const MAXIMUM_SHORT_TIMER_DURATION = '3650.00:00:00';
const LONG_RUNNING_TIMER_INTERVAL = '3.00:00:00';
const DEFAULT_HTTP_ASYNC_SLEEP_IN_MS = 30_000;
const OUT_OF_PROC_DATA_LABEL = '\n\n$OutOfProcData$:';

/** What one episode needs. */
export interface OrchestratorInvocation {
  registration: FunctionRegistration;
  instanceId: string;
  parentInstanceId?: string;
  input: unknown;
  history: readonly HistoryEvent[];
  log: HostLog;
}

/** The decoded answer, plus a note when an action re-submits a task scheduled before (see `findResubmittedAction`). */
export interface OrchestratorAnswer extends OrchestratorOutcome {
  resubmitted?: string;
}

/** The trigger input object, with IsPlayed set on events from earlier episodes as the extension does. */
export function buildOrchestrationTrigger(invocation: Omit<OrchestratorInvocation, 'registration' | 'log'>): Record<string, unknown> {
  let lastStarted = -1;
  invocation.history.forEach((event, index) => {
    if (event.EventType === EventType.OrchestratorStarted) lastStarted = index;
  });
  // A deep copy each time: the library rewrites Timestamp strings into Dates and sets flags on what it receives.
  const history = invocation.history.map((event, index) => ({ ...structuredClone(event), IsPlayed: index < lastStarted }));
  return {
    history,
    input: invocation.input === undefined ? undefined : structuredClone(invocation.input),
    instanceId: invocation.instanceId,
    isReplaying: lastStarted > 0,
    parentInstanceId: invocation.parentInstanceId,
    upperSchemaVersion: UPPER_SCHEMA_VERSION,
    upperSchemaVersionNew: UPPER_SCHEMA_VERSION,
    maximumShortTimerDuration: MAXIMUM_SHORT_TIMER_DURATION,
    longRunningTimerIntervalDuration: LONG_RUNNING_TIMER_INTERVAL,
    defaultHttpAsyncRequestSleepTimeMillseconds: DEFAULT_HTTP_ASYNC_SLEEP_IN_MS,
  };
}

function describeRawAction(action: Record<string, unknown>): string {
  const name = typeof action.functionName === 'string' ? ` '${action.functionName}'` : '';
  return `action type ${String(action.actionType)}${name}`;
}

/**
 * The same action object appearing twice means a Task.any/Task.all was built over tasks that were already yielded
 * (e.g. `yield Task.any(pending)` in a loop). The extension cannot tell such re-submissions apart and schedules them
 * again (azure-functions-durable-js#574): duplicate activity runs, and results landing on the wrong task.
 */
export function findResubmittedAction(rawActions: unknown): string | undefined {
  const seen = new Set<object>();
  const visit = (value: unknown): string | undefined => {
    if (Array.isArray(value)) {
      for (const item of value) {
        const found = visit(item);
        if (found) return found;
      }
      return undefined;
    }
    if (typeof value !== 'object' || value === null) return undefined;
    const action = value as Record<string, unknown>;
    if (Array.isArray(action.compoundActions)) return visit(action.compoundActions);
    if (seen.has(action)) return describeRawAction(action);
    seen.add(action);
    return undefined;
  };
  return visit(rawActions);
}

function stateFromFailure(error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  const at = message.indexOf(OUT_OF_PROC_DATA_LABEL);
  if (at >= 0) {
    try {
      return JSON.parse(message.slice(at + OUT_OF_PROC_DATA_LABEL.length));
    } catch {
      // Fall through: an unreadable payload is reported as a plain failure.
    }
  }
  return { isDone: false, actions: [[]], error: message, schemaVersion: UPPER_SCHEMA_VERSION };
}

/** Runs the orchestrator over `history` and decodes its answer; a throwing orchestrator yields `error`. */
export async function invokeOrchestrator(invocation: OrchestratorInvocation): Promise<OrchestratorAnswer> {
  const trigger = buildOrchestrationTrigger(invocation);
  const context = createInvocationContext(invocation.registration, invocation.log, { instanceId: invocation.instanceId });
  let raw: unknown;
  let resubmitted: string | undefined;
  try {
    const state = await invocation.registration.handler(trigger, context);
    resubmitted = findResubmittedAction((state as { actions?: unknown } | undefined)?.actions);
    raw = JSON.parse(JSON.stringify(state ?? null));
  } catch (error) {
    raw = stateFromFailure(error);
  }
  return { ...decodeOrchestratorState(raw), resubmitted };
}
