/**
 * The steady-state half of the change capture benchmark: a writer holds a rate of changes (the catch-up's mix)
 * while `runSync` runs without --until-caught-up in a child; once a second the lag is sampled from the server (bytes
 * between the WAL insert position and the slot's confirmed position, and seconds between the newest write and the
 * newest write the sync has confirmed) with the child's RSS.
 */
import { performance } from 'node:perf_hooks';
import type { Client } from 'pg';
import { parseLsn } from '../../shared/cdc/lsn';
import { makeChanges, slotLagBytes, waitForSlotActive } from './cdc-source';
import { type CdcDrain, processRss, startDrain } from './cdc-runner';

/** Options of `runSteadyState`. */
export interface SteadyOptions {
  connect: () => Promise<Client>;
  sourceUrl: string;
  warehouse: string;
  slot: string;
  publication: string;
  seconds: number;
  /** Changes per second the writer holds. */
  rate: number;
  minTx: number;
  maxTx: number;
  flushIntervalMs: number;
}

/** One second's reading. */
export interface LagSample {
  atMs: number;
  lagBytes: number | undefined;
  /** Newest write's time minus the time of the newest write the slot has confirmed; 0 when everything is confirmed. */
  lagSeconds: number;
  /** The sync's own figure (now minus the commit time of the last transaction it saw), from its last report. */
  syncLagSeconds: number | undefined;
  rssBytes: number | undefined;
  /** The sync's V8 heap in use at its last report. */
  heapUsedBytes: number | undefined;
}

/** The sync's heap right after a full collection, every 30 s. */
export interface LiveHeap {
  atMs: number;
  bytes: number;
}

/** What the steady state measured. */
export interface SteadyResult {
  samples: LagSample[];
  written: number;
  /** Changes the sync applied by the time it was stopped. */
  applied: number;
  /** Writes at or behind the asked rate: the rate the writer really held. */
  heldRate: number;
  /** From the writer's stop until the sync had applied everything written (undefined: it had not within the wait). */
  drainAfterStopMs: number | undefined;
  /** Time from the child's start to the slot being streamed (the key index is built before). */
  startupMs: number;
  liveHeap: LiveHeap[];
}

const TICK_MS = 100;
/** How often the sync makes a full collection to report its live heap. */
const LIVE_HEAP_EVERY_S = 30;
const SAMPLE_MS = 1000;
const DRAIN_WAIT_MS = 120_000;

interface Written {
  lsn: bigint;
  atMs: number;
}

/** Runs the writer and the sync for `seconds`, sampling every second; stops both and returns the figures. */
export async function runSteadyState(options: SteadyOptions): Promise<SteadyResult> {
  const writerClient = await options.connect();
  const probe = await options.connect();
  let drain: CdcDrain | undefined;
  try {
    drain = startDrain(
      {
        mode: 'sync',
        sourceUrl: options.sourceUrl,
        slot: options.slot,
        publication: options.publication,
        warehouse: options.warehouse,
        flushIntervalMs: options.flushIntervalMs,
        gcEverySeconds: LIVE_HEAP_EVERY_S,
      },
      { timeoutInMs: (options.seconds + 600) * 1000 },
    );
    const failed = drain.done.then(() => {
      throw new Error('the sync ended before it was stopped');
    });
    failed.catch(() => undefined);
    await Promise.race([drain.ready, failed]);
    const readyAt = performance.now();
    await Promise.race([waitForSlotActive(probe, options.slot, 600_000), failed]);
    const startupMs = performance.now() - readyAt;

    const writes: Written[] = [];
    let written = 0;
    let writing = true;
    const started = performance.now();
    const writer = (async () => {
      while (writing) {
        const due = Math.floor((options.rate * (performance.now() - started)) / 1000);
        if (due > written) {
          const { lastTransaction } = await makeChanges(writerClient, due - written, options.minTx, options.maxTx);
          written = due;
          writes.push({ lsn: parseLsn(lastTransaction), atMs: Date.now() });
        } else {
          await sleep(TICK_MS);
        }
      }
    })();
    const samples: LagSample[] = [];
    const sample = async (): Promise<void> => {
      const [lagBytes, confirmed] = await Promise.all([slotLagBytes(probe, options.slot), confirmedLsn(probe, options.slot)]);
      const rssBytes = await processRss(drain!.pid ?? 0);
      samples.push({
        atMs: performance.now() - started,
        lagBytes,
        lagSeconds: secondsBehind(writes, confirmed),
        syncLagSeconds: drain!.progress[drain!.progress.length - 1]?.lagSeconds,
        rssBytes,
        heapUsedBytes: drain!.progress[drain!.progress.length - 1]?.heapUsedBytes,
      });
    };
    const end = started + options.seconds * 1000;
    for (let next = started + SAMPLE_MS; next <= end; next += SAMPLE_MS) {
      await Promise.race([sleep(Math.max(0, next - performance.now())), failed]);
      await sample();
    }
    writing = false;
    await writer;
    const stoppedAt = performance.now();
    let drainAfterStopMs: number | undefined;
    while (performance.now() - stoppedAt < DRAIN_WAIT_MS) {
      const applied = drain.progress[drain.progress.length - 1]?.changesApplied ?? 0;
      if (applied >= written) {
        drainAfterStopMs = performance.now() - stoppedAt;
        break;
      }
      await Promise.race([sleep(200), failed]);
    }
    drain.stop();
    const done = await drain.done;
    return {
      samples,
      written,
      applied: done.changes,
      heldRate: written / ((stoppedAt - started) / 1000),
      drainAfterStopMs,
      startupMs,
      liveHeap: drain.progress.flatMap((p) => (p.heapLiveBytes === undefined ? [] : [{ atMs: p.elapsedMs, bytes: p.heapLiveBytes }])),
    };
  } finally {
    drain?.stop();
    await drain?.done.catch(() => undefined);
    await writerClient.end().catch(() => undefined);
    await probe.end().catch(() => undefined);
  }
}

async function confirmedLsn(client: Client, slot: string): Promise<bigint | undefined> {
  const result = await client.query<{ lsn: string | null }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  const lsn = result.rows[0]?.lsn;
  return lsn === undefined || lsn === null ? undefined : parseLsn(lsn);
}

/**
 * Seconds between the newest write and the newest write at or before `confirmed` (what the sync has applied).
 * Each write's position is the WAL insert position read just after its commit returned, so a write counts as
 * applied once the slot is confirmed that far; before the first confirmed write, the lag runs from the first one.
 */
function secondsBehind(writes: readonly Written[], confirmed: bigint | undefined): number {
  const newest = writes[writes.length - 1];
  if (newest === undefined) return 0;
  if (confirmed !== undefined && confirmed >= newest.lsn) return 0;
  let applied: Written | undefined;
  for (let i = writes.length - 1; i >= 0; i--) {
    if (confirmed !== undefined && writes[i]!.lsn <= confirmed) {
      applied = writes[i];
      break;
    }
  }
  // Nothing of the writer's confirmed yet: the lag runs from the first write.
  return (newest.atMs - (applied ?? writes[0]!).atMs) / 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
