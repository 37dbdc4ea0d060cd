/**
 * Child-process entry of the change capture benchmark: one drain of a slot, in a process of its own so its RSS
 * and CPU are its own. `sync` runs the product's runSync (what `icebridge sync` runs below argument parsing);
 * `stream` only streams and decodes (startReplication with the sync's bindings) and drops the events, which is the
 * sync's cost before applying. Every module is loaded before the clock starts. Messages go to the parent over IPC.
 */
import { performance } from 'node:perf_hooks';
import { loadSettings } from '../../shared/config/settings';
import type { TableBinding } from '../../shared/cdc/change-decoder';
import { connectReplication } from '../../shared/cdc/replication-setup';
import { startReplication } from '../../shared/cdc/replication-stream';
import { describeTable } from '../../shared/postgres/introspect';
import { mapTable } from '../../shared/postgres/type-mapping';
import { environmentFromSettings, withSource } from '../../shared/run/environment';
import { type SyncResult, publicationTables, runSync } from '../../shared/sync/sync-loop';

/** What the parent asks the child to do (JSON in argv[2]). */
export interface CdcChildJob {
  mode: 'sync' | 'stream';
  sourceUrl: string;
  slot: string;
  publication: string;
  /** sync: the warehouse directory of the migrated tables. */
  warehouse?: string;
  /** sync: stop once caught up (otherwise until the parent sends 'stop'). */
  untilCaughtUp?: boolean;
  flushIntervalMs?: number;
  /** stream: stop after this many row changes. */
  changes?: number;
  /** sync: a full garbage collection this often (needs --expose-gc), so the heap reported is what is live. */
  gcEverySeconds?: number;
}

/** A progress report of the sync, as onProgress gave it, with the child's clock. */
export interface CdcChildProgress {
  kind: 'progress';
  elapsedMs: number;
  changesApplied: number;
  confirmedLsn: string;
  lagSeconds: number | undefined;
  /** V8 heap in use at the report (live data and garbage not yet collected). */
  heapUsedBytes: number;
  /** V8 heap in use right after a full collection, when one was made with this report. */
  heapLiveBytes?: number;
}

/** The end of a drain. */
export interface CdcChildDone {
  kind: 'done';
  /** From the start of the drain (after module loading) to its end. */
  wallMs: number;
  /** User + system CPU of the process over the same span. */
  cpuMs: number;
  changes: number;
  /** sync only: the loop's result. */
  result?: SyncResult;
}

/** Everything the child sends. */
export type CdcChildMessage = { kind: 'ready'; monotonicUs: number } | CdcChildProgress | CdcChildDone | { kind: 'failed'; error: string };

function send(message: CdcChildMessage): void {
  if (process.send) process.send(message);
  else console.log(JSON.stringify(message));
}

async function sync(job: CdcChildJob, signal: AbortSignal, started: number): Promise<Omit<CdcChildDone, 'kind' | 'wallMs' | 'cpuMs'>> {
  const env = environmentFromSettings(loadSettings({ ...process.env, ICEBRIDGE_SOURCE_URL: job.sourceUrl, ICEBRIDGE_WAREHOUSE: job.warehouse }));
  const gc = (globalThis as { gc?: () => void }).gc;
  let lastGc = performance.now();
  // Whether the heap grows: what survives a full collection, now and then (the collection's cost is in the lag).
  const live = (): { heapLiveBytes?: number } => {
    if (job.gcEverySeconds === undefined || gc === undefined || performance.now() - lastGc < job.gcEverySeconds * 1000) return {};
    gc();
    lastGc = performance.now();
    return { heapLiveBytes: process.memoryUsage().heapUsed };
  };
  const result = await runSync(env, {
    sourceUrl: job.sourceUrl,
    slot: job.slot,
    publication: job.publication,
    ...(job.flushIntervalMs === undefined ? {} : { flushIntervalMs: job.flushIntervalMs }),
    untilCaughtUp: job.untilCaughtUp === true,
    signal,
    onProgress: (p) =>
      send({
        kind: 'progress',
        elapsedMs: performance.now() - started,
        changesApplied: p.changesApplied,
        confirmedLsn: p.confirmedLsn,
        lagSeconds: p.lagSeconds,
        heapUsedBytes: process.memoryUsage().heapUsed,
        ...live(),
      }),
  });
  if (result.stoppedTables.length > 0) throw new Error(`sync stopped ${result.stoppedTables.map((t) => `${t.table}: ${t.reason}`).join('; ')}`);
  return { changes: result.changesApplied, result };
}

/** Streams and decodes until `job.changes` row changes have arrived; nothing is applied or confirmed. */
async function stream(job: CdcChildJob): Promise<Omit<CdcChildDone, 'kind' | 'wallMs' | 'cpuMs'>> {
  const env = environmentFromSettings(loadSettings({ ...process.env, ICEBRIDGE_SOURCE_URL: job.sourceUrl }));
  const bindings = await withSource(env, async (client) => {
    const out: TableBinding[] = [];
    for (const t of await publicationTables(client, job.publication)) {
      const table = await describeTable(client, t.schema, t.name);
      out.push({ table, mapping: mapTable(table) });
    }
    return out;
  });
  const replication = await connectReplication(job.sourceUrl);
  let changes = 0;
  try {
    const replicationStream = await startReplication(replication, { slotName: job.slot, publications: [job.publication], startLsn: 0n, bindings });
    try {
      for await (const batch of replicationStream.batches()) {
        for (const event of batch) if (event.kind === 'change') changes++;
        if (changes >= (job.changes ?? 0)) break;
      }
    } finally {
      await replicationStream.close();
    }
  } finally {
    await replication.end().catch(() => undefined);
  }
  return { changes };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as CdcChildJob;
  const controller = new AbortController();
  process.on('message', (message: unknown) => {
    if (message === 'stop') controller.abort();
  });
  process.once('disconnect', () => controller.abort());
  // The profile's clock: samples before this moment are module loading, not the drain.
  send({ kind: 'ready', monotonicUs: Number(process.hrtime.bigint() / 1000n) });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  try {
    const done = job.mode === 'sync' ? await sync(job, controller.signal, started) : await stream(job);
    const cpu = process.cpuUsage(cpuBefore);
    send({ kind: 'done', wallMs: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000, ...done });
  } catch (error) {
    send({ kind: 'failed', error: error instanceof Error ? error.message : String(error) });
  }
  // Let the parent read the process's figures, then go; the IPC channel keeps the process alive until then.
  if (process.send) process.once('disconnect', () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
