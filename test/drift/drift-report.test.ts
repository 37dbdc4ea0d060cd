import { describe, expect, it } from 'vitest';
import { renderReport } from '../../cli/commands/drift';
import type { DriftReport } from '../../shared/drift/drift-report';
import { renderDriftHtml } from '../../shared/drift/drift-report';

const hostile = '<img src=x onerror=alert(1)>\u001b[2J';

const report: DriftReport = {
  format: 'icebridge-drift-report',
  checkedAt: '2026-12-06T02:00:00.000Z',
  source: 'postgresql://app@db:5432/shop',
  schema: 'public',
  tables: [hostile],
  registry: { version: 3, written: true },
  comparisons: [
    {
      name: 'iceberg',
      before: 'iceberg /w (public)',
      after: 'postgresql://app@db:5432/shop',
      findings: [
        {
          table: `public.${hostile}`,
          column: '"q"',
          kind: 'column-dropped',
          severity: 'unsafe',
          before: 'text',
          after: null,
          fix: {
            sql: `ALTER TABLE "public"."${hostile}" ADD COLUMN """q""" text`,
            sqlSide: 'after',
            syncStops: true,
            note: 'the Iceberg table keeps the column',
          },
        },
      ],
    },
    { name: 'registry', before: 'registry v2', after: 'postgresql://app@db:5432/shop', findings: [] },
  ],
};

describe('the drift report', () => {
  it('escapes every catalog name in the HTML page and loads nothing from anywhere', () => {
    const html = renderDriftHtml(report);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toMatch(/<script|https?:\/\/|src=["']/);
    expect(html).toContain('default-src &#39;none&#39;');
    expect(html).toContain('1 difference(s), 1 unsafe');
    expect(html).toContain('v3 (written by this check)');
  });

  it('keeps control characters of a name from reaching the terminal', () => {
    const text = renderReport(report);
    expect(text).not.toContain('\u001b');
    expect(text).toContain('UNSAFE column-dropped');
    expect(text).toContain('[sync stops]');
    expect(text).toContain('registry v2 -> postgresql://app@db:5432/shop\n  no drift');
    expect(text).toContain('1 difference(s), 1 unsafe\nregistry: v3 (recorded now)\n');
  });
});
