/**
 * A table's verification status from its checks, and the merge of its key ranges' results: pure, so the
 * verifyTable orchestration can call them.
 */
import type { CountCheck, RowRangeResult, TableVerification } from './contracts';
import { compareAggregates, groupedColumns, mergeAggregatePartials, sourceFiguresOf } from './target-aggregates';

/**
 * A table's checks (verifyTable with rowsByRange) completed with its ranges: the rows compared, the Iceberg
 * side's rows read and samples, and both sides' aggregates, which the ranges gathered in the same scans; the
 * ranges' aggregate figures are merged per side and compared here.
 */
export function mergeRowRanges(checks: TableVerification, ranges: readonly RowRangeResult[], maxDifferences = DEFAULT_MAX_DIFFERENCES): TableVerification {
  if (checks.status === 'error') return checks;
  const ordered = [...ranges].sort((a, b) => a.range - b.range);
  const sum = (pick: (r: RowRangeResult) => string) => ordered.reduce((n, r) => n + BigInt(pick(r)), 0n);
  const notExamined = sum((r) => r.rangesNotExamined);
  const rows: NonNullable<TableVerification['rows']> = {
    compared: sum((r) => r.compared).toString(),
    differing: sum((r) => r.differing).toString(),
    differences: ordered.flatMap((r) => r.differences).slice(0, maxDifferences),
  };
  if (notExamined > 0n) rows.rangesNotExamined = notExamined.toString();
  const merged: TableVerification = { ...checks, rows, samples: [...checks.samples, ...ordered.flatMap((r) => r.samples)] };
  if (checks.counts !== undefined) merged.counts = countCheck(checks.counts.source, checks.counts.targetManifest, sum((r) => r.targetRows).toString());
  const target = mergeAggregatePartials(ordered.map((r) => r.aggregates));
  if (target !== undefined) {
    const source = sourceFiguresOf(ordered.map((r) => r.sourceAggregates));
    merged.aggregates = compareAggregates(source, target.figures(groupedColumns(source)));
  }
  merged.status = statusOf(merged);
  return merged;
}

/** How many of a table's `total` samples range `index` of `ranges` picks (the first ones take the remainder). */
export function sampleShare(total: number, ranges: number, index: number): number {
  return Math.floor(total / ranges) + (index < total % ranges ? 1 : 0);
}

/** The count check of the figures gathered. */
export function countCheck(source: string, targetManifest: string, targetRead: string | undefined): CountCheck {
  const check: CountCheck = { source, targetManifest, ok: source === targetManifest && (targetRead === undefined || targetRead === source) };
  if (targetRead !== undefined) check.targetRead = targetRead;
  return check;
}

/** Differing rows listed per table unless asked otherwise (all are counted). */
export const DEFAULT_MAX_DIFFERENCES = 20;
/** Random rows shown side by side per table unless asked otherwise. */
export const DEFAULT_SAMPLES = 5;

/** 'differs' when any check found a difference (or left one unexamined). */
export function statusOf(t: TableVerification): TableVerification['status'] {
  const differs = t.schema.length > 0 || (t.counts !== undefined && !t.counts.ok) || t.aggregates.some((a) => !a.ok)
    || (t.rows !== undefined && (t.rows.differing !== '0' || t.rows.rangesNotExamined !== undefined));
  return differs ? 'differs' : 'ok';
}
