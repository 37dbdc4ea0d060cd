/** Renders the measurements and capability checks as plain-text tables and a conclusion. */
import type { CandidateReport, MeasuredReport } from './child-runner';
import { BLOCKING_CHECKS, isIcebergCorrect, type Capabilities, type Check } from './inspect-parquet';
import { median } from './measure';

/** A candidate's report plus, when it produced files, their inspection (or why inspection failed). */
export interface Outcome {
  report: CandidateReport;
  capabilities?: Capabilities;
  inspectionError?: string;
}

const MB = 1024 * 1024;

/** Left-aligned table with a header rule; every row must have as many cells as the header. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function fixed(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function statusOf(report: CandidateReport): string {
  if (report.kind === 'measured') return 'ok';
  if (report.kind === 'unavailable') return 'not available';
  return `failed (${report.stage})`;
}

/** Speed table: median wall time of the timed write, throughput, size and memory. */
export function performanceTable(outcomes: Outcome[], rows: number): string {
  const body = outcomes.map(({ report }) => {
    if (report.kind !== 'measured') return [report.name, statusOf(report), '-', '-', '-', '-', '-', '-', '-'];
    const ms = median(report.wallMs);
    return [
      report.name,
      'ok',
      fixed(ms, 0),
      fixed(rows / (ms / 1000), 0),
      fixed(median(report.cpuMs), 0),
      fixed(report.bytes / MB, 2),
      fixed(Math.max(...report.peakRssDeltaBytes) / MB, 0),
      fixed(report.prepareMs, 0),
      report.wallMs.map((m) => fixed(m, 0)).join(' '),
    ];
  });
  return table(['writer', 'status', 'median ms', 'rows/s', 'CPU ms', 'file MB', 'peak RSS Δ MB', 'prep ms*', 'all runs ms'], body);
}

function cell(check: Check): string {
  return `${check.ok ? 'ok' : 'NO'} ${check.detail}`;
}

const CHECK_ROWS: [keyof Omit<Capabilities, 'createdBy'>, string][] = [
  ['fieldIds', 'field ids'],
  ['uuid', 'uuid'],
  ['timestamptz', 'timestamptz'],
  ['decimal', 'decimal(12,2)'],
  ['list', 'list<string>'],
  ['zstd', 'codec'],
  ['data', 'read-back'],
  ['required', 'required (advisory)'],
];

/** Capability table, one column per writer: what the produced file actually contains, per Iceberg requirement. */
export function capabilityTable(outcomes: Outcome[]): string {
  const columnOf = ({ report, capabilities, inspectionError }: Outcome): string[] => {
    if (!capabilities) {
      const why = inspectionError ? `inspection failed: ${inspectionError.slice(0, 60)}` : statusOf(report);
      return [why, ...CHECK_ROWS.slice(1).map(() => '-'), '-'];
    }
    return [...CHECK_ROWS.map(([key]) => cell(capabilities[key])), isIcebergCorrect(capabilities) ? 'CORRECT' : 'NOT CORRECT'];
  };
  const columns = outcomes.map(columnOf);
  const labels = [...CHECK_ROWS.map(([, label]) => label), 'Iceberg data file'];
  return table(
    ['check', ...outcomes.map((o) => o.report.name)],
    labels.map((label, i) => [label, ...columns.map((c) => c[i]!)]),
  );
}

/** Reasons a candidate did not run or failed, and each writer's notes. */
export function notes(outcomes: Outcome[]): string[] {
  const lines: string[] = [];
  for (const { report, capabilities } of outcomes) {
    if (report.kind === 'unavailable') lines.push(`${report.name}: not available: ${report.reason}`);
    else if (report.kind === 'failed') lines.push(`${report.name}: failed during ${report.stage}: ${report.reason}`);
    else {
      const by = capabilities ? `; file written by "${capabilities.createdBy}"` : '';
      const phases = Object.entries(report.phasesMs).map(([phase, ms]) => `${phase} ${fixed(median(ms), 0)} ms`);
      const split = phases.length > 0 ? `; median split: ${phases.join(', ')}` : '';
      lines.push(`${report.name}: ${report.note ?? 'library defaults'}${split}${by}`);
    }
  }
  return lines;
}

/** The verdict: fastest writer, writers producing correct Iceberg files, and the one to use. */
export function conclusion(outcomes: Outcome[]): string[] {
  const measured = outcomes.filter((o): o is Outcome & { report: MeasuredReport } => o.report.kind === 'measured');
  if (measured.length === 0) return ['No candidate produced a file; nothing to conclude.'];
  const speed = (o: { report: MeasuredReport }) => median(o.report.wallMs);
  const bySpeed = [...measured].sort((a, b) => speed(a) - speed(b));
  const fastest = bySpeed[0]!;
  const lines = [
    `Speed: ${bySpeed.map((o) => `${o.report.name} ${fixed(speed(o), 0)} ms`).join(' < ')}` +
      (bySpeed.length > 1 ? ` (fastest is ${fixed(speed(bySpeed[1]!) / speed(fastest), 1)}x the runner-up).` : '.'),
  ];
  const cpu = (o: { report: MeasuredReport }) => median(o.report.cpuMs);
  const byCpu = [...measured].sort((a, b) => cpu(a) - cpu(b));
  lines.push(`CPU (less sensitive to other load): ${byCpu.map((o) => `${o.report.name} ${fixed(cpu(o), 0)} ms`).join(' < ')}.`);
  const correct = bySpeed.filter((o) => o.capabilities && isIcebergCorrect(o.capabilities));
  for (const o of bySpeed) {
    if (!o.capabilities) continue;
    const caps = o.capabilities;
    const missing = BLOCKING_CHECKS.filter((key) => !caps[key].ok).map((key) => `${key} (${caps[key].detail})`);
    if (missing.length > 0) lines.push(`${o.report.name} is not a correct Iceberg writer here: ${missing.join('; ')}.`);
    if (!caps.required.ok)
      lines.push(`${o.report.name}: required columns written as OPTIONAL (${caps.required.detail}); readers accept it, but nullability is lost from the file.`);
  }
  if (correct.length === 0) {
    lines.push('No candidate wrote a fully correct Iceberg data file.');
    return lines;
  }
  const winner = correct[0]!;
  const names = correct.map((o) => o.report.name).join(', ');
  lines.push(`Iceberg-correct: ${names}.`);
  lines.push(
    winner === fastest
      ? `Use ${winner.report.name}: it is both the fastest and correct.`
      : `Use ${winner.report.name}: the fastest writer that is correct (${fixed(speed(winner) / speed(fastest), 1)}x the time of ${fastest.report.name}).`,
  );
  return lines;
}
