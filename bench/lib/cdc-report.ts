/** What the change capture benchmark prints: the catch-up's rates and ratio, and the steady state's lag and RSS. */
import { median } from './measure';
import type { SteadyResult } from './cdc-steady';
import type { PhaseTime } from './cpu-profile-phases';
import { megabytes, verdict } from './migrate-report';

/** The figures of one catch-up repeat. */
export interface CatchUpRound {
  /** pg_recvlogical, start to exit, and its own CPU. */
  recvMs: number;
  recvCpuMs: number;
  /** The PostgreSQL server's CPU (every process of it) during each drain. */
  recvServerCpuMs: number;
  /** icebridge's stream and decode alone (child process, modules loaded). */
  decodeMs: number;
  decodeCpuMs: number;
  decodeServerCpuMs: number;
  /** runSync --until-caught-up, start to end (key index build included). */
  syncMs: number;
  syncCpuMs: number;
  syncServerCpuMs: number;
  /** From the sync's start until the slot was streamed: opening the tables, mostly the key index build. */
  syncStartupMs: number;
  /** From the sync's start until the batch holding the last change was applied and confirmed. */
  syncAppliedMs: number;
  peakRssBytes: number;
  batches: number;
  /** The sync's CPU by phase, for a profiled repeat. */
  phases?: PhaseTime[];
}

const rate = (changes: number, ms: number): string => `${Math.round(changes / (ms / 1000)).toLocaleString('en-US')}/s`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Prints the catch-up's medians, the sync/pg_recvlogical ratio and, when profiled, where the sync's CPU went. */
export function printCatchUp(changes: number, rounds: readonly CatchUpRound[]): void {
  const m = (pick: (r: CatchUpRound) => number): number => median(rounds.map(pick));
  const recv = m((r) => r.recvMs);
  const decode = m((r) => r.decodeMs);
  const sync = m((r) => r.syncMs);
  const streaming = m((r) => r.syncAppliedMs - r.syncStartupMs);
  console.log(`\nCatch-up (median of ${rounds.length}; ${changes.toLocaleString('en-US')} changes; changes/s = changes / median wall time)\n`);
  const cpu = (client: (r: CatchUpRound) => number, server: (r: CatchUpRound) => number): string => `${seconds(m(client))} + ${seconds(m(server))}`;
  const lines: Array<[string, string, string, string]> = [
    [
      'pg_recvlogical to /dev/null (source rate)',
      seconds(recv),
      rate(changes, recv),
      cpu(
        (r) => r.recvCpuMs,
        (r) => r.recvServerCpuMs,
      ),
    ],
    [
      'icebridge stream + decode only',
      seconds(decode),
      rate(changes, decode),
      cpu(
        (r) => r.decodeCpuMs,
        (r) => r.decodeServerCpuMs,
      ),
    ],
    [
      'icebridge sync --until-caught-up',
      seconds(sync),
      rate(changes, sync),
      cpu(
        (r) => r.syncCpuMs,
        (r) => r.syncServerCpuMs,
      ),
    ],
    ['  of which opening the table (key index)', seconds(m((r) => r.syncStartupMs)), '', ''],
    ['  of which streaming to last change applied', seconds(streaming), rate(changes, streaming), ''],
  ];
  console.log(`  ${'what'.padEnd(46)} ${'wall'.padStart(8)} ${'changes/s'.padStart(12)}  CPU: client + server`);
  for (const [what, wall, r, c] of lines) console.log(`  ${what.padEnd(46)} ${wall.padStart(8)} ${r.padStart(12)}  ${c}`);
  console.log(
    `  sync peak RSS (sampled each second): ${megabytes(Math.max(...rounds.map((r) => r.peakRssBytes)))}; batches applied: ${rounds.map((r) => r.batches).join(', ')}`,
  );
  console.log('\nTargets');
  console.log(verdict('sync / pg_recvlogical (changes/s)', `${(recv / sync).toFixed(3)} ×`, '≥ 0.5', recv / sync >= 0.5));
  console.log(`  the same without the table's opening: ${(recv / streaming).toFixed(3)} ×; stream + decode alone: ${(recv / decode).toFixed(3)} ×`);
  // CPU is steadier than wall time under other load: the ratio of CPU spent per change, client and server together.
  const recvCpu = m((r) => r.recvCpuMs + r.recvServerCpuMs);
  const syncCpu = m((r) => r.syncCpuMs + r.syncServerCpuMs);
  console.log(
    `  CPU per million changes (client + server): pg_recvlogical ${((recvCpu / 1000) * (1e6 / changes)).toFixed(1)} s, ` +
      `sync ${((syncCpu / 1000) * (1e6 / changes)).toFixed(1)} s (${(recvCpu / syncCpu).toFixed(3)} ×)`,
  );
  const phases = rounds.find((r) => r.phases !== undefined)?.phases;
  if (phases) {
    const total = phases.reduce((sum, p) => sum + p.ms, 0);
    console.log('\nWhere the first sync went (CPU profile of its main thread, samples by phase; idle = waiting):');
    for (const p of phases.slice(0, 14)) console.log(`  ${p.phase.padEnd(56)} ${seconds(p.ms).padStart(8)} ${((100 * p.ms) / total).toFixed(1).padStart(5)} %`);
  }
}

