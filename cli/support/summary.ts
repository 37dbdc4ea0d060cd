/** The end-of-run summary: a table for people, or JSON for machines. */
import type { MigrationReport } from '../../shared/migrate/migration-status';
import { formatCount } from './progress';

/** Renders the per-table summary as an aligned text table. */
export function renderSummary(report: MigrationReport): string {
  const header = ['table', 'status', 'source rows', 'iceberg rows', 'partitions', 'snapshot', 'verified', 'reason'];
  const rows = report.details.map((t) => [
    t.table,
    t.status ?? t.phase,
    t.sourceRows === undefined ? '' : formatCount(t.sourceRows),
    formatCount(t.rows),
    `${t.partitions.done}/${t.partitions.total}`,
    t.snapshotId ?? '',
    t.verified ?? '',
    t.reason ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const committed = report.details.filter((t) => t.status === 'committed').length;
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `${committed} of ${report.tables.total} tables committed, ${formatCount(report.rows)} rows in ${report.elapsedSeconds}s (${formatCount(report.rowsPerSecond)} rows/s)` +
      (report.tables.failed > 0 ? `; ${report.tables.failed} failed` : '') +
      (report.countsDiffering ? `; ${report.countsDiffering} with a row count that differs from the source's` : ''),
    ...(report.verification ? [verificationLine(report.verification)] : []),
    ...(report.cdc ? handoverLines(report.cdc) : []),
    ...(report.warnings?.shown ?? []).map((w) => `warning: ${w}`),
    ...(report.warnings && report.warnings.total > report.warnings.shown.length
      ? [`warning: ${report.warnings.total - report.warnings.shown.length} more`]
      : []),
  ].join('\n');
}

/** Where the change stream starts, and that the slot keeps WAL on the source until it is consumed or dropped. */
function handoverLines(cdc: NonNullable<MigrationReport['cdc']>): string[] {
  return [
    `change capture: slot ${cdc.slot} and publication ${cdc.publication}; the tables are complete up to LSN ${cdc.lsn}, the stream starts after it`,
    `note: the slot keeps the source's WAL until it is consumed or dropped; to drop it and its publication: ${cdc.dropCommand}`,
  ];
}

function verificationLine(v: NonNullable<MigrationReport['verification']>): string {
  const head = `verification (${v.level}, ${v.id}): `;
  if (v.status === 'ok') return `${head}${v.tables.total} of ${v.tables.total} tables exact`;
  if (v.status === 'running') return `${head}running, ${v.tables.done} of ${v.tables.total} tables done`;
  const parts = [
    v.tables.differing > 0 ? `${v.tables.differing} of ${v.tables.total} tables differ` : '',
    v.tables.errors > 0 ? `${v.tables.errors} could not be verified` : '',
    v.error ?? '',
  ].filter((p) => p !== '');
  return `${head}${parts.join('; ')}; details: icebridge verify --level full --report report.html`;
}
