/**
 * The orchestration engine: instances, their inboxes and episodes. An episode takes every event waiting in the
 * inbox, appends OrchestratorStarted + those events to the history, replays the orchestrator over the whole history
 * (as the real host does on every new event), lets the shim replay decide what is new, persists the episode as one
 * journal line and only then starts the work it scheduled (activities, timers, sub-orchestrations).
 */
import { randomUUID } from 'node:crypto';
import { replayShim, ShimReplayError, type ShimReplayResult } from './shim-replay';
import { invokeOrchestrator, type OrchestratorAnswer } from './orchestrator-runner';
import { EventType, OrchestrationStatusCode, historyEvent, toJsonText, type HistoryEvent } from './history-events';
import { Instance, type GetStatusOptions, type InstanceStatus } from './instance';
import { EngineError, InstanceStore } from './instance-store';
import type { HostLog } from './invocation-context';
import type { EpisodeRecord, InstanceJournal, ParentRef, RuntimeStatus } from './journal';
import { episodeLimitProblem } from './episode-limits';
import { payloadProblem, utf8Bytes, type DurableLimits } from './limits';
import { hasTrigger, type FunctionRegistration } from './registry';
import { Semaphore } from './semaphore';
import { WorkDispatcher } from './work-dispatcher';

/** What to do when an orchestrator re-submits an already scheduled task (see `findResubmittedAction`). */
export type ResubmittedTaskPolicy = 'fail' | 'reschedule';

/**
 * A start of an id whose instance is Pending or Running: `refuse` answers 409 as the Durable Task Scheduler and MSSQL
 * backends do; `azure-storage` accepts it (202) and drops the duplicate, as the Azure Storage backend does.
 */
export type StartRacePolicy = 'refuse' | 'azure-storage';

export { EngineError };

/** Engine settings. */
export interface EngineOptions {
  registrations: ReadonlyMap<string, FunctionRegistration>;
  journal: InstanceJournal;
  maxConcurrentActivities: number;
  maxConcurrentOrchestrations: number;
  resubmittedTasks: ResubmittedTaskPolicy;
  startRace: StartRacePolicy;
  limits: DurableLimits;
  log: HostLog;
}

/** Result of a management call on an instance. */
export type ManagementResult = 'accepted' | 'notFound' | 'gone';

/** A side-effect-free replay of an instance's stored history. */
export interface ReplayReport {
  answer: OrchestratorAnswer;
  shim?: ShimReplayResult;
  problem?: string;
}

/** Options of `waitForCompletion`. */
export interface WaitForCompletionOptions {
  timeoutInMs: number;
}

interface Resolution {
  status: RuntimeStatus;
  output?: unknown;
  nextInput?: unknown;
  /** The custom status the episode set was refused: the previous one stays. */
  keepCustomStatus?: boolean;
}

const compactId = (): string => randomUUID().replace(/-/g, '');

/** Runs orchestration instances against the captured registrations. */
export class OrchestrationEngine {
  readonly #options: EngineOptions;
  readonly #instances: InstanceStore;
  readonly #episodes = new Set<Promise<void>>();
  readonly #dispatcher: WorkDispatcher;
  readonly #episodeSlots: Semaphore;
  #closed = false;

