/**
 * Orchestration history events in the JSON shape the Durable Functions extension sends to out-of-process workers:
 * the Durable Task Framework's `HistoryEvent` classes, PascalCase fields, numeric `EventType`. durable-functions
 * parses exactly these fields (`lib/src/history/*` and `TaskOrchestrationExecutor`); a test pins the numbers to the
 * library's own `HistoryEventType` enum.
 */

/** Numeric history event types (Durable Task Framework `EventType`). */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
} as const;

/** One of the numeric event types. */
export type EventTypeValue = (typeof EventType)[keyof typeof EventType];

/** Durable Task Framework `OrchestrationStatus`, as carried by ExecutionCompleted. */
export const OrchestrationStatusCode = { Running: 0, Completed: 1, ContinuedAsNew: 2, Failed: 3, Terminated: 5, Pending: 6 } as const;

/** Structured failure, as the extension reports it when an exception properties provider is registered. */
export interface FailureDetailsPayload {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
  IsNonRetriable?: boolean;
  Properties?: Record<string, unknown>;
}

/** A history event. Fields beyond the four common ones depend on `EventType`. */
export interface HistoryEvent {
  EventType: EventTypeValue;
  /** The sequence number for scheduling events (TaskScheduled, TimerCreated, SubOrchestrationInstanceCreated), else -1. */
  EventId: number;
  IsPlayed: boolean;
  /** ISO-8601 UTC; the library turns it into a Date. */
  Timestamp: string;
  Name?: string;
  Version?: string;
  /** JSON text of the payload (activity input, event data, orchestration input). */
  Input?: string;
  /** JSON text of a result. */
  Result?: string;
  Reason?: string;
  Details?: string;
  FailureDetails?: FailureDetailsPayload;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  InstanceId?: string;
  OrchestrationStatus?: number;
  OrchestrationInstance?: { InstanceId: string; ExecutionId: string };
  ParentInstance?: { Name: string; TaskScheduleId: number; OrchestrationInstance: { InstanceId: string; ExecutionId: string } };
  /** Free-form tags (the Durable Task Framework has them on scheduling events); the local host marks skipped retries here. */
  Tags?: Record<string, string>;
}

/** Tag on a TaskScheduled/SubOrchestrationInstanceCreated event that the host fails without running (retry timeout elapsed). */
export const SKIPPED_ATTEMPT_TAG = 'localHost.skippedAttempt';

/** Events that reserve a sequence number. */
export const SCHEDULING_EVENT_TYPES: ReadonlySet<number> = new Set([
  EventType.TaskScheduled,
  EventType.TimerCreated,
  EventType.SubOrchestrationInstanceCreated,
]);

/** Creates an event with the common fields; `EventId` defaults to -1 like the framework's non-scheduling events. */
export function historyEvent(type: EventTypeValue, timestamp: string, fields: Partial<HistoryEvent> = {}): HistoryEvent {
  return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: timestamp, ...fields };
}

/** JSON text for a payload; `undefined` stays absent, as the framework stores a null input. */
export function toJsonText(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

/** Parses JSON text from an event; absent or empty text is `undefined`. */
export function fromJsonText(text: string | undefined): unknown {
  return text === undefined || text === '' ? undefined : JSON.parse(text);
}

/** The id a completion event answers (TaskScheduledId, or TimerId for TimerFired); undefined for other events. */
export function answeredId(event: HistoryEvent): number | undefined {
  switch (event.EventType) {
    case EventType.TaskCompleted:
    case EventType.TaskFailed:
    case EventType.SubOrchestrationInstanceCompleted:
    case EventType.SubOrchestrationInstanceFailed:
      return event.TaskScheduledId;
    case EventType.TimerFired:
      return event.TimerId;
    default:
      return undefined;
  }
}

/** The framework's short description of an event, used in non-determinism messages. */
export function describeEvent(event: HistoryEvent): string {
  const typeName = Object.entries(EventType).find(([, value]) => value === event.EventType)?.[0] ?? String(event.EventType);
  return `${typeName}Event: ${event.EventId} ${typeName}${event.Name ? ` ${event.Name}` : ''}`;
}

/** Narrows a parsed journal value to a history event (shape check of the common fields). */
export function isHistoryEvent(value: unknown): value is HistoryEvent {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.EventType === 'number' && typeof record.EventId === 'number' && typeof record.Timestamp === 'string';
}
