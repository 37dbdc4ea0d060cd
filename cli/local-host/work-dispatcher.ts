/**
 * Starts the work an episode scheduled and turns its end into inbox events: activities (bounded by
 * maxConcurrentActivities, at least once), durable timers (re-armed past setTimeout's range) and sub-orchestrations
 * (which report SubOrchestrationInstanceCompleted/Failed to their parent's execution).
 */
import { runActivity } from './activity-runner';
import { EventType, SKIPPED_ATTEMPT_TAG, fromJsonText, historyEvent, type HistoryEvent } from './history-events';
import type { Instance } from './instance';
import type { HostLog } from './invocation-context';
import type { ParentRef } from './journal';
import { payloadProblem, type DurableLimits } from './limits';
import type { FunctionRegistration } from './registry';
import { Semaphore } from './semaphore';

/** Callbacks into the engine and limits. */
export interface WorkDispatcherOptions {
  registrations: ReadonlyMap<string, FunctionRegistration>;
  maxConcurrentActivities: number;
  limits: DurableLimits;
  log: HostLog;
  deliver(instance: Instance, executionId: string, event: HistoryEvent): Promise<void>;
  startChild(name: string, input: unknown, instanceId: string, parent: ParentRef): Promise<string>;
  instance(instanceId: string): Instance | undefined;
  isClosed(): boolean;
}

/** setTimeout's longest delay; longer timers are re-armed. */
const MAX_TIMEOUT_IN_MS = 2 ** 31 - 1;

function skippedAttempt(event: HistoryEvent): { Reason: string; Details: string } | undefined {
  const tag = event.Tags?.[SKIPPED_ATTEMPT_TAG];
  return tag === undefined ? undefined : (JSON.parse(tag) as { Reason: string; Details: string });
}

/** Dispatches scheduled work for the engine. */
export class WorkDispatcher {
  readonly #options: WorkDispatcherOptions;
  readonly #activities: Semaphore;

  /** Creates a dispatcher with its own activity concurrency limit. */
  constructor(options: WorkDispatcherOptions) {
    this.#options = options;
    this.#activities = new Semaphore(options.maxConcurrentActivities);
  }

  /** Starts the work behind one scheduling event of `executionId`. */
  dispatch(instance: Instance, executionId: string, event: HistoryEvent): void {
    switch (event.EventType) {
      case EventType.TaskScheduled:
        return this.#activity(instance, executionId, event);
      case EventType.TimerCreated:
        return this.#timer(instance, executionId, event);
      case EventType.SubOrchestrationInstanceCreated:
        return this.#subOrchestration(instance, executionId, event);
      default:
        return;
    }
  }

  /** Tells a finished sub-orchestration's parent how it ended. */
  notifyParent(child: Instance): void {
    const parentRef = child.meta.parent;
    const parent = parentRef && this.#options.instance(parentRef.instanceId);
    if (!parentRef || !parent) return;
    const now = new Date().toISOString();
    const { runtimeStatus, output } = child.status;
    const event =
      runtimeStatus === 'Completed'
        ? historyEvent(EventType.SubOrchestrationInstanceCompleted, now, {
            TaskScheduledId: parentRef.taskScheduledId,
            Result: JSON.stringify(output) ?? 'null',
          })
        : historyEvent(EventType.SubOrchestrationInstanceFailed, now, {
            TaskScheduledId: parentRef.taskScheduledId,
            Reason: runtimeStatus === 'Failed' ? String(output) : `Orchestrator function '${child.meta.name}' was terminated: ${String(output)}`,
            Details: JSON.stringify({ Message: String(output), InstanceId: child.id }),
          });
    void this.#options.deliver(parent, parentRef.executionId, event);
  }

  #activity(instance: Instance, executionId: string, scheduled: HistoryEvent): void {
    const skipped = skippedAttempt(scheduled);
    if (skipped) {
      void this.#options.deliver(
        instance,
        executionId,
        historyEvent(EventType.TaskFailed, new Date().toISOString(), { TaskScheduledId: scheduled.EventId, ...skipped }),
      );
      return;
    }
    void this.#activities
      .use(async () => {
        // A slot may free up long after scheduling; skip work whose answer nobody would take.
        if (this.#options.isClosed() || instance.terminal || instance.meta.executionId !== executionId) return;
        const registration = this.#options.registrations.get(scheduled.Name ?? '');
        let abandoned: Promise<unknown> | undefined;
        const completion = await runActivity({
          registration,
          scheduled,
          instanceId: instance.id,
          log: this.#options.log,
          limits: this.#options.limits,
          onAbandoned: (work) => {
            abandoned = work;
          },
        });
        await this.#options.deliver(instance, executionId, completion);
        // A timed-out invocation goes on running (its threads, its connections): it keeps its slot until it ends, so
        // the retry the timeout causes does not run beside it beyond maxConcurrentActivities.
        if (abandoned) await abandoned.catch(() => undefined);
      })
      .catch((error: unknown) => this.#options.log('error', 'host', `activity ${scheduled.Name ?? ''} of ${instance.id}: ${String(error)}`));
  }

  #timer(instance: Instance, executionId: string, created: HistoryEvent): void {
    const fireAt = created.FireAt ?? created.Timestamp;
    const fireAtMs = Date.parse(fireAt);
    const arm = (): void => {
      const handle = setTimeout(
        () => {
          instance.timers.delete(handle);
          if (Date.now() < fireAtMs) return arm();
          void this.#options.deliver(
            instance,
            executionId,
            historyEvent(EventType.TimerFired, new Date().toISOString(), { TimerId: created.EventId, FireAt: fireAt }),
          );
        },
        Math.min(Math.max(0, fireAtMs - Date.now()), MAX_TIMEOUT_IN_MS),
      );
      instance.timers.add(handle);
    };
    arm();
  }

  #subOrchestration(parent: Instance, executionId: string, created: HistoryEvent): void {
    const failed = (reason: string, details: string): void =>
      void this.#options.deliver(
        parent,
        executionId,
        historyEvent(EventType.SubOrchestrationInstanceFailed, new Date().toISOString(), {
          TaskScheduledId: created.EventId,
          Reason: reason,
          Details: details,
        }),
      );
    const skipped = skippedAttempt(created);
    if (skipped) return failed(skipped.Reason, skipped.Details);
    const childId = created.InstanceId ?? `${executionId}:${created.EventId}`;
    const refusedInput = payloadProblem(this.#options.limits, `The input of sub-orchestration '${created.Name ?? ''}' (instance '${childId}')`, created.Input);
    if (refusedInput) return failed(`Orchestrator function '${created.Name ?? ''}' failed: ${refusedInput}`, JSON.stringify({ Message: refusedInput }));
    const ref: ParentRef = { instanceId: parent.id, executionId, taskScheduledId: created.EventId };
    const existing = this.#options.instance(childId);
    const ours = existing?.meta.parent;
    if (existing && ours && ours.instanceId === ref.instanceId && ours.executionId === ref.executionId && ours.taskScheduledId === ref.taskScheduledId) {
      // Resuming: the child exists already. A running child reports when it ends; a finished one never reached us.
      if (existing.terminal) this.notifyParent(existing);
      return;
    }
    this.#options.startChild(created.Name ?? '', fromJsonText(created.Input), childId, ref).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      failed(`Orchestrator function '${created.Name ?? ''}' failed: ${message}`, JSON.stringify({ Message: message }));
    });
  }
}