  /** Creates an engine; call `restore()` before use when a journal has state. */
  constructor(options: EngineOptions) {
    this.#options = options;
    this.#instances = new InstanceStore(options.journal);
    this.#episodeSlots = new Semaphore(options.maxConcurrentOrchestrations);
    this.#dispatcher = new WorkDispatcher({
      registrations: options.registrations,
      maxConcurrentActivities: options.maxConcurrentActivities,
      limits: options.limits,
      log: options.log,
      deliver: (instance, executionId, event) => this.deliver(instance, executionId, event),
      startChild: (name, input, instanceId, parent) => this.start(name, input, instanceId, parent),
      instance: (instanceId) => this.#instances.loaded(instanceId),
      isClosed: () => this.#closed,
    });
  }

  /** Lists the journaled instances from their status records; no journal is read and no work starts. */
  async restore(): Promise<void> {
    await this.#instances.restore();
  }

  /** Loads an instance's journal (streamed) so its history is in memory; damaged journals are an EngineError. */
  async load(instanceId: string): Promise<Instance | undefined> {
    return this.#instances.load(instanceId);
  }

  /** Ids of `rootId`'s tree: itself, ids starting with `rootId:` and instances whose parents lead to it. */
  treeIds(rootId: string): string[] {
    return this.#instances.treeIds(rootId);
  }

  /**
   * Loads the whole tree of `rootId` (finished children too, so a parent finds them) and restarts the in-flight work
   * and pending episodes of its unfinished instances. Nothing resumes when any journal of the tree is damaged.
   */
  async resumeTree(rootId: string): Promise<void> {
    const instances: Instance[] = [];
    // A sub-orchestration resumes with its whole run: a child finishing without its parent loaded would report to nobody.
    for (const id of this.treeIds(this.#instances.rootOf(rootId))) {
      const instance = await this.#instances.load(id);
      if (instance) instances.push(instance);
    }
    for (const instance of instances) this.#resume(instance);
  }

  /** Resumes every unfinished tree; a tree whose journals are damaged stays stopped and is returned with the reason. */
  async resumeAll(): Promise<Array<{ rootId: string; problem: string }>> {
    const roots = new Set(
      this.#instances
        .ids()
        .filter((id) => !this.#instances.isFinished(id))
        .map((id) => this.#instances.rootOf(id)),
    );
    const failures: Array<{ rootId: string; problem: string }> = [];
    for (const rootId of roots) {
      try {
        await this.resumeTree(rootId);
      } catch (error) {
        const problem = error instanceof Error ? error.message : String(error);
        failures.push({ rootId, problem });
        this.#options.log('error', 'host', problem);
      }
    }
    return failures;
  }

  #resume(instance: Instance): void {
    if (instance.terminal || instance.dispatched) return;
    instance.dispatched = true;
    for (const event of instance.inFlight()) this.#dispatcher.dispatch(instance, instance.meta.executionId, event);
    if (instance.inbox.length > 0) this.#requestEpisode(instance);
  }

  /** Starts an orchestration; an id in use by a Pending or Running instance is refused, a finished one is replaced. */
  async start(name: string, input: unknown, instanceId?: string, parent?: ParentRef): Promise<string> {
    if (this.#closed) throw new EngineError('the host is closed', 503);
    const registration = this.#options.registrations.get(name);
    if (!registration || !hasTrigger(registration, 'orchestrationTrigger')) {
      throw new EngineError(`The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`, 400);
    }
    const id = instanceId ?? compactId();
    const refusedInput = payloadProblem(this.#options.limits, `The input of orchestration '${name}' (instance '${id}')`, toJsonText(input));
    if (refusedInput) throw new EngineError(refusedInput, 400);
    const damaged = this.#instances.problem(id);
    // A damaged journal is never overwritten by a start: the person who deletes it decides.
    if (damaged) throw new EngineError(damaged, 409);
    const running = this.#instances.has(id) && !this.#instances.isFinished(id) ? this.#instances.runtimeStatus(id) : undefined;
    if (running) {
      if (this.#options.startRace === 'azure-storage') {
        this.#options.log('warning', 'host', `start of '${id}' while it is ${running}: accepted and dropped, as the Azure Storage backend does`);
        return id;
      }
      throw new EngineError(`An Orchestration instance with the status ${running} already exists.`, 409);
    }
    this.#instances.loaded(id)?.settle();
    const executionId = compactId();
    const createdTime = new Date().toISOString();
    const started = historyEvent(EventType.ExecutionStarted, createdTime, {
      Name: name,
      Input: toJsonText(input),
      OrchestrationInstance: { InstanceId: id, ExecutionId: executionId },
      ParentInstance: parent
        ? {
            Name: this.#instances.loaded(parent.instanceId)?.meta.name ?? '',
            TaskScheduleId: parent.taskScheduledId,
            OrchestrationInstance: { InstanceId: parent.instanceId, ExecutionId: parent.executionId },
          }
        : undefined,
    });
    const meta = { instanceId: id, name, executionId, input, createdTime, parent };
    const entry = { seq: 0, event: started };
    const instance = new Instance({
      meta,
      history: [],
      inbox: [entry],
      nextSeq: 1,
      status: { runtimeStatus: 'Pending', customStatus: null, output: null, lastUpdatedTime: createdTime },
    });
    instance.dispatched = true;
    this.#instances.put(instance);
    await this.#options.journal.create(meta, entry);
    this.#requestEpisode(instance);
    return id;
  }

  /** Queues an event for the instance's next episode (resolves once it is durable); dropped when the instance moved on. */
  deliver(instance: Instance, executionId: string, event: HistoryEvent): Promise<void> {
    if (this.#closed || instance.terminal || instance.meta.executionId !== executionId || this.#instances.loaded(instance.id) !== instance)
      return Promise.resolve();
    const entry = { seq: instance.nextSeq++, event };
    instance.inbox.push(entry);
    const written = this.#options.journal.appendInbox(instance.id, executionId, entry);
    written.catch((error: unknown) => this.#options.log('error', 'host', `journal write failed for ${instance.id}: ${String(error)}`));
    this.#requestEpisode(instance);
    return written;
  }

  /**
   * Status of an instance from memory or its status record, or undefined. Throws an EngineError for a damaged
   * instance and for one whose answer needs its journal (use `loadedStatus`).
   */
  getStatus(instanceId: string, options?: GetStatusOptions): InstanceStatus | undefined {
    return this.#instances.view(instanceId, options);
  }

  /** Status of an instance, loading its journal when the answer needs it (history, large fields). */
  async loadedStatus(instanceId: string, options?: GetStatusOptions): Promise<InstanceStatus | undefined> {
    if (this.#instances.needsLoad(instanceId, options)) await this.#instances.load(instanceId);
    return this.#instances.view(instanceId, options);
  }

  /** Statuses of all instances that can be read; damaged ones are left out (and logged). */
  async list(options?: GetStatusOptions): Promise<InstanceStatus[]> {
    const statuses: InstanceStatus[] = [];
    for (const id of this.#instances.ids()) {
      try {
        const status = await this.loadedStatus(id, options);
        if (status) statuses.push(status);
      } catch (error) {
        this.#options.log('warning', 'host', error instanceof Error ? error.message : String(error));
      }
    }
    return statuses;
  }

  /** The current execution's history and the events waiting for the next episode (loaded instances; see `load`). */
  getHistory(instanceId: string): { history: HistoryEvent[]; pending: HistoryEvent[] } | undefined {
    const instance = this.#instances.loaded(instanceId);
    if (!instance) {
      if (this.#instances.has(instanceId)) throw new EngineError(`instance '${instanceId}' is not loaded; load it first`, 500);
      return undefined;
    }
    return { history: structuredClone(instance.history), pending: instance.inbox.map((entry) => structuredClone(entry.event)) };
  }

  /** Raises an external event; resolves once the event is durable. */
  raiseEvent(instanceId: string, eventName: string, data: unknown): Promise<ManagementResult> {
    const refused = payloadProblem(this.#options.limits, `The data of event '${eventName}' for instance '${instanceId}'`, toJsonText(data));
    if (refused) return Promise.reject(new EngineError(refused, 400));
    return this.#manage(instanceId, historyEvent(EventType.EventRaised, new Date().toISOString(), { Name: eventName, Input: toJsonText(data) }));
  }

  /** Terminates a running instance (its output becomes the reason); resolves once the request is durable. */
  terminate(instanceId: string, reason: string): Promise<ManagementResult> {
    return this.#manage(instanceId, historyEvent(EventType.ExecutionTerminated, new Date().toISOString(), { Input: toJsonText(reason) }));
  }

  /** Terminates every unfinished instance of `rootId`'s tree (see `treeIds`); returns the ids it terminated. */
  async terminateTree(rootId: string, reason: string): Promise<string[]> {
    const terminated: string[] = [];
    for (const id of this.treeIds(rootId)) {
      if (this.#instances.isFinished(id)) continue;
      if ((await this.terminate(id, reason)) === 'accepted') terminated.push(id);
    }
    return terminated;
  }

  async #manage(instanceId: string, event: HistoryEvent): Promise<ManagementResult> {
    const instance = await this.#instances.load(instanceId);
    if (!instance) return 'notFound';
    if (instance.terminal) return 'gone';
    await this.deliver(instance, instance.meta.executionId, event);
    return 'accepted';
  }

  /** Deletes a finished instance's state; running instances are refused. */
  async purge(instanceId: string): Promise<'purged' | 'notFound' | 'running'> {
    if (!this.#instances.has(instanceId)) return 'notFound';
    // A damaged instance can be purged: that is how its state is cleared.
    if (!this.#instances.isFinished(instanceId) && !this.#instances.problem(instanceId)) return 'running';
    this.#instances.delete(instanceId);
    await this.#options.journal.remove(instanceId);
    return 'purged';
  }

  /** Resolves with the final status once the instance is Completed, Failed or Terminated. */
  async waitForCompletion(instanceId: string, options: WaitForCompletionOptions): Promise<InstanceStatus> {
    const instance = await this.#instances.load(instanceId);
    if (!instance) throw new EngineError(`No instance with ID '${instanceId}' found.`, 404);
    if (!instance.terminal) {
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          clearTimeout(timer);
          instance.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(() => {
          instance.waiters.delete(wake);
          reject(new Error(`'${instanceId}' is still ${instance.status.runtimeStatus} after ${options.timeoutInMs} ms`));
        }, options.timeoutInMs);
        instance.waiters.add(wake);
      });
    }
    return instance.view();
  }

  /** Replays an instance's stored history through the orchestrator and the shim without changing anything. */
  async replayHistory(instanceId: string): Promise<ReplayReport> {
    const instance = await this.#instances.load(instanceId);
    const registration = instance && this.#options.registrations.get(instance.meta.name);
    if (!instance || !registration) throw new EngineError(`No replayable instance with ID '${instanceId}'.`, 404);
    const answer = await invokeOrchestrator({
      registration,
      instanceId,
      parentInstanceId: instance.meta.parent?.instanceId,
      input: instance.meta.input,
      history: instance.history,
      log: this.#options.log,
    });
    try {
      const shim = replayShim(instance.history, answer.actions, answer.schemaVersion, {
        instanceId,
        executionId: instance.meta.executionId,
        nowIso: new Date().toISOString(),
      });
      return { answer, shim };
    } catch (error) {
      if (error instanceof ShimReplayError) return { answer, problem: error.message };
      throw error;
    }
  }

  /** Stops timers and new work, waits for running episodes and closes the journal. Running activities are abandoned. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const instance of this.#instances.loadedInstances()) {
      for (const timer of instance.timers) clearTimeout(timer);
      instance.timers.clear();
    }
    await Promise.all([...this.#episodes]);
    await this.#options.journal.close();
  }

  #requestEpisode(instance: Instance): void {
    if (this.#closed || instance.episodeActive) return;
    instance.episodeActive = true;
    const run = (async () => {
      try {
        // Events that arrive while an episode runs are picked up by the next turn of this loop.
        while (!this.#closed && !instance.terminal && instance.inbox.length > 0 && this.#instances.loaded(instance.id) === instance) {
          await this.#episodeSlots.use(() => this.#runEpisode(instance));
        }
      } catch (error) {
        this.#options.log('error', 'host', `episode of ${instance.id} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      } finally {
        instance.episodeActive = false;
      }
    })();
    this.#episodes.add(run);
    void run.finally(() => this.#episodes.delete(run));
  }

  async #runEpisode(instance: Instance): Promise<void> {
    const batch = instance.inbox;
    if (instance.terminal || batch.length === 0) return;
    instance.inbox = [];
    const now = new Date().toISOString();
    const { executionId, name } = instance.meta;
    const delivered = [historyEvent(EventType.OrchestratorStarted, now), ...batch.map((entry) => entry.event)];
    const terminated = delivered.find((event) => event.EventType === EventType.ExecutionTerminated);
    const registration = this.#options.registrations.get(name);
    let resolution: Resolution;
    let answer: OrchestratorAnswer | undefined;
    let shim: ShimReplayResult | undefined;
    if (terminated) {
      resolution = { status: 'Terminated', output: terminated.Input === undefined ? null : JSON.parse(terminated.Input) };
    } else if (!registration) {
      resolution = { status: 'Failed', output: `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.` };
    } else {
      const history = [...instance.history, ...delivered];
      try {
        answer = await invokeOrchestrator({
          registration,
          instanceId: instance.id,
          parentInstanceId: instance.meta.parent?.instanceId,
          input: instance.meta.input,
          history,
          log: this.#options.log,
        });
        resolution = this.#resolve(instance, answer, history, now, (result) => (shim = result));
      } catch (error) {
        // An answer the host cannot decode fails the instance instead of losing the episode.
        resolution = { status: 'Failed', output: `Orchestrator function '${name}' failed: ${error instanceof Error ? error.message : String(error)}` };
      }
    }
    const events = [...delivered, ...(shim?.newEvents ?? []), historyEvent(EventType.OrchestratorCompleted, now)];
    const record: EpisodeRecord = {
      executionId,
      inboxUpTo: batch[batch.length - 1]!.seq,
      events,
      status: {
        runtimeStatus: resolution.status,
        // The extension only replaces custom status when the worker sends one (the library omits falsy values).
        customStatus: resolution.keepCustomStatus ? instance.status.customStatus : (answer?.customStatus ?? instance.status.customStatus),
        output: resolution.output ?? null,
        lastUpdatedTime: now,
      },
    };
    if (resolution.status !== 'Running') events.push(this.#completedEvent(resolution, now));
    if (resolution.status === 'ContinuedAsNew') {
      const nextExecutionId = compactId();
      const started = historyEvent(EventType.ExecutionStarted, now, {
        Name: name,
        Input: toJsonText(resolution.nextInput),
        OrchestrationInstance: { InstanceId: instance.id, ExecutionId: nextExecutionId },
      });
      record.next = { executionId: nextExecutionId, input: resolution.nextInput, entry: { seq: instance.nextSeq++, event: started } };
    }
    const metaAfter = record.next ? { ...instance.meta, executionId: record.next.executionId, input: record.next.input } : instance.meta;
    try {
      await this.#options.journal.appendEpisode(instance.id, record, metaAfter);
    } catch (error) {
      // Not durable, so not done: the events go back to the inbox for the next attempt.
      instance.inbox = [...batch, ...instance.inbox];
      throw error;
    }
    for (const event of events) instance.history.push(event);
    instance.historyBytes += utf8Bytes(JSON.stringify(events));
    instance.status = record.status;
    if (record.next) {
      // Events that arrived for the old execution are dropped, as continueAsNew without preserving events does.
      instance.meta = metaAfter;
      instance.history = [];
      instance.historyBytes = 0;
      instance.inbox = [record.next.entry];
      return;
    }
    if (resolution.status === 'Running') {
      for (const event of shim?.newEvents ?? []) this.#dispatcher.dispatch(instance, executionId, event);
      return;
    }
    instance.settle();
    this.#dispatcher.notifyParent(instance);
  }

  #resolve(instance: Instance, answer: OrchestratorAnswer, history: HistoryEvent[], now: string, keep: (shim: ShimReplayResult) => void): Resolution {
    const fail = (reason: string): Resolution => ({ status: 'Failed', output: reason });
    if (answer.resubmitted && this.#options.resubmittedTasks === 'fail') {
      return fail(
        `Orchestrator function '${instance.meta.name}' re-submitted an already scheduled task (${answer.resubmitted}) in a new Task.any/Task.all. ` +
          'The Durable Functions extension schedules such tasks again (duplicate activity executions, results delivered to the wrong task; ' +
          'azure-functions-durable-js#574). Build each Task.any/Task.all from tasks that were never yielded before.',
      );
    }
    let shim: ShimReplayResult;
    try {
      shim = replayShim(history, answer.actions, answer.schemaVersion, { instanceId: instance.id, executionId: instance.meta.executionId, nowIso: now });
    } catch (error) {
      if (error instanceof ShimReplayError) return fail(error.message);
      throw error;
    }
    const limited = episodeLimitProblem(this.#options.limits, instance, answer, history, shim);
    if (limited) return { ...fail(limited), keepCustomStatus: true };
    keep(shim);
    // Like the shim, completion and failure only count once every action it awaits has finished.
    if (!shim.actionsDone) return { status: 'Running' };
    if (answer.error !== undefined) return fail(`Orchestrator function '${instance.meta.name}' failed: ${answer.error}`);
    if (answer.isDone && shim.continueAsNew) return { status: 'ContinuedAsNew', nextInput: shim.continueAsNew.input };
    if (answer.isDone) return { status: 'Completed', output: answer.output };
    return { status: 'Running' };
  }

  #completedEvent(resolution: Resolution, now: string): HistoryEvent {
    if (resolution.status === 'ContinuedAsNew')
      return historyEvent(EventType.ContinueAsNew, now, {
        OrchestrationStatus: OrchestrationStatusCode.ContinuedAsNew,
        Result: toJsonText(resolution.nextInput),
      });
    const code =
      resolution.status === 'Completed'
        ? OrchestrationStatusCode.Completed
        : resolution.status === 'Failed'
          ? OrchestrationStatusCode.Failed
          : OrchestrationStatusCode.Terminated;
    const fields: Partial<HistoryEvent> = { OrchestrationStatus: code, Result: toJsonText(resolution.output) };
    if (resolution.status === 'Failed') fields.FailureDetails = { ErrorType: 'OrchestrationFailureException', ErrorMessage: String(resolution.output) };
    return historyEvent(EventType.ExecutionCompleted, now, fields);
  }
}
