/** The end-of-run summary: a table for people, or JSON for machines. */
import type { MigrationReport } from '../shared/migrate/migration-status';
import { formatCount } from './progress';

/** Renders the per-table summary as an aligned text table. */
export function renderSummary(report: MigrationReport): string {
  const header = ['table', 'status', 'source rows', 'iceberg rows', 'partitions', 'snapshot', 'reason'];
  const rows = report.details.map((t) => [
    t.table,
    t.status ?? t.phase,
    t.sourceRows === undefined ? '' : formatCount(t.sourceRows),
    formatCount(t.rows),
    `${t.partitions.done}/${t.partitions.total}`,
    t.snapshotId ?? '',
    t.reason ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const committed = report.details.filter((t) => t.status === 'committed').length;
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `${committed} of ${report.tables.total} tables committed, ${formatCount(report.rows)} rows in ${report.elapsedSeconds}s (${formatCount(report.rowsPerSecond)} rows/s)` +
      (report.tables.failed > 0 ? `; ${report.tables.failed} failed` : ''),
  ].join('\n');
}
