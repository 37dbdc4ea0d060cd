/**
 * A table's verification status from its checks, and the merge of its key ranges' row results: pure, so the
 * verifyTable orchestration can call them.
 */
import type { RowRangeResult, TableVerification } from './contracts';

/** A table's checks (verifyTable with rowsByRange) completed with its ranges' rows. */
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
  const merged: TableVerification = { ...checks, rows };
  merged.status = statusOf(merged);
  return merged;
}

/** Differing rows listed per table unless asked otherwise (all are counted). */
export const DEFAULT_MAX_DIFFERENCES = 20;

/** 'differs' when any check found a difference (or left one unexamined). */
export function statusOf(t: TableVerification): TableVerification['status'] {
  const differs = t.schema.length > 0 || (t.counts !== undefined && !t.counts.ok) || t.aggregates.some((a) => !a.ok)
    || (t.rows !== undefined && (t.rows.differing !== '0' || t.rows.rangesNotExamined !== undefined));
  return differs ? 'differs' : 'ok';
}
