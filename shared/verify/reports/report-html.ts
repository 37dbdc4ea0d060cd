/**
 * The verification report as one self-contained HTML page: inline stylesheet and script, no external address of any
 * kind, and a Content-Security-Policy that forbids every fetch. Every piece of user data (table, column and key names,
 * values, error messages, SQL) is HTML-escaped where it is written; the script reads data only from attributes.
 *
 * Filters: a text box (table name, case-insensitive substring) and one checkbox per kind of difference present. They
 * can be set from the URL hash, `report.html#table=orders&kind=TYPE_MISMATCH,VALUE_MISMATCH`, and the hash follows
 * the controls, so a filtered view can be shared as a link.
 */
import { escapeHtml, pageHead } from '../../text/static-page';
import { readableReport } from './readable-values';
import type { AggregateCheck, RowDifference, SampleRow, SchemaDifference, TableVerification, VerificationReport } from '../contracts';
import { REPORT_CSP, REPORT_CSS, REPORT_SCRIPT } from './report-html-assets';
import {
  DIFFERENCE_KIND_LABELS,
  DIFFERENCE_KINDS,
  type DifferenceKind,
  differenceKinds,
  formatCount,
  formatKey,
  reportTotals,
  splitChange,
} from './report-model';

/** Options of renderHtmlReport. */
export interface RenderHtmlReportOptions {
  /** Page title. Default `icebridge verification`. */
  title?: string;
  /** Label of the source side. Default `PostgreSQL`. */
  sourceLabel?: string;
  /** Label of the target side. Default `Iceberg`. */
  targetLabel?: string;
}

interface Labels {
  source: string;
  target: string;
}

