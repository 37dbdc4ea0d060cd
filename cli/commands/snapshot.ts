/** `icebridge snapshot rollback`: move one Iceberg table back to an earlier snapshot, with a reason, audited. */
import { userInfo } from 'node:os';
import { loadSettings } from '../../shared/config/settings';
import { TableNotFoundError, ValidationError, errorMessage } from '../../shared/errors';
import type { TableIdentifier } from '../../shared/iceberg/catalog/table-identifier';
import { connectPostgres } from '../../shared/postgres/connection';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { parseAsOf } from '../../shared/restore/snapshot-choice';
import { type RollbackEnvironment, type RollbackTableResult, SyncWritingError, rollbackTable } from '../../shared/restore/table-rollback';
import { environmentFromSettings } from '../../shared/run/environment';
import { type FlagSpec, UsageError, intFlag, stringFlag, usage, parseOrExit } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { pickSubcommand } from '../support/subcommands';
import { resolveWarehouse } from './migrate';

/** Flags of `icebridge snapshot rollback`. */
export const SNAPSHOT_ROLLBACK_FLAGS: FlagSpec[] = [
  { name: 'warehouse', value: true, required: true, description: 'warehouse root: a directory, file://… or abfss://…' },
  { name: 'table', value: true, required: true, description: 'the Iceberg table, <namespace>.<table>' },
  { name: 'to', value: true, required: true, description: 'a snapshot id, or an ISO 8601 time with a zone: the snapshot current then' },
  { name: 'reason', value: true, required: true, description: 'why, recorded in the audit trail' },
  { name: 'actor', value: true, description: 'who, recorded in the audit trail (default: the operating-system user)' },
  { name: 'source', value: true, description: 'PostgreSQL URL, to see whether a sync writes the table (default: ICEBRIDGE_SOURCE_URL, else PGHOST, …)' },
  { name: 'stop-sync', description: "ask the table's sync to stop first (POST /api/syncs ones) and wait for its slot to go inactive" },
  { name: 'stop-wait-seconds', value: true, description: 'with --stop-sync: how long to wait for the slot (default 60)' },
  { name: 'json', description: 'print the result as JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Roll an Iceberg table back to an earlier snapshot of its own history (an ancestor of the current one),
recorded with who, when and why in <warehouse>/.icebridge/audit/tables/. The data of later snapshots stays in
storage, so a rollback can itself be undone with another tool that sets the current snapshot. A table kept in step
by change capture is refused while its sync writes it (the run's replication slot is active): stop the icebridge
sync process first. The rollback then marks the table stopped for that slot, since the slot cannot send again the
changes it rolled back. Exit status: 0 rolled back (or already there), 1 refused or failed, 2 usage error.`;

const SNAPSHOT_HELP = `usage: icebridge snapshot <subcommand> [options]

subcommands:
  rollback   move a table's current snapshot back, with a reason, audited

Run icebridge snapshot rollback --help for its options.
`;

/** The usage text of `icebridge snapshot rollback`. */
export const SNAPSHOT_ROLLBACK_USAGE = usage('snapshot rollback', SUMMARY, SNAPSHOT_ROLLBACK_FLAGS);

/** Runs the command; returns the exit status. */
export async function snapshotCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const picked = pickSubcommand(argv, ['rollback'], SNAPSHOT_HELP, out, err);
  if (typeof picked === 'number') return picked;
  const parsed = parseOrExit(picked.rest, SNAPSHOT_ROLLBACK_FLAGS, SNAPSHOT_ROLLBACK_USAGE, out, err);
  if (typeof parsed === 'number') return parsed;
  const { flags } = parsed;
  try {
    const table = parseTableName(stringFlag(flags, 'table')!);
    const to = asUsage(() => parseAsOf(stringFlag(flags, 'to')!), '--to');
    const waitSeconds = intFlag(flags, 'stop-wait-seconds', 60, { max: 3600 });
    const warehouse = resolveWarehouse(stringFlag(flags, 'warehouse')!);
    // The source is needed only for a table under change capture; the rollback says so when it is.
    const source = await resolveSourceUrl(stringFlag(flags, 'source'), { env, warn: (m) => err.write(`${m}\n`) }).catch(() => undefined);
    const settings = loadSettings({ ...env, ICEBRIDGE_WAREHOUSE: warehouse, ...(source ? { ICEBRIDGE_SOURCE_URL: source.url } : {}) });
    const rollbackEnv: RollbackEnvironment = {
      catalog: environmentFromSettings(settings).catalog,
      ...(source ? { connectSource: () => connectPostgres(source.url, { connectTimeoutInMs: 10_000, applicationName: 'icebridge' }) } : {}),
    };
    const result = await rollbackTable(rollbackEnv, {
      table,
      to,
      reason: stringFlag(flags, 'reason')!,
      actor: stringFlag(flags, 'actor') ?? userInfo().username,
      ...(flags['stop-sync'] === true ? { stopSync: { waitInMs: waitSeconds * 1000 } } : {}),
    });
    out.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof TableNotFoundError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    err.write(`${error instanceof SyncWritingError ? 'refused' : 'rollback failed'}: ${errorMessage(error)}\n`);
    return 1;
  }
}

/** `<namespace>.<table>`: the last dot separates the table (names with dots are not supported here). */
export function parseTableName(text: string): TableIdentifier {
  const parts = text.split('.');
  if (parts.length < 2 || parts.some((p) => p.length === 0)) throw new UsageError(`--table must be <namespace>.<table>, got ${JSON.stringify(text)}`);
  return { namespace: parts.slice(0, -1), name: parts[parts.length - 1]! };
}

function asUsage<T>(fn: () => T, flag: string): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(`${flag}: ${error.message}`);
    throw error;
  }
}

function describe(r: RollbackTableResult): string {
  if (!r.changed) return `${r.table}: snapshot ${r.after} is current already; nothing changed\n`;
  const lines = [`${r.table}: rolled back from snapshot ${r.before ?? '-'} to ${r.after}`, `  audited in ${r.audit ?? '-'}`];
  if (r.changeCapture) {
    lines.push(
      `  change capture: marked stopped for slot ${r.changeCapture.slot} (${r.changeCapture.stopMark}): the slot cannot send again the changes rolled back, so the run's sync must not apply to this table again; copy it again with a new migrate --cdc run (docs/restore.md)`,
    );
    if (r.changeCapture.syncStopped) lines.push(`  sync ${r.changeCapture.syncStopped} was asked to stop first`);
  }
  return `${lines.join('\n')}\n`;
}
