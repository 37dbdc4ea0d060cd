/**
 * The benchmark's breakdown of a command's run, read from the history its local host journaled: activities from
 * their TaskScheduled to the event that answered them, the start-up before the first one, the rest after it.
 */
import { describe, expect, it } from 'vitest';
import { activityIntervals, commandPhases } from '../../bench/lib/journal-phases';
import { EventType, type HistoryEvent } from '../../cli/local-host/history-events';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

function scheduled(id: number, name: string, ms: number): HistoryEvent {
  return { EventType: EventType.TaskScheduled, EventId: id, IsPlayed: false, Timestamp: at(ms), Name: name };
}

function answered(id: number, ms: number, failed = false): HistoryEvent {
  return { EventType: failed ? EventType.TaskFailed : EventType.TaskCompleted, EventId: -1, IsPlayed: false, Timestamp: at(ms), TaskScheduledId: id };
}

describe('journal phases', () => {
  it('pairs each scheduled activity with the event that answered it, failed ones included, running ones left out', () => {
    const history = [
      scheduled(0, 'planMigration', 300),
      answered(0, 340),
      scheduled(1, 'copyPartition', 350),
      scheduled(2, 'copyPartition', 350),
      answered(2, 2_900),
      answered(1, 2_950, true),
      scheduled(3, 'commitTable', 2_960),
    ];
    expect(activityIntervals(history)).toEqual([
      { name: 'planMigration', start: T0 + 300, end: T0 + 340 },
      { name: 'copyPartition', start: T0 + 350, end: T0 + 2_900 },
      { name: 'copyPartition', start: T0 + 350, end: T0 + 2_950 },
    ]);
  });

  it("splits a command's wall time into its start-up, its activities and the rest, leaving out earlier runs", () => {
    const earlier = { name: 'copyPartition', start: T0 - 60_000, end: T0 - 57_000 };
    const intervals = [
      earlier,
      { name: 'planMigration', start: T0 + 330, end: T0 + 370 },
      { name: 'copyPartition', start: T0 + 375, end: T0 + 2_900 },
      { name: 'copyPartition', start: T0 + 375, end: T0 + 2_925 },
      { name: 'countRows', start: T0 + 2_940, end: T0 + 3_010 },
    ];
    const phases = commandPhases('migrate', intervals, T0, T0 + 3_050);
    expect(phases.map((p) => [p.phase, p.wallMs, p.invocations])).toEqual([
      ['migrate: start-up, to the first activity', 330, 0],
      ['migrate: planMigration', 40, 1],
      ['migrate: copyPartition', 2_550, 2],
      ['migrate: countRows', 70, 1],
      // 3,050 ms less the start-up and the 2,660 ms the activities cover.
      ['migrate: outside activities', 60, 0],
    ]);
    expect(phases.find((p) => p.phase === 'migrate: copyPartition')!.busyMs).toBe(5_075);
  });
});
