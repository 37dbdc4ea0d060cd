/**
 * The extension side of one episode. The Durable Functions extension does not trust the worker's action list to say
 * what is new: its out-of-process shim replays the list inside a Durable Task Framework orchestration, awaiting each
 * top-level action in turn (V2+; V1 awaits any action of each yield group), while the framework feeds it the history.
 * Every call reserves the next sequence number; one already in the history is matched by event id (type and name
 * must agree, else the framework reports a non-deterministic workflow) and only the rest are new. Retries run as
 * the framework's RetryInterceptor does: attempt, timer, attempt, ..., and a timer after the last failed attempt too.
 * This module reproduces that walk so ids, retries and completion match the real host event for event.
 */
import { nextRetryDelayInMs, type OrchestratorAction, type RetryPolicy } from './actions';
import {
  EventType,
  SKIPPED_ATTEMPT_TAG,
  SCHEDULING_EVENT_TYPES,
  describeEvent,
  historyEvent,
  toJsonText,
  type EventTypeValue,
  type HistoryEvent,
} from './history-events';

/** Identity of the execution being replayed. */
export interface ShimReplayContext {
  instanceId: string;
  executionId: string;
  /** Timestamp for events created in this episode. */
  nowIso: string;
}

/** What the episode schedules and whether the shim got past every action (only then does completion count). */
export interface ShimReplayResult {
  newEvents: HistoryEvent[];
  actionsDone: boolean;
  continueAsNew?: { input: unknown };
}

/** A replay the framework would reject: non-determinism or an action the local host cannot run. */
export class ShimReplayError extends Error {
  override readonly name = 'ShimReplayError';
}

type Outcome = 'running' | 'succeeded' | 'failed' | 'canceled';

class TaskNode {
  outcome: Outcome = 'running';
  parent?: { childSettled(child: TaskNode): void };
  /** The completion event, for leaves. */
  event?: HistoryEvent;

  settle(outcome: Exclude<Outcome, 'running'>, event?: HistoryEvent): void {
    if (this.outcome !== 'running') return;
    this.outcome = outcome;
    this.event = event;
    this.parent?.childSettled(this);
  }
}

/** Task.WhenAll / Task.WhenAny over children: .NET semantics, so WhenAll waits for every child even after a fault. */
class GroupNode extends TaskNode {
  constructor(
    private readonly mode: 'all' | 'any',
    private readonly children: TaskNode[],
  ) {
    super();
    for (const child of children) child.parent = this;
    this.childSettled();
  }

  childSettled(): void {
    const settled = this.children.filter((child) => child.outcome !== 'running').length;
    const done = this.mode === 'any' ? settled > 0 || this.children.length === 0 : settled === this.children.length;
    if (!done) return;
    const failed = this.children.some((child) => child.outcome === 'failed');
    this.settle(this.mode === 'all' && failed ? 'failed' : 'succeeded');
  }
}

type RetriedCall = Extract<OrchestratorAction, { kind: 'activity' | 'subOrchestration' }> & { retry: RetryPolicy };

class RetryNode extends TaskNode {
  private attempt = 1;
  private waitingOnTimer = false;
  private exhausted = false;
  private readonly firstAttemptAtMs: number;

  constructor(
    private readonly replay: ShimEmulator,
    private readonly call: RetriedCall,
  ) {
    super();
    this.firstAttemptAtMs = replay.nowMs;
    replay.scheduleCall(call, this);
  }

  childSettled(child: TaskNode): void {
    if (this.waitingOnTimer) {
      this.waitingOnTimer = false;
      if (this.attempt > Math.max(1, this.call.retry.maxNumberOfAttempts)) this.settle('failed', this.event);
      else this.replay.scheduleCall(this.call, this, this.exhausted ? this.event : undefined);
      return;
    }
    if (child.outcome === 'succeeded') {
      this.settle('succeeded', child.event);
      return;
    }
    // Keep the failure on the node until the retries run out; it becomes the task's error then.
    this.event = child.event;
    let delay = this.exhausted ? 0 : nextRetryDelayInMs(this.call.retry, this.attempt, this.firstAttemptAtMs, this.replay.nowMs);
    if (delay === undefined) {
      // The framework would stop here without a timer, but durable-functions' RetryableTask then waits forever
      // for one. Remaining attempts are recorded as failed without running, so the orchestrator sees the error.
      this.exhausted = true;
      delay = 0;
    }
    this.attempt++;
    this.waitingOnTimer = true;
    this.replay.scheduleTimer(new Date(this.replay.nowMs + delay).toISOString(), false, this);
  }
}

