/** `icebridge flags list|set|history` and `icebridge rollback`: the cutover switches, changed the audited way. */
import { userInfo } from 'node:os';
import { raiseRollbackAlert } from '../../shared/alerts/raise-alert';
import { errorMessage } from '../../shared/errors';
import { flagPercentage } from '../../shared/flags/feature-flag';
import { type RollbackAlert, flagFromValue, rollbackToPostgres, setFlag } from '../../shared/flags/flag-changes';
import { FlagConflictError, flagDisplayName } from '../../shared/flags/flag-store';
import { type FlagSetup, flagSetupFromEnv } from '../../shared/flags/flag-settings';
import { type FlagSpec, UsageError, intFlag, stringFlag, usage, parseOrExit } from '../support/args';
import type { ProgressOutput } from '../support/progress';

const COMMON: FlagSpec[] = [
  { name: 'json', description: 'print JSON' },
  { name: 'help', description: 'show this help' },
];
const CHANGE: FlagSpec[] = [
  { name: 'reason', value: true, required: true, description: 'why (recorded in the audit trail; required)' },
  { name: 'actor', value: true, description: 'who (default: the operating-system user)' },
];

/** Flags of `icebridge flags`. */
export const FLAGS_FLAGS: FlagSpec[] = [
  { name: 'table', value: true, description: 'set: a per-table override (schema.table, the label); history: that table only' },
  { name: 'if-match', value: true, description: 'set: the etag read with `flags list`; refused (exit 1) if the flag changed since' },
  { name: 'limit', value: true, description: 'history: the newest N entries (default 50)' },
  ...CHANGE.map((f) => ({ ...f, required: false, description: `set: ${f.description}` })),
  ...COMMON,
];

/** Flags of `icebridge rollback`. */
export const ROLLBACK_FLAGS: FlagSpec[] = [...CHANGE, ...COMMON];

const FLAGS_SUMMARY = `List, set and trace the cutover flags (Microsoft feature-flag format; Azure App Configuration when
ICEBRIDGE_APPCONFIG_CONNECTION_STRING is set, else the local file ICEBRIDGE_FLAGS_FILE, default .icebridge/flags.json):
  icebridge flags list                               every flag, its value and etag
  icebridge flags set <name> <on|off|N%> --reason …  one flag, written only if unchanged since read (--if-match)
  icebridge flags history [<name>]                   who changed what, when and why
Flags: use-iceberg-storage, iceberg-read-percentage, dual-write-mode, validate-dual-writes, use-iceberg-as-primary.
Exit status: 0 done, 1 refused (the flag changed meanwhile) or failed, 2 usage error.`;

const ROLLBACK_SUMMARY = `Emergency rollback: set every icebridge flag (default and per-table) back to PostgreSQL in one audited,
idempotent operation, and raise an alert. Prints the flags before and after. Works when Iceberg storage is unreachable
(the audit entries then go to the alert on stderr). Exit status: 0 done, 1 failed, 2 usage error.`;

/** Usage of `icebridge flags`. */
export const FLAGS_USAGE = usage('flags', FLAGS_SUMMARY, FLAGS_FLAGS, 'list|set|history [arguments] [options]');
/** Usage of `icebridge rollback`. */
export const ROLLBACK_USAGE = usage('rollback', ROLLBACK_SUMMARY, ROLLBACK_FLAGS);

