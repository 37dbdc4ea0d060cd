/**
 * The stylesheet and the filter script inlined into every HTML verification report. Both are constants: no user data
 * is ever placed in them (data reaches the script only through escaped data-* attributes), which is what lets the
 * page's Content-Security-Policy allow exactly this script by its hash.
 */
import { createHash } from 'node:crypto';

/** Colour of each kind of difference; the page's legend, chips and row markers use the same colours. */
const KIND_COLOURS: Readonly<Record<string, string>> = {
  MISSING_FIELD: '#d1242f',
  EXTRA_FIELD: '#0969da',
  TYPE_MISMATCH: '#8250df',
  NULLABILITY_MISMATCH: '#bc4c00',
  COUNT_MISMATCH: '#a40e26',
  AGGREGATE_MISMATCH: '#1b7c83',
  MISSING_IN_TARGET: '#bf3989',
  EXTRA_IN_TARGET: '#0550ae',
  VALUE_MISMATCH: '#9a6700',
  ERROR: '#82071e',
};

/** The report's stylesheet. */
export const REPORT_CSS = `
:root{--bg:#f6f7f9;--panel:#fff;--ink:#1f2328;--muted:#59636e;--line:#d8dee4;--soft:#eef1f4;
--ok:#1a7f37;--ok-bg:#dafbe1;--differs:#9a6700;--differs-bg:#fff8c5;--error:#cf222e;--error-bg:#ffebe9;
--mark:#ffd8b5;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--panel:#161b22;--ink:#e6edf3;--muted:#9198a1;--line:#30363d;
--soft:#21262d;--ok:#3fb950;--ok-bg:#12261e;--differs:#d29922;--differs-bg:#272115;--error:#f85149;--error-bg:#2d1517;--mark:#5a3a12}}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
main{max-width:1200px;margin:0 auto;padding:28px 24px 64px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:17px;margin:32px 0 10px}
code,pre,.mono{font-family:var(--mono);font-size:13px}
.verdict{display:inline-block;font-weight:600;padding:4px 12px;border-radius:999px;margin:6px 0 12px}
.verdict.ok{color:var(--ok);background:var(--ok-bg)}.verdict.fail{color:var(--error);background:var(--error-bg)}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0;color:var(--muted);font-size:13px}
.meta dt{font-weight:600}.meta dd{margin:0;word-break:break-all}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(128px,1fr));gap:12px;margin:22px 0}
.card{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.card .figure{display:block;font-size:22px;overflow-wrap:anywhere;font-weight:650;font-variant-numeric:tabular-nums}
.card .label{color:var(--muted);font-size:13px}
.card.ok .figure{color:var(--ok)}.card.differs .figure{color:var(--differs)}.card.error .figure{color:var(--error)}
.filters{position:sticky;top:0;z-index:2;background:var(--panel);border:1px solid var(--line);border-radius:10px;
padding:12px 14px;display:flex;flex-wrap:wrap;gap:10px 18px;align-items:center;box-shadow:0 2px 8px rgba(0,0,0,.06)}
.filters input[type=search]{font:inherit;padding:5px 9px;border:1px solid var(--line);border-radius:6px;min-width:220px;background:var(--bg);color:var(--ink)}
.filters fieldset{border:0;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:6px 12px;align-items:center}
.filters legend{float:left;margin-right:8px;font-weight:600}
.filters label{font-size:13px;white-space:nowrap;cursor:pointer}
.filters button{font:inherit;font-size:13px;padding:4px 10px;border:1px solid var(--line);border-radius:6px;background:var(--soft);color:var(--ink);cursor:pointer}
#shown-count{margin:0 0 0 auto;color:var(--muted);font-size:13px}
table{border-collapse:collapse;width:100%;background:var(--panel)}
th,td{font-size:14px;text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600;background:var(--soft)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.overview{border:1px solid var(--line);border-radius:10px;overflow:hidden}
.overview a{color:inherit}
.status{display:inline-block;font-size:12px;font-weight:600;padding:1px 9px;border-radius:999px;text-transform:uppercase;letter-spacing:.03em}
.status.ok{color:var(--ok);background:var(--ok-bg)}.status.differs{color:var(--differs);background:var(--differs-bg)}.status.error{color:var(--error);background:var(--error-bg)}
.kind{display:inline-block;font-size:11px;font-weight:600;padding:1px 7px;border-radius:4px;color:#fff;background:var(--k);white-space:nowrap}
.table-report{background:var(--panel);border:1px solid var(--line);border-left:5px solid var(--line);border-radius:10px;margin:14px 0;overflow:hidden}
.table-report.ok{border-left-color:var(--ok)}.table-report.differs{border-left-color:var(--differs)}.table-report.error{border-left-color:var(--error)}
.table-report>summary{cursor:pointer;padding:12px 16px;display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.table-report>summary .name{font-weight:650;font-size:16px;word-break:break-all}
.table-report>summary .target{color:var(--muted);font-size:13px;word-break:break-all}
.table-report>summary .duration{margin-left:auto;color:var(--muted);font-size:12px}
.table-body{padding:0 16px 14px}
.section{margin:10px 0;border:1px solid var(--line);border-radius:8px;overflow:hidden}
.section>summary{cursor:pointer;padding:7px 12px;background:var(--soft);font-weight:600;font-size:14px}
.section .note{padding:8px 12px;margin:0;color:var(--muted)}
.section table{border:0}
tr[data-kind]>td:first-child,tbody[data-kind]>tr:first-child>td:first-child{box-shadow:inset 4px 0 0 var(--k)}
tr.bad td{background:color-mix(in srgb,var(--error-bg) 55%,transparent)}
.error-box{border:1px solid var(--error);background:var(--error-bg);color:var(--ink);border-radius:8px;padding:10px 12px;margin:10px 0;white-space:pre-wrap;word-break:break-word}
.value{white-space:pre-wrap;word-break:break-all}
.null{color:var(--muted);font-style:italic;font-family:var(--mono);font-size:12px}
.req{margin-left:8px;color:var(--muted);font-size:12px}
.empty{color:var(--muted);font-style:italic;font-size:12px}
mark{background:var(--mark);color:inherit;border-radius:2px;padding:0 1px}
.fix{margin:0;padding:10px 12px;border-top:1px solid var(--line);background:var(--bg)}
.fix h3{margin:0 0 6px;font-size:13px;color:var(--muted)}
.fix pre{margin:0;padding:10px 12px;background:var(--panel);border:1px solid var(--line);border-radius:6px;overflow:auto;white-space:pre-wrap}
.ok-text{color:var(--ok);font-weight:600}.bad-text{color:var(--error);font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0 0}
footer{margin-top:40px;color:var(--muted);font-size:12px}
${Object.entries(KIND_COLOURS)
  .map(([kind, colour]) => `.k-${kind}{--k:${colour}}`)
  .join('\n')}
`;

