/**
 * The consistency check across every system the data lives in: for each fanned-out table, each system's inventory
 * (PostgreSQL first, as the reference), compared key by key. Runs from the nightly consistency job, over HTTP and
 * from the CLI; the report is JSON (for machines) and one self-contained HTML page (for people).
 */
import type { FileIO } from '../../iceberg/io/file-io';
import type { FanoutTable, SystemInventory, SystemName } from '../fanout-types';
import { type TableComparison, compareSystems } from './compare-systems';
import { renderFanoutHtml } from './fanout-report-html';

/** A system the check reads. */
export interface InventorySource {
  system: SystemName;
  inventory(table: FanoutTable): Promise<SystemInventory>;
}

/** Options of `checkFanout`. */
export interface FanoutCheckOptions {
  tables: readonly FanoutTable[];
  /** The systems to compare; PostgreSQL's must be among them. */
  sources: readonly InventorySource[];
  /** Differences kept per table in the report (all are counted); default 1000. */
  maxDifferences?: number;
  now?: Date;
  onTable?: (comparison: TableComparison) => void;
}

/** The check's report. */
export interface FanoutConsistencyReport {
  generatedAt: string;
  systems: SystemName[];
  tables: TableComparison[];
  differenceCount: number;
  /** True when no table has any difference. */
  exact: boolean;
}

/** Reads every system's inventory of every table and compares them. */
export async function checkFanout(options: FanoutCheckOptions): Promise<FanoutConsistencyReport> {
  if (!options.sources.some((s) => s.system === 'postgres')) throw new TypeError('the check needs PostgreSQL as its reference');
  const tables: TableComparison[] = [];
  for (const table of options.tables) {
    const inventories: SystemInventory[] = [];
    for (const source of options.sources) inventories.push(await source.inventory(table));
    const comparison = compareSystems(table, inventories, options.maxDifferences);
    options.onTable?.(comparison);
    tables.push(comparison);
  }
  const differenceCount = tables.reduce((sum, t) => sum + t.differenceCount, 0);
  return {
    generatedAt: (options.now ?? new Date()).toISOString(),
    systems: options.sources.map((s) => s.system),
    tables,
    differenceCount,
    exact: differenceCount === 0,
  };
}

/** Writes `report.json` and `report.html` under `location`; returns their locations. */
export async function writeFanoutReport(io: FileIO, location: string, report: FanoutConsistencyReport): Promise<{ json: string; html: string }> {
  const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
  const json = `${location}/report.json`;
  const html = `${location}/report.html`;
  await io.write(json, encode(`${JSON.stringify(report, null, 2)}\n`));
  await io.write(html, encode(renderFanoutHtml(report)));
  return { json, html };
}

/** One line per table: counts per system and the differences, for a terminal. */
export function fanoutSummary(report: FanoutConsistencyReport): string {
  const lines = [`fan-out consistency: ${report.exact ? 'EXACT' : `${report.differenceCount} differences`} across ${report.systems.join(', ')}`];
  for (const t of report.tables) {
    const counts = report.systems.map((s) => `${s} ${t.counts[s] ?? '-'}`).join(', ');
    lines.push(`  ${t.table} (${t.entity}): ${counts}${t.differenceCount === 0 ? '' : `; ${t.differenceCount} differences`}`);
    for (const d of t.differences.slice(0, 10)) lines.push(`    ${d.kind} key ${d.key} [${d.systems.join(', ')}]: ${d.detail}`);
    if (t.differenceCount > 10) lines.push(`    … ${t.differenceCount - 10} more in the report`);
  }
  return `${lines.join('\n')}\n`;
}
