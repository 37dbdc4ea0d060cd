/**
 * The syncBatch activity: one bounded stretch of `runSync` on a migrate --cdc run's slot. It streams for at most
 * `batchSeconds` (or until it has applied everything the source held when it began), looks for the sync's stop
 * marker every two seconds, and answers figures only. Running it twice, or in two processes, is safe: every table
 * records the position it applied in its own snapshots and skips what it holds (shared/sync/README.md).
 */
import { ValidationError } from '../../shared/errors';
import { handoverName } from '../../shared/migrate/handover-names';
import type { RunEnvironment } from '../../shared/run/environment';
import type { StoppedTable, SyncBatchInput, SyncBatchResult } from '../../shared/run/sync-run';
import { SYNC_STOP_CHECK_INTERVAL_MS, isSyncStopRequested } from '../../shared/run/sync-stop';
import { type SyncOptions, type SyncResult, runSync } from '../../shared/sync/sync-loop';
import { openSyncFanout } from '../../shared/fanout-run/fanout-run';
import { activityOutcome } from './activity-outcome';
import { environment as env } from './environment';
import { registerActivity } from './register-activity';
import { SyncTableCache } from './sync-table-cache';

/** The process's open sync tables, kept between batches. */
export const syncTables = new SyncTableCache();

/** The setting that has the orchestrated sync feed the downstream systems too (`icebridge sync --fanout`'s switch). */
export const SYNC_FANOUT_SETTING = 'ICEBRIDGE_SYNC_FANOUT';

/**
 * Runs one batch of the sync `input.syncId` in `environment`; exported for tests that run it outside a host. With
 * `ICEBRIDGE_SYNC_FANOUT=true` in `settings`, the batch feeds the configured downstream systems as well.
 */
export async function syncBatch(
  environment: RunEnvironment,
  input: SyncBatchInput,
  cache: SyncTableCache = syncTables,
  settings: NodeJS.ProcessEnv = process.env,
): Promise<SyncBatchResult> {
  const { catalog, sourceUrl } = environment;
  if (sourceUrl === undefined) throw new ValidationError('no source database is configured: set ICEBRIDGE_SOURCE_URL');
  if (await isSyncStopRequested(catalog, input.syncId)) return notRun();
  const fanout = await openFanout(settings, input.runId);
  try {
    return await streamBatch(environment, input, cache, fanout?.hook);
  } finally {
    await fanout?.systems.close();
  }
}

/** The downstream systems and the sync's hook over them, when the setting asks for them. */
function openFanout(settings: NodeJS.ProcessEnv, runId: string): Promise<Awaited<ReturnType<typeof openSyncFanout>> | undefined> {
  const asked = settings[SYNC_FANOUT_SETTING]?.trim().toLowerCase();
  if (asked === undefined || asked === '' || asked === 'false') return Promise.resolve(undefined);
  if (asked !== 'true') return Promise.reject(new ValidationError(`${SYNC_FANOUT_SETTING} must be true or false`));
  return openSyncFanout(settings, runId);
}

async function streamBatch(
  environment: RunEnvironment,
  input: SyncBatchInput,
  cache: SyncTableCache,
  fanout: SyncOptions['fanout'] | undefined,
): Promise<SyncBatchResult> {
  const { catalog } = environment;
  const sourceUrl = environment.sourceUrl!;
  const controller = new AbortController();
  let stopRequested = false;
  const bound = setTimeout(() => controller.abort(), input.batchSeconds * 1000);
  const poll = setInterval(() => {
    isSyncStopRequested(catalog, input.syncId).then(
      (asked) => {
        if (!asked) return;
        stopRequested = true;
        controller.abort();
      },
      // A read that fails is tried again at the next interval; the batch's own time bound still ends it.
      () => undefined,
    );
  }, SYNC_STOP_CHECK_INTERVAL_MS);
  const session = cache.session();
  const started = performance.now();
  let result: SyncResult;
  try {
    const name = handoverName(input.runId);
    result = await runSync(environment, {
      sourceUrl,
      slot: name,
      publication: name,
      ...(input.namespace === undefined ? {} : { namespace: input.namespace }),
      flushIntervalMs: input.flushIntervalMs,
      untilCaughtUp: true,
      signal: controller.signal,
      openTable: session.open,
      ...(fanout === undefined ? {} : { fanout }),
    });
  } finally {
    clearTimeout(bound);
    clearInterval(poll);
  }
  const elapsedMs = Math.round(performance.now() - started);
  const stoppedTables: StoppedTable[] = result.stoppedTables.map(({ table, reason, lsn }) => ({ table, reason, lsn }));
  const failed = stoppedTables.map((t) => t.table);
  await session.keep(catalog, { tables: result.tables, failed });
  return {
    outcome: result.outcome,
    stopRequested,
    changesApplied: result.changesApplied,
    elapsedMs,
    tables: result.tables.map((t) => ({ table: t.table, appliedLsn: t.appliedLsn, changesApplied: t.changesApplied })),
    confirmedLsn: result.confirmedLsn,
    lagBytes: result.lagBytes,
    lagSeconds: result.lagSeconds,
    stoppedTables,
    tablesReused: session.reused,
  };
}

/** The answer of a batch that found the stop marker before it began. */
function notRun(): SyncBatchResult {
  return {
    outcome: 'stopped',
    stopRequested: true,
    changesApplied: 0,
    elapsedMs: 0,
    tables: [],
    confirmedLsn: undefined,
    lagBytes: undefined,
    lagSeconds: undefined,
    stoppedTables: [],
    tablesReused: 0,
  };
}

registerActivity('syncBatch', (input) => activityOutcome(() => syncBatch(env(), input)));