/** The value at quantile `q` (0..1) of a list, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Prints the steady state's lag percentiles, RSS at start, middle and end, and the verdicts. */
export function printSteady(result: SteadyResult, context: { rate: number; flushIntervalMs: number; tx: { min: number; max: number } }): void {
  const s = result.samples;
  const lagS = s.map((x) => x.lagSeconds);
  const lagB = s.flatMap((x) => (x.lagBytes === undefined ? [] : [x.lagBytes]));
  const own = s.flatMap((x) => (x.syncLagSeconds === undefined ? [] : [x.syncLagSeconds]));
  const rss = s.flatMap((x) => (x.rssBytes === undefined ? [] : [x.rssBytes]));
  const line = (name: string, values: number[], show: (v: number) => string): void =>
    console.log(
      `  ${name.padEnd(52)} p50 ${show(quantile(values, 0.5)).padStart(9)}  p95 ${show(quantile(values, 0.95)).padStart(9)}  max ${show(Math.max(...values)).padStart(9)}`,
    );
  console.log(
    `\nSteady state (${s.length} samples, one a second; writer ${context.rate} changes/s asked, ${Math.round(result.heldRate)} held, ` +
      `transactions of ${context.tx.min}-${context.tx.max}; flush interval ${context.flushIntervalMs} ms)\n`,
  );
  line('lag, seconds (newest write - newest write confirmed)', lagS, (v) => `${v.toFixed(2)} s`);
  line('lag, bytes (WAL insert - slot confirmed_flush_lsn)', lagB, (v) => `${(v / 1024).toFixed(0)} kB`);
  if (own.length > 0) line("the sync's lagSeconds (now - last commit seen)", own, (v) => `${v.toFixed(2)} s`);
  const at = (f: number): number | undefined => rss[Math.min(rss.length - 1, Math.floor(f * (rss.length - 1)))];
  const mb = (v: number | undefined): string => (v === undefined ? '?' : megabytes(v));
  console.log(`  sync RSS: start ${mb(at(0))}, middle ${mb(at(0.5))}, end ${mb(at(1))} (max ${mb(Math.max(...rss))})`);
  const heap = s.flatMap((x) => (x.heapUsedBytes === undefined ? [] : [x.heapUsedBytes]));
  const heapAt = (f: number): number | undefined => heap[Math.min(heap.length - 1, Math.floor(f * (heap.length - 1)))];
  if (heap.length > 0) console.log(`  sync V8 heap in use: start ${mb(heapAt(0))}, middle ${mb(heapAt(0.5))}, end ${mb(heapAt(1))}`);
  if (result.liveHeap.length > 0)
    console.log(`  sync V8 heap after a full collection (every 30 s, MB): ${result.liveHeap.map((h) => (h.bytes / 2 ** 20).toFixed(0)).join(', ')}`);
  // A lag that grows minute by minute is the table's growth (files, manifests), not the machine's load.
  const minutes: string[] = [];
  for (let from = 0; from < s.length; from += 60) {
    const window = lagS.slice(from, from + 60);
    minutes.push(`${quantile(window, 0.5).toFixed(1)}/${quantile(window, 0.95).toFixed(1)}`);
  }
  console.log(`  lag seconds p50/p95 per minute: ${minutes.join(', ')}`);
  console.log(
    `  changes written ${result.written.toLocaleString('en-US')}, applied ${result.applied.toLocaleString('en-US')}; ` +
      `sync streaming ${seconds(result.startupMs)} after its start; ` +
      (result.drainAfterStopMs === undefined
        ? 'not caught up within 2 min of the writer stopping'
        : `caught up ${seconds(result.drainAfterStopMs)} after the writer stopped`),
  );
  const target = context.flushIntervalMs / 1000 + 2;
  const p95 = quantile(lagS, 0.95);
  console.log('\nTargets');
  console.log(verdict('lag p95 (seconds)', `${p95.toFixed(2)} s`, `≤ ${target} s`, p95 <= target));
  const first = at(0);
  const last = at(1);
  if (first !== undefined && last !== undefined) {
    const growth = last / first;
    console.log(verdict('RSS end / start', `${growth.toFixed(2)} ×`, '≤ 1.2', growth <= 1.2));
  }
}
