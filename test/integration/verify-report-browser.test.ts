/**
 * Opens the HTML verification report in headless Chromium (Debian `chromium`) and checks what it SHOWS once its
 * script has run: summary figures, the table and kind filters (set from the URL hash), the hostile table name as
 * text, and that the page fetched nothing. A probe script added to a copy of the report measures layout
 * (`getClientRects`, so `hidden`, collapsed `<details>` and CSS all count) and writes its findings into the DOM,
 * which Chromium's `--dump-dom` prints after load. The probe is allowed by adding its hash to the page's CSP.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../shared/verify/reports/report-html';
import { HOSTILE_NAME, sampleReport } from '../verify/report-fixtures';

const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);

/** Registered first (in <head>): records every CSP violation, i.e. every fetch the page attempted. */
const HEAD_PROBE = `window.__violations=[];document.addEventListener('securitypolicyviolation',function(e){window.__violations.push(e.blockedURI+' '+e.violatedDirective);});`;

/** Runs after load (so late CSP reports are in): what a person would see, as JSON in <pre id="probe">. */
const BODY_PROBE = `window.addEventListener('load',function(){setTimeout(function(){
var seen=function(el){return el.getClientRects().length>0;};
var all=function(s){return Array.prototype.slice.call(document.querySelectorAll(s));};
var result={
  shownCount:document.getElementById('shown-count').textContent,
  verdict:document.getElementById('verdict').textContent,
  cards:all('[data-card]').filter(seen).map(function(c){return c.getAttribute('data-card')+'='+c.querySelector('.figure').textContent;}),
  tables:all('.table-report').filter(seen).map(function(t){return t.querySelector('summary .name').textContent;}),
  overview:all('.overview tr[data-table]').filter(seen).map(function(r){return r.getAttribute('data-table');}),
  kindsShown:all('[data-kind]').filter(seen).map(function(e){return e.getAttribute('data-kind');}).filter(function(k,i,a){return a.indexOf(k)===i;}),
  checked:all('input[name="kind"]').filter(function(b){return b.checked;}).map(function(b){return b.value;}),
  tableFilter:document.getElementById('filter-table').value,
  fixSqlShown:all('.fix').filter(seen).map(function(e){return e.querySelector('pre').innerText.trim();}),
  names:all('.table-report summary .name').map(function(e){return e.textContent;}),
  scripts:document.scripts.length,
  resources:performance.getEntriesByType('resource').map(function(r){return r.name;}),
  violations:window.__violations
};
var pre=document.createElement('pre');pre.id='probe';pre.textContent=JSON.stringify(result);document.body.appendChild(pre);
},50);});`;

interface Probe {
  shownCount: string;
  verdict: string;
  cards: string[];
  tables: string[];
  overview: string[];
  kindsShown: string[];
  checked: string[];
  tableFilter: string;
  fixSqlShown: string[];
  names: string[];
  scripts: number;
  resources: string[];
  violations: string[];
}

const haveChromium = existsSync(CHROMIUM);
/** In CI (`CI=true`, as .ci/run sets) the browser is part of the environment: its absence fails, never skips. */
const inCi = /^(true|1)$/i.test(process.env.CI ?? '');
if (!haveChromium && !inCi) console.warn(`verify-report-browser: skipped, ${CHROMIUM} is not installed (apt-get install chromium; .ci/run does this in CI)`);

describe.runIf(!haveChromium && inCi)('HTML verification report in CI without a browser', () => {
  it(`fails, because ${CHROMIUM} must be installed in CI`, () => {
    expect.fail(`${CHROMIUM} is not installed; CI must install it (.ci/run runs apt-get install chromium) instead of skipping this suite`);
  });
});

