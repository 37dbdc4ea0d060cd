import { describe, expect, it } from 'vitest';
import type { VerificationReport } from '../../shared/verify/contracts';
import { renderJsonReport } from '../../shared/verify/reports/report-json';
import { LONG_SOURCE, ROWS_TABLE, SCHEMA_TABLE, longValueReport, sampleReport } from './report-fixtures';

/** The same object with every nested object's keys inserted in reverse order. */
function reversedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversedKeys) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversedKeys(v)]),
  ) as T;
}

describe('renderJsonReport', () => {
  it('round-trips the report exactly', () => {
    const report = sampleReport();
    expect(JSON.parse(renderJsonReport(report))).toEqual(report);
  });

  it('is byte-identical whatever order the checks built the objects in', () => {
    const report = sampleReport();
    const shuffled = reversedKeys(report);
    // Keys of rows and samples are data (column order), not structure; restore them so only structure is shuffled.
    shuffled.tables.forEach((t, i) => {
      const original = report.tables[i]!;
      t.samples = structuredClone(original.samples);
      if (t.rows) t.rows.differences.forEach((d, j) => (d.key = { ...original.rows!.differences[j]!.key }));
    });
    expect(Object.keys(shuffled)[0]).toBe('ok');
    expect(renderJsonReport(shuffled)).toBe(renderJsonReport(report));
  });

  it('writes fields in contract order, two-space indented, ending in a newline', () => {
    const text = renderJsonReport(sampleReport());
    expect(text.endsWith('}\n')).toBe(true);
    const parsed = JSON.parse(text) as VerificationReport;
    expect(Object.keys(parsed)).toEqual(['level', 'source', 'warehouse', 'startedAt', 'ok', 'tables']);
    expect(Object.keys(parsed.tables[1]!)).toEqual(['table', 'target', 'level', 'status', 'durationMs', 'schema', 'counts', 'aggregates', 'rows', 'samples']);
    expect(Object.keys(parsed.tables[3]!)).toEqual(['table', 'target', 'level', 'status', 'error', 'durationMs', 'schema', 'aggregates', 'samples']);
    expect(text).toContain('\n  "tables": [\n    {\n      "table": "customers",');
  });

  it('leaves out optional fields that are undefined and keeps nulls and 64-bit strings as they are', () => {
    const report: VerificationReport = {
      ...sampleReport(),
      tables: [
        {
          ...structuredClone(SCHEMA_TABLE),
          error: undefined,
          rows: undefined,
          counts: { source: '9223372036854775807', targetManifest: '9223372036854775807', targetRead: undefined, ok: true },
        },
        structuredClone(ROWS_TABLE),
      ],
    };
    const text = renderJsonReport(report);
    expect(text).not.toContain('"error"');
    expect(text).not.toContain('"targetRead": null');
    expect(text).toContain('"source": "9223372036854775807"');
    const parsed = JSON.parse(text) as VerificationReport;
    expect('rows' in parsed.tables[0]!).toBe(false);
    expect(parsed.tables[0]!.schema[1]).toEqual({
      kind: 'MISSING_FIELD',
      field: 'currency',
      expected: { type: 'string', required: false },
      fixSql: SCHEMA_TABLE.schema[1]!.fixSql,
    });
    expect(Object.keys(parsed.tables[1]!.rows!)).toEqual(['compared', 'differing', 'rangesNotExamined', 'differences']);
    expect(parsed.tables[1]!.rows!.differences[0]!.columns[1]).toEqual({ column: 'note', source: null, target: 'NULL' });
  });

  it('carries a long value in its bounded form', () => {
    const json = renderJsonReport(longValueReport());
    const parsed = JSON.parse(json) as VerificationReport;
    expect(parsed.tables[0]!.rows).toEqual(longValueReport().tables[0]!.rows);
    expect(parsed.tables[0]!.samples).toEqual(longValueReport().tables[0]!.samples);
    expect(json).toContain(JSON.stringify(LONG_SOURCE));
    expect(json.length).toBeLessThan(4_000);
  });
});
