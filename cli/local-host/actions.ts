/**
 * The orchestrator's answer to one episode (durable-functions `OrchestratorState`) after a JSON round trip, as the
 * extension receives it: `{ isDone, actions, output, error, customStatus, schemaVersion }`. Schema V1 (0) nests one
 * array per yield with Task.all/any flattened; V2 and later (1, 2, 3) send one array with WhenAll/WhenAny nodes.
 */

/** Numeric action types (durable-functions `ActionType`, the extension's `AsyncActionType`). */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

/** Replay schema the host asks for: durable-functions 3.5.0's newest (`ReplaySchema.V4`). */
export const UPPER_SCHEMA_VERSION = 3;

/** Retry settings of CallActivityWithRetry/CallSubOrchestratorWithRetry, with the framework's defaults filled in. */
export interface RetryPolicy {
  firstRetryIntervalInMs: number;
  maxNumberOfAttempts: number;
  backoffCoefficient: number;
  maxRetryIntervalInMs: number;
  retryTimeoutInMs: number;
}

/** One action, decoded. Inputs are values (the library JSON-encodes string activity inputs once more; undone here). */
export type OrchestratorAction =
  | { kind: 'activity'; name: string; input: unknown; retry?: RetryPolicy }
  | { kind: 'subOrchestration'; name: string; input: unknown; instanceId?: string; retry?: RetryPolicy }
  | { kind: 'timer'; fireAt: string; isCanceled: boolean }
  | { kind: 'externalEvent'; name: string }
  | { kind: 'continueAsNew'; input: unknown }
  | { kind: 'whenAll' | 'whenAny'; children: OrchestratorAction[] }
  | { kind: 'unsupported'; description: string };

/** The decoded orchestrator state. */
export interface OrchestratorOutcome {
  isDone: boolean;
  /** Outer array: one entry per yield in V1, exactly one entry in V2+. */
  actions: OrchestratorAction[][];
  output: unknown;
  error?: string;
  customStatus: unknown;
  schemaVersion: number;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`orchestrator state: ${what} is not an object`);
  return value as Record<string, unknown>;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`orchestrator state: ${what} is not a non-empty string`);
  return value;
}

function finiteOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Decodes RetryOptions JSON; absent optional fields take the framework defaults (coefficient 1, no cap, no timeout). */
export function decodeRetryOptions(value: unknown): RetryPolicy {
  const options = record(value, 'retryOptions');
  const first = options.firstRetryIntervalInMilliseconds;
  const attempts = options.maxNumberOfAttempts;
  if (typeof first !== 'number' || !(first > 0)) throw new TypeError('retryOptions.firstRetryIntervalInMilliseconds must be > 0');
  if (typeof attempts !== 'number' || !Number.isInteger(attempts)) throw new TypeError('retryOptions.maxNumberOfAttempts must be an integer');
  return {
    firstRetryIntervalInMs: first,
    maxNumberOfAttempts: attempts,
    backoffCoefficient: finiteOr(options.backoffCoefficient, 1),
    maxRetryIntervalInMs: finiteOr(options.maxRetryIntervalInMilliseconds, Number.POSITIVE_INFINITY),
    retryTimeoutInMs: finiteOr(options.retryTimeoutInMilliseconds, Number.POSITIVE_INFINITY),
  };
}

/** `Utils.processInput` JSON-encodes string inputs of activities and continueAsNew; the extension hands the value on. */
function processedInput(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** Decodes one action object. */
export function decodeAction(value: unknown): OrchestratorAction {
  const action = record(value, 'action');
  const type = action.actionType;
  switch (type) {
    case ActionType.CallActivity:
      return { kind: 'activity', name: text(action.functionName, 'functionName'), input: processedInput(action.input) };
    case ActionType.CallActivityWithRetry:
      return {
        kind: 'activity',
        name: text(action.functionName, 'functionName'),
        input: processedInput(action.input),
        retry: decodeRetryOptions(action.retryOptions),
      };
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry: {
      const instanceId = typeof action.instanceId === 'string' && action.instanceId !== '' ? action.instanceId : undefined;
      const retry = type === ActionType.CallSubOrchestratorWithRetry ? decodeRetryOptions(action.retryOptions) : undefined;
      return { kind: 'subOrchestration', name: text(action.functionName, 'functionName'), input: action.input, instanceId, retry };
    }
    case ActionType.CreateTimer:
      return { kind: 'timer', fireAt: new Date(text(action.fireAt, 'fireAt')).toISOString(), isCanceled: action.isCanceled === true };
    case ActionType.WaitForExternalEvent:
      return { kind: 'externalEvent', name: text(action.externalEventName, 'externalEventName') };
    case ActionType.ContinueAsNew:
      return { kind: 'continueAsNew', input: processedInput(action.input) };
    case ActionType.WhenAll:
    case ActionType.WhenAny: {
      if (!Array.isArray(action.compoundActions)) throw new TypeError('orchestrator state: compoundActions is not an array');
      return { kind: type === ActionType.WhenAll ? 'whenAll' : 'whenAny', children: action.compoundActions.map(decodeAction) };
    }
    default: {
      const name = Object.entries(ActionType).find(([, code]) => code === type)?.[0] ?? `actionType ${String(type)}`;
      return { kind: 'unsupported', description: name };
    }
  }
}

/** Decodes a JSON-round-tripped `OrchestratorState`. */
export function decodeOrchestratorState(value: unknown): OrchestratorOutcome {
  const state = record(value, 'state');
  if (!Array.isArray(state.actions)) throw new TypeError('orchestrator state: actions is not an array');
  const actions = state.actions.map((group: unknown) => {
    if (!Array.isArray(group)) throw new TypeError('orchestrator state: an action group is not an array');
    return group.map(decodeAction);
  });
  const schemaVersion = typeof state.schemaVersion === 'number' ? state.schemaVersion : 0;
  if (schemaVersion > 0 && actions.length !== 1) throw new TypeError(`orchestrator state: schema ${schemaVersion} expects exactly one action group`);
  return {
    isDone: state.isDone === true,
    actions,
    output: state.output,
    error: typeof state.error === 'string' ? state.error : undefined,
    customStatus: state.customStatus,
    schemaVersion,
  };
}

/**
 * Delay before the next attempt, as the Durable Task Framework's RetryInterceptor computes it after failed attempt
 * number `failedAttempt` (1-based), or `undefined` once `retryTimeoutInMs` has passed since the first attempt.
 */
export function nextRetryDelayInMs(policy: RetryPolicy, failedAttempt: number, firstAttemptAtMs: number, nowMs: number): number | undefined {
  if (nowMs >= firstAttemptAtMs + policy.retryTimeoutInMs) return undefined;
  const delay = policy.firstRetryIntervalInMs * policy.backoffCoefficient ** (failedAttempt - 1);
  return Math.min(delay, policy.maxRetryIntervalInMs);
}
