/** `icebridge reconcile`: make the secondary side take the dual writes the router queued when it missed them. */
import { Pool } from 'pg';
import { errorMessage } from '../../shared/errors';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { ResolvingFileIO } from '../../shared/iceberg/io';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { type TableReconcile, drainReconcileQueues } from '../../shared/router/reconcile-drain';
import { loadSettings } from '../../shared/config/settings';
import { type FlagSpec, UsageError, listFlag, stringFlag, usage, parseOrExit } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { asUsageError, resolveWarehouse } from './migrate';

/** Flags of `icebridge reconcile`. */
export const RECONCILE_FLAGS: FlagSpec[] = [
  { name: 'warehouse', value: true, required: true, description: 'warehouse root holding the queues: a directory, file://… or abfss://…' },
  { name: 'source', value: true, description: 'the PostgreSQL of the tables (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'tables', value: true, description: 'comma-separated schema.table names (default: every queue in the warehouse)' },
  { name: 'json', description: 'print the results as JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Drain the reconciliation queues the router writes when a dual write to the secondary side fails
(<warehouse>/.icebridge/reconcile/<namespace>.<table>/). For each entry, the key's current row on the side that
took the write is written to the side that missed it (or the key deleted there when the source no longer holds
it); an entry is removed only once applied, so draining again is safe. Exit status: 0 every entry applied, 1 an
entry is left (its error printed), 2 usage error.`;

/** The usage text of `icebridge reconcile`. */
export const RECONCILE_USAGE = usage('reconcile', SUMMARY, RECONCILE_FLAGS);

/** Runs the command; returns the exit status. */
export async function reconcileCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, RECONCILE_FLAGS, RECONCILE_USAGE, out, err);
  if (typeof parsed === 'number') return parsed;
  const { flags } = parsed;
  let pool: Pool | undefined;
  try {
    const tables = listFlag(flags, 'tables');
    for (const name of tables ?? []) if (name.split('.').length !== 2) throw new UsageError(`--tables takes schema.table names, found ${JSON.stringify(name)}`);
    const { url } = await resolveSourceUrl(stringFlag(flags, 'source'), { env, warn: (m) => err.write(`${m}\n`) }).catch(asUsageError);
    const warehouse = resolveWarehouse(stringFlag(flags, 'warehouse')!);
    const settings = loadSettings({ ...env, ICEBRIDGE_SOURCE_URL: url, ICEBRIDGE_WAREHOUSE: warehouse });
    const catalog = new HadoopCatalog(new ResolvingFileIO(settings.storage), warehouse);
    pool = new Pool({ connectionString: url, max: 2 });
    pool.on('error', () => undefined);
    const results = await drainReconcileQueues({ pool, catalog, ...(tables === undefined ? {} : { tables }) });
    out.write(flags.json ? `${JSON.stringify(results, null, 2)}\n` : render(results));
    return results.some((r) => r.left > 0) ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    err.write(`reconcile failed: ${errorMessage(error)}\n`);
    return 1;
  } finally {
    await pool?.end().catch(() => undefined);
  }
}

function render(results: TableReconcile[]): string {
  if (results.length === 0) return 'nothing to reconcile\n';
  return `${results.map((r) => `${r.table.padEnd(40)} ${r.applied} applied, ${r.left} left${r.error === undefined ? '' : `: ${r.error}`}`).join('\n')}\n`;
}
