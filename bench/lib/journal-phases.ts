/**
 * Where an `icebridge` command's run went, read after it exited from the history its local host keeps in the state
 * directory: each activity from its TaskScheduled event to the TaskCompleted (or TaskFailed) event that answers it.
 * The command runs untouched (no tracer, no hooks); the timestamps are the ones the host journals anyway.
 */
import * as path from 'node:path';
import { DEFAULT_MAX_JOURNAL_BYTES, loadJournal } from '../../cli/local-host/journal-reader';
import { EventType, type HistoryEvent } from '../../cli/local-host/history-events';
import { listStoredInstances } from '../../cli/local-host/instance-summary';
import { type ActivityInterval, type PhaseTiming, phasesOfIntervals } from './phase-timings';

/** Label of the time from the process's start to its first activity: node, the command's modules, the host. */
export const START_UP = 'start-up, to the first activity';

/** Every activity invocation journaled in `stateDir`, by its scheduling and completion times. */
export async function journaledActivities(stateDir: string): Promise<ActivityInterval[]> {
  const stored = await listStoredInstances(path.join(stateDir, 'instances'), { maxJournalBytes: DEFAULT_MAX_JOURNAL_BYTES, repair: false });
  const intervals: ActivityInterval[] = [];
  for (const instance of stored) {
    const loaded = await loadJournal(instance.instanceId, instance.journalFile, { maxBytes: DEFAULT_MAX_JOURNAL_BYTES, readOnly: true });
    if (loaded) intervals.push(...activityIntervals(loaded.restored.history));
  }
  return intervals;
}

/** The activities of one history: each TaskScheduled with the event that answered it (none while it runs). */
export function activityIntervals(history: readonly HistoryEvent[]): ActivityInterval[] {
  const scheduled = new Map<number, HistoryEvent>();
  const intervals: ActivityInterval[] = [];
  for (const event of history) {
    if (event.EventType === EventType.TaskScheduled) scheduled.set(event.EventId, event);
    else if (event.EventType === EventType.TaskCompleted || event.EventType === EventType.TaskFailed) {
      const task = scheduled.get(event.TaskScheduledId ?? -1);
      if (task?.Name !== undefined) intervals.push({ name: task.Name, start: Date.parse(task.Timestamp), end: Date.parse(event.Timestamp) });
    }
  }
  return intervals;
}

/**
 * A command's wall time [from, to] split into its start-up (to the first activity), its activities and the rest
 * (orchestration between activities, and exiting), each phase named `prefix: …`.
 */
export function commandPhases(prefix: string, intervals: readonly ActivityInterval[], fromEpochMs: number, toEpochMs: number): PhaseTiming[] {
  // A state directory keeps the runs before this one too: only this run's activities count.
  const own = intervals.filter((i) => i.end > fromEpochMs && i.start < toEpochMs);
  const firstStart = Math.min(toEpochMs, ...own.map((i) => i.start));
  const startUp: PhaseTiming = { phase: START_UP, wallMs: Math.max(0, firstStart - fromEpochMs), invocations: 0, busyMs: 0 };
  const phases = [startUp, ...phasesOfIntervals(own, fromEpochMs, toEpochMs)];
  // The start-up is outside every activity too: what is left of "outside activities" is the time after it.
  const outside = phases.at(-1)!;
  outside.wallMs = Math.max(0, outside.wallMs - startUp.wallMs);
  return phases.map((p) => ({ ...p, phase: `${prefix}: ${p.phase}` }));
}
