/**
 * Change capture benchmark. Catch-up: the migration benchmark's `orders` table is migrated with --cdc, then a
 * backlog of changes (60% updates, 25% inserts, 15% deletes, in transactions of 100 to 1,000 changes, written
 * server-side) is drained three ways from copies of the run's slot made before the backlog, so each drain reads
 * the same changes: pg_recvlogical to /dev/null (the source's own rate, asking pgoutput what the sync asks),
 * icebridge's stream and decode alone, and runSync --until-caught-up (what `icebridge sync` runs). Steady state: a
 * writer holds a rate of the same mix while the sync runs, and the lag and the sync's RSS are sampled each second.
 *
 *   npx tsx bench/cdc.ts [--rows N] [--changes N] [--repeat R] [--steady-seconds S] [--steady-rate N]
 *                        [--flush-interval-ms MS] [--profile DIR]
 */
import { chmod, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runMigration } from '../cli/support/run-migration';
import type { CdcChildDone } from './lib/cdc-child';
import { printCatchUp, printSteady, type CatchUpRound } from './lib/cdc-report';
import { startDrain } from './lib/cdc-runner';
import {
  copySlot,
  createChangeProcedure,
  drainWithRecvlogical,
  logicalFlags,
  makeChanges,
  slotConfirmedPast,
  targetOf,
  waitForSlotActive,
} from './lib/cdc-source';
import { runSteadyState } from './lib/cdc-steady';
import { phaseTimesInDir } from './lib/cpu-profile-phases';
import { type BenchPostgres, ORDERS, createOrdersTable, startBenchPostgres } from './lib/migrate-postgres';

/** Command-line options of the change capture benchmark. */
export interface CdcBenchOptions {
  rows: number;
  changes: number;
  repeat: number;
  /** 0 skips the steady state. */
  steadySeconds: number;
  steadyRate: number;
  flushIntervalMs: number;
  /** Where the first sync's CPU profile goes, when set. */
  profileDir?: string;
}

/** Transaction sizes: the backlog's (a batch job's), and the steady writer's (many small OLTP transactions). */
const BACKLOG_TX = { min: 100, max: 1000 } as const;
const STEADY_TX = { min: 10, max: 100 } as const;
const USAGE = 'usage: tsx bench/cdc.ts [--rows N] [--changes N] [--repeat R] [--steady-seconds S] [--steady-rate N] [--flush-interval-ms MS] [--profile DIR]';

/** Parses argv; throws with a usage message on anything it does not understand. */
export function parseCdcArgs(argv: string[]): CdcBenchOptions {
  const options: CdcBenchOptions = { rows: 1_000_000, changes: 1_000_000, repeat: 3, steadySeconds: 300, steadyRate: 2000, flushIntervalMs: 1000 };
  const integer = (flag: string, text: string | undefined, min: number): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min) throw new Error(`${flag} needs an integer of at least ${min}, got ${String(text)}\n${USAGE}`);
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    if (flag === '--rows') options.rows = integer(flag, value(), 1);
    else if (flag === '--changes') options.changes = integer(flag, value(), 1);
    else if (flag === '--repeat') options.repeat = integer(flag, value(), 1);
    else if (flag === '--steady-seconds') options.steadySeconds = integer(flag, value(), 0);
    else if (flag === '--steady-rate') options.steadyRate = integer(flag, value(), 1);
    else if (flag === '--flush-interval-ms') options.flushIntervalMs = integer(flag, value(), 1);
    else if (flag === '--profile') options.profileDir = path.resolve(value() ?? '.');
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return options;
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
}

/** Migrates `orders` with --cdc in-process (the CLI's own entry below argument parsing); returns its slot and publication. */
async function migrateWithCdc(url: string, root: string): Promise<{ slot: string; publication: string; lsn: string; ms: number }> {
  const started = performance.now();
  const report = await runMigration({
    input: { sourceSchema: ORDERS.schema, namespace: ORDERS.schema, concurrency: 1, tables: [ORDERS.table], verify: 'none', cdc: true },
    sourceUrl: url,
    warehouse: path.join(root, 'warehouse'),
    stateDir: path.join(root, 'state'),
  });
  if (report.runtimeStatus !== 'Completed' || report.cdc === undefined) throw new Error(`migrate --cdc failed: ${report.lastError ?? report.runtimeStatus}`);
  return { ...report.cdc, ms: performance.now() - started };
}

