/**
 * The verification report for a terminal: one status line per table, then the details of every difference with both
 * sides' values. Colour is used only when asked for (a TTY); names and values are printed with control characters
 * escaped, so data can never move the cursor or recolour the screen.
 */
import { quoteShown } from '../../text/bounded-text';
import { readableReport } from './readable-values';
import type { TableVerification, VerificationReport } from '../contracts';
import { differenceKinds, formatCount, formatKey, reportTotals } from './report-model';

/** Options of renderTerminalReport. */
export interface RenderTerminalReportOptions {
  /** ANSI colour; only for a TTY. Default false. */
  color?: boolean;
  /** Label of the source side. Default `postgres`. */
  sourceLabel?: string;
  /** Label of the target side. Default `iceberg`. */
  targetLabel?: string;
}

/** The subset of a writable stream writeTerminalReport uses. */
export interface TerminalReportOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

type Paint = (text: string) => string;

interface Palette {
  ok: Paint;
  differs: Paint;
  error: Paint;
  dim: Paint;
  bold: Paint;
}

const PLAIN: Palette = { ok: (t) => t, differs: (t) => t, error: (t) => t, dim: (t) => t, bold: (t) => t };
const ANSI: Palette = {
  ok: (t) => `\u001b[32m${t}\u001b[39m`,
  differs: (t) => `\u001b[33m${t}\u001b[39m`,
  error: (t) => `\u001b[31m${t}\u001b[39m`,
  dim: (t) => `\u001b[2m${t}\u001b[22m`,
  bold: (t) => `\u001b[1m${t}\u001b[22m`,
};

/** Writes the report to a stream, in colour only when the stream is a TTY. */
export function writeTerminalReport(report: VerificationReport, out: TerminalReportOutput, options: Omit<RenderTerminalReportOptions, 'color'> = {}): void {
  out.write(renderTerminalReport(report, { ...options, color: out.isTTY === true }) + '\n');
}

/** Renders the report as text: a per-table status table, the details of each difference, and a closing summary line. */
export function renderTerminalReport(canonical: VerificationReport, options: RenderTerminalReportOptions = {}): string {
  const report = readableReport(canonical);
  const paint = options.color ? ANSI : PLAIN;
  const labels = { source: options.sourceLabel ?? 'postgres', target: options.targetLabel ?? 'iceberg' };
  const lines = [...statusTable(report, paint, labels)];
  for (const table of report.tables) {
    if (table.status === 'ok' && differenceKinds(table).length === 0) continue;
    lines.push('', ...tableDetails(table, paint, labels));
  }
  lines.push('', summaryLine(report, paint));
  return lines.join('\n');
}

function statusTable(report: VerificationReport, paint: Palette, labels: { source: string; target: string }): string[] {
  const header = ['table', 'status', `${labels.source} rows`, `${labels.target} rows`, 'schema diffs', 'aggregates', 'differing rows'];
  const rows = report.tables.map((t) => [
    printable(t.table),
    t.status,
    t.counts ? formatCount(t.counts.source) : '',
    t.counts ? targetRows(t) : '',
    String(t.schema.length),
    t.aggregates.length === 0 ? '' : `${t.aggregates.filter((a) => !a.ok).length}/${t.aggregates.length}`,
    t.rows ? formatCount(t.rows.differing) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], status?: TableVerification['status']) =>
    cells
      .map((c, i) => {
        const padded = i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!);
        return i === 1 && status ? paint[status](padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [paint.bold(line(header)), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r, i) => line(r, report.tables[i]!.status))];
}

function targetRows(t: TableVerification): string {
  const counts = t.counts!;
  const manifest = formatCount(counts.targetManifest);
  if (counts.targetRead === undefined || counts.targetRead === counts.targetManifest) return manifest;
  return `${manifest} (read ${formatCount(counts.targetRead)})`;
}

