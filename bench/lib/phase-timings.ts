/**
 * Where a run's wall time goes, read from the activity spans icebridge already records (one span per activity
 * invocation, see docs/telemetry.md): an in-memory tracer is made global for the timed part only, and each
 * activity's spans are merged into the wall time they cover. No product code is timed by the benchmark itself.
 */
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Wall time one phase covered during a timed run, in ms; phases may overlap (e.g. a count while another copies). */
export interface PhaseTiming {
  /** Activity name (`copyPartition`), or `outside activities` for the rest of the wall time. */
  phase: string;
  /** Wall time covered by at least one invocation of the activity. */
  wallMs: number;
  /** Invocations of the activity. */
  invocations: number;
  /** Sum of the invocations' own durations (above wallMs when they ran side by side). */
  busyMs: number;
}

/** Label of the wall time no activity span covers: host start, orchestration replays, waits between activities. */
export const OUTSIDE_ACTIVITIES = 'outside activities';

/** Records activity spans from now on; `stop` returns the phases of the period [from, to] (epoch ms). */
export function recordPhases(): { stop: (fromEpochMs: number, toEpochMs: number) => Promise<PhaseTiming[]> } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  return {
    stop: async (fromEpochMs, toEpochMs) => {
      await provider.forceFlush();
      const spans = exporter.getFinishedSpans();
      await provider.shutdown();
      trace.disable();
      return phasesOf(spans, fromEpochMs, toEpochMs);
    },
  };
}

type Interval = [number, number];

function epochMs(time: readonly [number, number]): number {
  return time[0] * 1000 + time[1] / 1e6;
}

/** Total length of the union of intervals. */
function covered(intervals: Interval[]): number {
  const sorted = [...intervals].sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [start, stop] of sorted) {
    if (stop <= end) continue;
    total += stop - Math.max(start, end);
    end = stop;
  }
  return total;
}

/** One activity invocation's wall time (epoch ms). */
export interface ActivityInterval {
  name: string;
  start: number;
  end: number;
}

/** Phases in order of first start, then the wall time outside every activity span. */
export function phasesOf(spans: readonly ReadableSpan[], fromEpochMs: number, toEpochMs: number): PhaseTiming[] {
  const intervals = spans
    .filter((span) => span.name.startsWith('activity '))
    .map((span) => ({ name: span.name.slice('activity '.length), start: epochMs(span.startTime), end: epochMs(span.endTime) }));
  return phasesOfIntervals(intervals, fromEpochMs, toEpochMs);
}

/** Phases of activity invocations within [from, to], in order of first start, then the wall time outside them all. */
export function phasesOfIntervals(intervals: readonly ActivityInterval[], fromEpochMs: number, toEpochMs: number): PhaseTiming[] {
  const byName = new Map<string, Interval[]>();
  const firstStart = new Map<string, number>();
  for (const interval of intervals) {
    const start = Math.max(fromEpochMs, interval.start);
    const end = Math.min(toEpochMs, interval.end);
    if (end <= start) continue;
    byName.set(interval.name, [...(byName.get(interval.name) ?? []), [start, end]]);
    firstStart.set(interval.name, Math.min(firstStart.get(interval.name) ?? Infinity, start));
  }
  const phases = [...byName.entries()]
    .sort((x, y) => firstStart.get(x[0])! - firstStart.get(y[0])!)
    .map(([phase, intervals]) => ({ phase, wallMs: covered(intervals), invocations: intervals.length, busyMs: intervals.reduce((n, [s, e]) => n + e - s, 0) }));
  const inside = covered([...byName.values()].flat());
  phases.push({ phase: OUTSIDE_ACTIVITIES, wallMs: Math.max(0, toEpochMs - fromEpochMs - inside), invocations: 0, busyMs: 0 });
  return phases;
}
