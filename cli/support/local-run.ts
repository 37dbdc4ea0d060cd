/**
 * Running an orchestration through the in-process local host: the same function modules, orchestrations and
 * activities as on Azure, with history kept in a state directory so an interrupted run resumes.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { MEMORY_SCHEME } from '../../shared/iceberg/io/memory-file-io';
import { warmCopyWorkers } from '../../shared/migrate/copy-worker-pool';
import { redactUrl } from '../../shared/postgres/connection';
import { type TableInstanceRead, isFinished } from '../../shared/run/instance-status';
import { tableInstanceId } from '../../orchestrators/names';
import { LocalHost, silentHostLog } from '../local-host';
import { flushTelemetry } from '../../functions/telemetry-setup';

/** Where a command keeps its runs' history unless told otherwise (`--state-dir`). */
export const DEFAULT_STATE_DIR = '.icebridge/state';

/** Where the activities find the source and warehouse, and where history is kept. */
export interface LocalRunOptions {
  sourceUrl: string;
  warehouse: string;
  stateDir: string;
  maxConcurrentActivities?: number;
  /**
   * Worker threads the run's first activities use at once (copies, key ranges): started while the host loads, so
   * those activities find them loaded (none for a warehouse in memory, which activities write in this thread).
   */
  warmWorkers?: number;
}

/**
 * Loads the app's function modules. A dynamic import (not a path for `require`) so the same line works from the
 * compiled JavaScript, under tsx, and under the test runner's own module loader.
 */
export async function loadFunctionModules(): Promise<void> {
  await import('../../functions/index.js');
}

/**
 * The repository's host.json, whose functionTimeout and concurrency the local host applies as Azure would: two levels
 * above `cli/support/` when run from source, one level further up from the compiled `dist/cli/support/`.
 */
export function appHostJson(): string | undefined {
  return [path.resolve(__dirname, '..', '..', 'host.json'), path.resolve(__dirname, '..', '..', '..', 'host.json')].find((file) => existsSync(file));
}

/** Runs `fn` with a local host over the state directory, closing it afterwards. */
export async function withLocalHost<T>(options: LocalRunOptions, fn: (host: LocalHost) => Promise<T>): Promise<T> {
  // The activities read the source and warehouse from settings, exactly as on Azure.
  process.env.ICEBRIDGE_SOURCE_URL = options.sourceUrl;
  process.env.ICEBRIDGE_WAREHOUSE = options.warehouse;
  if (options.warmWorkers && !options.warehouse.startsWith(MEMORY_SCHEME)) warmCopyWorkers(options.warmWorkers);
  const host = await LocalHost.load(loadFunctionModules, {
    stateDir: options.stateDir,
    hostJson: appHostJson(),
    maxConcurrentActivities: options.maxConcurrentActivities,
    log: silentHostLog,
  });
  try {
    return await fn(host);
  } finally {
    await host.close();
    // The command may end the process next; telemetry (when it is on) would otherwise wait for its next export.
    await flushTelemetry();
  }
}

/**
 * Waits `ms` (the interval between two looks at a run's progress), or less when the instance finishes first, so a
 * command returns when its run ends, not at the next look. A timeout only means the run is still going; an instance
 * that cannot be found shows at the next look, which reads its status.
 */
export async function untilNextLook(host: LocalHost, instanceId: string, ms: number): Promise<void> {
  await host.waitForCompletion(instanceId, { timeoutInMs: ms }).catch(() => undefined);
}

/**
 * Resumes the unfinished instance `<base>-<n>` of the same command, or starts the next one (a finished run is
 * history; the same command then starts a new run). Only that run's tree is loaded and resumed: other runs in the
 * state directory are neither read nor continued, so their damage cannot stop this one. A damaged journal of this
 * command's own run is an error naming the file. Returns the instance id.
 */
export async function startOrResume(host: LocalHost, base: string, orchestration: string, input: (instanceId: string) => unknown): Promise<string> {
  let n = 1;
  for (; ; n++) {
    const id = `${base}-${n}`;
    const status = host.getStatus(id);
    if (!status) break;
    if (isFinished(status.runtimeStatus)) continue;
    // The status record can lag behind its journal after a crash; the loaded journal decides.
    await host.resumeTree(id);
    const loaded = host.getStatus(id);
    if (loaded && !isFinished(loaded.runtimeStatus)) return id;
  }
  const instanceId = `${base}-${n}`;
  await host.startOrchestration(orchestration, input(instanceId), instanceId);
  return instanceId;
}

/** Same command, same fingerprint: source (without its password), warehouse and the request itself. */
export function commandFingerprint(options: LocalRunOptions, request: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([redactUrl(options.sourceUrl), options.warehouse, request]))
    .digest('hex')
    .slice(0, 12);
}

/** Every started table sub-orchestration of `parentId` (`<parent>:table:<n>` for n < started), in order. */
export function tableReads(host: LocalHost, parentId: string, started: number): TableInstanceRead[] {
  return Array.from({ length: started }, (_, index) => {
    const instanceId = tableInstanceId(parentId, index);
    const status = host.getStatus(instanceId, { showInput: false });
    // A table that has not reported its name yet is named by its input.
    const named = status && (status.customStatus as { table?: unknown } | null)?.table === undefined ? host.getStatus(instanceId) : status;
    return named ? { index, instanceId, status: named } : { index, instanceId };
  });
}