function tableDetails(t: TableVerification, paint: Palette, labels: { source: string; target: string }): string[] {
  const out = [`${paint.bold(printable(t.table))} -> ${printable(t.target)}  ${paint[t.status](t.status)}  ${paint.dim(t.level)}`];
  if (t.error !== undefined) out.push(`  ${paint.error('error')}: ${printable(t.error)}`);
  if (t.schema.length > 0) {
    out.push('  schema');
    for (const d of t.schema) {
      const side = (s: { type: string; required: boolean } | undefined) => (s ? `${printable(s.type)} ${s.required ? 'required' : 'optional'}` : 'absent');
      out.push(`    ${paint.differs(d.kind)}  ${printable(d.field)}: expected ${side(d.expected)}, actual ${side(d.actual)}`);
      if (d.fixSql !== undefined) out.push(`      ${paint.dim('fix:')} ${printable(d.fixSql)}`);
    }
  }
  if (t.counts && !t.counts.ok) {
    const read = t.counts.targetRead === undefined ? '' : `, read ${formatCount(t.counts.targetRead)}`;
    out.push(
      `  ${paint.differs('COUNT_MISMATCH')}  ${labels.source} ${formatCount(t.counts.source)}, ${labels.target} manifests ${formatCount(t.counts.targetManifest)}${read}`,
    );
  }
  const failed = t.aggregates.filter((a) => !a.ok);
  if (failed.length > 0) {
    out.push('  aggregates');
    for (const a of failed) {
      out.push(
        `    ${paint.differs('AGGREGATE_MISMATCH')}  ${printable(a.column)} ${printable(a.aggregate)}: ${labels.source} ${quote(a.source)}, ${labels.target} ${quote(a.target)}`,
      );
    }
  }
  if (t.rows && t.rows.differences.length > 0) {
    const shown = t.rows.differences.length;
    const listed = String(shown) === t.rows.differing ? '' : `, first ${shown} listed`;
    out.push(`  rows: ${formatCount(t.rows.differing)} of ${formatCount(t.rows.compared)} differ${listed}`);
    for (const r of t.rows.differences) {
      out.push(`    ${paint.differs(r.kind)}  ${printable(formatKey(r.key))}`);
      const width = Math.max(0, ...r.columns.map((c) => printable(c.column).length));
      for (const c of r.columns) {
        out.push(`      ${printable(c.column).padEnd(width)}  ${labels.source} ${quote(c.source)}  ${labels.target} ${quote(c.target)}`);
      }
    }
  } else if (t.rows && t.rows.differing !== '0') {
    out.push(`  rows: ${formatCount(t.rows.differing)} of ${formatCount(t.rows.compared)} differ`);
  }
  if (t.rows?.rangesNotExamined !== undefined && t.rows.rangesNotExamined !== '0') {
    out.push(`  ${paint.differs('note')}: ${formatCount(t.rows.rangesNotExamined)} differing key ranges were not examined row by row; more rows may differ`);
  }
  return out;
}

function summaryLine(report: VerificationReport, paint: Palette): string {
  const totals = reportTotals(report);
  const parts = [`${totals.ok} of ${totals.tables} tables verified exact`];
  if (totals.differs > 0) parts.push(paint.differs(`${totals.differs} differ`));
  if (totals.error > 0) parts.push(paint.error(`${totals.error} failed`));
  if (totals.rowsCompared > 0n) parts.push(`${formatCount(totals.rowsCompared)} rows compared, ${formatCount(totals.rowsDiffering)} differing`);
  const verdict = report.ok ? paint.ok('OK') : paint.error('DIFFERS');
  return `${verdict}: ${parts.join('; ')} (${report.level})`;
}

/**
 * A value as an unambiguous literal: JSON-quoted text (so '' and 'NULL' stay distinct from NULL), a long value
 * in its bounded form (quoted prefix, length, hash), control characters escaped.
 */
function quote(value: string | null): string {
  return value === null ? 'NULL' : escapeC1(quoteShown(value));
}

/** Text with C0/C1 control characters escaped, so data cannot drive the terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function escapeC1(text: string): string {
  return text.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
