/**
 * `icebridge db migrate|status|log`: the state schema in PostgreSQL. `migrate` applies the numbered SQL files of
 * `migrations/` not yet applied (under an advisory lock, each in its own transaction); `status` lists every file
 * and whether it is applied; `log` shows the newest entries of the transaction log.
 */
import { IcebridgeError, errorMessage } from '../../shared/errors';
import { connectPostgres, redactUrl } from '../../shared/postgres/connection';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { type MigrationState, migrateStateDatabase, stateDatabaseStatus } from '../../shared/state-db/migration-runner';
import { DEFAULT_STATE_SCHEMA, quotedStateSchema } from '../../shared/state-db/state-schema';
import { STATE_SETTING_NAMES } from '../../shared/state-db/state-settings';
import { ACTION_KINDS, type ActionKind, listActions } from '../../shared/state-db/transaction-log';
import { type FlagSpec, UsageError, intFlag, parseOrExit, stringFlag, usage } from '../support/args';
import type { ProgressOutput } from '../support/progress';

/** Flags of `icebridge db`. */
export const DB_FLAGS: FlagSpec[] = [
  { name: 'database', value: true, description: `the state database URL (default ${STATE_SETTING_NAMES.url}, else the source database)` },
  { name: 'schema', value: true, description: `the state schema (default ${STATE_SETTING_NAMES.schema}, else ${DEFAULT_STATE_SCHEMA})` },
  { name: 'kind', value: true, description: `log: one kind of action (${ACTION_KINDS.join(', ')})` },
  { name: 'table', value: true, description: 'log: actions on one table or flag' },
  { name: 'limit', value: true, description: 'log: the newest N entries (default 50)' },
  { name: 'json', description: 'print JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `The icebridge state schema in PostgreSQL (run state, table checkpoints, the transaction log):
  icebridge db migrate   apply the numbered migrations not yet applied (safe to run from several places at once)
  icebridge db status    list every migration: applied (when), pending, or changed after it was applied
  icebridge db log       the newest entries of the transaction log
The database: --database, else ${STATE_SETTING_NAMES.url}, else the source database (ICEBRIDGE_SOURCE_URL or the
libpq variables). Exit status: 0 done (status: everything applied), 1 failed, a migration changed, or (status)
migrations pending, 2 usage error.`;

/** Usage of `icebridge db`. */
export const DB_USAGE = usage('db', SUMMARY, DB_FLAGS, 'migrate|status|log [options]');

/** Runs `icebridge db`; returns the exit status. */
export async function dbCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, DB_FLAGS, DB_USAGE, out, err, { positionals: true });
  if (typeof parsed === 'number') return parsed;
  const { flags, positionals } = parsed;
  const json = flags.json === true;
  try {
    const [action, ...rest] = positionals;
    if (!['migrate', 'status', 'log'].includes(action ?? '') || rest.length > 0) {
      throw new UsageError(`expected migrate, status or log, found ${JSON.stringify(positionals.join(' '))}`);
    }
    const schema = stringFlag(flags, 'schema') ?? (env[STATE_SETTING_NAMES.schema]?.trim() || DEFAULT_STATE_SCHEMA);
    quotedStateSchema(schema);
    const kind = stringFlag(flags, 'kind');
    if (kind !== undefined && !(ACTION_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be one of ${ACTION_KINDS.join(', ')}`);
    const limit = intFlag(flags, 'limit', 50, { max: 1_000 });
    const url = stringFlag(flags, 'database') ?? (env[STATE_SETTING_NAMES.url]?.trim() || (await resolveSourceUrl(undefined, { env })).url);
    const where = `${redactUrl(url)} schema ${schema}`;
    if (action === 'log') {
      const table = stringFlag(flags, 'table');
      const entries = await listActions(
        { ...(kind ? { kind: kind as ActionKind } : {}), ...(table ? { table } : {}), limit },
        { url, schema, migrateOnStart: false },
      );
      if (json) out.write(`${JSON.stringify(entries, null, 2)}\n`);
      else if (entries.length === 0) out.write(`no actions recorded in ${where}\n`);
      else
        for (const e of entries)
          out.write(
            `${e.at}  ${e.kind.padEnd(15)} ${e.actor}  ${e.subject ?? '-'}${e.reason ? `  "${e.reason}"` : ''}${e.correlationId ? `  [${e.correlationId}]` : ''}\n`,
          );
      return 0;
    }
    const client = await connectPostgres(url, { statementTimeoutInMs: 0, applicationName: 'icebridge-migrate' });
    try {
      if (action === 'migrate') {
        const result = await migrateStateDatabase(client, { schema });
        if (json) out.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          for (const name of result.applied) out.write(`applied ${name}\n`);
          out.write(result.applied.length === 0 ? `${where} is up to date\n` : `${where}: ${result.applied.length} migration(s) applied\n`);
        }
        return 0;
      }
      const migrations = await stateDatabaseStatus(client, { schema });
      if (json) out.write(`${JSON.stringify({ schema, migrations }, null, 2)}\n`);
      else writeStatus(out, where, migrations);
      return migrations.some((m) => m.state === 'changed' || m.state === 'pending') ? 1 : 0;
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n\n${DB_USAGE}`);
      return 2;
    }
    err.write(`failed: ${error instanceof IcebridgeError ? error.message : errorMessage(error)}\n`);
    return 1;
  }
}

function writeStatus(out: ProgressOutput, where: string, migrations: readonly MigrationState[]): void {
  out.write(`${where}\n`);
  for (const m of migrations) out.write(`${m.name.padEnd(40)} ${m.state.padEnd(8)} ${m.appliedAt ?? ''}\n`.replace(/ +\n$/, '\n'));
  const pending = migrations.filter((m) => m.state === 'pending').length;
  const changed = migrations.filter((m) => m.state === 'changed');
  if (changed.length > 0) out.write(`changed after they were applied: ${changed.map((m) => m.name).join(', ')}\n`);
  out.write(pending === 0 ? 'no migrations pending\n' : `${pending} migration(s) pending: run icebridge db migrate\n`);
}