class ShimEmulator {
  nowMs: number;
  continueAsNew?: { input: unknown };
  readonly newEvents: HistoryEvent[] = [];
  private nextId = 0;
  private readonly pending = new Map<number, TaskNode>();
  private readonly eventWaiters = new Map<string, TaskNode[]>();
  private readonly bufferedEvents = new Map<string, HistoryEvent[]>();
  private readonly scheduled = new Map<number, HistoryEvent>();
  private readonly matched = new Set<number>();

  constructor(
    private readonly history: readonly HistoryEvent[],
    private readonly context: ShimReplayContext,
  ) {
    for (const event of history) if (SCHEDULING_EVENT_TYPES.has(event.EventType)) this.scheduled.set(event.EventId, event);
    const started = history.find((event) => event.EventType === EventType.OrchestratorStarted);
    this.nowMs = Date.parse(started?.Timestamp ?? context.nowIso);
  }

  run(groups: readonly OrchestratorAction[][], schemaVersion: number): ShimReplayResult {
    const steps: Array<() => TaskNode> =
      schemaVersion === 0
        ? groups.map(
            (group) => () =>
              new GroupNode(
                'any',
                group.map((action) => this.schedule(action)),
              ),
          )
        : (groups[0] ?? []).map((action) => () => this.schedule(action));
    let cursor = 0;
    let actionsDone = true;
    for (const step of steps) {
      const node = step();
      while (node.outcome === 'running' && cursor < this.history.length) this.deliver(this.history[cursor++]!);
      if (node.outcome === 'running') {
        actionsDone = false;
        break;
      }
    }
    while (cursor < this.history.length) this.deliver(this.history[cursor++]!);
    for (const [id, event] of this.scheduled) {
      if (!this.matched.has(id))
        throw new ShimReplayError(`Non-Deterministic workflow detected: ${describeEvent(event)} is in the history, but the replay did not schedule it`);
    }
    return { newEvents: this.newEvents, actionsDone, continueAsNew: this.continueAsNew };
  }

  private schedule(action: OrchestratorAction): TaskNode {
    switch (action.kind) {
      case 'activity':
      case 'subOrchestration':
        return action.retry ? new RetryNode(this, { ...action, retry: action.retry }) : this.scheduleCall(action);
      case 'timer':
        return this.scheduleTimer(action.fireAt, action.isCanceled);
      case 'externalEvent': {
        const node = new TaskNode();
        const buffered = this.bufferedEvents.get(action.name);
        const event = buffered?.shift();
        if (event) node.settle('succeeded', event);
        else this.eventWaiters.set(action.name, [...(this.eventWaiters.get(action.name) ?? []), node]);
        return node;
      }
      case 'continueAsNew': {
        this.continueAsNew = { input: action.input };
        const node = new TaskNode();
        node.settle('succeeded');
        return node;
      }
      case 'whenAll':
      case 'whenAny':
        return new GroupNode(
          action.kind === 'whenAll' ? 'all' : 'any',
          action.children.map((child) => this.schedule(child)),
        );
      case 'unsupported':
        throw new ShimReplayError(`The local host does not support the ${action.description} action (entities and durable HTTP calls are not implemented).`);
    }
  }

