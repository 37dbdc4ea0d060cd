import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog } from '../../../cli/local-host';
import { ActionType, UPPER_SCHEMA_VERSION, type OrchestratorAction } from '../../../cli/local-host/actions';
import { EventType, historyEvent, type HistoryEvent } from '../../../cli/local-host/history-events';
import { parseJournal, restoreInstance, type JournalRecord } from '../../../cli/local-host/journal';
import { findResubmittedAction } from '../../../cli/local-host/orchestrator-runner';
import { replayShim, ShimReplayError } from '../../../cli/local-host/shim-replay';

const libraryRequire = createRequire(require.resolve('durable-functions'));
const wait = { timeoutInMs: 20_000 };
let host: LocalHost;

beforeAll(async () => {
  host = await LocalHost.load(() => import('./fixtures/toy-app.js').then(() => undefined), { log: silentHostLog });
});

afterAll(async () => {
  await host.close();
});

function libraryEnum(modulePath: string, name: string): Record<string, unknown> {
  const module: unknown = libraryRequire(modulePath);
  return (module as Record<string, Record<string, unknown>>)[name]!;
}

describe('protocol constants', () => {
  it('match the installed durable-functions enums', () => {
    const historyTypes = libraryEnum('./history/HistoryEventType', 'HistoryEventType');
    for (const [name, value] of Object.entries(EventType)) expect(historyTypes[name], name).toBe(value);
    const actionTypes = libraryEnum('./actions/ActionType', 'ActionType');
    for (const [name, value] of Object.entries(ActionType)) expect(actionTypes[name], name).toBe(value);
    const replaySchema: unknown = libraryRequire('./orchestrations/ReplaySchema');
    expect((replaySchema as { LatestReplaySchema: number }).LatestReplaySchema).toBe(UPPER_SCHEMA_VERSION);
  });
});

describe('determinism', () => {
  it('replaying a recorded history twice yields identical actions and nothing new', async () => {
    const id = await host.startOrchestration('sequence', ['Ada', 'Grace']);
    const status = await host.waitForCompletion(id, wait);
    const first = await host.replayHistory(id);
    const second = await host.replayHistory(id);
    expect(second.answer).toEqual(first.answer);
    expect(first.answer.actions).toEqual([
      [
        { kind: 'activity', name: 'sayHello', input: 'Ada' },
        { kind: 'activity', name: 'sayHello', input: 'Grace' },
      ],
    ]);
    expect(first.answer).toMatchObject({ isDone: true, output: status.output, schemaVersion: UPPER_SCHEMA_VERSION });
    expect(first.shim).toEqual({ newEvents: [], actionsDone: true, continueAsNew: undefined });
  });

  it('replays a waiting instance to the same open actions', async () => {
    const id = await host.startOrchestration('withStatus');
    while ((host.getStatus(id)?.customStatus as { phase?: string } | null)?.phase !== 'waiting') await new Promise((resolve) => setTimeout(resolve, 10));
    const [first, second] = [await host.replayHistory(id), await host.replayHistory(id)];
    expect(second).toEqual(first);
    expect(first.answer.isDone).toBe(false);
    expect(first.answer.actions[0]!.at(-1)).toEqual({ kind: 'externalEvent', name: 'approve' });
    expect(first.shim).toMatchObject({ newEvents: [], actionsDone: false });
    await host.terminate(id, 'test over');
  });

  it('fails an instance whose replay schedules something else than its history says', async () => {
    const id = await host.startOrchestration('fickle');
    const status = await host.waitForCompletion(id, wait);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.output).toBe(
      "Non-Deterministic workflow detected: TaskScheduledEvent: 0 TaskScheduled sayHello, but the replay now schedules activity 'double' at event id 0",
    );
  });
});

const t = (ms: number): string => new Date(Date.UTC(2030, 0, 1) + ms).toISOString();
const started = (ms: number): HistoryEvent => historyEvent(EventType.OrchestratorStarted, t(ms));
const context = { instanceId: 'i', executionId: 'e', nowIso: t(10_000) };
const retry = { firstRetryIntervalInMs: 100, maxNumberOfAttempts: 2, backoffCoefficient: 1, maxRetryIntervalInMs: Infinity, retryTimeoutInMs: Infinity };

