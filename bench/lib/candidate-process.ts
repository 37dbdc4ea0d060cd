/**
 * Child-process entry: generates the data, prepares one candidate's input, times its writes and reports back over
 * IPC. Arguments: <candidate> <rows> <runs> <outputDir>.
 */
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CandidateUnavailableError, isCandidateName, loadCandidate, type Candidate, type CandidateName } from './candidate';
import type { CandidateReport } from './child-runner';
import { RssSampler, measure } from './measure';
import { digestOrders, generateOrders } from './orders-data';

function send(report: CandidateReport): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      console.log(JSON.stringify(report));
      resolve();
      return;
    }
    process.send(report, undefined, undefined, () => resolve());
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function main(name: CandidateName, rows: number, runs: number, outputDir: string): Promise<CandidateReport> {
  let stage = 'load';
  let candidate: Candidate | undefined;
  try {
    candidate = await loadCandidate(name);
    stage = 'generate';
    const data = generateOrders(rows);
    stage = 'prepare';
    const started = performance.now();
    const write = await candidate.prepare(data);
    const prepareMs = performance.now() - started;
    const wallMs: number[] = [];
    const cpuMs: number[] = [];
    const peakRssDeltaBytes: number[] = [];
    const phasesMs: Record<string, number[]> = {};
    const sampler = new RssSampler();
    let previous: string[] = [];
    let last = { paths: [] as string[], bytes: 0 };
    for (let run = 1; run <= runs; run++) {
      stage = `run ${run}`;
      const target = path.join(outputDir, `${name}-run${run}.parquet`);
      const result = await measure(() => write(target), sampler);
      wallMs.push(result.wallMs);
      cpuMs.push(result.cpuMs);
      peakRssDeltaBytes.push(result.peakRssDeltaBytes);
      for (const [phase, ms] of Object.entries(result.value.phasesMs ?? {})) (phasesMs[phase] ??= []).push(ms);
      // Only the last run's files are inspected; earlier ones would just fill the temp disk.
      await Promise.all(previous.map((file) => rm(file, { force: true })));
      previous = result.value.paths;
      last = result.value;
    }
    await sampler.stop();
    const report: CandidateReport = {
      kind: 'measured',
      name,
      wallMs,
      cpuMs,
      peakRssDeltaBytes,
      bytes: last.bytes,
      paths: last.paths,
      prepareMs,
      phasesMs,
      digest: digestOrders(data),
    };
    if (candidate.note) report.note = candidate.note;
    return report;
  } catch (error) {
    if (error instanceof CandidateUnavailableError) return { kind: 'unavailable', name, reason: error.message };
    return { kind: 'failed', name, stage, reason: describe(error) };
  } finally {
    await candidate?.close?.().catch(() => undefined);
  }
}

const [nameArg = '', rowsArg = '', runsArg = '', outputDir = ''] = process.argv.slice(2);
if (!isCandidateName(nameArg) || !(Number(rowsArg) > 0) || !(Number(runsArg) > 0) || outputDir === '') {
  console.error('usage: candidate-process <candidate> <rows> <runs> <outputDir>');
  process.exit(2);
}
main(nameArg, Number(rowsArg), Number(runsArg), outputDir)
  .then(send)
  .then(
    () => process.exit(0),
    () => process.exit(1),
  );
