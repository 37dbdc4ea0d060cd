/** `icebridge compact`: rewrite tables' data files with their row-level deletes applied, and merge small files. */
import { loadSettings } from '../../shared/config/settings';
import { errorMessage } from '../../shared/errors';
import type { Catalog } from '../../shared/iceberg/catalog/catalog';
import type { TableIdentifier } from '../../shared/iceberg/catalog/table-identifier';
import { type CompactResult, type TableFileFigures, compactTable } from '../../shared/iceberg/maintenance/compact';
import { environmentFromSettings } from '../../shared/run/environment';
import { SYNC_CARRIED_PROPERTIES } from '../../shared/sync/auto-compact';
import { type FlagSpec, UsageError, intFlag, listFlag, stringFlag, usage, parseOrExit } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { asUsageError, resolveWarehouse } from './migrate';

/** Flags of `icebridge compact`. */
export const COMPACT_FLAGS: FlagSpec[] = [
  { name: 'warehouse', value: true, required: true, description: 'warehouse root of the tables: a directory, file://… or abfss://…' },
  { name: 'namespace', value: true, description: 'Iceberg namespace (default public)' },
  { name: 'tables', value: true, description: 'comma-separated tables (default: every table of the namespace)' },
  { name: 'target-file-size-mb', value: true, description: 'size of the files written, in MiB (default 128)' },
  { name: 'json', description: 'print the results as JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Compact Iceberg tables: every data file that row-level deletes remove rows from is written again without
those rows, small files of a partition (five or more under three quarters of the target size) are merged, and the
new files replace the old ones and their delete files in one snapshot per table. The rows do not change. Safe while
icebridge sync runs: a compaction that loses a race to a commit deleting rows of the files it rewrites plans again,
and a sync batch whose rows were moved is applied again. The snapshot keeps the table's change capture position.
Exit status: 0 every table compacted (or had nothing to compact), 1 a table failed, 2 usage error.`;

/** The usage text of `icebridge compact`. */
export const COMPACT_USAGE = usage('compact', SUMMARY, COMPACT_FLAGS);

/** One table's outcome, as printed. */
export interface CompactTableReport {
  table: string;
  result?: CompactResult;
  error?: string;
}

/** Runs the command; returns the exit status. */
export async function compactCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, COMPACT_FLAGS, COMPACT_USAGE, out, err);
  if (typeof parsed === 'number') return parsed;
  const { flags } = parsed;
  try {
    const warehouse = resolveWarehouse(stringFlag(flags, 'warehouse')!);
    const targetMb = intFlag(flags, 'target-file-size-mb', 128, { max: 16_384 });
    const namespace = stringFlag(flags, 'namespace') ?? 'public';
    const { catalog } = environmentFromSettings(loadSettings({ ...env, ICEBRIDGE_WAREHOUSE: warehouse }));
    const ids = await tablesOf(catalog, namespace, listFlag(flags, 'tables'));
    const reports: CompactTableReport[] = [];
    for (const id of ids) {
      const table = `${id.namespace.join('.')}.${id.name}`;
      try {
        const result = await compactTable(catalog, id, { targetFileSizeInBytes: targetMb * 1024 * 1024, carriedProperties: SYNC_CARRIED_PROPERTIES });
        reports.push({ table, result });
        if (!flags.json) out.write(`${line(table, result)}\n`);
      } catch (error) {
        reports.push({ table, error: errorMessage(error) });
        if (!flags.json) err.write(`${table}: compaction failed: ${errorMessage(error)}\n`);
      }
    }
    if (flags.json) out.write(`${JSON.stringify(reports, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
    return reports.some((r) => r.error !== undefined) ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    err.write(`compact failed: ${errorMessage(error)}\n`);
    return 1;
  }
}

/** The tables asked for (each must exist: a usage error otherwise), or every table of the namespace. */
async function tablesOf(catalog: Catalog, namespace: string, asked: string[] | undefined): Promise<TableIdentifier[]> {
  if (asked === undefined) {
    const all = await catalog.listTables([namespace]).catch(asUsageError);
    if (all.length === 0) throw new UsageError(`namespace ${namespace} holds no tables in this warehouse`);
    return all;
  }
  const ids = asked.map((name) => ({ namespace: [namespace], name }));
  const missing: string[] = [];
  for (const id of ids) if (!(await catalog.tableExists(id))) missing.push(id.name);
  if (missing.length > 0) throw new UsageError(`no such table in namespace ${namespace}: ${missing.join(', ')}`);
  return ids;
}

function files(f: TableFileFigures): string {
  return `${f.dataFiles} data + ${f.deleteFiles} delete files, ${mib(f.bytes)}`;
}

function mib(bytes: bigint): string {
  return `${(Number(bytes) / 1024 / 1024).toFixed(1)} MiB`;
}

function line(table: string, r: CompactResult): string {
  const seconds = `${(r.elapsedMs / 1000).toFixed(1)} s`;
  if (!r.compacted) return `${table}: nothing to compact (${files(r.before)}, ${r.before.rows} rows, ${seconds})`;
  return `${table}: ${files(r.before)} -> ${files(r.after)}; ${r.after.rows} rows; ${r.rewrittenDataFiles} files rewritten into ${r.addedDataFiles}; ${seconds}`;
}
