/** `icebridge restore`: PostgreSQL tables as they were at an Iceberg snapshot, verified against it afterwards. */
import { TableNotFoundError, errorMessage } from '../../shared/errors';
import { loadSettings } from '../../shared/config/settings';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { type RestoreTableResult, restoreTable } from '../../shared/restore/restore-table';
import { type RestoreTablesResult, restoreTables } from '../../shared/restore/restore-tables';
import { parseAsOf } from '../../shared/restore/snapshot-choice';
import { environmentFromSettings } from '../../shared/run/environment';
import { type FlagSpec, type ParsedFlags, UsageError, intFlag, listFlag, stringFlag, usage, parseOrExit } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { asUsageError, resolveWarehouse } from './migrate';

/** Flags of `icebridge restore`. */
export const RESTORE_FLAGS: FlagSpec[] = [
  { name: 'warehouse', value: true, required: true, description: 'warehouse root the tables were migrated into: a directory, file://… or abfss://…' },
  { name: 'source', value: true, description: 'PostgreSQL URL (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'schema', value: true, description: 'PostgreSQL schema of the tables (default public)' },
  { name: 'namespace', value: true, description: 'Iceberg namespace (default: the schema name, as migrate)' },
  { name: 'table', value: true, description: 'the table to restore' },
  { name: 'tables', value: true, description: 'several tables, comma-separated (restored in foreign-key order); every table of the schema: "*"' },
  { name: 'as-of', value: true, required: true, description: 'a snapshot id, or an ISO 8601 time with a zone: the snapshot current then' },
  { name: 'into', value: true, description: 'restore into this new table (in the same schema), shaped like the live one' },
  { name: 'into-suffix', value: true, description: 'with --tables: restore each table into <table><suffix>' },
  { name: 'replace', description: 'restore the table itself, in one transaction that keeps its rows in a backup table' },
  { name: 'batch-rows', value: true, description: 'with --into: rows per transaction (default: one transaction)' },
  { name: 'json', description: 'print the result as JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Restore PostgreSQL tables as they were at an Iceberg snapshot: the snapshot's rows (deletes applied) are
copied back with every value exactly as PostgreSQL held it, either into a new table (--into) or into the table
itself (--replace: one transaction locks it, keeps its current rows in <table>_icebridge_backup_<time>, empties and
loads it, so a failure leaves it as it was). The restored table is then verified row by row against the snapshot.
Exit status: 0 restored and exact, 1 a restore failed or differs, 2 usage error.`;

/** The usage text of `icebridge restore`. */
export const RESTORE_USAGE = usage('restore', SUMMARY, RESTORE_FLAGS);

/** Runs the command; returns the exit status. */
export async function restoreCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, RESTORE_FLAGS, RESTORE_USAGE, out, err, { check: checkChoices });
  if (typeof parsed === 'number') return parsed;
  const { flags } = parsed;
  try {
    const asOf = (() => {
      try {
        return parseAsOf(stringFlag(flags, 'as-of')!);
      } catch (error) {
        throw new UsageError(`--as-of: ${errorMessage(error)}`);
      }
    })();
    const { url } = await resolveSourceUrl(stringFlag(flags, 'source'), { env, warn: (m) => err.write(`${m}\n`) }).catch(asUsageError);
    const warehouse = resolveWarehouse(stringFlag(flags, 'warehouse')!);
    const runEnv = environmentFromSettings(loadSettings({ ...env, ICEBRIDGE_SOURCE_URL: url, ICEBRIDGE_WAREHOUSE: warehouse }));
    const schema = stringFlag(flags, 'schema') ?? 'public';
    const namespace = stringFlag(flags, 'namespace') ?? schema;
    const batchRows = flags['batch-rows'] === undefined ? undefined : intFlag(flags, 'batch-rows', 1, { max: 1_000_000_000 });
    const table = stringFlag(flags, 'table');
    if (table !== undefined) {
      const into = stringFlag(flags, 'into');
      const result = await restoreTable(runEnv, {
        table: { schema, name: table },
        target: { namespace: [namespace], name: table },
        asOf,
        mode: into === undefined ? { replace: true } : { into },
        ...(batchRows === undefined ? {} : { batchRows }),
      });
      out.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : describeTable(result));
      return result.ok ? 0 : 1;
    }
    const listed = stringFlag(flags, 'tables') === '*' ? undefined : listFlag(flags, 'tables');
    const suffix = stringFlag(flags, 'into-suffix');
    const result = await restoreTables(runEnv, {
      schema,
      ...(listed === undefined ? {} : { tables: listed }),
      namespace,
      asOf,
      mode: suffix === undefined ? { replace: true } : { intoSuffix: suffix },
      ...(batchRows === undefined ? {} : { batchRows }),
    }).catch(usageWhenNotFound);
    out.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : describeTables(result));
    return result.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError || error instanceof TableNotFoundError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    err.write(`restore failed: ${errorMessage(error)}\n`);
    return 1;
  }
}

/** An unknown table or schema is the caller's to fix (exit 2); anything else is the restore's failure. */
function usageWhenNotFound(error: unknown): never {
  if (error instanceof TableNotFoundError) asUsageError(error);
  throw error;
}

/** Exactly one table choice and one target choice that fit it. */
function checkChoices(flags: ParsedFlags): void {
  const one = stringFlag(flags, 'table') !== undefined;
  const several = stringFlag(flags, 'tables') !== undefined;
  if (one === several) throw new UsageError('name the table: --table <name>, or --tables <a,b,…>');
  const targets = ['into', 'into-suffix', 'replace'].filter((f) => flags[f] !== undefined);
  if (targets.length !== 1) throw new UsageError('choose where the rows go: --into <new table> (or --into-suffix with --tables), or --replace');
  if (one && flags['into-suffix'] !== undefined) throw new UsageError('--into-suffix goes with --tables; with --table use --into <name>');
  if (several && flags.into !== undefined) throw new UsageError('--into names one table; with --tables use --into-suffix <suffix>');
  if (flags['batch-rows'] !== undefined && flags.replace !== undefined)
    throw new UsageError('--batch-rows goes with --into: --replace is always one transaction');
}

function describeTable(r: RestoreTableResult): string {
  const v = r.verification;
  const lines = [
    `restored ${r.table} as of snapshot ${r.snapshotId} (${r.snapshotTime}): ${r.rows} rows into ${r.restoredInto} in ${r.transactions} transaction${r.transactions === 1 ? '' : 's'}`,
  ];
  if (r.backupTable !== undefined) lines.push(`  backup of the rows it replaced: ${r.backupTable}`);
  if (v.status === 'ok') lines.push(`  verification (full): exact, ${v.rows?.compared ?? r.rows} rows compared`);
  else if (v.status === 'error') lines.push(`  verification (full): FAILED: ${v.error ?? 'unknown error'}`);
  else {
    const counts = v.counts && !v.counts.ok ? `, ${v.counts.source} rows restored, ${v.counts.targetManifest} in the snapshot` : '';
    lines.push(`  verification (full): DIFFERS: ${v.rows?.differing ?? '?'} rows differ${counts}`);
    for (const d of v.rows?.differences.slice(0, 5) ?? []) {
      const cols = d.columns.map((c) => `${c.column}: restored ${c.source ?? 'NULL'}, snapshot ${c.target ?? 'NULL'}`).join('; ');
      lines.push(`    ${d.kind} ${JSON.stringify(d.key)}${cols ? ` ${cols}` : ''}`);
    }
    for (const s of v.schema) lines.push(`    schema: ${s.kind} ${s.field}`);
  }
  return `${lines.join('\n')}\n`;
}

function describeTables(r: RestoreTablesResult): string {
  const parts = r.restored.map(describeTable);
  if (r.failed) parts.push(`${r.failed.table}: ${r.failed.reason}\n`);
  if (r.notAttempted.length > 0) parts.push(`not attempted (an earlier table failed): ${r.notAttempted.join(', ')}\n`);
  return parts.join('');
}
