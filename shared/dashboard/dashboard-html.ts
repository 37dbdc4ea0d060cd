/**
 * The dashboard's sections as HTML: the same markup for the first page and for every refresh the page polls
 * (`GET /api/dashboard/sections`), so all rendering is here and the page's script only swaps it in. Tables have
 * headers and captions, states are words (with a symbol) before they are colours, progress is a `<progress>`
 * element with its figures beside it. Every piece of data is escaped where it is written; links and button
 * targets are relative to `/api/`, so they work under any host and route prefix of the app.
 */
import type { FeatureFlag } from '../flags/feature-flag';
import { flagPercentage } from '../flags/feature-flag';
import { flagDisplayName } from '../flags/flag-store';
import { formatCount } from '../verify/reports/report-model';
import { escapeHtml } from '../verify/reports/report-html';
import type { DashboardData, DashboardFlags, DashboardMigration, DashboardSync, DashboardTable, DashboardVerification, Section } from './dashboard-data';
import type { JobResult } from '../run/job-results';

const h = escapeHtml;

/** Seconds as people read them: `45 s`, `3 min 20 s`, `2 h 5 min`. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Bytes as people read them: `512 B`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A flag's value in words: on, off, a percentage, or on for some when its filters are not a plain percentage. */
export function flagValueText(flag: FeatureFlag): string {
  const percent = flagPercentage(flag);
  if (percent === 0) return 'off';
  if (percent === 100) return 'on';
  return percent === undefined ? 'on for some (filters)' : `${percent}%`;
}

/** The state word with its symbol, and the class that colours it. */
function state(text: string): string {
  const kind = /^(committed|completed|ok|done|on|idle|syncing)$/i.test(text)
    ? 'good'
    : /^(failed|error|differs|terminated|findings|all-tables-stopped)$/i.test(text)
      ? 'bad'
      : /^(stopped|cancelled|none)$/i.test(text)
        ? 'still'
        : 'busy';
  const symbol = { good: '✓', bad: '✗', still: '■', busy: '…' }[kind];
  return `<span class="state ${kind}"><span aria-hidden="true">${symbol}</span> ${h(text)}</span>`;
}

const count = (n: number | undefined): string => (n === undefined ? '—' : formatCount(Math.round(n)));
const seconds = (n: number | undefined): string => (n === undefined ? '—' : formatSeconds(n));
const time = (iso: string | undefined): string =>
  iso === undefined ? '—' : `<time datetime="${h(iso)}">${h(iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC'))}</time>`;

function sectionError<T>(section: Section<T>, render: (value: T) => string): string {
  return section.ok ? render(section.value) : `<p class="problem" role="alert">${h(section.error)}</p>`;
}

function progress(done: number, total: number, label: string): string {
  return `<span class="progress"><progress max="${Math.max(total, 1)}" value="${Math.min(done, Math.max(total, 1))}" aria-label="${h(label)}"></progress> ${count(done)} / ${count(total)}</span>`;
}

/** The link to a verification's HTML report, filtered to `table` when given. */
export function reportLink(verificationId: string, table?: string): string {
  return `dashboard/verifications/${encodeURIComponent(verificationId)}/report${table === undefined ? '' : `#table=${encodeURIComponent(table)}`}`;
}

/** The link to a scheduled job run's HTML report. */
export function jobReportLink(job: string, slot: string): string {
  return `dashboard/jobs/${encodeURIComponent(job)}/${encodeURIComponent(slot)}/report`;
}

/** The retry route of a failed table. */
export function retryUrl(runId: string, table: string): string {
  return `migrations/${encodeURIComponent(runId)}/tables/${encodeURIComponent(table)}/retry`;
}

function tableAction(run: DashboardMigration, t: DashboardTable): string {
  if (t.status === 'committed') {
    return run.reportReady && run.verification !== undefined ? `<a href="${h(reportLink(run.verification.id, t.table))}">verification report</a>` : '';
  }
  if (t.status !== 'failed') return '';
  const parts = [`<span class="reason">${h(t.reason ?? 'failed')}</span>`];
  const retry = t.retry;
  if (retry !== undefined && retry.state !== 'none') {
    parts.push(`<span class="retry-state" data-retry-state="${h(retry.state)}">retry ${h(retry.id)}: ${state(retry.state)}</span>`);
  }
  if (retry !== undefined && (retry.state === 'none' || retry.state === 'failed')) {
    parts.push(`<button type="button" data-retry-url="${h(retryUrl(run.id, t.table))}" data-table="${h(t.table)}">Retry ${h(t.table)}</button>`);
  }
  return parts.join('<br>');
}

