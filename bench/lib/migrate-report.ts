/** Tables and verdicts printed by the migration benchmark. */
import { median } from './measure';
import type { JobMeasurement } from './migrate-runner';

/** The runs of one candidate under one setting. */
export interface Series {
  /** Short label, e.g. `a icebridge`. */
  label: string;
  /** Settings that matter for this line, e.g. `64 MB partitions, 2 activities`. */
  settings: string;
  runs: JobMeasurement[];
  /** Set when a run failed; the series then has no figures. */
  error?: string;
}

/** Median figures of a series. */
export interface Summary {
  wallMs: number;
  rowsPerSecond: number;
  cpuMs: number;
  serverCpuMs: number | undefined;
  peakRssBytes: number;
  baselineRssBytes: number;
  outputBytes: number;
}

/** Medians of a series' runs (peak RSS: the highest of them, since the target is a ceiling). */
export function summarize(series: Series): Summary | undefined {
  if (series.error !== undefined || series.runs.length === 0) return undefined;
  const wallMs = median(series.runs.map((r) => r.wallMs));
  const rows = series.runs[0]!.rows;
  const server = series.runs.map((r) => r.serverCpuMs).filter((v): v is number => v !== undefined);
  return {
    wallMs,
    rowsPerSecond: rows / (wallMs / 1000),
    cpuMs: median(series.runs.map((r) => r.cpuMs)),
    serverCpuMs: server.length > 0 ? median(server) : undefined,
    peakRssBytes: Math.max(...series.runs.map((r) => r.peakRssBytes)),
    baselineRssBytes: median(series.runs.map((r) => r.baselineRssBytes)),
    outputBytes: median(series.runs.map((r) => r.outputBytes)),
  };
}

const MB = 1024 * 1024;

/** CPU or wall milliseconds spent on `rows` rows as seconds per million rows, two decimals. */
export function secondsPerMillionRows(ms: number, rows: number): string {
  return ((ms / 1000) * (1e6 / rows)).toFixed(2);
}

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

/** The results table: one line per series. */
export function resultsTable(series: Series[]): string {
  const cells: string[][] = [
    ['candidate', 'settings', 'median s', 'rows/s', 'node CPU s', 'server CPU s', 'total CPU s', 'start RSS MB', 'peak RSS MB', 'output MB', 'each run s'],
  ];
  for (const s of series) {
    const m = summarize(s);
    if (!m) {
      cells.push([s.label, s.settings, 'failed', '', '', '', '', '', '', '', '']);
      continue;
    }
    cells.push([
      s.label,
      s.settings,
      (m.wallMs / 1000).toFixed(2),
      Math.round(m.rowsPerSecond).toLocaleString('en-US'),
      (m.cpuMs / 1000).toFixed(1),
      m.serverCpuMs === undefined ? '-' : (m.serverCpuMs / 1000).toFixed(1),
      m.serverCpuMs === undefined ? '-' : ((m.cpuMs + m.serverCpuMs) / 1000).toFixed(1),
      (m.baselineRssBytes / MB).toFixed(0),
      (m.peakRssBytes / MB).toFixed(0),
      m.outputBytes === 0 ? '-' : (m.outputBytes / MB).toFixed(1),
      s.runs.map((r) => (r.wallMs / 1000).toFixed(1)).join(' '),
    ]);
  }
  return pad(cells);
}

/** One verdict line: the figure, the target and whether it is met. */
export function verdict(name: string, value: string, target: string, met: boolean): string {
  return `  ${name.padEnd(34)} ${value.padStart(12)}   target ${target.padEnd(8)} ${met ? 'met' : 'NOT met'}`;
}

/** Bytes as MB with one decimal. */
export function megabytes(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/**
 * Where one line's time went, medians over its runs: loading the code, the untimed warm-up, then the timed run
 * split by activity (from icebridge's spans) and the rest of its wall time.
 */
export function phaseTable(title: string, runs: readonly JobMeasurement[]): string {
  const withPhases = runs.filter((r) => r.phases !== undefined);
  if (withPhases.length === 0) return `  ${title}: no activity spans recorded`;
  const wallMs = median(withPhases.map((r) => r.wallMs));
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`.padStart(9);
  const share = (ms: number): string => `${((ms / wallMs) * 100).toFixed(0)}%`.padStart(5);
  const lines = [`  ${title}`];
  const load = withPhases.map((r) => r.loadMs).filter((v): v is number => v !== undefined);
  if (load.length > 0)
    lines.push(`    ${'start-up: process start to code loaded'.padEnd(44)}${seconds(median(load))}        (untimed; node, tsx loader, imports)`);
  const warmup = withPhases.map((r) => r.startupMs).filter((v): v is number => v !== undefined);
  if (warmup.length > 0)
    lines.push(`    ${'warm-up: 1,000-row run on loaded code'.padEnd(44)}${seconds(median(warmup))}        (untimed; first host, threads, JIT)`);
  lines.push(`    ${'timed run'.padEnd(44)}${seconds(wallMs)} ${share(wallMs)}`);
  const names = [...new Set(withPhases.flatMap((r) => r.phases!.map((p) => p.phase)))];
  for (const name of names) {
    const of = (r: JobMeasurement) => r.phases!.find((p) => p.phase === name);
    const covered = median(withPhases.map((r) => of(r)?.wallMs ?? 0));
    const calls = median(withPhases.map((r) => of(r)?.invocations ?? 0));
    const busy = median(withPhases.map((r) => of(r)?.busyMs ?? 0));
    const detail = calls === 0 ? '' : `  ${calls} call${calls === 1 ? '' : 's'}${calls > 1 ? `, ${(busy / 1000).toFixed(2)} s of calls` : ''}`;
    lines.push(`      ${name.padEnd(42)}${seconds(covered)} ${share(covered)}${detail}`);
  }
  if (load.length > 0) lines.push(`    ${'start-up + timed run (what a CLI run waits, about)'.padEnd(44)}${seconds(median(load) + wallMs)}`);
  return lines.join('\n');
}
