/**
 * What every verification report (terminal, JSON, HTML) derives from a VerificationReport: the kinds of difference a
 * table shows, the run's totals, and figures formatted for people. Pure functions of the report.
 */
import type { RowDifference, SchemaDifferenceKind, TableVerification, VerificationReport } from '../contracts';

/** Every kind of difference a report can show and filter on, in the order reports list them. */
export const DIFFERENCE_KINDS = [
  'MISSING_FIELD',
  'EXTRA_FIELD',
  'TYPE_MISMATCH',
  'NULLABILITY_MISMATCH',
  'COUNT_MISMATCH',
  'AGGREGATE_MISMATCH',
  'MISSING_IN_TARGET',
  'EXTRA_IN_TARGET',
  'VALUE_MISMATCH',
  'ERROR',
] as const;

// Every schema and row difference kind is listed: a kind added to the contracts without a place here fails to compile.
const _everyKindListed: ReadonlyArray<SchemaDifferenceKind | RowDifference['kind']> extends ReadonlyArray<(typeof DIFFERENCE_KINDS)[number]> ? true : never =
  true;
void _everyKindListed;

/** A kind of difference: schema, count, aggregate, row, or a table that could not be verified. */
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

/** Short labels for people, one per kind. */
export const DIFFERENCE_KIND_LABELS: Readonly<Record<DifferenceKind, string>> = {
  MISSING_FIELD: 'missing field',
  EXTRA_FIELD: 'extra field',
  TYPE_MISMATCH: 'type mismatch',
  NULLABILITY_MISMATCH: 'nullability mismatch',
  COUNT_MISMATCH: 'row count',
  AGGREGATE_MISMATCH: 'aggregate',
  MISSING_IN_TARGET: 'row missing in target',
  EXTRA_IN_TARGET: 'extra row in target',
  VALUE_MISMATCH: 'value mismatch',
  ERROR: 'error',
};

/** The kinds of difference one table shows, in DIFFERENCE_KINDS order, without repeats. */
export function differenceKinds(table: TableVerification): DifferenceKind[] {
  const found = new Set<DifferenceKind>();
  for (const d of table.schema) found.add(d.kind);
  if (table.counts && !table.counts.ok) found.add('COUNT_MISMATCH');
  if (table.aggregates.some((a) => !a.ok)) found.add('AGGREGATE_MISMATCH');
  for (const r of table.rows?.differences ?? []) found.add(r.kind);
  if (table.status === 'error' || table.error !== undefined) found.add('ERROR');
  return DIFFERENCE_KINDS.filter((k) => found.has(k));
}

/** Totals of a run, for summary lines and cards. */
export interface ReportTotals {
  tables: number;
  ok: number;
  differs: number;
  error: number;
  /** Rows compared one by one (full level), summed exactly. */
  rowsCompared: bigint;
  /** Differing rows in all (not only the ones listed), summed exactly. */
  rowsDiffering: bigint;
  schemaDifferences: number;
  aggregateMismatches: number;
}

/** Sums a run's figures; 64-bit counts are summed as bigint so nothing is rounded. */
export function reportTotals(report: VerificationReport): ReportTotals {
  const totals: ReportTotals = {
    tables: report.tables.length,
    ok: 0,
    differs: 0,
    error: 0,
    rowsCompared: 0n,
    rowsDiffering: 0n,
    schemaDifferences: 0,
    aggregateMismatches: 0,
  };
  for (const t of report.tables) {
    totals[t.status] += 1;
    totals.rowsCompared += toBigInt(t.rows?.compared);
    totals.rowsDiffering += toBigInt(t.rows?.differing);
    totals.schemaDifferences += t.schema.length;
    totals.aggregateMismatches += t.aggregates.filter((a) => !a.ok).length;
  }
  return totals;
}

/** Groups the digits of a decimal count (`1234567` -> `1,234,567`); anything else is returned as given. */
export function formatCount(value: string | bigint | number): string {
  const text = String(value);
  const match = /^(-?)(\d+)$/.exec(text);
  if (!match) return text;
  return match[1] + match[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A row key as `col=value, col=value` (null shown as NULL); keyless rows carry their canonical text. */
export function formatKey(key: Record<string, string | null>): string {
  return Object.entries(key)
    .map(([column, value]) => `${column}=${value === null ? 'NULL' : value}`)
    .join(', ');
}

/** Splits two texts into common prefix, differing middles and common suffix, so the change can be highlighted. */
export function splitChange(a: string, b: string): { prefix: string; a: string; b: string; suffix: string } {
  // Code points, not UTF-16 units, so a highlight never splits a surrogate pair.
  const x = Array.from(a);
  const y = Array.from(b);
  const limit = Math.min(x.length, y.length);
  let start = 0;
  while (start < limit && x[start] === y[start]) start++;
  let end = 0;
  while (end < limit - start && x[x.length - 1 - end] === y[y.length - 1 - end]) end++;
  return {
    prefix: x.slice(0, start).join(''),
    a: x.slice(start, x.length - end).join(''),
    b: y.slice(start, y.length - end).join(''),
    suffix: x.slice(x.length - end).join(''),
  };
}

function toBigInt(value: string | undefined): bigint {
  return value !== undefined && /^\d+$/.test(value) ? BigInt(value) : 0n;
}