function migration(run: DashboardMigration): string {
  const rows = run.details
    .map(
      (t) => `<tr data-table="${h(t.table)}">
<th scope="row">${h(t.table || `table ${t.index ?? ''}`)}</th>
<td>${state(t.status ?? t.phase)}</td>
<td>${progress(t.partitions.done, t.partitions.total, `partitions of ${t.table}`)}</td>
<td class="num" data-field="rows">${count(t.rows)}</td>
<td class="num">${count(t.estimatedRows)}</td>
<td class="num">${t.rowsPerSecond === undefined ? '—' : `${count(t.rowsPerSecond)}/s`}</td>
<td>${seconds(t.etaSeconds)}</td>
<td>${t.verified === undefined ? '—' : state(t.verified)}</td>
<td>${tableAction(run, t)}</td>
</tr>`,
    )
    .join('\n');
  const shown = run.details.length < run.page.of ? `<p>The first ${run.details.length} of ${run.page.of} tables; the status URL pages through all.</p>` : '';
  return `<article class="run" data-run="${h(run.id)}" aria-labelledby="run-${h(run.id)}">
<h3 id="run-${h(run.id)}">Migration ${h(run.id)} ${state(run.phase === 'done' ? (run.tables.failed > 0 ? 'failed' : 'completed') : run.phase)}</h3>
<dl class="figures">
<dt>Runtime status</dt><dd>${h(run.runtimeStatus)}</dd>
<dt>Tables</dt><dd data-field="tables">${count(run.tables.done)} done of ${count(run.tables.total)}, ${count(run.tables.failed)} failed</dd>
<dt>Partitions</dt><dd>${progress(run.partitions.done, run.partitions.total, `partitions of ${run.id}`)}</dd>
<dt>Rows</dt><dd data-field="rows">${count(run.rows)}</dd>
<dt>Rate</dt><dd>${count(run.rowsPerSecond)} rows/s</dd>
<dt>Elapsed</dt><dd>${seconds(run.elapsedSeconds)}</dd>
<dt>ETA</dt><dd>${seconds(run.etaSeconds)}</dd>
${run.verification ? `<dt>Verification</dt><dd>${state(run.verification.status)} ${run.reportReady ? `<a href="${h(reportLink(run.verification.id))}">report</a>` : ''}</dd>` : ''}
${run.lastError !== undefined ? `<dt>Last error</dt><dd class="reason">${h(run.lastError)}</dd>` : ''}
</dl>
<table>
<caption>Tables of migration ${h(run.id)}</caption>
<thead><tr><th scope="col">Table</th><th scope="col">Status</th><th scope="col">Partitions</th><th scope="col">Rows</th><th scope="col">Estimated rows</th><th scope="col">Rate</th><th scope="col">ETA</th><th scope="col">Verified</th><th scope="col">Details</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="9">No table has started yet.</td></tr>'}
</tbody>
</table>
${shown}
</article>`;
}

