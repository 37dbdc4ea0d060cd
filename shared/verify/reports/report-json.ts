/**
 * The verification report as JSON for machines: the VerificationReport contract itself, with its fields always in the
 * contract's order (whatever order the checks built them in), absent optional fields left out, two-space indent and a
 * closing newline. Two runs with the same result therefore produce byte-identical files that diff cleanly. Row keys and
 * sample rows keep their column order, which is the table's.
 */
import type { AggregateCheck, CountCheck, RowDifference, SampleRow, SchemaDifference, TableVerification, VerificationReport } from '../contracts';

/** Renders the report as stable, pretty-printed JSON ending in a newline. */
export function renderJsonReport(report: VerificationReport): string {
  return JSON.stringify(orderedReport(report), null, 2) + '\n';
}

/** The report rebuilt with every object's fields in contract order; what renderJsonReport serialises. */
export function orderedReport(report: VerificationReport): VerificationReport {
  return {
    level: report.level,
    source: report.source,
    warehouse: report.warehouse,
    startedAt: report.startedAt,
    ok: report.ok,
    tables: report.tables.map(orderedTable),
  };
}

function orderedTable(t: TableVerification): TableVerification {
  return omitUndefined({
    table: t.table,
    target: t.target,
    level: t.level,
    status: t.status,
    error: t.error,
    durationMs: t.durationMs,
    schema: t.schema.map(orderedSchemaDifference),
    counts: t.counts && orderedCounts(t.counts),
    aggregates: t.aggregates.map(orderedAggregate),
    rows:
      t.rows &&
      omitUndefined({
        compared: t.rows.compared,
        differing: t.rows.differing,
        rangesNotExamined: t.rows.rangesNotExamined,
        differences: t.rows.differences.map(orderedRow),
      }),
    samples: t.samples.map(orderedSample),
  });
}

function orderedSchemaDifference(d: SchemaDifference): SchemaDifference {
  const side = (s: { type: string; required: boolean } | undefined) => s && { type: s.type, required: s.required };
  return omitUndefined({ kind: d.kind, field: d.field, expected: side(d.expected), actual: side(d.actual), fixSql: d.fixSql });
}

function orderedCounts(c: CountCheck): CountCheck {
  return omitUndefined({ source: c.source, targetManifest: c.targetManifest, targetRead: c.targetRead, ok: c.ok });
}

function orderedAggregate(a: AggregateCheck): AggregateCheck {
  return { column: a.column, aggregate: a.aggregate, source: a.source, target: a.target, ok: a.ok };
}

function orderedRow(r: RowDifference): RowDifference {
  return {
    kind: r.kind,
    key: { ...r.key },
    columns: r.columns.map((c) => ({ column: c.column, source: c.source, target: c.target })),
  };
}

function orderedSample(s: SampleRow): SampleRow {
  return { key: { ...s.key }, source: s.source && { ...s.source }, target: s.target && { ...s.target } };
}

/** Drops fields whose value is undefined, so an absent optional field is absent in the JSON too. */
function omitUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
