/**
 * Picks the Parquet writer for Iceberg data files by measurement (ARCHITECTURE.md §3): times each candidate on
 * the same `orders` data, then checks what its file really contains against Iceberg's Parquet requirements.
 *
 *   npx tsx bench/parquet-writers.ts [--rows N] [--runs R] [--only a,b] [--keep]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { CANDIDATE_NAMES, isCandidateName, type CandidateName } from './lib/candidate';
import { runCandidateInChild } from './lib/child-runner';
import { ParquetInspector } from './lib/inspect-parquet';
import { capabilityTable, conclusion, notes, performanceTable, type Outcome } from './lib/report';

/** Command-line options of the benchmark. */
export interface BenchOptions {
  rows: number;
  runs: number;
  only: CandidateName[];
  keep: boolean;
}

/** Parses argv; throws with a usage message on anything it does not understand. */
export function parseArgs(argv: string[]): BenchOptions {
  const options: BenchOptions = { rows: 500_000, runs: 5, only: [...CANDIDATE_NAMES], keep: false };
  const positive = (flag: string, text: string | undefined): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${flag} needs a positive integer, got ${String(text)}`);
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--rows') options.rows = positive(flag, value());
    else if (flag === '--runs') options.runs = positive(flag, value());
    else if (flag === '--keep') options.keep = true;
    else if (flag === '--only') {
      const names = String(value())
        .split(',')
        .map((s) => s.trim());
      const unknown = names.filter((n) => !isCandidateName(n));
      if (unknown.length > 0) throw new Error(`unknown candidate(s) ${unknown.join(', ')}; known: ${CANDIDATE_NAMES.join(', ')}`);
      options.only = names.filter(isCandidateName);
    } else throw new Error(`unknown argument ${arg}\nusage: tsx bench/parquet-writers.ts [--rows N] [--runs R] [--only a,b] [--keep]`);
  }
  return options;
}

/** Other work on the machine skews timings; the 1-minute load average puts them in context. */
function loadAverage(): string {
  return `load average ${os.loadavg()[0]!.toFixed(2)}`;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const outputDir = await mkdtemp(path.join(os.tmpdir(), 'icebridge-parquet-bench-'));
  console.log(
    `Parquet writers: ${options.rows.toLocaleString('en-US')} orders rows, ${options.runs} runs each, ` +
      `node ${process.version}, ${os.cpus().length} CPUs, ${loadAverage()}, output in ${outputDir}`,
  );
  const inspector = await ParquetInspector.open();
  const outcomes: Outcome[] = [];
  try {
    for (const name of options.only) {
      process.stdout.write(`  ${name} ... `);
      const report = await runCandidateInChild(name, {
        rows: options.rows,
        runs: options.runs,
        outputDir,
        timeoutInMs: 20 * 60_000,
      });
      const outcome: Outcome = { report };
      if (report.kind === 'measured') {
        try {
          outcome.capabilities = await inspector.inspect(report.paths, report.digest);
        } catch (error) {
          outcome.inspectionError = error instanceof Error ? error.message : String(error);
        }
      }
      console.log(report.kind === 'measured' ? 'done' : report.kind === 'unavailable' ? 'not available' : 'failed');
      outcomes.push(outcome);
    }
  } finally {
    inspector.close();
    if (!options.keep) await rm(outputDir, { recursive: true, force: true });
  }
  console.log('\nSpeed (time = encode + compress + write of prepared input; median of runs)\n');
  console.log(performanceTable(outcomes, options.rows));
  console.log("* prep ms: one-off conversion of the generated data into the writer's input form, NOT in the time.");
  console.log("  CPU ms: median user+system time of all the process's threads during the write.");
  console.log('  peak RSS Δ: largest rise over the pre-run RSS across runs, measured in a process of its own.\n');
  console.log("Iceberg capability check of the last run's file (footer via hyparquet, ids and read-back via DuckDB)\n");
  console.log(capabilityTable(outcomes));
  console.log('\nNotes');
  for (const line of notes(outcomes)) console.log(`  - ${line}`);
  console.log('\nConclusion');
  for (const line of conclusion(outcomes)) console.log(`  - ${line}`);
  console.log(`\nFinished at ${loadAverage()}; timings on a busy machine vary, so compare medians, not single runs.`);
  if (options.keep) console.log(`Files kept in ${outputDir}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