function verifications(list: DashboardVerification[]): string {
  if (list.length === 0) return '<p>No verification in this period.</p>';
  return `<table>
<caption>Verifications</caption>
<thead><tr><th scope="col">Id</th><th scope="col">Status</th><th scope="col">Level</th><th scope="col">Tables</th><th scope="col">Differing</th><th scope="col">Errors</th><th scope="col">Started</th><th scope="col">Report</th></tr></thead>
<tbody>
${list
  .map(
    (
      v,
    ) => `<tr data-verification="${h(v.id)}"><th scope="row">${h(v.id)}</th><td>${state(v.runtimeStatus === 'Completed' ? (v.tables.differing + v.tables.errors > 0 ? 'differs' : 'ok') : v.phase)}</td><td>${h(v.level)}</td>
<td>${progress(v.tables.done, v.tables.total, `tables of ${v.id}`)}</td><td class="num">${count(v.tables.differing)}</td><td class="num">${count(v.tables.errors)}</td><td>${time(v.createdTime)}</td>
<td>${v.reportReady ? `<a href="${h(reportLink(v.id))}">report</a>` : v.lastError !== undefined ? `<span class="reason">${h(v.lastError)}</span>` : '—'}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>`;
}

function syncs(list: DashboardSync[]): string {
  if (list.length === 0) return '<p>No sync in this period.</p>';
  return `<table>
<caption>Change capture syncs</caption>
<thead><tr><th scope="col">Id</th><th scope="col">Status</th><th scope="col">Lag (bytes)</th><th scope="col">Lag (seconds)</th><th scope="col">Changes/s</th><th scope="col">Changes applied</th><th scope="col">Last batch</th><th scope="col">Stopped tables</th></tr></thead>
<tbody>
${list
  .map((s) => {
    const stopped = (s.stoppedTables ?? []).map((t) => `<li>${h(t.table)}: <span class="reason">${h(t.reason)}</span></li>`).join('');
    const more = (s.stoppedTablesOmitted ?? 0) > 0 ? `<li>and ${count(s.stoppedTablesOmitted)} more</li>` : '';
    return `<tr data-sync="${h(s.id)}"><th scope="row">${h(s.id)}</th><td>${state(s.phase ?? s.runtimeStatus)}${s.error !== undefined ? `<br><span class="reason">${h(s.error)}</span>` : ''}</td>
<td class="num">${s.lagBytes === undefined ? '—' : h(formatBytes(s.lagBytes))}</td><td class="num">${seconds(s.lagSeconds)}</td><td class="num">${count(s.changesPerSecond)}</td>
<td class="num">${count(s.changesApplied)}</td><td>${time(s.lastBatchAt)}</td><td>${stopped || more ? `<ul>${stopped}${more}</ul>` : 'none'}</td></tr>`;
  })
  .join('\n')}
</tbody>
</table>`;
}

function flags(value: DashboardFlags): string {
  const current = value.flags.length
    ? `<table>
<caption>Flags (${h(value.store)})</caption>
<thead><tr><th scope="col">Flag</th><th scope="col">Value</th><th scope="col">Last changed</th></tr></thead>
<tbody>
${value.flags.map((f) => `<tr data-flag="${h(flagDisplayName(f.name, f.label))}"><th scope="row">${h(flagDisplayName(f.name, f.label))}</th><td>${h(flagValueText(f.flag))}</td><td>${time(f.lastModified)}</td></tr>`).join('\n')}
</tbody>
</table>`
    : `<p>No flag is set (${h(value.store)}).</p>`;
  const history = value.history.length
    ? `<table>
<caption>Flag changes, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Flag</th><th scope="col">Change</th><th scope="col">Who</th><th scope="col">Why</th></tr></thead>
<tbody>
${value.history
  .map(
    (e) =>
      `<tr><td>${time(e.at)}</td><th scope="row">${h(flagDisplayName(e.flag, e.label))}</th><td>${h(e.action)}: ${h(e.before === null ? 'unset' : flagValueText(e.before))} → ${h(flagValueText(e.after))}</td><td>${h(e.actor)}</td><td>${h(e.reason)}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>`
    : '<p>No flag change is recorded.</p>';
  return current + history;
}

function jobs(list: JobResult[]): string {
  if (list.length === 0) return '<p>No scheduled job has recorded a result.</p>';
  return `<table>
<caption>Scheduled jobs, newest slot first per job</caption>
<thead><tr><th scope="col">Job</th><th scope="col">Slot</th><th scope="col">Status</th><th scope="col">Summary</th><th scope="col">Figures</th><th scope="col">Finished</th></tr></thead>
<tbody>
${list
  .map(
    (j) => `<tr data-job="${h(j.job)}" data-slot="${h(j.slot)}"><th scope="row">${h(j.job)}</th><td>${h(j.slot)}</td><td>${state(j.status)}</td>
<td>${h(j.summary)}${j.error !== undefined ? `<br><span class="reason">${h(j.error)}</span>` : ''}${j.reports !== undefined ? ` <a href="${h(jobReportLink(j.job, j.slot))}">report</a>` : ''}</td>
<td>${
      Object.entries(j.figures)
        .map(([k, v]) => `${h(k)}: ${count(v)}`)
        .join(', ') || '—'
    }</td><td>${time(j.finishedAt)}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>`;
}

/** The page's live sections: runs, verifications, syncs, flags, jobs. */
export function renderDashboardSections(data: DashboardData): string {
  return `<p class="generated">Figures as of ${time(data.generatedAt)}; runs of the last ${count(data.windowDays)} days.</p>
<section aria-labelledby="h-migrations"><h2 id="h-migrations">Migrations</h2>
${sectionError(data.migrations, (list) => (list.length ? list.map(migration).join('\n') : '<p>No migration in this period.</p>'))}
</section>
<section aria-labelledby="h-verifications"><h2 id="h-verifications">Verifications</h2>
${sectionError(data.verifications, verifications)}
</section>
<section aria-labelledby="h-syncs"><h2 id="h-syncs">Syncs</h2>
${sectionError(data.syncs, syncs)}
</section>
<section aria-labelledby="h-flags"><h2 id="h-flags">Flags</h2>
${sectionError(data.flags, flags)}
</section>
<section aria-labelledby="h-jobs"><h2 id="h-jobs">Scheduled jobs</h2>
${sectionError(data.jobs, jobs)}
</section>`;
}
