/** In-memory state of one orchestration instance and the status view the durable client sees. */
import { EventType, type HistoryEvent } from './history-events';
import type { InboxEntry, InstanceMeta, RestoredInstance, RuntimeStatus, StatusSnapshot } from './journal';

/** An instance's status as `client.getStatus` returns it (DurableOrchestrationStatus fields). */
export interface InstanceStatus {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: HistoryEvent[];
}

/** Options of `getStatus`. */
export interface GetStatusOptions {
  showHistory?: boolean;
  showInput?: boolean;
}

const TERMINAL: ReadonlySet<RuntimeStatus> = new Set(['Completed', 'Failed', 'Terminated']);

/** Whether no further episode will run for this status. */
export function isTerminal(status: RuntimeStatus): boolean {
  return TERMINAL.has(status);
}

/** Mutable instance state owned by the engine. */
export class Instance {
  meta: InstanceMeta;
  history: HistoryEvent[];
  inbox: InboxEntry[];
  nextSeq: number;
  status: StatusSnapshot;
  episodeActive = false;
  dispatched = false;
  /** Stored size of the current execution's history (its episode lines), for the history ceiling. */
  historyBytes = 0;
  readonly timers = new Set<NodeJS.Timeout>();
  readonly waiters = new Set<() => void>();

  constructor(restored: RestoredInstance) {
    this.meta = restored.meta;
    this.history = restored.history;
    this.inbox = restored.inbox;
    this.nextSeq = restored.nextSeq;
    this.status = restored.status;
  }

  get id(): string {
    return this.meta.instanceId;
  }

  get terminal(): boolean {
    return isTerminal(this.status.runtimeStatus);
  }

  /** Stops timers and wakes everyone waiting for completion. */
  settle(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of [...this.waiters]) wake();
  }

  /** Scheduling events of the current execution with no answer in the history or the inbox (in flight). */
  inFlight(): HistoryEvent[] {
    const answered = new Set<number>();
    for (const event of [...this.history, ...this.inbox.map((entry) => entry.event)]) {
      if (event.EventType === EventType.TimerFired && event.TimerId !== undefined) answered.add(event.TimerId);
      else if (event.TaskScheduledId !== undefined) answered.add(event.TaskScheduledId);
    }
    return this.history.filter(
      (event) =>
        (event.EventType === EventType.TaskScheduled ||
          event.EventType === EventType.TimerCreated ||
          event.EventType === EventType.SubOrchestrationInstanceCreated) &&
        !answered.has(event.EventId),
    );
  }

  /** The status view; absent input/output/customStatus are null, as the extension reports them. */
  view(options: GetStatusOptions = {}): InstanceStatus {
    const status: InstanceStatus = {
      name: this.meta.name,
      instanceId: this.meta.instanceId,
      runtimeStatus: this.status.runtimeStatus,
      input: options.showInput === false ? null : structuredClone(this.meta.input ?? null),
      output: structuredClone(this.status.output ?? null),
      customStatus: structuredClone(this.status.customStatus ?? null),
      createdTime: this.meta.createdTime,
      lastUpdatedTime: this.status.lastUpdatedTime,
    };
    if (options.showHistory) status.historyEvents = structuredClone(this.history);
    return status;
  }
}