  /** Schedules an activity or sub-orchestration; `skipAfter` marks an attempt the host fails without running. */
  scheduleCall(
    call: Extract<OrchestratorAction, { kind: 'activity' | 'subOrchestration' }>,
    parent?: TaskNode & { childSettled(child: TaskNode): void },
    skipAfter?: HistoryEvent,
  ): TaskNode {
    const id = this.nextId++;
    const type = call.kind === 'activity' ? EventType.TaskScheduled : EventType.SubOrchestrationInstanceCreated;
    if (!this.claim(id, type, call.name)) {
      const fields: Partial<HistoryEvent> = { EventId: id, Name: call.name, Input: toJsonText(call.input) };
      if (call.kind === 'subOrchestration') fields.InstanceId = call.instanceId ?? `${this.context.executionId}:${id}`;
      if (skipAfter) {
        const timeout = call.retry?.retryTimeoutInMs ?? 0;
        const note = `not attempted: the retry timeout of ${timeout} ms had elapsed`;
        fields.Tags = { [SKIPPED_ATTEMPT_TAG]: JSON.stringify({ Reason: skipAfter.Reason ?? 'retry timeout elapsed', Details: note }) };
      }
      this.newEvents.push(historyEvent(type, this.context.nowIso, fields));
    }
    return this.track(id, parent);
  }

  scheduleTimer(fireAt: string, isCanceled: boolean, parent?: TaskNode & { childSettled(child: TaskNode): void }): TaskNode {
    const id = this.nextId++;
    if (!this.claim(id, EventType.TimerCreated))
      this.newEvents.push(historyEvent(EventType.TimerCreated, this.context.nowIso, { EventId: id, FireAt: fireAt }));
    const node = this.track(id, parent);
    // A canceled timer still fires later (the event is ignored), but the shim's task completes right away.
    if (isCanceled) node.settle('canceled');
    return node;
  }

  private track(id: number, parent?: TaskNode & { childSettled(child: TaskNode): void }): TaskNode {
    const node = new TaskNode();
    node.parent = parent;
    this.pending.set(id, node);
    return node;
  }

  private claim(id: number, type: EventTypeValue, name?: string): boolean {
    const past = this.scheduled.get(id);
    if (!past) return false;
    if (past.EventType !== type || (name !== undefined && past.Name !== name)) {
      const now = name === undefined ? 'a timer' : `${type === EventType.TaskScheduled ? 'activity' : 'sub-orchestration'} '${name}'`;
      throw new ShimReplayError(`Non-Deterministic workflow detected: ${describeEvent(past)}, but the replay now schedules ${now} at event id ${id}`);
    }
    this.matched.add(id);
    return true;
  }

  private deliver(event: HistoryEvent): void {
    switch (event.EventType) {
      case EventType.OrchestratorStarted:
        this.nowMs = Date.parse(event.Timestamp);
        return;
      case EventType.TaskCompleted:
      case EventType.SubOrchestrationInstanceCompleted:
        return this.complete(event.TaskScheduledId, 'succeeded', event);
      case EventType.TimerFired:
        return this.complete(event.TimerId, 'succeeded', event);
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceFailed:
        return this.complete(event.TaskScheduledId, 'failed', event);
      case EventType.EventRaised: {
        const name = event.Name ?? '';
        // The extension keeps waiters on a stack, so the newest waiter gets the event, like the library's pop().
        const waiter = this.eventWaiters.get(name)?.pop();
        if (waiter) waiter.settle('succeeded', event);
        else this.bufferedEvents.set(name, [...(this.bufferedEvents.get(name) ?? []), event]);
        return;
      }
      default:
        return;
    }
  }

  private complete(id: number | undefined, outcome: 'succeeded' | 'failed', event: HistoryEvent): void {
    if (id === undefined) return;
    const node = this.pending.get(id);
    // The framework ignores completions it has no open task for (duplicates, canceled timers).
    if (!node) return;
    this.pending.delete(id);
    node.settle(outcome, event);
  }
}

/** Replays `actions` (from the orchestrator's answer to `history`) as the extension's shim does; throws ShimReplayError. */
export function replayShim(
  history: readonly HistoryEvent[],
  actions: readonly OrchestratorAction[][],
  schemaVersion: number,
  context: ShimReplayContext,
): ShimReplayResult {
  return new ShimEmulator(history, context).run(actions, schemaVersion);
}