/** Runs the benchmark and prints its figures; returns 0, or 1 when a drain failed. */
export async function runCdcBench(options: CdcBenchOptions): Promise<number> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'icebridge-cdc-bench-'));
  // mkdtemp makes it 0700; the server runs as the postgres user and has to reach its data directory inside.
  await chmod(root, 0o755);
  let postgres: BenchPostgres | undefined;
  const interrupt = (): void => {
    void (async () => {
      await postgres?.stop().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
      process.exit(130);
    })();
  };
  process.once('SIGINT', interrupt);
  try {
    console.log(
      `Change capture benchmark: ${options.rows.toLocaleString('en-US')} rows, backlog of ${options.changes.toLocaleString('en-US')} changes, ` +
        `${options.repeat} repeat(s), steady state ${options.steadySeconds} s at ${options.steadyRate} changes/s; work dir ${root}`,
    );
    postgres = await startBenchPostgres(root, { postgresFlags: logicalFlags(4 + 3 * options.repeat) });
    const cpus = os.cpus();
    console.log(
      `machine: ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? '?'}), node ${process.version}, PostgreSQL ${postgres.version} (embedded, wal_level=logical)`,
    );
    console.log(`load average (1/5/15 min) at start: ${loadAverage()}; other work on this machine skews timings, so compare medians and ratios`);
    const client = await postgres.connect();
    const timeoutInMs = Math.max(20 * 60_000, options.changes / 2);
    try {
      let started = performance.now();
      await createOrdersTable(client, options.rows);
      console.log(
        `table ${ORDERS.schema}.${ORDERS.table}: ${options.rows.toLocaleString('en-US')} rows generated in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      const run = await migrateWithCdc(postgres.url, root);
      console.log(`migrate --cdc: ${(run.ms / 1000).toFixed(1)} s; slot ${run.slot} at ${run.lsn}`);
      // The tables as the migration left them: each sync repeat starts from this copy (paths inside are absolute).
      const warehouse = path.join(root, 'warehouse');
      const pristine = path.join(root, 'warehouse-migrated');
      await cp(warehouse, pristine, { recursive: true });
      const slots = (i: number): { recv: string; decode: string; sync: string } => ({
        recv: `bench_recv_${i}`,
        decode: `bench_decode_${i}`,
        sync: `bench_sync_${i}`,
      });
      // Copies before the backlog: every drain starts at the migration's point and reads the same changes.
      for (let i = 1; i <= options.repeat; i++) for (const slot of Object.values(slots(i))) await copySlot(client, run.slot, slot);
      await createChangeProcedure(client);
      started = performance.now();
      const backlog = await makeChanges(client, options.changes, BACKLOG_TX.min, BACKLOG_TX.max);
      const wal = await client.query<{ bytes: string }>('SELECT ($1::pg_lsn - $2::pg_lsn)::text AS bytes', [backlog.walEnd, run.lsn]);
      console.log(
        `backlog: ${options.changes.toLocaleString('en-US')} changes in transactions of ${BACKLOG_TX.min}-${BACKLOG_TX.max}, written in ` +
          `${((performance.now() - started) / 1000).toFixed(1)} s, ${(Number(wal.rows[0]!.bytes) / 2 ** 20).toFixed(0)} MB of WAL, ends at ${backlog.walEnd}\n`,
      );

      const rounds: CatchUpRound[] = [];
      const target = targetOf(postgres.url);
      for (let i = 1; i <= options.repeat; i++) {
        const names = slots(i);
        // The server's CPU around each drain: decoding is the walsender's work, whoever consumes.
        let serverBefore = await postgres.cpuMs();
        const recv = await drainWithRecvlogical(target, names.recv, run.publication, backlog.walEnd);
        const recvServerCpuMs = (await postgres.cpuMs()) - serverBefore;
        // pg_recvlogical's output is thrown away: its slot's confirmed position shows it received the last transaction.
        if (!(await slotConfirmedPast(client, names.recv, backlog.lastTransaction)))
          throw new Error(`pg_recvlogical stopped before the backlog's last transaction`);
        serverBefore = await postgres.cpuMs();
        const decode = await drainChild(
          { mode: 'stream', sourceUrl: postgres.url, slot: names.decode, publication: run.publication, changes: options.changes },
          timeoutInMs,
        );
        const decodeServerCpuMs = (await postgres.cpuMs()) - serverBefore;
        await rm(warehouse, { recursive: true, force: true });
        await cp(pristine, warehouse, { recursive: true });
        const profileDir = i === 1 && options.profileDir !== undefined ? path.join(options.profileDir, 'sync') : undefined;
        if (profileDir) await mkdir(profileDir, { recursive: true });
        serverBefore = await postgres.cpuMs();
        const drain = startDrain(
          {
            mode: 'sync',
            sourceUrl: postgres.url,
            slot: names.sync,
            publication: run.publication,
            warehouse,
            untilCaughtUp: true,
            flushIntervalMs: options.flushIntervalMs,
          },
          { timeoutInMs, ...(profileDir ? { profileDir } : {}) },
        );
        const readyUs = await drain.ready;
        const readyAt = performance.now();
        const startupMs = await Promise.race([waitForSlotActive(client, names.sync, timeoutInMs), drain.done.then(() => 0)]);
        const sync = await drain.done;
        const syncServerCpuMs = (await postgres.cpuMs()) - serverBefore;
        await drain.exited;
        if (sync.changes !== options.changes) throw new Error(`the sync applied ${sync.changes} changes, the backlog has ${options.changes}`);
        const lastApply = drain.progress.find((p) => p.changesApplied >= options.changes);
        rounds.push({
          recvMs: recv.wallMs,
          recvCpuMs: recv.cpuMs,
          recvServerCpuMs,
          decodeMs: decode.wallMs,
          decodeCpuMs: decode.cpuMs,
          decodeServerCpuMs,
          syncMs: sync.wallMs,
          syncCpuMs: sync.cpuMs,
          syncServerCpuMs,
          syncStartupMs: Math.min(startupMs, performance.now() - readyAt),
          syncAppliedMs: lastApply?.elapsedMs ?? sync.wallMs,
          peakRssBytes: Math.max(0, ...drain.rss.map((r) => r.bytes)),
          batches: drain.progress.length,
          ...(profileDir ? { phases: await phaseTimesInDir(profileDir, readyUs) } : {}),
        });
        const r = rounds[rounds.length - 1]!;
        console.log(
          `repeat ${i}/${options.repeat} (load ${os.loadavg()[0]!.toFixed(2)}): pg_recvlogical ${(r.recvMs / 1000).toFixed(1)} s, ` +
            `stream+decode ${(r.decodeMs / 1000).toFixed(1)} s, sync ${(r.syncMs / 1000).toFixed(1)} s (streaming after ${(r.syncStartupMs / 1000).toFixed(1)} s, ` +
            `last change applied at ${(r.syncAppliedMs / 1000).toFixed(1)} s, ${r.batches} batches)`,
        );
      }
      printCatchUp(options.changes, rounds);

      if (options.steadySeconds > 0) {
        console.log(`\nSteady state: ${options.steadyRate} changes/s for ${options.steadySeconds} s (load ${loadAverage()}) ...`);
        const steady = await runSteadyState({
          connect: () => postgres!.connect(),
          sourceUrl: postgres.url,
          warehouse,
          slot: slots(options.repeat).sync,
          publication: run.publication,
          seconds: options.steadySeconds,
          rate: options.steadyRate,
          minTx: STEADY_TX.min,
          maxTx: STEADY_TX.max,
          flushIntervalMs: options.flushIntervalMs,
        });
        printSteady(steady, { rate: options.steadyRate, flushIntervalMs: options.flushIntervalMs, tx: STEADY_TX });
      }
      console.log(`\nload average (1/5/15 min) at end: ${loadAverage()}`);
      return 0;
    } finally {
      await client.end().catch(() => undefined);
    }
  } finally {
    process.removeListener('SIGINT', interrupt);
    await postgres?.stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
}

async function drainChild(job: Parameters<typeof startDrain>[0], timeoutInMs: number): Promise<CdcChildDone> {
  const drain = startDrain(job, { timeoutInMs });
  const done = await drain.done;
  if (done.changes < (job.changes ?? 0)) throw new Error(`the ${job.mode} drain saw ${done.changes} changes, expected ${job.changes}`);
  return done;
}

if (require.main === module) {
  let options: CdcBenchOptions;
  try {
    options = parseCdcArgs(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
  runCdcBench(options).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    },
  );
}
