/** `icebridge replay`: apply Iceberg tables' changes since a snapshot back to their PostgreSQL tables. */
import { loadSettings } from '../../shared/config/settings';
import { errorMessage } from '../../shared/errors';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { type TableReplay, replayIntoPostgres } from '../../shared/replay/replay-tables';
import { environmentFromSettings } from '../../shared/run/environment';
import { type FlagSpec, UsageError, listFlag, stringFlag, usage, parseOrExit } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { asUsageError, resolveWarehouse } from './migrate';

/** Flags of `icebridge replay`. */
export const REPLAY_FLAGS: FlagSpec[] = [
  { name: 'warehouse', value: true, required: true, description: 'warehouse root of the tables: a directory, file://… or abfss://…' },
  { name: 'source', value: true, description: 'the PostgreSQL to write (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'schema', value: true, description: 'PostgreSQL schema of the tables (default public)' },
  { name: 'namespace', value: true, description: 'Iceberg namespace (default: the schema)' },
  { name: 'tables', value: true, required: true, description: 'comma-separated tables, replayed together in one transaction' },
  {
    name: 'from-snapshot',
    value: true,
    description: 'replay from this snapshot id (one table only; default: where the last replay ended, else the last change-capture snapshot)',
  },
  { name: 'dry-run', description: 'report what would be written and deleted, write nothing' },
  { name: 'json', description: 'print the results as JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Replay Iceberg tables' changes into their PostgreSQL tables: the rows written and the keys deleted since a
snapshot, read from the manifests (row deltas, overwrites and compactions alike), applied by key in ONE transaction:
writes in foreign-key order, then deletes in reverse foreign-key order. Idempotent: the same span replayed again
changes nothing. Each table then records the snapshot it was replayed up to, where the next replay starts. Tables
need a primary key. Exit status: 0 replayed, 1 failed (nothing written), 2 usage error.`;

/** The usage text of `icebridge replay`. */
export const REPLAY_USAGE = usage('replay', SUMMARY, REPLAY_FLAGS);

/** Runs the command; returns the exit status. */
export async function replayCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, REPLAY_FLAGS, REPLAY_USAGE, out, err);
  if (typeof parsed === 'number') return parsed;
  const { flags } = parsed;
  try {
    const tables = listFlag(flags, 'tables') ?? [];
    const schema = stringFlag(flags, 'schema') ?? 'public';
    const from = stringFlag(flags, 'from-snapshot');
    if (from !== undefined && (tables.length !== 1 || !/^-?\d+$/.test(from))) {
      throw new UsageError('--from-snapshot takes a snapshot id, with exactly one table in --tables');
    }
    const { url } = await resolveSourceUrl(stringFlag(flags, 'source'), { env, warn: (m) => err.write(`${m}\n`) }).catch(asUsageError);
    const warehouse = resolveWarehouse(stringFlag(flags, 'warehouse')!);
    const runEnv = environmentFromSettings(loadSettings({ ...env, ICEBRIDGE_SOURCE_URL: url, ICEBRIDGE_WAREHOUSE: warehouse }));
    const namespace = stringFlag(flags, 'namespace');
    const results = await replayIntoPostgres(runEnv, {
      schema,
      tables,
      ...(namespace === undefined ? {} : { namespace }),
      ...(from === undefined ? {} : { fromSnapshotIds: { [`${schema}.${tables[0]!}`]: BigInt(from) } }),
      dryRun: flags['dry-run'] === true,
    });
    out.write(flags.json ? `${JSON.stringify(results, null, 2)}\n` : render(results, flags['dry-run'] === true));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    err.write(`replay failed (nothing was written): ${errorMessage(error)}\n`);
    return 1;
  }
}

function render(results: TableReplay[], dryRun: boolean): string {
  const lines = results.map((r) => `${r.table.padEnd(40)} snapshot ${r.from ?? '(start)'} → ${r.to ?? '(none)'}: ${r.upserts} written, ${r.deletes} deleted`);
  return `${lines.join('\n')}\n${dryRun ? 'dry run: nothing was written\n' : ''}`;
}
