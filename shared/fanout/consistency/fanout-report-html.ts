/** The fan-out consistency report as one self-contained HTML page: per table, counts per system and each difference. */
import { escapeHtml, staticPage } from '../../text/static-page';
import type { FanoutConsistencyReport } from './check-fanout';
import type { TableComparison } from './compare-systems';

/** Renders the report; every name, key and detail is escaped. */
export function renderFanoutHtml(report: FanoutConsistencyReport): string {
  const verdict = report.exact ? 'Every system agrees' : `${report.differenceCount} difference(s)`;
  const body =
    `<h1>icebridge fan-out consistency</h1>\n<p class="${report.exact ? 'ok' : 'fail'}" id="verdict">${escapeHtml(verdict)}</p>\n` +
    `<p>Checked ${escapeHtml(report.generatedAt)} across ${escapeHtml(report.systems.join(', '))}.</p>\n` +
    report.tables.map((t) => tableHtml(t, report.systems)).join('\n');
  return staticPage(`icebridge fan-out consistency: ${verdict}`, body);
}

function tableHtml(table: TableComparison, systems: readonly string[]): string {
  const cell = (text: string | number | undefined): string => `<td>${escapeHtml(text === undefined ? '—' : String(text))}</td>`;
  const header = `<tr><th></th>${systems.map((s) => `<th>${escapeHtml(s)}</th>`).join('')}</tr>`;
  const row = (label: string, pick: (system: string) => string | number | undefined): string =>
    `<tr><th>${escapeHtml(label)}</th>${systems.map((s) => cell(pick(s))).join('')}</tr>`;
  const key = (s: string): keyof TableComparison['counts'] => s as keyof TableComparison['counts'];
  const figures = (s: string): string | undefined => {
    const f = table.figures[key(s)];
    return f === undefined
      ? undefined
      : Object.entries(f)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
  };
  const counts =
    `<table data-table="${escapeHtml(table.table)}"><thead>${header}</thead><tbody>` +
    row('live rows', (s) => table.counts[key(s)]) +
    row('newest position', (s) => table.newest[key(s)]) +
    row('behind (bytes)', (s) => table.behindBytes[key(s)]) +
    row('figures', figures) +
    '</tbody></table>';
  const differences =
    table.differenceCount === 0
      ? '<p class="ok">no differences</p>'
      : `<table class="differences"><thead><tr><th>kind</th><th>key</th><th>systems</th><th>detail</th></tr></thead><tbody>${table.differences
          .map((d) => `<tr data-kind="${escapeHtml(d.kind)}">${cell(d.kind)}${cell(d.key)}${cell(d.systems.join(', '))}${cell(d.detail)}</tr>`)
          .join('')}</tbody></table>` +
        (table.differenceCount > table.differences.length
          ? `<p>… and ${table.differenceCount - table.differences.length} more (counted, not listed).</p>`
          : '');
  return `<h2>${escapeHtml(`${table.table} (${table.entity})`)}</h2>\n${counts}\n${differences}`;
}
