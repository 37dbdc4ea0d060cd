/**
 * How one instance's copy work is sized to its resources. The Functions host runs up to `activitySlots`
 * activities at once (host.json `maxConcurrentActivityFunctions`), so copy threads beyond that would never be
 * busy, and threads beyond the cores only share them. The instance's memory, less what the host process itself
 * holds, is divided among those slots: each copy's worker heap and its Parquet writers' buffers get a share, so
 * every slot copying at once still fits the instance (running out of memory kills the whole worker process).
 */
import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import { type ResourceSettings, loadResourceSettings } from '../config/resource-settings';
import { ValidationError } from '../errors';

/** Environment variable: copy workers in the pool; 0 copies in the calling thread. Default: min(activity slots, cores). */
export const COPY_WORKERS_SETTING = 'ICEBRIDGE_COPY_WORKERS';

const MAX_WORKERS = 64;

/** Memory the host process holds before any copy (the Functions worker, loaded modules): measured about 270 MB. */
export const HOST_RESERVE_MB = 320;

const MIB = 1024 * 1024;
/** Floors below which a copy cannot do useful work; a smaller instance gets these and the risk. */
const MIN_COPY_MB = 128;
const MIN_WRITER_BUFFER_MB = 8;

/** The sizes a copy runs with. */
export interface CopyResources {
  /** Copy worker threads: min(activity slots, cores). */
  threads: number;
  /** Memory per activity slot, in MB. */
  perCopyMb: number;
  /** Old-generation heap limit of a copy worker (`resourceLimits.maxOldGenerationSizeMb`). */
  workerHeapMb: number;
  /** Bytes a copy's open Parquet writers may buffer together. */
  writerBufferBytes: number;
}

/**
 * Divides the instance among its activity slots: a quarter of each share for the writers' buffers (off the
 * JavaScript heap, in Buffers), the rest for the worker's heap (decoded rows, dictionaries, the driver).
 */
export function copyResources(settings: ResourceSettings, cores: number): CopyResources {
  const threads = Math.max(1, Math.min(settings.activitySlots, cores));
  const perCopyMb = Math.max(MIN_COPY_MB, Math.floor((settings.instanceMemoryMb - HOST_RESERVE_MB) / settings.activitySlots));
  const writerBufferMb = Math.max(MIN_WRITER_BUFFER_MB, Math.floor(perCopyMb / 4));
  return { threads, perCopyMb, workerHeapMb: perCopyMb - writerBufferMb, writerBufferBytes: writerBufferMb * MIB };
}

/**
 * Workers the pool may hold: ICEBRIDGE_COPY_WORKERS when set (0 = none), else min(activity slots, cores): the host
 * never runs more copies at once than it has activity slots.
 */
export function copyWorkerCount(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): number {
  const text = env[COPY_WORKERS_SETTING]?.trim();
  if (!text) return copyResources(loadResourceSettings(env), cores).threads;
  const count = Number(text);
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_WORKERS) {
    throw new ValidationError(`${COPY_WORKERS_SETTING} must be a whole number 0..${MAX_WORKERS} (0 copies in the main thread)`);
  }
  return count;
}

/** A copy worker pool's size and each worker's limits, as the resource settings give them. */
export interface BudgetedPoolOptions {
  size: number;
  resourceLimits: ResourceLimits;
  writerBufferBytes: number;
}

/** Options of a pool sized by the resource settings: threads, each worker's heap limit and writer budget. */
export function budgetedPoolOptions(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): BudgetedPoolOptions {
  const resources = copyResources(loadResourceSettings(env), cores);
  return {
    size: copyWorkerCount(env, cores),
    resourceLimits: { maxOldGenerationSizeMb: resources.workerHeapMb },
    writerBufferBytes: resources.writerBufferBytes,
  };
}
