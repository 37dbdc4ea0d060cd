/**
 * Where a verification's report lives: each table's whole TableVerification is a JSON file under the warehouse,
 * and the orchestration's output (a VerificationOutcome) carries only figures and that folder, so the output
 * stays far below Durable's message limit at any table count. The report the renderers take is assembled here.
 */
import { errorMessage } from '../../errors';
import type { Catalog } from '../../iceberg/catalog/catalog';
import { type FileIO, redactLocation } from '../../iceberg/io';
import { shortReason } from '../../run/instance-status';
import type { TableVerification, VerificationOutcome, VerificationReport, VerifiedTableSummary } from '../contracts';
import { tableReportLocation } from './table-summary';
import { mapBounded } from '../../concurrency';

/** Table report files read at once while assembling a report. */
export const REPORT_READS_AT_ONCE = 8;

/**
 * A verification id as one path segment safe on local disks and in blob names: every character but ASCII
 * letters, digits and '-' becomes '_' and its UTF-8 bytes in hex ('run-1:verify' -> 'run-1_3Averify'), so
 * distinct ids stay distinct.
 */
export function encodeVerificationId(verificationId: string): string {
  return Array.from(verificationId, (c) =>
    /^[A-Za-z0-9-]$/.test(c) ? c : Array.from(new TextEncoder().encode(c), (b) => `_${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  ).join('');
}

/** The folder of a verification's table reports: `<warehouse>/.icebridge/verifications/<encoded id>`. */
export function verificationReportsLocation(catalog: Catalog, verificationId: string): string {
  return `${catalog.tableLocation({ namespace: ['.icebridge'], name: 'verifications' })}/${encodeVerificationId(verificationId)}`;
}

/** Writes one table's whole verification; writing it again replaces it with the same content, so a retry is harmless. */
export async function saveTableVerification(io: FileIO, location: string, verification: TableVerification): Promise<void> {
  await io.write(location, new TextEncoder().encode(JSON.stringify(verification)));
}

/** True for a verifyDatabase output made since table reports are kept in storage. */
export function isVerificationOutcome(output: unknown): output is VerificationOutcome {
  const o = output as Partial<VerificationOutcome> | null | undefined;
  return typeof o === 'object' && o !== null && typeof o.reports === 'string' && Array.isArray(o.tables);
}

/** True for a verifyDatabase output made before: the whole report itself. */
export function isWholeReport(output: unknown): output is VerificationReport {
  const o = output as Partial<VerificationReport> | null | undefined;
  return typeof o === 'object' && o !== null && typeof o.level === 'string' && Array.isArray(o.tables) && !isVerificationOutcome(output);
}

/** The tables of a report to assemble: `offset` and `limit` as the status endpoints page them. */
export interface ReportPage {
  offset: number;
  limit: number;
}

/**
 * The VerificationReport of a finished verification, from its output: the table reports of `page` (every
 * table when absent) read from storage a few at a time. A table whose file is missing or unreadable is that
 * table's error (and the report is then not ok), never left out. An output from before the change is the report.
 */
export async function assembleVerificationReport(io: FileIO, output: VerificationOutcome | VerificationReport, page?: ReportPage): Promise<VerificationReport> {
  const slice = <T>(all: T[]): T[] => (page ? all.slice(page.offset, page.offset + Math.max(0, page.limit)) : all);
  if (!isVerificationOutcome(output)) return { ...output, tables: slice(output.tables) };
  const wanted = slice(output.tables);
  const tables = await mapBounded(wanted, REPORT_READS_AT_ONCE, (summary) => readTableReport(io, output.reports, summary));
  const unread = tables.some((t, i) => t.status === 'error' && wanted[i]!.status !== 'error');
  return { level: output.level, source: output.source, warehouse: output.warehouse, startedAt: output.startedAt, tables, ok: output.ok && !unread };
}

async function readTableReport(io: FileIO, reports: string, summary: VerifiedTableSummary): Promise<TableVerification> {
  const location = tableReportLocation(reports, summary.index);
  try {
    const parsed = JSON.parse(new TextDecoder().decode(await io.read(location))) as Partial<TableVerification>;
    if (parsed.table !== summary.table || !Array.isArray(parsed.schema)) throw new Error('it is not the report of this table');
    return parsed as TableVerification;
  } catch (error) {
    const reason = `its report ${redactLocation(location)} cannot be read: ${shortReason(errorMessage(error))}`;
    return {
      table: summary.table,
      target: summary.target,
      level: summary.level,
      status: 'error',
      error: summary.error !== undefined ? `${summary.error}; ${reason}` : reason,
      schema: [],
      aggregates: [],
      samples: [],
      durationMs: summary.durationMs,
    };
  }
}
