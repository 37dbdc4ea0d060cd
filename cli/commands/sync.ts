/** `icebridge sync`: stream a migrate --cdc run's changes into its Iceberg tables, or drop its slot and publication. */
import { loadSettings } from '../../shared/config/settings';
import { errorMessage } from '../../shared/errors';
import { dropHandover } from '../../shared/migrate/cdc-handover';
import { handoverName } from '../../shared/migrate/handover-names';
import { connectPostgres } from '../../shared/postgres/connection';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { environmentFromSettings, withSource } from '../../shared/run/environment';
import { changeCaptureRuns } from '../../shared/sync/applied-lsn';
import { DEFAULT_COMPACT_AFTER_DELETE_FILES } from '../../shared/sync/auto-compact';
import { SubsetRefusedError, type SyncProgress, type SyncResult, publicationTables, runSync } from '../../shared/sync/sync-loop';
import { openSyncFanout } from '../../shared/fanout-run/fanout-run';
import { type TableSelection, selectTables } from '../../shared/sync/table-selection';
import { type FlagSpec, UsageError, intFlag, listFlag, parseFlags, stringFlag, usage } from '../support/args';
import type { ProgressOutput } from '../support/progress';
import { asUsageError, resolveWarehouse } from './migrate';

/** Flags of `icebridge sync`. */
export const SYNC_FLAGS: FlagSpec[] = [
  {
    name: 'run',
    value: true,
    description: "the run id of the migrate --cdc run (default: the one run the namespace's tables in the warehouse were migrated by)",
  },
  { name: 'warehouse', value: true, description: 'warehouse root the run migrated into: a directory, file://… or abfss://…' },
  { name: 'source', value: true, description: 'PostgreSQL URL (default: ICEBRIDGE_SOURCE_URL, else PGHOST, PGUSER, … and ~/.pgpass)' },
  { name: 'namespace', value: true, description: 'Iceberg namespace (default: the schema name, as migrate)' },
  {
    name: 'tables',
    value: true,
    description: "sync only these of the run's tables (name or schema.name, comma-separated); needs --force when others would be left out",
  },
  { name: 'schema', value: true, description: "sync only the run's tables of these schemas (comma-separated; default: every schema of the publication)" },
  { name: 'force', description: 'allow --tables/--schema to leave out running tables: they are stopped for good (their changes are lost to them)' },
  { name: 'until-caught-up', description: 'stop once every change committed before the start is applied and confirmed' },
  { name: 'flush-interval-ms', value: true, description: 'longest time a batch gathers transactions before it is applied (default 1000)' },
  { name: 'compact-after-delete-files', value: true, description: 'compact a table once it holds more delete files than this, 0 never (default 32)' },
  { name: 'fanout', description: 'feed the downstream systems too (event store, ClickHouse, Weaviate: see icebridge fanout); load them first' },
  { name: 'json', description: 'print the summary as JSON' },
  { name: 'drop', description: "drop the run's replication slot and publication instead" },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Apply the changes of a migrate --cdc run's tables: stream the run's replication slot from the position
the tables hold, apply each batch (one commit per table) and only then confirm it to the source, so a stop at any
point loses nothing and applies nothing twice. Runs until SIGINT/SIGTERM (the batch being applied is finished and
confirmed, changes not yet applied are sent again next time), or with --until-caught-up until everything committed
before the start is applied. A lost connection is made again (with backoff, for about a minute) and streaming goes
on from what the tables hold.
A table whose batch fails (a change that does not fit it, a damaged table) is STOPPED alone; the other tables
go on (a storage or commit hiccup is retried for about 15 s first; if it persists the sync fails, no table
stopped). The stop is recorded in the table and every later sync of the run skips it: the slot moves past its
changes, so it comes back only by a new copy with a new run (migrate --tables <t> --cdc, then sync that run;
ALTER PUBLICATION ... DROP TABLE takes it out of this run's publication). --tables/--schema leave out running
tables only with --force, and stop them the same way.
--drop removes the run's slot and publication instead: a slot nobody consumes keeps the source's WAL for ever.
Exit status: 0 caught up, stopped cleanly or dropped; 1 a table is stopped (now or by an earlier run) or the sync
failed; 2 usage error (including a table or schema not in the run's publication).`;

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
    if (!flags.help && stringFlag(flags, 'warehouse') === undefined && (!flags.drop || stringFlag(flags, 'run') === undefined)) {
      throw new UsageError(flags.drop ? 'sync --drop needs --run, or --warehouse to find the run in' : 'sync needs --warehouse');
    }
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
    const given = stringFlag(flags, 'run');
    const namespace = stringFlag(flags, 'namespace');
    const runId = given ?? (await findRun(resolveWarehouse(stringFlag(flags, 'warehouse')!), namespace ?? listFlag(flags, 'schema')?.[0] ?? 'public', env));
    if (flags.drop) {
      await drop(url, runId, out);
      return 0;
    }
    const flushIntervalMs = intFlag(flags, 'flush-interval-ms', 1000, { max: 3_600_000 });
    const compactAfterDeleteFiles = intFlag(flags, 'compact-after-delete-files', DEFAULT_COMPACT_AFTER_DELETE_FILES, { min: 0 });
    const warehouse = resolveWarehouse(stringFlag(flags, 'warehouse')!);
    const runEnv = environmentFromSettings(loadSettings({ ...env, ICEBRIDGE_SOURCE_URL: url, ICEBRIDGE_WAREHOUSE: warehouse }));
    const name = handoverName(runId);
    const published = await withSource(runEnv, (client) => publicationTables(client, name)).catch(asUsageError);
    if (published.length === 0) throw new UsageError(`no publication ${name} with tables on the source: was the run migrated with --cdc?`);
    const tables = listFlag(flags, 'tables');
    const schemas = listFlag(flags, 'schema');
    let selection: TableSelection;
    try {
      selection = selectTables(published, { ...(tables ? { tables } : {}), ...(schemas ? { schemas } : {}) });
    } catch (error) {
      asUsageError(error);
    }
    const fanout = flags.fanout === true ? await openSyncFanout(env, runId).catch(asUsageError) : undefined;
    const stop = signal === undefined ? stopOnSignals() : undefined;
    try {
      const result = await runSync(runEnv, {
        sourceUrl: url,
        slot: name,
        publication: name,
        ...(namespace === undefined ? {} : { namespace }),
        ...(selection.leftOut.length > 0 ? { tables: selection.selected } : {}),
        force: flags.force === true,
        flushIntervalMs,
        compactAfterDeleteFiles,
        untilCaughtUp: flags['until-caught-up'] === true,
        signal: signal ?? stop!.signal,
        onProgress: (p) => err.write(`${progressLine(p)}\n`),
        onNotice: (message) => err.write(`sync: ${message}\n`),
        ...(fanout === undefined ? {} : { fanout: fanout.hook }),
      }).catch((error: unknown) => {
        // Leaving out running tables without --force is the user's to correct, not a failure of the sync.
        if (error instanceof SubsetRefusedError) asUsageError(error);
        throw error;
      });
      out.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : summary(result));
      for (const t of result.stoppedTables) err.write(`table ${t.table} is stopped (holds changes up to ${t.lsn}, stopped ${t.at}): ${t.reason}\n`);
      return result.outcome === 'failed' || result.stoppedTables.length > 0 ? 1 : 0;
    } finally {
      stop?.dispose();
      await fanout?.systems.close();
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

/** The one migrate --cdc run the namespace's tables were migrated by; a usage error naming what was found otherwise. */
export async function findRun(warehouse: string, namespace: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { catalog } = environmentFromSettings(loadSettings({ ...env, ICEBRIDGE_WAREHOUSE: warehouse }));
  const runs = await changeCaptureRuns(catalog, [namespace]).catch(asUsageError);
  if (runs.length === 1) return runs[0]!;
  throw new UsageError(
    runs.length === 0
      ? `no table of namespace ${namespace} in ${warehouse} was migrated with --cdc: give --run (or --namespace)`
      : `the tables of namespace ${namespace} belong to several migrate --cdc runs (${runs.join(', ')}): give --run`,
  );
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
  for (const t of result.stoppedTables) lines.push(`  ${t.table}: STOPPED at ${t.lsn}: ${t.reason}`);
  return `${lines.join('\n')}\n`;
}