/**
 * Applies the table and kind filters, and keeps them in the URL hash (`#table=orders&kind=TYPE_MISMATCH,VALUE_MISMATCH`)
 * so a filtered view can be linked to. Runs once when parsed (it is the last thing in the body), then on every input.
 */
export const REPORT_SCRIPT = `
(function () {
  'use strict';
  var input = document.getElementById('filter-table');
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[name="kind"]'));
  var shown = document.getElementById('shown-count');
  var reset = document.getElementById('filter-reset');
  var all = function (selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); };
  var kindsOf = function (el) { var v = el.getAttribute('data-kinds'); return v ? v.split(' ') : []; };

  function apply() {
    var query = input.value.trim().toLowerCase();
    var checked = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    var narrowed = checked.length < boxes.length;
    var wanted = function (kinds) { return kinds.some(function (k) { return checked.indexOf(k) >= 0; }); };
    var visible = 0;
    all('.table-report').forEach(function (el) {
      var name = (el.getAttribute('data-table') || '').toLowerCase();
      var show = name.indexOf(query) >= 0 && (!narrowed || wanted(kindsOf(el)));
      el.hidden = !show;
      if (show) { visible++; if (narrowed) el.open = true; }
    });
    all('.overview tr[data-table]').forEach(function (row) {
      var name = (row.getAttribute('data-table') || '').toLowerCase();
      row.hidden = !(name.indexOf(query) >= 0 && (!narrowed || wanted(kindsOf(row))));
    });
    all('.section').forEach(function (el) {
      el.hidden = narrowed && !wanted(kindsOf(el));
      if (narrowed && !el.hidden) el.open = true;
    });
    all('[data-kind]').forEach(function (el) {
      el.hidden = narrowed && checked.indexOf(el.getAttribute('data-kind')) < 0;
    });
    var total = all('.table-report').length;
    shown.textContent = 'Showing ' + visible + ' of ' + total + ' table' + (total === 1 ? '' : 's');
    shown.setAttribute('data-shown', String(visible));
  }

  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ''));
    input.value = params.get('table') || '';
    var kinds = params.getAll('kind').join(',').split(',').filter(Boolean);
    boxes.forEach(function (b) { b.checked = kinds.length === 0 || kinds.indexOf(b.value) >= 0; });
    apply();
  }

  function writeHash() {
    var params = new URLSearchParams();
    if (input.value.trim()) params.set('table', input.value.trim());
    var checked = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    if (checked.length < boxes.length) params.set('kind', checked.join(','));
    var hash = params.toString();
    try { history.replaceState(null, '', hash ? '#' + hash : location.pathname + location.search); } catch (e) { /* some viewers forbid it */ }
  }

  function changed() { apply(); writeHash(); }
  input.addEventListener('input', changed);
  boxes.forEach(function (b) { b.addEventListener('change', changed); });
  reset.addEventListener('click', function () { input.value = ''; boxes.forEach(function (b) { b.checked = true; }); changed(); });
  window.addEventListener('hashchange', readHash);
  readHash();
})();
`;

/** The CSP source that allows exactly REPORT_SCRIPT and nothing else. */
export const REPORT_SCRIPT_HASH = `'sha256-${createHash('sha256').update(REPORT_SCRIPT, 'utf8').digest('base64')}'`;

/**
 * The page's Content-Security-Policy: nothing may be fetched (no connect, image, font, frame or form target), only the
 * inline stylesheet and the one hashed script run. A report therefore makes no network request even if a value
 * somehow escaped into markup.
 */
export const REPORT_CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src ${REPORT_SCRIPT_HASH}; base-uri 'none'; form-action 'none'`;
