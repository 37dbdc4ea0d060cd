/** `icebridge sync --drop`: remove the replication slot and publication a `migrate --cdc` run left on the source. */
import { errorMessage } from '../../shared/errors';
import { dropHandover } from '../../shared/migrate/cdc-handover';
import { connectPostgres } from '../../shared/postgres/connection';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { type FlagSpec, UsageError, parseFlags, stringFlag, usage } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { asUsageError } from './migrate';

/** Flags of `icebridge sync`. */
export const SYNC_FLAGS: FlagSpec[] = [
  { name: 'drop', description: "drop the run's replication slot and publication (the only action so far)" },
  { name: 'run', value: true, required: true, description: 'the run id of the migrate --cdc run (its summary names it)' },
  { name: 'source', value: true, description: 'PostgreSQL URL (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Manage the change capture a migrate --cdc run set up on the source.
--drop removes the run's logical replication slot and publication: a slot nobody consumes keeps the source's WAL
for ever. Exit status: 0 done (also when there was nothing to drop), 1 failed, 2 usage error.`;

/** The usage text of `icebridge sync`. */
export const SYNC_USAGE = usage('sync', SUMMARY, SYNC_FLAGS);

/** Runs the command; returns the exit status. */
export async function syncCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, SYNC_FLAGS);
    if (!flags.help && !flags.drop) throw new UsageError('sync needs --drop (streaming changes is not a command of its own yet)');
  } catch (error) {
    err.write(`${errorMessage(error)}\n\n${SYNC_USAGE}`);
    return 2;
  }
  if (flags.help) {
    out.write(SYNC_USAGE);
    return 0;
  }
  try {
    const { url } = await resolveSourceUrl(stringFlag(flags, 'source'), { env, warn: (m) => err.write(`${m}\n`) }).catch(asUsageError);
    const client = await connectPostgres(url, { connectTimeoutInMs: 10_000, applicationName: 'icebridge' });
    try {
      const dropped = await dropHandover(client, stringFlag(flags, 'run')!);
      out.write(
        `replication slot ${dropped.slot}: ${dropped.slotDropped ? 'dropped' : 'not found'}\n` +
          `publication ${dropped.publication}: ${dropped.publicationDropped ? 'dropped' : 'not found'}\n`,
      );
    } finally {
      await client.end().catch(() => undefined);
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    err.write(`sync failed: ${errorMessage(error)}\n`);
    return 1;
  }
}
