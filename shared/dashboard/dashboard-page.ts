/**
 * The dashboard page: one self-contained HTML document (inline stylesheet and script, nothing fetched from
 * anywhere but the app itself) around the live sections of dashboard-html.ts. The script polls the sections and
 * swaps them in, and sends a failed table's retry. The stylesheet and script are constants, so the
 * Content-Security-Policy allows exactly them by hash; data reaches the script only through escaped attributes.
 *
 * The local operator token (icebridge serve) is typed into the page once and kept in the tab's sessionStorage: it
 * travels only in the Authorization header of changing calls, never in a URL, a cookie or the served page.
 */
import { createHash } from 'node:crypto';
import { pageHead } from '../text/static-page';
import type { DashboardData } from './dashboard-data';
import { renderDashboardSections } from './dashboard-html';

/** Refresh interval bounds, in seconds. */
export const REFRESH_SECONDS = { default: 5, min: 1, max: 300 } as const;

const CSS = `
:root{--bg:#f6f7f9;--panel:#fff;--ink:#1f2328;--muted:#59636e;--line:#d8dee4;--good:#1a7f37;--bad:#cf222e;--busy:#9a6700;
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--panel:#161b22;--ink:#e6edf3;--muted:#9198a1;--line:#30363d;--good:#3fb950;--bad:#f85149;--busy:#d29922}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header,main{max-width:1280px;margin:0 auto;padding:0 20px}
header{display:flex;flex-wrap:wrap;gap:12px 24px;align-items:baseline;justify-content:space-between;padding-top:16px}
h1{font-size:22px;margin:0}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:16px;margin:0 0 8px}
.run{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:12px 0}
table{border-collapse:collapse;width:100%;background:var(--panel);margin:8px 0}
caption{text-align:left;font-weight:600;padding:4px 0;color:var(--muted)}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
thead th{font-size:13px;color:var(--muted);white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.figures{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0 0 8px}
.figures dt{color:var(--muted)}.figures dd{margin:0}
.state{font-weight:600;white-space:nowrap}.state.good{color:var(--good)}.state.bad{color:var(--bad)}.state.busy{color:var(--busy)}.state.still{color:var(--muted)}
.reason{font-family:var(--mono);font-size:13px;overflow-wrap:anywhere}
.problem{color:var(--bad);font-weight:600}
progress{width:110px;vertical-align:middle}.progress{white-space:nowrap}
button{font:inherit;padding:4px 12px;border-radius:6px;border:1px solid var(--line);background:var(--ink);color:var(--panel);cursor:pointer;margin-top:4px}
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #0969da;outline-offset:2px}
a{color:#0969da}
@media (prefers-color-scheme:dark){a{color:#58a6ff}}
#operator{display:flex;gap:8px;align-items:center}
#operator input{font:inherit;padding:3px 6px;width:18em}
.generated,#refresh-status{color:var(--muted);font-size:13px}
`;

const SCRIPT = `(function(){
var live=document.getElementById('live');var status=document.getElementById('refresh-status');var notice=document.getElementById('action-status');
var every=Number(document.body.getAttribute('data-refresh-ms'))||5000;var KEY='icebridge-operator-token';
var here=new URLSearchParams(location.search);var passed=new URLSearchParams();['code','days'].forEach(function(n){if(here.has(n))passed.set(n,here.get(n));});
var query=passed.toString()?'?'+passed.toString():'';
function carry(){if(!query)return;Array.prototype.forEach.call(live.querySelectorAll('a[href^="dashboard/"]'),function(a){var href=a.getAttribute('href');var cut=href.indexOf('#');a.setAttribute('href',cut<0?href+query:href.slice(0,cut)+query+href.slice(cut));});}
carry();
function store(){try{return window.sessionStorage;}catch(e){return null;}}
function token(){var s=store();return s?s.getItem(KEY):null;}
function refresh(){return fetch('dashboard/sections'+query,{cache:'no-store',credentials:'same-origin'}).then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);return r.text();}).then(function(html){live.innerHTML=html;carry();status.textContent='Updated '+new Date().toLocaleTimeString();}).catch(function(e){status.textContent='Not updated: '+e.message;});}
setInterval(function(){if(!document.hidden)refresh();},every);
var form=document.getElementById('operator');
if(form){var input=document.getElementById('operator-token');var saved=document.getElementById('operator-saved');
var show=function(){saved.textContent=token()?'token kept for this tab':'no token yet';};show();
form.addEventListener('submit',function(e){e.preventDefault();var s=store();if(s&&input.value.trim()){s.setItem(KEY,input.value.trim());}input.value='';show();});}
document.addEventListener('click',function(e){var b=e.target&&e.target.closest?e.target.closest('button[data-retry-url]'):null;if(!b)return;
var table=b.getAttribute('data-table');var headers={'content-type':'application/json'};var t=token();if(t)headers.authorization='Bearer '+t;
b.disabled=true;notice.textContent='Retrying '+table+'…';
fetch(b.getAttribute('data-retry-url')+query,{method:'POST',headers:headers,body:'{}',credentials:'same-origin'}).then(function(r){return r.json().catch(function(){return {};}).then(function(body){
if(r.ok){notice.textContent='Retry of '+table+(body.alreadyStarted?' was already started':' started')+': '+(body.id||'');}
else{notice.textContent='Retry of '+table+' refused ('+r.status+'): '+(body.reason||'');b.disabled=false;}
return refresh();});}).catch(function(err){notice.textContent='Retry of '+table+' failed: '+err.message;b.disabled=false;});});
})();`;

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The page's Content-Security-Policy: its own style and script by hash, requests only to the app itself. */
export const DASHBOARD_CSP = `default-src 'none'; style-src ${hash(CSS)}; script-src ${hash(SCRIPT)}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** Options of renderDashboardPage. */
export interface RenderDashboardPageOptions {
  /** Seconds between refreshes (bounded by REFRESH_SECONDS). */
  refreshSeconds?: number;
}

/** The whole page, with the sections as of `data`. */
export function renderDashboardPage(data: DashboardData, options: RenderDashboardPageOptions = {}): string {
  const refresh = Math.min(REFRESH_SECONDS.max, Math.max(REFRESH_SECONDS.min, options.refreshSeconds ?? REFRESH_SECONDS.default));
  const operator =
    data.operatorAuth === 'local-token'
      ? `<form id="operator" aria-label="Operator token"><label for="operator-token">Operator token</label>
<input id="operator-token" type="password" autocomplete="off" spellcheck="false">
<button type="submit">Keep for this tab</button> <span id="operator-saved" aria-live="polite"></span></form>`
      : '<p>Changing actions need a signed-in operator.</p>';
  return `${pageHead('icebridge operations', DASHBOARD_CSP, CSS)}
<body data-refresh-ms="${refresh * 1000}">
<header>
<h1>icebridge operations</h1>
${operator}
<p><span id="refresh-status" aria-live="polite">Refreshes every ${refresh} s</span></p>
</header>
<main>
<p id="action-status" role="status" aria-live="polite"></p>
<div id="live">
${renderDashboardSections(data)}
</div>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