/** Runs `icebridge flags`; returns the exit status. */
export async function flagsCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, FLAGS_FLAGS, FLAGS_USAGE, out, err, { positionals: true });
  if (typeof parsed === 'number') return parsed;
  const { flags, positionals } = parsed;
  const [action, ...rest] = positionals;
  return run(
    err,
    async (setup) => {
      const json = flags.json === true;
      const table = stringFlag(flags, 'table');
      if (action === 'list' && rest.length === 0) {
        const all = await setup.store.list();
        if (json) out.write(`${JSON.stringify(all, null, 2)}\n`);
        else for (const f of all) out.write(`${flagDisplayName(f.name, f.label).padEnd(44)} ${describeValue(f.flag)}  etag ${f.etag}  ${f.lastModified}\n`);
        if (!json && all.length === 0) out.write(`no flags in ${setup.store.description}: everything goes to PostgreSQL\n`);
        return 0;
      }
      if (action === 'set' && rest.length === 2) {
        const reason = stringFlag(flags, 'reason');
        if (reason === undefined) throw new UsageError('flags set needs --reason');
        const [name, value] = rest as [string, string];
        const ifMatch = stringFlag(flags, 'if-match');
        const result = await setFlag(
          setup.store,
          setup.audit,
          { name, ...(table === undefined ? {} : { label: table }), flag: flagFromValue(name, value), ...(ifMatch === undefined ? {} : { ifMatch }) },
          { actor: actorOf(flags.actor), reason },
        );
        if (json) out.write(`${JSON.stringify(result, null, 2)}\n`);
        else
          out.write(
            result.changed
              ? `${flagDisplayName(name, table)}: ${result.before === null ? 'absent' : describeValue(result.before)} → ${describeValue(result.after)} (etag ${result.etag})\n`
              : `${flagDisplayName(name, table)} is already ${describeValue(result.after)}: nothing written\n`,
          );
        return 0;
      }
      if (action === 'history' && rest.length <= 1) {
        const limit = intFlag(flags, 'limit', 50, { max: 100_000 });
        const entries = await setup.audit.history({
          ...(rest[0] === undefined ? {} : { flag: rest[0] }),
          ...(table === undefined ? {} : { label: table }),
          limit,
        });
        if (json) out.write(`${JSON.stringify(entries, null, 2)}\n`);
        else
          for (const e of entries) {
            out.write(
              `${e.at}  ${e.actor}  ${e.action}  ${flagDisplayName(e.flag, e.label)}: ${e.before === null ? 'absent' : describeValue(e.before)} → ${describeValue(e.after)}  "${e.reason}"\n`,
            );
          }
        return 0;
      }
      throw new UsageError(`expected list, set <name> <on|off|N%> or history [<name>], found ${JSON.stringify(positionals.join(' '))}`);
    },
    env,
    FLAGS_USAGE,
  );
}

/** Runs `icebridge rollback`; returns the exit status. */
export async function rollbackCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, ROLLBACK_FLAGS, ROLLBACK_USAGE, out, err);
  if (typeof parsed === 'number') return parsed;
  const { flags } = parsed;
  return run(
    err,
    async (setup) => {
      const alert = async (event: RollbackAlert): Promise<void> => {
        err.write(`ALERT ${JSON.stringify(event)}\n`);
        await raiseRollbackAlert(event, { env });
      };
      const result = await rollbackToPostgres(setup.store, setup.audit, { actor: actorOf(flags.actor), reason: stringFlag(flags, 'reason')! }, alert);
      if (flags.json) out.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        for (const f of result.flags) {
          out.write(
            `${flagDisplayName(f.name, f.label).padEnd(44)} ${f.before === null ? 'absent' : describeValue(f.before)} → ${describeValue(f.after)}${f.changed ? '' : ' (unchanged)'}\n`,
          );
        }
        out.write(
          `${result.flags.some((f) => f.changed) ? 'rolled back to PostgreSQL' : 'already on PostgreSQL: nothing changed'}${result.audited ? '' : ' (the audit trail could not be written: see the alert)'}\n`,
        );
      }
      return 0;
    },
    env,
    ROLLBACK_USAGE,
  );
}

async function run(err: ProgressOutput, work: (setup: FlagSetup) => Promise<number>, env: NodeJS.ProcessEnv, usageText: string): Promise<number> {
  try {
    return await work(flagSetupFromEnv(env, env['ICEBRIDGE_WAREHOUSE']));
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n\n${usageText}`);
      return 2;
    }
    err.write(`${error instanceof FlagConflictError ? 'refused' : 'failed'}: ${errorMessage(error)}\n`);
    return 1;
  }
}

function actorOf(value: string | true | undefined): string {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function describeValue(flag: Parameters<typeof flagPercentage>[0]): string {
  const percent = flagPercentage(flag);
  if (percent === 0) return 'off';
  if (percent === 100) return 'on';
  return percent === undefined ? 'on for some (filters)' : `${percent}%`;
}
