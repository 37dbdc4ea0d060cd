import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { escapeHtml, renderHtmlReport } from '../../shared/verify/reports/report-html';
import { DIFFERENCE_KINDS } from '../../shared/verify/reports/report-model';
import { HOSTILE_NAME, LONG_SOURCE, LONG_TARGET, OK_TABLE, longValueReport, sampleReport } from './report-fixtures';

const html = renderHtmlReport(sampleReport());

/** The opening tags of elements carrying an attribute, e.g. every `data-kind="…"`. */
function attributeValues(doc: string, attribute: string): string[] {
  return [...doc.matchAll(new RegExp(`\\s${attribute}="([^"]*)"`, 'g'))].map((m) => m[1]!);
}

describe('renderHtmlReport', () => {
  it('is one self-contained document with no address outside it', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/https?:/i);
    expect(html).not.toMatch(/<[^>]*\s(src|href|action|srcset)=(?!"#)|<link\b|@import|url\(|<iframe|<img\b/i);
    expect(html.match(/<style>/g)).toHaveLength(1);
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it('allows exactly its own inline script through its Content-Security-Policy', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!.replace(/&#39;/g, "'");
    expect(csp).toMatch(/^default-src 'none';/);
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const hash = createHash('sha256').update(script, 'utf8').digest('base64');
    expect(csp).toContain(`script-src 'sha256-${hash}';`);
  });

  it('escapes every piece of user data', () => {
    expect(html).not.toContain(HOSTILE_NAME);
    expect(html).toContain('<span class="name">&lt;script&gt;alert(1)&lt;/script&gt;</span>');
    expect(html).toContain('data-table="&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toContain('group:&lt;b&gt;bold&lt;/b&gt;');
    expect(html).not.toContain('<script>alert(4)');
    expect(html).toContain('&quot;k&quot;=&#39;); alert(3); (&#39;');
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  });

  it('has a table filter and one kind checkbox per kind present, and tags what they filter', () => {
    expect(html).toContain('<input type="search" id="filter-table" name="table"');
    const boxes = [...html.matchAll(/<input type="checkbox" name="kind" value="([A-Z_]+)" checked>/g)].map((m) => m[1]);
    expect(boxes).toEqual([...DIFFERENCE_KINDS]);
    const sections = [...html.matchAll(/<details class="table-report (\w+)" id="table-\d+" data-table="([^"]*)" data-kinds="([^"]*)"/g)];
    expect(sections.map((m) => [m[1], m[2], m[3]])).toEqual([
      ['ok', 'customers', ''],
      ['differs', 'orders', 'COUNT_MISMATCH AGGREGATE_MISMATCH MISSING_IN_TARGET EXTRA_IN_TARGET VALUE_MISMATCH'],
      ['differs', 'payments', 'MISSING_FIELD EXTRA_FIELD TYPE_MISMATCH NULLABILITY_MISMATCH'],
      ['error', 'audit_log', 'ERROR'],
      ['ok', '&lt;script&gt;alert(1)&lt;/script&gt;', ''],
    ]);
    // Every kind is present on at least one element the kind filter hides or shows.
    expect(new Set(attributeValues(html, 'data-kind'))).toEqual(new Set(DIFFERENCE_KINDS));
    expect(html).toContain('<p id="shown-count" aria-live="polite">Showing 5 of 5 tables</p>');
  });

  it('opens tables with differences and keeps exact ones collapsed', () => {
    expect(html).toMatch(/data-table="orders" data-kinds="[^"]*" open>/);
    expect(html).toMatch(/data-table="customers" data-kinds="">/);
  });

  it('shows schema side by side, colour-coded by kind, with the SQL that fixes the drift', () => {
    expect(html).toContain('<tr class="k-TYPE_MISMATCH" data-kind="TYPE_MISMATCH"><td><code class="value">amount</code></td>');
    expect(html).toContain(
      '<code class="value">decimal(12,2)</code><span class="req">required</span></td><td><code class="value">double</code><span class="req">required</span></td>',
    );
    expect(html).toMatch(/\.k-TYPE_MISMATCH\{--k:#[0-9a-f]{6}\}/);
    expect(html).toContain('SQL that would bring PostgreSQL in line');
    expect(html).toContain('ALTER TABLE &quot;public&quot;.&quot;payments&quot; ALTER COLUMN &quot;amount&quot; TYPE double precision;');
    expect(html).toContain('ADD COLUMN &quot;legacy_ref&quot; bigint;');
  });

  it('shows differing rows with both values, the change marked, and nulls distinct from text', () => {
    expect(html).toContain('<code class="value">2024-03-01 10:00:00.00000<mark>1</mark></code>');
    expect(html).toContain('<code class="value">2024-03-01 10:00:00.00000<mark>2</mark></code>');
    expect(html).toMatch(/<span class="null">NULL<\/span><\/td><td><code class="value">NULL<\/code>/);
    expect(html).toContain('Rows: 3 of 5,000 differ');
    expect(html).toContain('<strong>2 differing key ranges were not examined row by row</strong>');
  });

  it('shows aggregates side by side with failures marked, and the summary figures', () => {
    expect(html).toContain('<tr class="bad k-AGGREGATE_MISMATCH" data-kind="AGGREGATE_MISMATCH"><td><code class="value">amount</code></td><td>sum</td>');
    expect(html).toContain('<td>group:NL</td><td><code class="value">4100</code></td><td><code class="value">4100</code></td>');
    const figure = (card: string) => new RegExp(`data-card="${card}"><span class="figure">([^<]*)<`).exec(html)![1];
    expect([figure('tables'), figure('ok'), figure('differs'), figure('error'), figure('schema'), figure('rows-compared'), figure('rows-differing')]).toEqual([
      '5',
      '2',
      '2',
      '1',
      '4',
      '1,205,301',
      '3',
    ]);
  });

  it('says so when everything verified exact', () => {
    const clean = renderHtmlReport({ ...sampleReport(), tables: [structuredClone(OK_TABLE)], ok: true });
    expect(clean).toContain('<p class="verdict ok" id="verdict">All tables verified exact</p>');
    expect(clean).not.toContain('type="checkbox"');
  });

  it('shows a long value bounded, escaped, with the difference of two with one prefix marked, and says how', () => {
    const page = renderHtmlReport(longValueReport());
    const [source, target] = [LONG_SOURCE, LONG_TARGET].map(escapeHtml);
    // The differing md5s are marked, the common prefix and length shown once each side.
    const common = source.slice(0, source.indexOf('md5 ') + 4);
    expect(target.startsWith(common)).toBe(true);
    expect(page).toContain(`<code class="value">${common}`);
    expect(page.split(common).length - 1).toBeGreaterThanOrEqual(4);
    expect(page).toContain('A value longer than 256 characters is shown bounded');
    expect(page).not.toContain('lorem ipsum '.repeat(30));
  });
});
