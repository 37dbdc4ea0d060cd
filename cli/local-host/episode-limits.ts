/** Checks one orchestrator episode against Durable's limits (limits.ts) before anything it did is kept. */
import { EventType, toJsonText, type HistoryEvent } from './history-events';
import type { Instance } from './instance';
import { actionsProblem, customStatusProblem, historyProblem, payloadProblem, utf8Bytes, type DurableLimits } from './limits';
import type { OrchestratorAnswer } from './orchestrator-runner';
import type { ShimReplayResult } from './shim-replay';

/** Scheduling events: what the extension counts as orchestration actions. */
const ACTION_EVENTS: ReadonlySet<number> = new Set<number>([
  EventType.TaskScheduled,
  EventType.TimerCreated,
  EventType.SubOrchestrationInstanceCreated,
  EventType.EventSent,
]);

/**
 * The first limit the episode breaks, as the orchestration's failure reason, or undefined. `history` is the
 * execution's history with this episode's delivered events; `shim` holds what the episode would add.
 */
export function episodeLimitProblem(
  limits: DurableLimits,
  instance: Instance,
  answer: OrchestratorAnswer,
  history: readonly HistoryEvent[],
  shim: ShimReplayResult,
): string | undefined {
  const name = instance.meta.name;
  const failed = (problem: string | undefined): string | undefined => problem && `Orchestrator function '${name}' failed: ${problem}`;
  const customStatus = customStatusProblem(limits, instance.id, answer.customStatus);
  if (customStatus) return failed(customStatus);
  let actions = 0;
  for (const event of history) if (ACTION_EVENTS.has(event.EventType)) actions++;
  for (const event of shim.newEvents) if (ACTION_EVENTS.has(event.EventType)) actions++;
  const tooMany = actionsProblem(limits, actions);
  if (tooMany) return failed(tooMany);
  const historyBytes = instance.historyBytes + utf8Bytes(JSON.stringify(history.slice(instance.history.length))) + utf8Bytes(JSON.stringify(shim.newEvents));
  const tooLong = historyProblem(limits, instance.id, historyBytes);
  if (tooLong) return failed(tooLong);
  if (!shim.actionsDone || answer.error !== undefined || !answer.isDone) return undefined;
  if (shim.continueAsNew)
    return failed(
      payloadProblem(limits, `The continueAsNew input of orchestration '${name}' (instance '${instance.id}')`, toJsonText(shim.continueAsNew.input)),
    );
  return failed(payloadProblem(limits, `The output of orchestration '${name}' (instance '${instance.id}')`, JSON.stringify(answer.output)));
}
