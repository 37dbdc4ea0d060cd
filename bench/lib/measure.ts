/** Wall time and peak resident memory of one call. */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

/** Result of {@link measure}. */
export interface Measurement<T> {
  value: T;
  wallMs: number;
  /**
   * User + system CPU of the whole process (all threads) during the call. Less disturbed than wall time by other
   * work on a shared machine, and it shows how much of a multi-threaded writer's speed is parallelism.
   */
  cpuMs: number;
  /** Highest RSS seen during the call minus RSS just before it, in bytes. */
  peakRssDeltaBytes: number;
}

const SAMPLE_EVERY_MS = 2;

// Runs in a worker thread: RSS is process-wide, and a worker keeps sampling while a synchronous writer (wasm,
// hyparquet) blocks the main thread's timers for its whole run.
const SAMPLER_SOURCE = `
const { workerData } = require('node:worker_threads');
const peak = new BigInt64Array(workerData);
setInterval(() => {
  const rss = BigInt(process.memoryUsage.rss());
  let seen = Atomics.load(peak, 0);
  while (rss > seen) {
    const previous = Atomics.compareExchange(peak, 0, seen, rss);
    if (previous === seen) break;
    seen = previous;
  }
}, ${SAMPLE_EVERY_MS});`;

/** Highest RSS since the last reset, kept by a sampling worker thread. */
export class RssSampler {
  private readonly peak = new BigInt64Array(new SharedArrayBuffer(8));
  private readonly worker = new Worker(SAMPLER_SOURCE, { eval: true, workerData: this.peak.buffer });

  constructor() {
    this.worker.unref();
  }

  /** Starts a new window at the current RSS. */
  reset(): number {
    const now = process.memoryUsage.rss();
    Atomics.store(this.peak, 0, BigInt(now));
    return now;
  }

  /** Highest RSS seen since the last reset (including right now). */
  highest(): number {
    return Math.max(Number(Atomics.load(this.peak, 0)), process.memoryUsage.rss());
  }

  /** Stops the worker. */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * Runs `fn` and reports its wall time and RSS peak. The sampler's peak is topped up with the kernel's high-water
 * mark (getrusage maxRSS) when that rose during the call, since it then IS the peak of the call and catches
 * spikes shorter than the sampling interval. Run one candidate per process so that mark is not someone else's.
 */
export async function measure<T>(fn: () => Promise<T>, sampler: RssSampler): Promise<Measurement<T>> {
  collectGarbage();
  // V8 releases large buffers on a background thread; let that finish so the baseline is not inflated by garbage.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const highWaterBefore = process.resourceUsage().maxRSS * 1024;
  const before = sampler.reset();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const value = await fn();
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  let peak = sampler.highest();
  const highWaterAfter = process.resourceUsage().maxRSS * 1024;
  if (highWaterAfter > highWaterBefore) peak = Math.max(peak, highWaterAfter);
  return { value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRssDeltaBytes: Math.max(0, peak - before) };
}

/** Runs a full collection when the process was started with --expose-gc, so runs start from a settled heap. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') gc();
}

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
