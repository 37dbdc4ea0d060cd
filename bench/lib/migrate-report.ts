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
