import { describe, expect, it } from 'vitest';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { MemoryFileIO } from '../../shared/iceberg/io';
import type { TableVerification, VerificationOutcome, VerificationReport } from '../../shared/verify/contracts';
import { assembleVerificationReport, encodeVerificationId, saveTableVerification, verificationReportsLocation } from '../../shared/verify/reports/report-store';
import { MAX_SUMMARY_ERROR_LENGTH, summarizeTableVerification, tableReportLocation } from '../../shared/verify/reports/table-summary';

function table(name: string, extra: Partial<TableVerification> = {}): TableVerification {
  return { table: `public.${name}`, target: `lake.${name}`, level: 'full', status: 'ok', schema: [], aggregates: [], samples: [], durationMs: 5, ...extra };
}

function outcome(reports: string, tables: TableVerification[]): VerificationOutcome {
  return {
    verificationId: 'v',
    level: 'full',
    source: 'postgres://db',
    warehouse: '/w',
    startedAt: '2026-01-01T00:00:00.000Z',
    ok: tables.every((t) => t.status === 'ok'),
    reports,
    tables: tables.map((t, index) => ({ index, ...summarizeTableVerification(t) })),
  };
}

describe('report store', () => {
  it("names a verification's folder by an id encoded for file and blob names, distinct ids apart", () => {
    const catalog = new HadoopCatalog(new MemoryFileIO(), 'memory://wh');
    expect(verificationReportsLocation(catalog, 'run-abc-1:verify')).toBe('memory://wh/.icebridge/verifications/run-abc-1_3Averify');
    const ids = ['a:b', 'a_3Ab', 'a_b', 'a.b', 'a/b', '..', 'é'];
    const encoded = ids.map(encodeVerificationId);
    expect(new Set(encoded).size).toBe(ids.length);
    for (const e of encoded) expect(e).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(encodeVerificationId('é')).toBe('_C3_A9');
  });

  it('keeps figures only in a summary, with the error shortened', () => {
    const summary = summarizeTableVerification(
      table('t', {
        status: 'error',
        error: 'x'.repeat(5_000),
        counts: { source: '3', targetManifest: '4', ok: false },
        rows: { compared: '3', differing: '2', differences: [{ key: { id: '1' }, kind: 'MISSING_IN_TARGET', columns: [] }] },
        aggregates: [{ column: 'c', aggregate: 'max', source: 'a', target: 'b', ok: false }],
      }),
    );
    expect(summary).toEqual({
      table: 'public.t',
      target: 'lake.t',
      level: 'full',
      status: 'error',
      error: `${'x'.repeat(MAX_SUMMARY_ERROR_LENGTH - 1)}…`,
      countsOk: false,
      differingRows: '2',
      durationMs: 5,
    });
  });

  it("assembles the page's tables from their files, and an unreadable file as that table's error", async () => {
    const io = new MemoryFileIO();
    const reports = 'memory://wh/.icebridge/verifications/v';
    const tables = [table('a'), table('b', { status: 'differs', rows: { compared: '1', differing: '1', differences: [] } }), table('c'), table('d')];
    for (const [i, t] of tables.entries()) await saveTableVerification(io, tableReportLocation(reports, i), t);
    const out = { ...outcome(reports, tables), ok: true };
    expect((await assembleVerificationReport(io, outcome(reports, tables))).tables).toEqual(tables);
    expect((await assembleVerificationReport(io, out, { offset: 1, limit: 2 })).tables.map((t) => t.table)).toEqual(['public.b', 'public.c']);
    await io.write(tableReportLocation(reports, 2), new TextEncoder().encode('{"cut'));
    await saveTableVerification(io, tableReportLocation(reports, 3), table('other'));
    const report = await assembleVerificationReport(io, out);
    expect(report.tables.map((t) => [t.table, t.status])).toEqual([
      ['public.a', 'ok'],
      ['public.b', 'differs'],
      ['public.c', 'error'],
      ['public.d', 'error'],
    ]);
    expect(report.tables[3]!.error).toBe(`its report ${reports}/tables/3.json cannot be read: it is not the report of this table`);
    expect(report.ok).toBe(false);
  });

  it('reads an output made before reports were stored as the report it is', async () => {
    const whole: VerificationReport = { level: 'quick', source: 's', warehouse: 'w', startedAt: 't', ok: true, tables: [table('a'), table('b')] };
    expect(await assembleVerificationReport(new MemoryFileIO(), whole)).toEqual(whole);
    expect((await assembleVerificationReport(new MemoryFileIO(), whole, { offset: 1, limit: 5 })).tables).toEqual([whole.tables[1]]);
  });
});
