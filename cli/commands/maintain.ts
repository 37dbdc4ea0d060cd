/**
 * `icebridge maintain`: the maintenance job's work on the tables of a warehouse, from the command line: compact,
 * expire snapshots older than the retention (never one a sync, a replay or a restore needs), remove orphan files
 * older than the safety window. `--dry-run` lists what it would expire and remove and changes nothing.
 */
import { loadSettings } from '../../shared/config/settings';
import { errorMessage } from '../../shared/errors';
import { loadJobSettings } from '../../shared/ops/job-settings';
import { type TableMaintenance, maintainTables, tablesOf } from '../../shared/ops/maintenance-job';
import { environmentFromSettings } from '../../shared/run/environment';
import { type FlagSpec, type ParsedFlags, UsageError, listFlag, parseOrExit, stringFlag, usage } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { asUsageError, resolveWarehouse } from './migrate';

/** Flags of `icebridge maintain`. */
export const MAINTAIN_FLAGS: FlagSpec[] = [
  { name: 'warehouse', value: true, required: true, description: 'warehouse root of the tables: a directory, file://… or abfss://…' },
  { name: 'namespace', value: true, description: 'Iceberg namespace (default: ICEBRIDGE_JOB_NAMESPACES, else public)' },
  { name: 'table', value: true, description: 'comma-separated tables (default: every table of the namespace)' },
  { name: 'retention-days', value: true, description: 'expire snapshots older than this many days (default 7, ICEBRIDGE_MAINTENANCE_RETENTION_DAYS)' },
  { name: 'orphan-days', value: true, description: 'remove unreferenced files older than this many days, at least 1 (default 3)' },
  { name: 'retain-last', value: true, description: 'always keep this many newest snapshots (default 5)' },
  { name: 'dry-run', description: 'list what would be expired and removed; change nothing (compaction is not planned)' },
  { name: 'json', description: 'print the results as JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Maintain Iceberg tables: compact delete files and small files, expire snapshots older than the retention
(keeping the newest, and every snapshot change capture, a replay or a restore in progress through the app needs),
then remove data files and manifests no snapshot references once older than the safety window.
Exit status: 0 every table maintained, 1 a table failed, 2 usage error.`;

/** The usage text of `icebridge maintain`. */
export const MAINTAIN_USAGE = usage('maintain', SUMMARY, MAINTAIN_FLAGS);

function days(flags: ParsedFlags, name: string, fallback: number, min: number): number {
  const text = stringFlag(flags, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || value < min) throw new UsageError(`--${name} must be a number of ${min} or more`);
  return value;
}

function line(t: TableMaintenance, dryRun: boolean): string {
  if (t.error !== undefined) return `${t.table}: failed: ${t.error}`;
  const verb = dryRun ? 'would expire' : 'expired';
  const parts = [
    ...(t.compacted ? [`compacted (${t.rewrittenDataFiles} files rewritten)`] : []),
    `${verb} ${t.expiredSnapshots.length} snapshots${t.keptSnapshots.length > 0 ? ` (kept ${t.keptSnapshots.length} old: ${[...new Set(t.keptSnapshots.map((k) => k.reason))].join(', ')})` : ''}`,
    `${dryRun ? 'would remove' : 'removed'} ${t.orphanFiles.length} orphan files (${t.orphanBytes} bytes)${t.youngOrphans > 0 ? `, ${t.youngOrphans} too young` : ''}${t.uncommittedFiles > 0 ? `, ${t.uncommittedFiles} of a migration not committed yet` : ''}`,
  ];
  const listed = dryRun ? [...t.expiredSnapshots.map((s) => `\n  expire snapshot ${s}`), ...t.orphanFiles.map((f) => `\n  remove ${f}`)].join('') : '';
  return `${t.table}: ${parts.join(', ')}${listed}`;
}

/** Runs the command; returns the exit status. */
export async function maintainCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, MAINTAIN_FLAGS, MAINTAIN_USAGE, out, err);
  if (typeof parsed === 'number') return parsed;
  const { flags } = parsed;
  try {
    const warehouse = resolveWarehouse(stringFlag(flags, 'warehouse')!);
    const defaults = (() => {
      try {
        return loadJobSettings(env);
      } catch (error) {
        return asUsageError(error);
      }
    })();
    const dryRun = flags['dry-run'] === true;
    const { catalog } = environmentFromSettings(loadSettings({ ...env, ICEBRIDGE_WAREHOUSE: warehouse }));
    const namespace = stringFlag(flags, 'namespace');
    const all = await tablesOf(catalog, namespace === undefined ? defaults.namespaces : [namespace]);
    const wanted = listFlag(flags, 'table');
    const missing = (wanted ?? []).filter((name) => !all.some((id) => id.name === name));
    if (missing.length > 0) throw new UsageError(`no table ${missing.join(', ')} in ${namespace ?? defaults.namespaces.join(', ')}`);
    const tables = await maintainTables(catalog, {
      tables: wanted === undefined ? all : all.filter((id) => wanted.includes(id.name)),
      now: new Date(),
      retentionDays: days(flags, 'retention-days', defaults.retentionDays, 0),
      retainLast: Math.floor(days(flags, 'retain-last', defaults.retainLast, 1)),
      orphanDays: days(flags, 'orphan-days', defaults.orphanDays, 1),
      dryRun,
    });
    if (flags.json) out.write(`${JSON.stringify(tables, null, 2)}\n`);
    else for (const t of tables) out.write(`${line(t, dryRun)}\n`);
    return tables.some((t) => t.error !== undefined) ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    err.write(`maintain failed: ${errorMessage(error)}\n`);
    return 1;
  }
}
