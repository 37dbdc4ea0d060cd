/**
 * The consistency job's HTML page: the verification report's own page (self-contained: inline style and script,
 * a strict Content-Security-Policy, no CDN) with the run's findings and the change capture table added above the
 * tables, so one file shows the whole night.
 */
import { escapeHtml, renderHtmlReport } from '../verify/reports/report-html';
import type { ConsistencyReport } from './consistency-job';

function syncRows(report: ConsistencyReport): string {
  if (report.syncs.length === 0) return '<p>No table is under change capture.</p>';
  const cell = (text: string | number | undefined): string => `<td>${escapeHtml(text === undefined ? '—' : String(text))}</td>`;
  const rows = report.syncs.map(
    (s) =>
      `<tr data-sync="${escapeHtml(s.table)}">${cell(s.table)}${cell(s.slot)}${cell(s.slotExists ? 'yes' : 'dropped')}${cell(s.appliedLsn)}` +
      `${cell(s.lagBytes)}${cell(s.lagSeconds === undefined ? undefined : Math.round(s.lagSeconds))}${cell(s.stopped === undefined ? 'no' : `at ${s.stopped.lsn}: ${s.stopped.reason}`)}</tr>`,
  );
  return `<table><thead><tr><th>table</th><th>slot</th><th>slot exists</th><th>applied up to</th><th>lag (bytes)</th><th>lag (s)</th><th>stopped</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function fanoutRows(report: ConsistencyReport): string {
  if (report.fanout === undefined || report.fanout.length === 0) return '';
  const rows = report.fanout.map(
    (f) =>
      `<tr data-fanout="${escapeHtml(f.runId)}"><td>${escapeHtml(f.runId)}</td><td>${escapeHtml(f.systems.join(', '))}</td><td>${f.tables}</td>` +
      `<td>${f.differences}</td><td>${escapeHtml(f.report.split('/').slice(-2).join('/'))}</td></tr>`,
  );
  return `<h2>Fan-out</h2>\n<table><thead><tr><th>run</th><th>systems</th><th>tables</th><th>differences</th><th>report</th></tr></thead><tbody>${rows.join('')}</tbody></table>\n`;
}

/** Renders the consistency report as one self-contained HTML document. */
export function renderConsistencyHtml(report: ConsistencyReport): string {
  const page = renderHtmlReport(report.verification, { title: `icebridge consistency ${report.slot}` });
  const findings =
    report.findings.length === 0
      ? '<p class="verdict ok" id="findings">No findings.</p>'
      : `<ul id="findings">${report.findings.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`;
  const section =
    `<h2>Findings</h2>\n${findings}\n<h2>Change capture</h2>\n<p>Lag thresholds: ${report.thresholds.maxLagBytes} bytes, ` +
    `${report.thresholds.maxLagSeconds} s.</p>\n${syncRows(report)}\n${fanoutRows(report)}`;
  const at = page.indexOf('<h2>Tables</h2>');
  return at < 0 ? page.replace('</main>', `${section}</main>`) : `${page.slice(0, at)}${section}${page.slice(at)}`;
}
