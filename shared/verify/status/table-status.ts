/**
 * A table's verification status from its checks, and the merge of its key ranges' results: pure, so the
 * verifyTable orchestration can call them.
 */
import type { CountCheck, RowRangeResult, TableVerification } from '../contracts';
import type { ScanRangeResult } from '../ranges/scan-ranges';
import { compareAggregates, groupedColumns, mergeAggregatePartials, sourceFiguresOf } from '../checks/target-aggregates';
import { TWO_64 } from '../canonical/buckets';

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
  if (checks.counts !== undefined) merged.counts = countCheck(rows.compared, checks.counts.targetManifest, sum((r) => r.targetRows).toString());
  const target = mergeAggregatePartials(ordered.map((r) => r.aggregates));
  if (target !== undefined) {
    const source = sourceFiguresOf(ordered.map((r) => r.sourceAggregates));
    merged.aggregates = compareAggregates(source, target.figures(groupedColumns(source)));
  }
  merged.status = statusOf(merged);
  return merged;
}

/**
 * A table's checks (verifyTable with scanRanges) completed with its scan ranges: counts are the ranges' sums,
 * aggregates their merged figures per side, each sample's Iceberg row the one a range found. At the full level
 * both sides' row count and hash sum (sums modulo 2^64) are compared; ranges do not line up with rows, so when
 * they differ the rows are not searched: the difference is reported as one unexamined range.
 */
export function mergeScanRanges(checks: TableVerification, ranges: readonly ScanRangeResult[]): TableVerification {
  if (checks.status === 'error') return checks;
  const ordered = [...ranges].sort((a, b) => a.range - b.range);
  const sum = (pick: (r: ScanRangeResult) => string, modulo?: bigint) => {
    const total = ordered.reduce((n, r) => n + BigInt(pick(r)), 0n);
    return (modulo === undefined ? total : total % modulo).toString();
  };
  const sourceRows = sum((r) => r.sourceRows);
  const targetRows = sum((r) => r.targetRows);
  const merged: TableVerification = { ...checks };
  merged.counts = countCheck(sourceRows, checks.counts?.targetManifest ?? targetRows, targetRows);
  const target = mergeAggregatePartials(ordered.map((r) => r.aggregates));
  if (target !== undefined) {
    const source = sourceFiguresOf(ordered.map((r) => r.sourceAggregates));
    merged.aggregates = compareAggregates(source, target.figures(groupedColumns(source)));
  }
  merged.samples = checks.samples.map((s, i) => ({ ...s, target: ordered.map((r) => r.sampleTargets[i] ?? null).find((t) => t !== null) ?? null }));
  if (checks.level === 'full') {
    const same = sourceRows === targetRows && sum((r) => r.sourceHash, TWO_64) === sum((r) => r.targetHash, TWO_64);
    merged.rows = { compared: sourceRows, differing: '0', differences: [] };
    if (!same) merged.rows.rangesNotExamined = '1';
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
  const differs =
    t.schema.length > 0 ||
    (t.counts !== undefined && !t.counts.ok) ||
    t.aggregates.some((a) => !a.ok) ||
    (t.rows !== undefined && (t.rows.differing !== '0' || t.rows.rangesNotExamined !== undefined));
  return differs ? 'differs' : 'ok';
}
