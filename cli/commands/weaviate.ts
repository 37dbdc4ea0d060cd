/** `icebridge weaviate resync`: a table's Weaviate class back to the rows of its Iceberg snapshot, audited. */
import { userInfo } from 'node:os';
import { loadSettings } from '../../shared/config/settings';
import { TableNotFoundError, ValidationError, errorMessage } from '../../shared/errors';
import { environmentFromSettings } from '../../shared/run/environment';
import { type WarehouseResyncResult, resyncFromWarehouse } from '../../shared/weaviate/resync-warehouse';
import { openWeaviateFromEnv } from '../../shared/weaviate/weaviate-setup';
import { type FlagSpec, UsageError, stringFlag, usage, parseOrExit } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { pickSubcommand } from '../support/subcommands';
import { resolveWarehouse } from './migrate';

/** Flags of `icebridge weaviate resync`. */
export const WEAVIATE_RESYNC_FLAGS: FlagSpec[] = [
  { name: 'warehouse', value: true, required: true, description: 'warehouse root: a directory, file://… or abfss://…' },
  { name: 'table', value: true, required: true, description: 'the source table, <schema>.<table>' },
  { name: 'namespace', value: true, description: 'Iceberg namespace of the table (default: its schema, as migrate)' },
  { name: 'snapshot', value: true, description: 'the snapshot id to resync to (default: the current snapshot)' },
  { name: 'dry-run', description: 'count the objects to create, replace and delete; change nothing' },
  { name: 'reason', value: true, description: 'why, recorded in the transaction log' },
  { name: 'actor', value: true, description: 'who, recorded in the transaction log (default: the operating-system user)' },
  { name: 'json', description: 'print the result as JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Re-sync a table's Weaviate class from its Iceberg table: every row of the snapshot written again as its
object (with its vector), every object without a row deleted. Weaviate comes from ICEBRIDGE_WEAVIATE_URL (and
_API_KEY, _CLASS_CONFIG, _EMBEDDER). A class holding cross-references is refused (Iceberg records no foreign keys).
A real run is recorded in the transaction log as weaviate.resync. Exit status: 0 done, 1 failed, 2 usage error.`;

const WEAVIATE_HELP = `usage: icebridge weaviate <subcommand> [options]

subcommands:
  resync   a table's class back to its Iceberg snapshot (--dry-run: counts only)

Run icebridge weaviate resync --help for its options.
`;

/** The usage text of `icebridge weaviate resync`. */
export const WEAVIATE_RESYNC_USAGE = usage('weaviate resync', SUMMARY, WEAVIATE_RESYNC_FLAGS);

/** Runs the command; returns the exit status. */
export async function weaviateCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const picked = pickSubcommand(argv, ['resync'], WEAVIATE_HELP, out, err);
  if (typeof picked === 'number') return picked;
  const parsed = parseOrExit(picked.rest, WEAVIATE_RESYNC_FLAGS, WEAVIATE_RESYNC_USAGE, out, err);
  if (typeof parsed === 'number') return parsed;
  const { flags } = parsed;
  try {
    const tableText = stringFlag(flags, 'table')!;
    const dot = tableText.indexOf('.');
    if (dot <= 0 || dot === tableText.length - 1) throw new UsageError(`--table must be <schema>.<table>, got ${JSON.stringify(tableText)}`);
    const snapshotText = stringFlag(flags, 'snapshot');
    if (snapshotText !== undefined && !/^-?\d+$/.test(snapshotText))
      throw new UsageError(`--snapshot must be a snapshot id, got ${JSON.stringify(snapshotText)}`);
    const warehouse = resolveWarehouse(stringFlag(flags, 'warehouse')!);
    const catalog = environmentFromSettings(loadSettings({ ...env, ICEBRIDGE_WAREHOUSE: warehouse })).catalog;
    const weaviate = await openWeaviateFromEnv(env);
    const namespace = stringFlag(flags, 'namespace');
    const reason = stringFlag(flags, 'reason');
    const result = await resyncFromWarehouse(catalog, weaviate, {
      table: { schema: tableText.slice(0, dot), name: tableText.slice(dot + 1) },
      ...(namespace === undefined ? {} : { namespace }),
      ...(snapshotText === undefined ? {} : { snapshotId: BigInt(snapshotText) }),
      dryRun: flags['dry-run'] === true,
      actor: stringFlag(flags, 'actor') ?? userInfo().username,
      ...(reason === undefined ? {} : { reason }),
    });
    out.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof TableNotFoundError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    err.write(`${error instanceof ValidationError ? 'refused' : 'resync failed'}: ${errorMessage(error)}\n`);
    return 1;
  }
}

function describe(result: WarehouseResyncResult): string {
  const verb = result.dryRun ? 'would' : 'did';
  return `${result.table} -> class ${result.className} (snapshot ${result.snapshotId ?? 'none'}): ${result.before} objects before; ${verb} create ${result.created}, replace ${result.replaced}, delete ${result.deleted}${result.dryRun ? ' (dry run: nothing changed)' : ''}\n`;
}
