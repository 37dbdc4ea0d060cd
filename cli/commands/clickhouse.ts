/** `icebridge clickhouse backup|restore`: back up an analytics table's months and put chosen ones back, audited. */
import { userInfo } from 'node:os';
import { openClickHouse } from '../../shared/clickhouse/clickhouse-connection';
import { CLICKHOUSE_SETTING_NAMES, clickHouseFromEnv } from '../../shared/clickhouse/clickhouse-settings';
import { type PartitionRestoreResult, backupPartitions, resolveAnalyticsTable, restorePartitions } from '../../shared/clickhouse/partition-restore';
import { NotFoundError, ValidationError, errorMessage } from '../../shared/errors';
import { type FlagSpec, listFlag, parseOrExit, stringFlag, usage } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { pickSubcommand } from '../support/subcommands';

/** Flags of `icebridge clickhouse backup` and `restore`. */
export const CLICKHOUSE_FLAGS: FlagSpec[] = [
  { name: 'table', value: true, required: true, description: 'the source table, <schema>.<name> (its ClickHouse table is <schema>__<name>)' },
  { name: 'partition', value: true, description: 'months, YYYYMM, comma-separated (backup: default every month; restore: required)' },
  { name: 'dry-run', description: 'restore: show live rows per month now and after, change nothing' },
  { name: 'reason', value: true, description: 'why, recorded in the transaction log' },
  { name: 'actor', value: true, description: 'who, recorded in the transaction log (default: the operating-system user)' },
  { name: 'json', description: 'print the result as JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Back up the months (partitions) of a ClickHouse analytics table into <schema>__<name>__backup, or put
backed-up months back (a restored month's daily figures are rebuilt). The server is the one of
${CLICKHOUSE_SETTING_NAMES.url}, ${CLICKHOUSE_SETTING_NAMES.user}, ${CLICKHOUSE_SETTING_NAMES.password} and ${CLICKHOUSE_SETTING_NAMES.database}. Both are recorded
in the state database's transaction log when one is configured. Exit status: 0 done, 1 failed, 2 usage error.`;

const HELP = `usage: icebridge clickhouse <subcommand> [options]

subcommands:
  backup    copy months of an analytics table into its backup table
  restore   put backed-up months back (--dry-run shows rows now and after)

Run icebridge clickhouse backup --help for the options.
`;

/** The usage text of `icebridge clickhouse backup|restore`. */
export const CLICKHOUSE_USAGE = usage('clickhouse backup|restore', SUMMARY, CLICKHOUSE_FLAGS);

/** Runs the command; returns the exit status. */
export async function clickhouseCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const picked = pickSubcommand(argv, ['backup', 'restore'], HELP, out, err);
  if (typeof picked === 'number') return picked;
  const { sub } = picked;
  const parsed = parseOrExit(picked.rest, CLICKHOUSE_FLAGS, CLICKHOUSE_USAGE, out, err, {
    check: (flags) => {
      if (sub === 'restore' && flags.partition === undefined) throw new ValidationError('restore needs --partition');
      if (sub === 'backup' && flags['dry-run'] !== undefined) throw new ValidationError('--dry-run is for restore');
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { flags } = parsed;
  let settings;
  try {
    settings = clickHouseFromEnv(env);
  } catch (error) {
    err.write(`${errorMessage(error)}\n`);
    return 2;
  }
  if (!settings) {
    err.write(`ClickHouse is not configured: set ${CLICKHOUSE_SETTING_NAMES.url}\n`);
    return 2;
  }
  const connection = openClickHouse(settings);
  try {
    const table = await resolveAnalyticsTable(connection, stringFlag(flags, 'table')!);
    const partitions = listFlag(flags, 'partition');
    const who = { actor: stringFlag(flags, 'actor') ?? userInfo().username, ...(stringFlag(flags, 'reason') ? { reason: stringFlag(flags, 'reason')! } : {}) };
    if (sub === 'backup') {
      const result = await backupPartitions(connection, table, { ...who, ...(partitions ? { partitions } : {}) });
      out.write(
        flags.json
          ? `${JSON.stringify(result, null, 2)}\n`
          : `${result.table}: backed up ${result.partitions.map((p) => `${p.partition} (${p.rows} rows)`).join(', ') || 'nothing (no partitions)'}\n`,
      );
    } else {
      const result = await restorePartitions(connection, table, { ...who, partitions: partitions!, dryRun: flags['dry-run'] === true });
      out.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
    }
    return 0;
  } catch (error) {
    err.write(`clickhouse ${sub} failed: ${errorMessage(error)}\n`);
    return error instanceof ValidationError || error instanceof NotFoundError ? 2 : 1;
  } finally {
    await connection.close();
  }
}

function describe(result: PartitionRestoreResult): string {
  const lines = result.partitions.map((p) => `  ${p.partition}: ${p.rowsNow} live rows now, ${p.rowsAfter} after`);
  return `${result.table}: ${result.dryRun ? 'dry run, nothing changed' : 'restored'}\n${lines.join('\n')}\n`;
}
