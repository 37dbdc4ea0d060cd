/**
 * Entry of a copy worker thread (see copy-worker-pool.ts): runs copyPartition, or verifyRowRange (a verification's
 * key range), for the tasks the pool sends, one at a time, and answers with progress, the result, or the error in a form the pool rebuilds. The environment
 * (connection factory, catalog) is built here from the settings the task carries, once per distinct source and
 * warehouse, as the activities do in the main thread.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { Settings } from '../config/settings';
import { setDefaultBufferBudget } from '../iceberg/writer/buffer-budget';
import { copyPartition } from './copy-partition';
import type { CopyWorkerData } from './copy-worker-pool';
import { type FromWorkerMessage, type ToWorkerMessage, type WorkerTaskMessage, serializeError } from './copy-worker-messages';
import { type RunEnvironment, environmentFromSettings } from '../run/environment';

/** Progress goes to the parent at most this often (and once at the end): people read it, nothing waits on it. */
const PROGRESS_EVERY_MS = 100;

const environments = new Map<string, RunEnvironment>();
const running = new Map<number, AbortController>();

function environmentFor(settings: Readonly<Settings>): RunEnvironment {
  const key = JSON.stringify([settings.sourceUrl ?? '', settings.warehouse, settings.storage]);
  let environment = environments.get(key);
  if (!environment) {
    environment = environmentFromSettings(settings);
    environments.set(key, environment);
  }
  return environment;
}

async function run(port: NonNullable<typeof parentPort>, task: WorkerTaskMessage): Promise<void> {
  const send = (message: FromWorkerMessage): void => port.postMessage(message);
  const controller = new AbortController();
  running.set(task.taskId, controller);
  let sentAt = 0;
  let unsent: number | undefined;
  const progress = (rows: number): void => {
    unsent = rows;
    const now = performance.now();
    if (now - sentAt < PROGRESS_EVERY_MS) return;
    sentAt = now;
    unsent = undefined;
    send({ type: 'progress', taskId: task.taskId, rows });
  };
  try {
    const environment = environmentFor(task.settings);
    const result =
      task.type === 'copy'
        ? await copyPartition(environment, task.input, { onProgress: progress, abortSignal: controller.signal })
        : await verifyModule().verifyRowRange(environment, task.input.request, task.input.range, task.input.options);
    if (unsent !== undefined) send({ type: 'progress', taskId: task.taskId, rows: unsent });
    send({ type: 'result', taskId: task.taskId, result });
  } catch (error) {
    send({ type: 'error', taskId: task.taskId, error: serializeError(error) });
  } finally {
    running.delete(task.taskId);
  }
}

/** The verification's code, loaded by the first range a worker verifies: a worker that only copies never loads it. */
function verifyModule(): typeof import('../verify/steps/verify-table') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../verify/steps/verify-table') as typeof import('../verify/steps/verify-table');
}

if (parentPort) {
  const port = parentPort;
  // This thread's share of the instance's memory for Parquet buffers; the connection cap attaches in environment.ts.
  const budget = (workerData as Partial<CopyWorkerData> | null)?.writerBufferBytes;
  if (typeof budget === 'number') setDefaultBufferBudget(budget);
  port.on('message', (message: ToWorkerMessage) => {
    if (message.type === 'copy' || message.type === 'verify-range') void run(port, message);
    else if (message.type === 'abort') running.get(message.taskId)?.abort(new Error('the copy was aborted'));
  });
  port.postMessage({ type: 'ready' } satisfies FromWorkerMessage);
}
