/**
 * Readable values in the reports: timestamps, dates, times and floats shown as people read them, losslessly (two
 * different canonical texts never look the same), and only where the column's type is known.
 */
import { describe, expect, it } from 'vitest';
import type { TableVerification, VerificationReport } from '../../shared/verify/contracts';
import { canonicalValue } from '../../shared/verify/canonical/canonical-text';
import { readableReport, readableValue } from '../../shared/verify/reports/readable-values';
import { renderTerminalReport } from '../../shared/verify/reports/report-terminal';

describe('readableValue', () => {
  it('shows timestamps, dates and times in ISO 8601 with every microsecond', () => {
    expect(readableValue('timestamptz', '0')).toBe('1970-01-01T00:00:00.000000Z');
    expect(readableValue('timestamptz', '1609459213000013')).toBe('2021-01-01T00:00:13.000013Z');
    expect(readableValue('timestamptz', '-1')).toBe('1969-12-31T23:59:59.999999Z');
    expect(readableValue('timestamp', '951782400000000')).toBe('2000-02-29T00:00:00.000000');
    expect(readableValue('timestamp', '-62135596800000000')).toBe('0001-01-01T00:00:00.000000');
    expect(readableValue('timestamp', '253402300800000000')).toBe('+10000-01-01T00:00:00.000000');
    expect(readableValue('date', '-1')).toBe('1969-12-31');
    expect(readableValue('date', '-719893')).toBe('-0001-01-01');
    expect(readableValue('time', '86399999999')).toBe('23:59:59.999999');
    expect(readableValue('time', '86400000000')).toBe('24:00:00.000000');
  });

  it("matches JavaScript's own date arithmetic across centuries", () => {
    for (let days = -800_000; days <= 800_000; days += 997) {
      const micros = BigInt(days) * 86_400_000_000n + 3_723_000_456n;
      const iso = new Date(days * 86_400_000 + 3_723_000).toISOString();
      if (!/^\d{4}-/.test(iso)) continue;
      expect(readableValue('timestamptz', String(micros))).toBe(`${iso.slice(0, 23)}456Z`);
    }
  });

  it('shows floats as their shortest decimal, -0 and NaN kept, and never two values alike', () => {
    const double = (n: number) => readableValue('double', canonicalValue('double', n));
    expect([double(0.1), double(-0), double(0), double(Number.NaN), double(-Infinity), double(5e-324)]).toEqual([
      '0.1',
      '-0',
      '0',
      'NaN',
      '-Infinity',
      '5e-324',
    ]);
    expect(readableValue('float', canonicalValue('float', Math.fround(1.1)))).toBe('1.100000023841858');
    expect(double(0.1 + 0.2)).not.toBe(double(0.3));
  });

  it('leaves other types, unknown columns and NULL as they are', () => {
    expect(readableValue('long', '1609459213000013')).toBe('1609459213000013');
    expect(readableValue('decimal(12, 2)', '12.3')).toBe('12.3');
    expect(readableValue(undefined, '1609459213000013')).toBe('1609459213000013');
    expect(readableValue('timestamptz', null)).toBeNull();
  });
});

describe('readableReport', () => {
  const table: TableVerification = {
    table: 'public.events',
    target: 'public.events',
    level: 'full',
    status: 'differs',
    schema: [],
    durationMs: 1,
    columns: [
      { name: 'at', type: 'timestamptz' },
      { name: 'n', type: 'long' },
    ],
    aggregates: [
      { column: 'at', aggregate: 'max', source: '1', target: '2', ok: false },
      { column: 'n', aggregate: 'sum', source: '5', target: '5', ok: true },
    ],
    rows: { compared: '3', differing: '1', differences: [{ key: { at: '0' }, kind: 'VALUE_MISMATCH', columns: [{ column: 'n', source: '1', target: '2' }] }] },
    samples: [{ key: { at: '0' }, source: { at: '0', n: '1' }, target: null }],
  };
  const report: VerificationReport = { level: 'full', source: 's', warehouse: 'w', startedAt: '2026-01-01T00:00:00Z', tables: [table], ok: false };

  it('maps the values of typed columns in aggregates, keys, differences and samples, and nothing else', () => {
    const readable = readableReport(report).tables[0]!;
    expect(readable.aggregates.map((a) => [a.source, a.target])).toEqual([
      ['1970-01-01T00:00:00.000001Z', '1970-01-01T00:00:00.000002Z'],
      ['5', '5'],
    ]);
    expect(readable.rows!.differences[0]).toMatchObject({ key: { at: '1970-01-01T00:00:00.000000Z' }, columns: [{ source: '1', target: '2' }] });
    expect(readable.samples[0]).toEqual({ key: { at: '1970-01-01T00:00:00.000000Z' }, source: { at: '1970-01-01T00:00:00.000000Z', n: '1' }, target: null });
    // The canonical report is left untouched (the JSON report prints it).
    expect(table.samples[0]!.source!.at).toBe('0');
  });

  it('is what the terminal report shows', () => {
    expect(renderTerminalReport(report)).toContain('"1970-01-01T00:00:00.000002Z"');
  });
});