describe('shim replay', () => {
  const actions: OrchestratorAction[][] = [
    [
      {
        kind: 'whenAll',
        children: [
          { kind: 'activity', name: 'a', input: 1, retry },
          { kind: 'activity', name: 'b', input: 2 },
        ],
      },
    ],
  ];
  const history: HistoryEvent[] = [
    started(0),
    historyEvent(EventType.ExecutionStarted, t(0), { Name: 'o' }),
    historyEvent(EventType.TaskScheduled, t(0), { EventId: 0, Name: 'a', Input: '1' }),
    historyEvent(EventType.TaskScheduled, t(0), { EventId: 1, Name: 'b', Input: '2' }),
    historyEvent(EventType.OrchestratorCompleted, t(0)),
    started(50),
    historyEvent(EventType.TaskFailed, t(50), { TaskScheduledId: 0, Reason: 'r', Details: 'd' }),
  ];

  it('interleaves retry timers and attempts with other tasks by sequence number', () => {
    const afterFailure = replayShim(history, actions, 3, context);
    expect(afterFailure.newEvents).toEqual([historyEvent(EventType.TimerCreated, context.nowIso, { EventId: 2, FireAt: t(150) })]);
    expect(afterFailure.actionsDone).toBe(false);
    const later = [
      ...history,
      ...afterFailure.newEvents,
      historyEvent(EventType.OrchestratorCompleted, t(50)),
      started(150),
      historyEvent(EventType.TimerFired, t(150), { TimerId: 2 }),
    ];
    expect(replayShim(later, actions, 3, context).newEvents).toEqual([
      historyEvent(EventType.TaskScheduled, context.nowIso, { EventId: 3, Name: 'a', Input: '1' }),
    ]);
  });

  it('rejects a history whose scheduled names disagree with the replay, and one with events the replay lacks', () => {
    const renamed = history.map((event) => (event.EventId === 1 ? { ...event, Name: 'c' } : event));
    expect(() => replayShim(renamed, actions, 3, context)).toThrow(ShimReplayError);
    expect(() => replayShim(history, [[{ kind: 'activity', name: 'a', input: 1, retry }]], 3, context)).toThrow(
      /TaskScheduledEvent: 1 TaskScheduled b, but the replay now schedules a timer at event id 1/,
    );
    expect(() => replayShim(history.slice(0, 5), [[{ kind: 'activity', name: 'a', input: 1, retry }]], 3, context)).toThrow(
      /TaskScheduledEvent: 1 TaskScheduled b is in the history, but the replay did not schedule it/,
    );
  });

  it('awaits any action of a V1 yield group before scheduling the next group', () => {
    const v1: OrchestratorAction[][] = [
      [{ kind: 'activity', name: 'a', input: 1 }],
      [
        { kind: 'activity', name: 'b', input: 2 },
        { kind: 'timer', fireAt: t(5000), isCanceled: false },
      ],
    ];
    const first = [started(0), historyEvent(EventType.ExecutionStarted, t(0), { Name: 'o' })];
    expect(replayShim(first, v1, 0, context).newEvents.map((e) => e.EventId)).toEqual([0]);
    const done = [
      ...first,
      historyEvent(EventType.TaskScheduled, t(0), { EventId: 0, Name: 'a' }),
      started(5),
      historyEvent(EventType.TaskCompleted, t(5), { TaskScheduledId: 0, Result: '1' }),
    ];
    expect(replayShim(done, v1, 0, context).newEvents.map((e) => [e.EventType, e.EventId])).toEqual([
      [EventType.TaskScheduled, 1],
      [EventType.TimerCreated, 2],
    ]);
  });
});

describe('re-submitted tasks', () => {
  it('are recognised by action identity, not by equal content', () => {
    const a = { actionType: 0, functionName: 'x' };
    const b = { actionType: 0, functionName: 'x' };
    expect(findResubmittedAction([[{ actionType: 11, compoundActions: [a, b] }]])).toBeUndefined();
    expect(
      findResubmittedAction([
        [
          { actionType: 11, compoundActions: [a, b] },
          { actionType: 11, compoundActions: [b] },
        ],
      ]),
    ).toBe("action type 0 'x'");
  });
});

describe('journal', () => {
  const meta = { instanceId: 'i', name: 'o', executionId: 'e1', input: 1, createdTime: t(0) };
  const start: JournalRecord = { k: 'start', meta, entry: { seq: 0, event: historyEvent(EventType.ExecutionStarted, t(0)) } };

  it('drops a torn last line and keeps every complete one', () => {
    const lines = [
      JSON.stringify(start),
      JSON.stringify({ k: 'inbox', executionId: 'e1', seq: 1, event: historyEvent(EventType.EventRaised, t(1), { Name: 'x' }) }),
    ];
    const text = `${lines.join('\n')}\n{"k":"episode","events":[{"EventT`;
    const parsed = parseJournal(text, 'f');
    expect(parsed.records).toHaveLength(2);
    expect(parsed.keepBytes).toBe(Buffer.byteLength(`${lines.join('\n')}\n`));
    expect(() => parseJournal(`${lines[0]}\nnot json\n${lines[1]}\n`, 'f')).toThrow(/line 2/);
  });

  it('folds episodes, pending inbox entries and continue-as-new into the current execution', () => {
    const status = { runtimeStatus: 'ContinuedAsNew' as const, customStatus: null, output: null, lastUpdatedTime: t(2) };
    const restored = restoreInstance([
      start,
      { k: 'inbox', executionId: 'e1', seq: 1, event: historyEvent(EventType.EventRaised, t(1), { Name: 'x' }) },
      { k: 'episode', executionId: 'e1', inboxUpTo: 0, events: [started(1)], status: { ...status, runtimeStatus: 'Running' } },
      {
        k: 'episode',
        executionId: 'e1',
        inboxUpTo: 1,
        events: [started(2)],
        status,
        next: { executionId: 'e2', input: 2, entry: { seq: 2, event: historyEvent(EventType.ExecutionStarted, t(2)) } },
      },
      { k: 'inbox', executionId: 'e1', seq: 3, event: historyEvent(EventType.EventRaised, t(3), { Name: 'late' }) },
      { k: 'inbox', executionId: 'e2', seq: 4, event: historyEvent(EventType.EventRaised, t(4), { Name: 'y' }) },
    ]);
    expect(restored.meta).toMatchObject({ executionId: 'e2', input: 2 });
    expect(restored.history).toEqual([]);
    expect(restored.inbox.map((entry) => entry.seq)).toEqual([2, 4]);
    expect(restored.nextSeq).toBe(5);
  });
});