describe.skipIf(!haveChromium)('HTML verification report in headless Chromium', () => {
  let dir: string;
  let reportHtml: string;
  let probedFile: string;

  const chromiumArgs = (extra: string[]) => [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-dev-shm-usage',
    // The browser's own background services must not reach out from a test machine either.
    '--host-resolver-rules=MAP * ~NOTFOUND',
    `--user-data-dir=${path.join(dir, 'profile')}`,
    '--window-size=1280,2400',
    ...extra,
  ];

  async function show(hash: string): Promise<{ probe: Probe; dom: string }> {
    const url = pathToFileURL(probedFile).href + hash;
    const { stdout } = await run(CHROMIUM, chromiumArgs(['--virtual-time-budget=2000', '--dump-dom', url]), { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 });
    const match = /<pre id="probe">([\s\S]*?)<\/pre>/.exec(stdout);
    if (!match) throw new Error(`the probe did not run; Chromium printed:\n${stdout.slice(0, 2000)}`);
    const text = match[1]!
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
    return { probe: JSON.parse(text) as Probe, dom: stdout };
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'icebridge-report-'));
    reportHtml = renderHtmlReport(sampleReport());
    await writeFile(path.join(dir, 'report.html'), reportHtml);
    const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
    const probed = reportHtml
      .replace('script-src &#39;sha256-', `script-src ${hash(HEAD_PROBE)} ${hash(BODY_PROBE)} 'sha256-`.replace(/'/g, '&#39;'))
      .replace('<meta name="viewport"', `<script>${HEAD_PROBE}</script>\n<meta name="viewport"`)
      .replace('</body>', `<script>${BODY_PROBE}</script>\n</body>`);
    expect(probed).not.toBe(reportHtml);
    probedFile = path.join(dir, 'report-probed.html');
    await writeFile(probedFile, probed);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows the summary and every table, with the hostile name as text and nothing fetched', async () => {
    const { probe, dom } = await show('');
    expect(probe.verdict).toBe('Differences found');
    expect(probe.cards).toEqual(['tables=5', 'ok=2', 'differs=2', 'error=1', 'schema=4', 'aggregates=1', 'rows-compared=1,205,301', 'rows-differing=3']);
    expect(probe.shownCount).toBe('Showing 5 of 5 tables');
    expect(probe.tables).toEqual(['customers', 'orders', 'payments', 'audit_log', HOSTILE_NAME]);
    expect(probe.names).toContain(HOSTILE_NAME);
    // The report's script and the two probes; the table name did not become a fourth.
    expect(probe.scripts).toBe(3);
    expect(dom).not.toContain(HOSTILE_NAME);
    expect(probe.resources).toEqual([]);
    expect(probe.violations).toEqual([]);
    expect(dom).not.toMatch(/https?:/i);
    expect(probe.fixSqlShown).toHaveLength(1);
    expect(probe.fixSqlShown[0]).toContain('ALTER TABLE "public"."payments" ALTER COLUMN "amount" TYPE double precision;');
  });

  it('shows only the named table when the table filter is set', async () => {
    const { probe } = await show('#table=orders');
    expect(probe.tableFilter).toBe('orders');
    expect(probe.tables).toEqual(['orders']);
    expect(probe.overview).toEqual(['orders']);
    expect(probe.shownCount).toBe('Showing 1 of 5 tables');
    expect(probe.kindsShown).toEqual(
      expect.arrayContaining(['COUNT_MISMATCH', 'AGGREGATE_MISMATCH', 'VALUE_MISMATCH', 'MISSING_IN_TARGET', 'EXTRA_IN_TARGET']),
    );
  });

  it('shows only differences of the checked kinds when the kind filter is set', async () => {
    const { probe } = await show('#kind=TYPE_MISMATCH');
    expect(probe.checked).toEqual(['TYPE_MISMATCH']);
    expect(probe.tables).toEqual(['payments']);
    expect(probe.kindsShown).toEqual(['TYPE_MISMATCH']);
    // innerText: only the statement for the checked kind is visible, the others are hidden.
    expect(probe.fixSqlShown).toEqual(['ALTER TABLE "public"."payments" ALTER COLUMN "amount" TYPE double precision;']);
  });

  it('combines both filters', async () => {
    const { probe } = await show('#table=orders&kind=VALUE_MISMATCH,ERROR');
    expect(probe.checked).toEqual(['VALUE_MISMATCH', 'ERROR']);
    expect(probe.tables).toEqual(['orders']);
    expect(probe.kindsShown).toEqual(['VALUE_MISMATCH']);
    expect(probe.shownCount).toBe('Showing 1 of 5 tables');
  });

  it('renders a screenshot of the unfiltered report', async () => {
    const shot = path.join(dir, 'report.png');
    await run(CHROMIUM, chromiumArgs([`--screenshot=${shot}`, pathToFileURL(path.join(dir, 'report.html')).href]), { timeout: 60_000 });
    const png = await readFile(shot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect((await stat(shot)).size).toBeGreaterThan(50_000);
  });
});