/** Renders the report as a complete, self-contained HTML document. */
export function renderHtmlReport(canonical: VerificationReport, options: RenderHtmlReportOptions = {}): string {
  const report = readableReport(canonical);
  const labels: Labels = { source: options.sourceLabel ?? 'PostgreSQL', target: options.targetLabel ?? 'Iceberg' };
  const title = options.title ?? 'icebridge verification';
  const totals = reportTotals(report);
  const verdict = report.ok ? 'All tables verified exact' : 'Differences found';
  return `${pageHead(`${title}: ${report.ok ? 'OK' : 'DIFFERS'}`, REPORT_CSP, REPORT_CSS)}
<body>
<main>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="verdict ${report.ok ? 'ok' : 'fail'}" id="verdict">${verdict}</p>
<dl class="meta">
<dt>Source</dt><dd>${escapeHtml(report.source)}</dd>
<dt>Warehouse</dt><dd>${escapeHtml(report.warehouse)}</dd>
<dt>Level</dt><dd>${escapeHtml(report.level)}${report.level === 'quick' ? ' (schema, counts, aggregates)' : ' (schema, counts, aggregates, every row)'}</dd>
<dt>Started</dt><dd>${escapeHtml(report.startedAt)}</dd>
</dl>
</header>
<section class="cards" id="summary" aria-label="Summary">
${card('tables', totals.tables, 'tables')}
${card('ok', totals.ok, 'verified exact')}
${card('differs', totals.differs, 'differ')}
${card('error', totals.error, 'could not be verified')}
${card('schema', totals.schemaDifferences, 'schema differences')}
${card('aggregates', totals.aggregateMismatches, 'aggregate mismatches')}
${totals.rowsCompared > 0n || report.level === 'full' ? card('rows-compared', formatCount(totals.rowsCompared), 'rows compared') : ''}
${totals.rowsCompared > 0n || report.level === 'full' ? card('rows-differing', formatCount(totals.rowsDiffering), 'differing rows') : ''}
</section>
${filters(report)}
<h2>Tables</h2>
${overview(report, labels)}
<h2>Details</h2>
${report.tables.map((t, i) => tableSection(t, i, labels)).join('\n')}
<footer>Values are shown in the canonical text both sides were compared in. <span class="null">NULL</span> is a null; quoted text is never a null. A value longer than 256 characters is shown bounded: its first 256 characters quoted, its full length and the md5 of the whole.</footer>
</main>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}

export { escapeHtml };

function card(id: string, figure: number | string, label: string): string {
  const tone = id === 'ok' || id === 'differs' || id === 'error' ? ` ${id}` : '';
  return `<div class="card${tone}" data-card="${id}"><span class="figure">${escapeHtml(String(figure))}</span><span class="label">${label}</span></div>`;
}

function filters(report: VerificationReport): string {
  const counts = new Map<DifferenceKind, number>();
  for (const t of report.tables) for (const k of differenceKinds(t)) counts.set(k, (counts.get(k) ?? 0) + 1);
  const present = DIFFERENCE_KINDS.filter((k) => counts.has(k));
  const boxes =
    present.length === 0
      ? '<span class="empty">no differences to filter</span>'
      : present
          .map(
            (k) =>
              `<label><input type="checkbox" name="kind" value="${k}" checked> <span class="kind k-${k}">${k}</span> <span class="mono">${counts.get(k)}</span></label>`,
          )
          .join('\n');
  return `<form class="filters" id="filters" role="search" autocomplete="off">
<label>Table <input type="search" id="filter-table" name="table" placeholder="filter by name"></label>
<fieldset id="filter-kinds"><legend>Kinds</legend>
${boxes}
</fieldset>
<button type="button" id="filter-reset">Show all</button>
<p id="shown-count" aria-live="polite">Showing ${report.tables.length} of ${report.tables.length} tables</p>
</form>`;
}

function overview(report: VerificationReport, labels: Labels): string {
  const rows = report.tables.map((t) => {
    const kinds = differenceKinds(t);
    return `<tr data-table="${escapeHtml(t.table)}" data-kinds="${kinds.join(' ')}">
<td><a href="#table=${escapeHtml(encodeURIComponent(t.table))}" title="Show only this table">${escapeHtml(t.table)}</a></td>
<td><span class="status ${t.status}">${t.status}</span></td>
<td class="num">${t.counts ? formatCount(t.counts.source) : ''}</td>
<td class="num">${t.counts ? targetRows(t) : ''}</td>
<td class="num">${t.schema.length}</td>
<td class="num">${t.aggregates.length === 0 ? '' : `${t.aggregates.filter((a) => !a.ok).length} / ${t.aggregates.length}`}</td>
<td class="num">${t.rows ? escapeHtml(formatCount(t.rows.differing)) : ''}</td>
<td>${kinds.map(chip).join(' ')}</td>
</tr>`;
  });
  return `<div class="overview"><table>
<thead><tr><th>Table</th><th>Status</th><th class="num">${escapeHtml(labels.source)} rows</th><th class="num">${escapeHtml(labels.target)} rows</th><th class="num">Schema diffs</th><th class="num">Aggregates failing</th><th class="num">Differing rows</th><th>Kinds</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

function targetRows(t: TableVerification): string {
  const c = t.counts!;
  const manifest = escapeHtml(formatCount(c.targetManifest));
  if (c.targetRead === undefined || c.targetRead === c.targetManifest) return manifest;
  return `${manifest} <span class="empty">(read ${escapeHtml(formatCount(c.targetRead))})</span>`;
}

function chip(kind: DifferenceKind): string {
  return `<span class="kind k-${kind}" title="${DIFFERENCE_KIND_LABELS[kind]}">${kind}</span>`;
}

function tableSection(t: TableVerification, index: number, labels: Labels): string {
  const kinds = differenceKinds(t);
  const open = t.status !== 'ok' || kinds.length > 0 ? ' open' : '';
  const parts = [
    t.error !== undefined ? `<div class="error-box" data-kind="ERROR"><strong>Error:</strong> ${escapeHtml(t.error)}</div>` : '',
    schemaSection(t.schema, labels),
    countsSection(t, labels),
    aggregatesSection(t.aggregates, labels),
    rowsSection(t, labels),
    samplesSection(t.samples, labels),
  ];
  return `<details class="table-report ${t.status}" id="table-${index}" data-table="${escapeHtml(t.table)}" data-kinds="${kinds.join(' ')}"${open}>
<summary><span class="status ${t.status}">${t.status}</span> <span class="name">${escapeHtml(t.table)}</span> <span class="target">&rarr; ${escapeHtml(t.target)}</span> ${kinds.map(chip).join(' ')} <span class="duration">${escapeHtml(t.level)} &middot; ${escapeHtml(formatDuration(t.durationMs))}</span></summary>
<div class="table-body">
${parts.filter((p) => p !== '').join('\n')}
</div>
</details>`;
}

function section(cls: string, heading: string, kinds: DifferenceKind[], open: boolean, body: string): string {
  return `<details class="section ${cls}" data-kinds="${kinds.join(' ')}"${open ? ' open' : ''}><summary>${heading}</summary>
${body}
</details>`;
}

function schemaSection(diffs: SchemaDifference[], labels: Labels): string {
  if (diffs.length === 0)
    return section('schema', 'Schema: matches', [], false, '<p class="note">Every field has the same type and nullability on both sides.</p>');
  const side = (s: { type: string; required: boolean } | undefined) =>
    s
      ? `<code class="value">${escapeHtml(s.type)}</code><span class="req">${s.required ? 'required' : 'optional'}</span>`
      : '<span class="empty">absent</span>';
  const rows = diffs.map(
    (d) =>
      `<tr class="k-${d.kind}" data-kind="${d.kind}"><td><code class="value">${escapeHtml(d.field)}</code></td><td>${chip(d.kind)}</td><td>${side(d.expected)}</td><td>${side(d.actual)}</td></tr>`,
  );
  const fixes = diffs.filter((d) => d.fixSql !== undefined);
  const fix =
    fixes.length === 0
      ? ''
      : `<div class="fix"><h3>SQL that would bring ${escapeHtml(labels.source)} in line</h3><pre><code>${fixes
          .map((d) => `<span data-kind="${d.kind}">${escapeHtml(d.fixSql!.trim())}\n</span>`)
          .join('')}</code></pre></div>`;
  const kinds = DIFFERENCE_KINDS.filter((k) => diffs.some((d) => d.kind === k));
  return section(
    'schema',
    `Schema: ${diffs.length} difference${diffs.length === 1 ? '' : 's'}`,
    kinds,
    true,
    `<table><thead><tr><th>Field</th><th>Kind</th><th>Expected (${escapeHtml(labels.source)})</th><th>Actual (${escapeHtml(labels.target)})</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>${fix}`,
  );
}

function countsSection(t: TableVerification, labels: Labels): string {
  const c = t.counts;
  if (!c) return '';
  const read =
    c.targetRead === undefined
      ? ''
      : `<tr><td>${escapeHtml(labels.target)}, rows read from data files</td><td class="num">${escapeHtml(formatCount(c.targetRead))}</td></tr>`;
  return section(
    'counts',
    `Row counts: ${c.ok ? '<span class="ok-text">equal</span>' : '<span class="bad-text">differ</span>'}`,
    c.ok ? [] : ['COUNT_MISMATCH'],
    !c.ok,
    `<table${c.ok ? '' : ' class="k-COUNT_MISMATCH" data-kind="COUNT_MISMATCH"'}><tbody>
<tr><td>${escapeHtml(labels.source)}</td><td class="num">${escapeHtml(formatCount(c.source))}</td></tr>
<tr><td>${escapeHtml(labels.target)}, from manifests</td><td class="num">${escapeHtml(formatCount(c.targetManifest))}</td></tr>
${read}
</tbody></table>`,
  );
}

function aggregatesSection(aggregates: AggregateCheck[], labels: Labels): string {
  if (aggregates.length === 0) return '';
  const failing = aggregates.filter((a) => !a.ok).length;
  const rows = aggregates.map((a) => {
    const marker = a.ok ? '' : ' class="bad k-AGGREGATE_MISMATCH" data-kind="AGGREGATE_MISMATCH"';
    return `<tr${marker}><td><code class="value">${escapeHtml(a.column)}</code></td><td>${escapeHtml(a.aggregate)}</td><td>${valuePair(a.source, a.target, 'source', a.ok)}</td><td>${valuePair(a.source, a.target, 'target', a.ok)}</td><td>${a.ok ? '<span class="ok-text">equal</span>' : '<span class="bad-text">differs</span>'}</td></tr>`;
  });
  return section(
    'aggregates',
    `Aggregates: ${failing === 0 ? `all ${aggregates.length} equal` : `${failing} of ${aggregates.length} differ`}`,
    failing === 0 ? [] : ['AGGREGATE_MISMATCH'],
    failing > 0,
    `<table><thead><tr><th>Column</th><th>Aggregate</th><th>${escapeHtml(labels.source)}</th><th>${escapeHtml(labels.target)}</th><th></th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`,
  );
}

function rowsSection(t: TableVerification, labels: Labels): string {
  const r = t.rows;
  if (!r) return '';
  const unexamined =
    r.rangesNotExamined !== undefined && r.rangesNotExamined !== '0'
      ? `<p class="note"><strong>${escapeHtml(formatCount(r.rangesNotExamined))} differing key ranges were not examined row by row</strong> (a limit was reached); more rows may differ than are counted here.</p>`
      : '';
  if (r.differences.length === 0) {
    const note =
      r.differing === '0'
        ? `All ${escapeHtml(formatCount(r.compared))} rows are equal.`
        : `${escapeHtml(formatCount(r.differing))} rows differ; none were listed.`;
    return section(
      'rows',
      `Rows: ${r.differing === '0' ? 'all equal' : `${escapeHtml(formatCount(r.differing))} differ`}`,
      [],
      r.differing !== '0',
      `<p class="note">${note}</p>${unexamined}`,
    );
  }
  const kinds = DIFFERENCE_KINDS.filter((k) => r.differences.some((d) => d.kind === k));
  const listed = String(r.differences.length) === r.differing ? '' : `, first ${r.differences.length} listed`;
  return section(
    'rows',
    `Rows: ${escapeHtml(formatCount(r.differing))} of ${escapeHtml(formatCount(r.compared))} differ${listed}`,
    kinds,
    true,
    `<table><thead><tr><th>Key</th><th>Kind</th><th>Column</th><th>${escapeHtml(labels.source)}</th><th>${escapeHtml(labels.target)}</th></tr></thead>
${r.differences.map(rowDifference).join('\n')}
</table>${unexamined}`,
  );
}

function rowDifference(d: RowDifference): string {
  const span = Math.max(1, d.columns.length);
  const head = `<td rowspan="${span}"><code class="value">${escapeHtml(formatKey(d.key))}</code></td><td rowspan="${span}">${chip(d.kind)}</td>`;
  const cells = d.columns.map(
    (c) =>
      `<td><code class="value">${escapeHtml(c.column)}</code></td><td>${valuePair(c.source, c.target, 'source', false)}</td><td>${valuePair(c.source, c.target, 'target', false)}</td>`,
  );
  if (cells.length === 0) cells.push('<td colspan="3"><span class="empty">whole row</span></td>');
  return `<tbody class="k-${d.kind}" data-kind="${d.kind}">${cells.map((c, i) => `<tr>${i === 0 ? head : ''}${c}</tr>`).join('')}</tbody>`;
}

function samplesSection(samples: SampleRow[], labels: Labels): string {
  if (samples.length === 0) return '';
  const body = samples.map((s) => {
    const columns = [...new Set([...Object.keys(s.source ?? {}), ...Object.keys(s.target ?? {})])];
    const span = Math.max(1, columns.length);
    const key = `<td rowspan="${span}"><code class="value">${escapeHtml(formatKey(s.key))}</code></td>`;
    const cells = columns.map((column) => {
      const a = s.source ? (s.source[column] ?? null) : null;
      const b = s.target ? (s.target[column] ?? null) : null;
      const same = s.source !== null && s.target !== null && a === b;
      const sourceCell = s.source === null ? '<span class="empty">no row</span>' : valuePair(a, b, 'source', same);
      const targetCell = s.target === null ? '<span class="empty">no row</span>' : valuePair(a, b, 'target', same);
      return `<td><code class="value">${escapeHtml(column)}</code></td><td>${sourceCell}</td><td>${targetCell}</td>`;
    });
    if (cells.length === 0) cells.push('<td colspan="3"><span class="empty">no row on either side</span></td>');
    return `<tbody>${cells.map((c, i) => `<tr${c.includes('<mark>') ? ' class="bad"' : ''}>${i === 0 ? key : ''}${c}</tr>`).join('')}</tbody>`;
  });
  return section(
    'samples',
    `Samples: ${samples.length} random row${samples.length === 1 ? '' : 's'} side by side`,
    [],
    false,
    `<table><thead><tr><th>Key</th><th>Column</th><th>${escapeHtml(labels.source)}</th><th>${escapeHtml(labels.target)}</th></tr></thead>
${body.join('\n')}
</table>`,
  );
}

/** One side of a compared pair, the changed part marked when the two differ. */
function valuePair(source: string | null, target: string | null, side: 'source' | 'target', same: boolean): string {
  const value = side === 'source' ? source : target;
  if (value === null) return '<span class="null">NULL</span>';
  if (value === '') return '<span class="empty">(empty string)</span>';
  if (same || source === null || target === null || source === target) return `<code class="value">${escapeHtml(value)}</code>`;
  const change = splitChange(source, target);
  const middle = side === 'source' ? change.a : change.b;
  return `<code class="value">${escapeHtml(change.prefix)}<mark>${escapeHtml(middle)}</mark>${escapeHtml(change.suffix)}</code>`;
}

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
