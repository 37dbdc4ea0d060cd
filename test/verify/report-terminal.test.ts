import { describe, expect, it } from 'vitest';
import { renderTerminalReport, writeTerminalReport } from '../../shared/verify/reports/report-terminal';
import { LONG_SOURCE, LONG_TARGET, OK_TABLE, longValueReport, sampleReport } from './report-fixtures';

const ESC = '\u001b';

describe('renderTerminalReport', () => {
  const text = renderTerminalReport(sampleReport());
  const lines = text.split('\n');

  it('lists every table with status, both counts, schema diffs and differing rows', () => {
    expect(lines[0]).toMatch(/^table\s+status\s+postgres rows\s+iceberg rows\s+schema diffs\s+aggregates\s+differing rows$/);
    const row = (name: string) => lines.find((l) => l.startsWith(name + ' '))!;
    expect(row('customers')).toMatch(/\bok\s+1,200,000\s+1,200,000\s+0\s+0\/3\s+0$/);
    expect(row('orders')).toMatch(/\bdiffers\s+5,000\s+4,999\s+0\s+1\/2\s+3$/);
    expect(row('payments')).toMatch(/\bdiffers\s+300\s+300\s+4\s+0\/1\s+0$/);
    expect(row('audit_log')).toMatch(/\berror\b/);
  });

  it('details every difference with both values, and skips tables that are exact', () => {
    expect(text).toContain('VALUE_MISMATCH  id=42');
    expect(text).toMatch(/ordered_at\s+postgres "2024-03-01 10:00:00.000001"\s+iceberg "2024-03-01 10:00:00.000002"/);
    // A null and the text "NULL" must not look alike.
    expect(text).toMatch(/note\s+postgres NULL\s+iceberg "NULL"/);
    expect(text).toContain('MISSING_IN_TARGET  id=43');
    expect(text).toContain('note: 2 differing key ranges were not examined row by row; more rows may differ');
    expect(text).toContain('EXTRA_IN_TARGET  id=9001');
    expect(text).toContain('COUNT_MISMATCH  postgres 5,000, iceberg manifests 4,999, read 4,999');
    expect(text).toContain('AGGREGATE_MISMATCH  amount sum: postgres "123456.78", iceberg "123456.77"');
    expect(text).toContain('TYPE_MISMATCH  amount: expected decimal(12,2) required, actual double required');
    expect(text).toContain('MISSING_FIELD  currency: expected string optional, actual absent');
    expect(text).toContain('EXTRA_FIELD  legacy_ref: expected absent, actual long optional');
    expect(text).toContain('NULLABILITY_MISMATCH  paid_at');
    expect(text).toContain('fix: ALTER TABLE "public"."payments" ALTER COLUMN "amount" TYPE double precision;');
    expect(text).toContain('error: data file data/00001.parquet could not be read');
    expect(lines.some((l) => l.startsWith('customers -> '))).toBe(false);
    expect(lines.at(-1)).toBe('DIFFERS: 2 of 5 tables verified exact; 2 differ; 1 failed; 1,205,301 rows compared, 3 differing (full)');
  });

  it('uses colour only when asked', () => {
    expect(text).not.toContain(ESC);
    const coloured = renderTerminalReport(sampleReport(), { color: true });
    expect(coloured).toContain(`${ESC}[33mdiffers`);
    expect(coloured).toContain(`${ESC}[31merror`);
  });

  it('escapes control characters in data so it cannot drive the terminal', () => {
    const report = sampleReport();
    report.tables = [{ ...OK_TABLE, table: `evil${ESC}[2Jname`, status: 'error', error: `boom${ESC}[31m\nnext` }];
    const out = renderTerminalReport(report);
    expect(out).not.toContain(ESC);
    expect(out).toContain('evil\\u001b[2Jname');
    expect(out).toContain('boom\\u001b[31m\\u000anext');
  });

  it('writes in colour to a TTY and plain to anything else', () => {
    const capture = (isTTY: boolean) => {
      let written = '';
      writeTerminalReport(sampleReport(), { isTTY, write: (t: string) => (written += t) });
      return written;
    };
    expect(capture(true)).toContain(ESC);
    expect(capture(false)).not.toContain(ESC);
    expect(capture(false).endsWith('\n')).toBe(true);
  });

  it('says OK for a clean run', () => {
    const report = { ...sampleReport(), tables: [structuredClone(OK_TABLE)], ok: true };
    const out = renderTerminalReport(report);
    expect(out.split('\n').at(-1)).toBe('OK: 1 of 1 tables verified exact; 1,200,000 rows compared, 0 differing (full)');
  });

  it('shows a long value bounded (quoted prefix, length, md5), once quoted, two with one prefix different', () => {
    const long = renderTerminalReport(longValueReport());
    expect(LONG_SOURCE).toMatch(/^"(lorem ipsum ){21}lore…" \(1,203 characters, md5 [0-9a-f]{32}\)$/);
    expect(long).toContain(`body max: postgres ${LONG_SOURCE}, iceberg ${LONG_TARGET}`);
    expect(long).toMatch(new RegExp(`body\\s+postgres ${escape(LONG_SOURCE)}\\s+iceberg ${escape(LONG_TARGET)}`));
    expect(long).not.toContain('\\"lorem');
    expect(LONG_SOURCE).not.toBe(LONG_TARGET);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
