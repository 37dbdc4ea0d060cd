/**
 * The drift report: one JSON document (`report.json`) and one self-contained HTML page (`report.html`: inline
 * stylesheet, no script, no external address, a Content-Security-Policy that forbids every fetch). Every piece of
 * catalog text (table and column names, types, defaults, SQL) is HTML-escaped where it is written.
 */
import type { FileIO } from '../iceberg/io/file-io';
import { escapeHtml, staticPage } from '../text/static-page';
import type { DriftFinding } from './drift-model';

/** One comparison of a drift check: which two sides, and what differs. */
export interface DriftComparison {
  /** `iceberg`: Iceberg tables vs the live source; `registry`: a registry version vs the live source; `environments`, `versions`. */
  name: 'iceberg' | 'registry' | 'environments' | 'versions';
  /** The reference side, e.g. `iceberg file:///w (public)` or `registry v3`. */
  before: string;
  /** The checked side. */
  after: string;
  findings: DriftFinding[];
}

/** Everything a drift check found, as `report.json` holds it. */
export interface DriftReport {
  format: 'icebridge-drift-report';
  checkedAt: string;
  /** The source database, redacted. */
  source: string;
  /** The PostgreSQL schema checked. */
  schema: string;
  /** Tables compared. */
  tables: string[];
  /** The registry version the source's schema is recorded in after the check, and whether the check wrote it. */
  registry?: { version: number; written: boolean };
  comparisons: DriftComparison[];
}

/** Every finding of a report, comparison after comparison. */
export function reportFindings(report: DriftReport): DriftFinding[] {
  return report.comparisons.flatMap((c) => c.findings);
}

/** Writes `report.json` and `report.html` into `folder`; returns their locations. */
export async function writeDriftReport(io: FileIO, folder: string, report: DriftReport): Promise<{ json: string; html: string }> {
  const base = folder.replace(/\/+$/, '');
  const encoder = new TextEncoder();
  const json = `${base}/report.json`;
  const html = `${base}/report.html`;
  await io.write(json, encoder.encode(`${JSON.stringify(report, null, 2)}\n`));
  await io.write(html, encoder.encode(renderDriftHtml(report)));
  return { json, html };
}

/** The report as a complete, self-contained HTML document. */
export function renderDriftHtml(report: DriftReport): string {
  const findings = reportFindings(report);
  const unsafe = findings.filter((f) => f.severity === 'unsafe').length;
  const verdict = findings.length === 0 ? 'No drift' : `${findings.length} difference(s), ${unsafe} unsafe`;
  const sections = report.comparisons.map((c) => comparisonHtml(c)).join('\n');
  const registry =
    report.registry === undefined
      ? ''
      : `<dt>Registry</dt><dd>v${report.registry.version}${report.registry.written ? ' (written by this check)' : ' (unchanged)'}</dd>`;
  return staticPage(
    `icebridge schema drift: ${verdict}`,
    `<h1>icebridge schema drift</h1>
<p class="${findings.length === 0 ? 'ok' : 'fail'}" id="verdict">${escapeHtml(verdict)}</p>
<dl>
<dt>Source</dt><dd>${escapeHtml(report.source)} (schema ${escapeHtml(report.schema)})</dd>
<dt>Checked</dt><dd>${escapeHtml(report.checkedAt)}, ${report.tables.length} table(s)</dd>
${registry}
</dl>
${sections}`,
  );
}

function comparisonHtml(comparison: DriftComparison): string {
  const title = `<h2>${escapeHtml(comparison.before)} → ${escapeHtml(comparison.after)}</h2>`;
  if (comparison.findings.length === 0) return `${title}\n<p class="ok">no differences</p>`;
  const rows = comparison.findings.map((f) => {
    const fix = [
      f.fix.sql === undefined ? '' : `<pre>${escapeHtml(f.fix.sql)};</pre>${f.fix.sqlSide === 'before' ? ' (on the reference side)' : ''}`,
      f.fix.iceberg === undefined ? '' : `<pre>iceberg: ${escapeHtml(f.fix.iceberg)}</pre>`,
      escapeHtml(f.fix.note),
    ]
      .filter((s) => s !== '')
      .join('');
    return `<tr><td>${escapeHtml(f.table)}</td><td>${escapeHtml(f.column ?? '')}</td><td>${escapeHtml(f.kind)}</td><td class="${f.severity}">${f.severity}</td><td>${escapeHtml(f.before ?? '—')}</td><td>${escapeHtml(f.after ?? '—')}</td><td>${f.fix.syncStops ? 'stops' : 'continues'}</td><td>${fix}</td></tr>`;
  });
  return `${title}
<table><thead><tr><th>table</th><th>column</th><th>change</th><th>severity</th><th>before</th><th>after</th><th>sync</th><th>fix</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`;
}
