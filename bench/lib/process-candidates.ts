/**
 * The migration benchmark's jobs that run another program and time it from start to exit: psql's binary COPY to
 * /dev/null (what the server emits to a C client) and the `icebridge` command itself, start-up included.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { builtModule } from './built-code';
import { commandPhases, journaledActivities } from './journal-phases';
import type { JobResult, MigrateJob } from './migrate-candidates';
import type { PhaseTiming } from './phase-timings';

/** A finished program: what it printed, its wall time and its own CPU. */
interface ProcessRun {
  stdout: string;
  wallMs: number;
  cpuMs: number;
  /** When the process was started and when it had exited, epoch ms. */
  startedAtEpochMs: number;
  endedAtEpochMs: number;
}

/**
 * Runs `command` under sh so the shell's `times` reports the program's user and system CPU after it exits (Node
 * does not expose a child's resource usage). Rejects with the program's error output when it fails.
 */
async function runProcess(command: string, args: string[]): Promise<ProcessRun> {
  const startedAtEpochMs = Date.now();
  const started = performance.now();
  const { stdout } = await promisify(execFile)('sh', ['-c', '"$0" "$@" && times', command, ...args], {
    env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallMs = performance.now() - started;
  const lines = stdout.trimEnd().split('\n');
  // The last line of `times` is the shell's children: the program's CPU, user then system, as `0m1.230000s`.
  const cpuMs = [...(lines.at(-1) ?? '').matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (ms, [, minutes, seconds]) => ms + (Number(minutes) * 60 + Number(seconds)) * 1000,
    0,
  );
  return { stdout: lines.slice(0, -2).join('\n'), wallMs, cpuMs, startedAtEpochMs, endedAtEpochMs: startedAtEpochMs + wallMs };
}

function baseResult(rows: number, run: ProcessRun, startedAtMs: number, baselineRssBytes: number): JobResult {
  return { rows, wallMs: run.wallMs, cpuMs: run.cpuMs, startedAtMs, baselineRssBytes, outputBytes: 0 };
}

/**
 * `psql -c "\copy table to '/dev/null' (format binary)"`: the baseline the copy's target is set against. Its CPU
 * (the node CPU column of its line) is psql's own.
 */
export async function runPsqlToNull(job: MigrateJob): Promise<JobResult> {
  if (job.psql === undefined) throw new Error('a psql job needs the psql executable');
  const baselineRssBytes = process.memoryUsage.rss();
  const startedAtMs = Date.now();
  const run = await runProcess(job.psql, ['--no-psqlrc', '-d', job.sourceUrl, '-c', `\\copy ${job.schema}.${job.table} to '/dev/null' (format binary)`]);
  const copied = /^COPY (\d+)$/m.exec(run.stdout);
  if (!copied) throw new Error(`psql did not report the rows it copied: ${run.stdout.slice(0, 500)}`);
  return baseResult(Number(copied[1]), run, startedAtMs, baselineRssBytes);
}

/** The command as a user runs it: the built `dist/cli/main.js` (the benchmark builds it first, built-code.ts). */
function icebridgeCommand(): { command: string; args: string[]; label: string } {
  const built = builtModule('cli/main');
  if (!existsSync(built)) throw new Error(`${built} is missing: the benchmark builds dist/ before it runs (npm run build)`);
  return { command: process.execPath, args: [built], label: 'node dist/cli/main.js' };
}

/**
 * The end-to-end command line, each a process of its own timed from start to exit: `icebridge --version` (node and
 * the entry module), `icebridge migrate --verify none`, then `icebridge verify --level full` of the table it wrote.
 * The job's wall time is the migration's; the three are its phases, and the migration's and the verification's
 * own phases (start-up, each activity, the rest) follow, read from the history their runs journaled.
 */
export async function runCli(job: MigrateJob): Promise<JobResult> {
  const cli = icebridgeCommand();
  const icebridge = (args: string[]): Promise<ProcessRun> => runProcess(cli.command, [...cli.args, ...args]);
  const warehouse = path.join(job.workDir, 'warehouse');
  await mkdir(warehouse, { recursive: true });
  const common = ['--source', job.sourceUrl, '--warehouse', warehouse, '--schema', job.schema, '--tables', job.table, '--json'];
  const baselineRssBytes = process.memoryUsage.rss();
  const startedAtMs = Date.now();
  const version = await icebridge(['--version']);
  const migrateState = path.join(job.workDir, 'migrate-state');
  const verifyState = path.join(job.workDir, 'verify-state');
  const migrate = await icebridge(['migrate', ...common, '--verify', 'none', '--state-dir', migrateState]);
  const migrated = JSON.parse(migrate.stdout) as { runtimeStatus: string; rows: number; tables: { failed: number } };
  if (migrated.runtimeStatus !== 'Completed' || migrated.tables.failed > 0)
    throw new Error(`icebridge migrate did not commit: ${migrate.stdout.slice(0, 2000)}`);
  const verify = await icebridge(['verify', ...common, '--level', 'full', '--state-dir', verifyState]);
  const verified = JSON.parse(verify.stdout) as { tables: Array<{ rows?: { compared: string } }> };
  const compared = verified.tables.reduce((n, t) => n + Number(t.rows?.compared ?? 0), 0);
  if (compared !== migrated.rows) throw new Error(`icebridge verify compared ${compared} rows of the ${migrated.rows} migrated`);
  const phase = (name: string, run: ProcessRun): PhaseTiming => ({ phase: name, wallMs: run.wallMs, invocations: 1, busyMs: run.wallMs });
  return {
    ...baseResult(migrated.rows, migrate, startedAtMs, baselineRssBytes),
    phases: [
      phase(`${cli.label} --version`, version),
      phase('icebridge migrate --verify none', migrate),
      ...commandPhases('migrate', await journaledActivities(migrateState), migrate.startedAtEpochMs, migrate.endedAtEpochMs),
      phase('icebridge verify --level full', verify),
      ...commandPhases('verify', await journaledActivities(verifyState), verify.startedAtEpochMs, verify.endedAtEpochMs),
    ],
  };
}
