/** `icebridge sync`: stream a migrate --cdc run's changes into its Iceberg tables, or drop its slot and publication. */
import { loadSettings } from '../../shared/config/settings';
import { errorMessage } from '../../shared/errors';
import { dropHandover } from '../../shared/migrate/cdc-handover';
import { handoverName } from '../../shared/migrate/handover-names';
import { connectPostgres } from '../../shared/postgres/connection';
import { displayQualified } from '../../shared/postgres/identifiers';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { environmentFromSettings, withSource } from '../../shared/run/environment';
import { DEFAULT_COMPACT_AFTER_DELETE_FILES } from '../../shared/sync/auto-compact';
import { type SyncProgress, type SyncResult, publicationTables, runSync } from '../../shared/sync/sync-loop';
import { type FlagSpec, UsageError, intFlag, listFlag, parseFlags, stringFlag, usage } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { asUsageError, resolveWarehouse } from './migrate';

/** Flags of `icebridge sync`. */
export const SYNC_FLAGS: FlagSpec[] = [
  { name: 'run', value: true, required: true, description: 'the run id of the migrate --cdc run (its summary names it)' },
  { name: 'warehouse', value: true, description: 'warehouse root the run migrated into: a directory, file://… or abfss://…' },
  { name: 'source', value: true, description: 'PostgreSQL URL (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'namespace', value: true, description: 'Iceberg namespace (default: the schema name, as migrate)' },
  { name: 'tables', value: true, description: "the run's tables, comma-separated: checked against the run's publication (all of them are synced)" },
  { name: 'until-caught-up', description: 'stop once every change committed before the start is applied and confirmed' },
  { name: 'flush-interval-ms', value: true, description: 'longest time a batch gathers transactions before it is applied (default 1000)' },
  { name: 'compact-after-delete-files', value: true, description: 'compact a table once it holds more delete files than this, 0 never (default 32)' },
  { name: 'json', description: 'print the summary as JSON' },
  { name: 'drop', description: "drop the run's replication slot and publication instead" },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Apply the changes of a migrate --cdc run's tables: stream the run's replication slot from the position
the tables hold, apply each batch (one commit per table) and only then confirm it to the source, so a stop at any
point loses nothing and applies nothing twice. Runs until SIGINT/SIGTERM (the batch being applied is finished and
confirmed, changes not yet applied are sent again next time), or with --until-caught-up until everything committed
before the start is applied. A table whose batch fails stops the sync: that batch is not confirmed, and the next run
applies it again. --drop removes the run's slot and publication instead: a slot nobody consumes keeps the source's
WAL for ever. Exit status: 0 caught up, stopped cleanly or dropped, 1 a table failed or the sync failed, 2 usage error.`;

/** The usage text of `icebridge sync`. */
export const SYNC_USAGE = usage('sync', SUMMARY, SYNC_FLAGS);

/** Runs the command; returns the exit status. Without `signal`, SIGINT and SIGTERM stop the sync cleanly. */
export async function syncCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
  signal?: AbortSignal,
): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, SYNC_FLAGS);
    if (!flags.help && !flags.drop && stringFlag(flags, 'warehouse') === undefined) throw new UsageError('sync needs --warehouse (or --drop)');
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
    const runId = stringFlag(flags, 'run')!;
    if (flags.drop) {
      await drop(url, runId, out);
      return 0;
    }
    const flushIntervalMs = intFlag(flags, 'flush-interval-ms', 1000, { max: 3_600_000 });
    const compactAfterDeleteFiles = intFlag(flags, 'compact-after-delete-files', DEFAULT_COMPACT_AFTER_DELETE_FILES, { min: 0 });
    const warehouse = resolveWarehouse(stringFlag(flags, 'warehouse')!);
    const runEnv = environmentFromSettings(loadSettings({ ...env, ICEBRIDGE_SOURCE_URL: url, ICEBRIDGE_WAREHOUSE: warehouse }));
    const name = handoverName(runId);
    checkTables(await withSource(runEnv, (client) => publicationTables(client, name)).catch(asUsageError), listFlag(flags, 'tables'), name);
    const stop = signal === undefined ? stopOnSignals() : undefined;
    try {
      const namespace = stringFlag(flags, 'namespace');
      const result = await runSync(runEnv, {
        sourceUrl: url,
        slot: name,
        publication: name,
        ...(namespace === undefined ? {} : { namespace }),
        flushIntervalMs,
        compactAfterDeleteFiles,
        untilCaughtUp: flags['until-caught-up'] === true,
        signal: signal ?? stop!.signal,
        onProgress: (p) => err.write(`${progressLine(p)}\n`),
      });
      out.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : summary(result));
      if (result.failure) err.write(`table ${result.failure.table} stopped the sync: ${result.failure.reason}\n`);
      return result.outcome === 'failed' ? 1 : 0;
    } finally {
      stop?.dispose();
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n`);
      return 2;
    }
    err.write(`sync failed: ${errorMessage(error)}\n`);
    return 1;
  }
}

async function drop(url: string, runId: string, out: ProgressOutput): Promise<void> {
  const client = await connectPostgres(url, { connectTimeoutInMs: 10_000, applicationName: 'icebridge' });
  try {
    const dropped = await dropHandover(client, runId);
    out.write(
      `replication slot ${dropped.slot}: ${dropped.slotDropped ? 'dropped' : 'not found'}\n` +
        `publication ${dropped.publication}: ${dropped.publicationDropped ? 'dropped' : 'not found'}\n`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The slot is confirmed for every table of the publication at once, so a sync of some of them would let the
 * server forget the others' changes: --tables may only name the publication's tables, all of them.
 */
function checkTables(published: Array<{ schema: string; name: string }>, asked: string[] | undefined, publication: string): void {
  if (published.length === 0) throw new UsageError(`no publication ${publication} with tables on the source: was the run migrated with --cdc?`);
  if (asked === undefined) return;
  const names = new Set(published.map((t) => t.name));
  const unknown = asked.filter((t) => !names.has(t));
  if (unknown.length > 0) throw new UsageError(`not in the run's publication: ${unknown.join(', ')}`);
  const missing = published.filter((t) => !asked.includes(t.name));
  if (missing.length > 0) {
    throw new UsageError(
      `sync applies every table of the run at once (the slot's position is shared); --tables leaves out ${missing.map((t) => displayQualified(t.schema, t.name)).join(', ')}`,
    );
  }
}

/** An AbortController that SIGINT and SIGTERM abort, until disposed. */
function stopOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    },
  };
}

function lag(p: SyncProgress): string {
  const bytes = p.lagBytes === undefined ? '?' : `${p.lagBytes} bytes`;
  const seconds = p.lagSeconds === undefined ? '' : `, ${p.lagSeconds.toFixed(1)} s since the last commit seen`;
  return `${bytes}${seconds}`;
}

function progressLine(p: SyncProgress): string {
  return `sync: ${p.changesApplied} changes applied, confirmed ${p.confirmedLsn}, lag ${lag(p)}`;
}

function summary(result: SyncResult): string {
  const lines = [`sync ${result.outcome} (target ${result.targetLsn}, confirmed ${result.confirmedLsn}, lag ${lag(result)})`];
  for (const t of result.tables) lines.push(`  ${t.table}: ${t.changesApplied} changes applied, applied through ${t.appliedLsn ?? '-'}`);
  return `${lines.join('\n')}\n`;
}
