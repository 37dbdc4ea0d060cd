/**
 * The sync loop: streams a run's slot from the smallest position its running tables have applied, gathers whole
 * transactions into micro-batches (by time and size), applies each batch to every running table, and only then
 * confirms the batch's end to the server. The tables, not the slot, say what was applied, so a stop at any point
 * (a crash, an abort, a lost connection) loses nothing and applies nothing twice on the next run or reconnect. A
 * table whose batch fails is stopped alone, the stop recorded in the table before the slot moves past its changes.
 */
import type { Client } from 'pg';
import type { ChangeEvent, TableBinding, TableName } from '../cdc/change-decoder';
import { type Lsn, formatLsn, maxLsn, parseLsn } from '../cdc/lsn';
import { connectReplication } from '../cdc/replication-setup';
import { type ReplicationStream, startReplication } from '../cdc/replication-stream';
import { IcebridgeError, ValidationError, errorMessage } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import { PostgresErrorCodes } from '../postgres/postgres-errors';
import type { RunEnvironment } from '../run/environment';
import type { openSyncTable } from './apply-changes';
import { applyChangesAfterRewrite, maybeCompact } from './auto-compact';
import { appliedBetween } from './applied-lsn';
import { RECONNECT_FAILED, type ReconnectOptions, Reconnector, SqlLink, isConnectionLoss } from './reconnect';
import { describeSyncBinding } from './sync-binding';
import { type Member, lowestApplied, openMembers, reopenMember, stopMember, stoppedTables } from './sync-members';
import { type ApplyRetryOptions, type TableStop, isRetriesExhausted, withApplyRetries } from './table-stop';
import { recordChangesApplied, recordSyncLag } from '../telemetry/metrics';
import type { FanoutStart, SyncFanout } from './sync-fanout';

export { SubsetRefusedError } from './sync-members';

/** Options of `runSync`. */
export interface SyncOptions {
  /** The source URL, for the replication connection. */
  sourceUrl: string;
  slot: string;
  publication: string;
  /** Iceberg namespace of the tables; defaults to each table's source schema. */
  namespace?: string;
  /**
   * The publication's tables to sync (default: all). The others are stopped for good, since the slot moves past
   * their changes; leaving out a table not stopped yet needs `force` (else SubsetRefusedError).
   */
  tables?: readonly TableName[];
  force?: boolean;
  /** Longest time a batch gathers transactions before it is applied; defaults to 1000 ms. */
  flushIntervalMs?: number;
  /** A batch is applied once it holds this many changes (checked per stream batch of whole transactions); defaults to 50,000. */
  maxBatchChanges?: number;
  /** Compact a table once it holds more delete files than this (0: never); defaults to 32. */
  compactAfterDeleteFiles?: number;
  /** Stop once everything up to the server's WAL position at the start is confirmed. */
  untilCaughtUp?: boolean;
  /** Stops the loop: the batch being applied finishes and is confirmed, changes gathered but not applied are not. */
  signal?: AbortSignal;
  /** Called after every applied batch (and once at the end). */
  onProgress?: (progress: SyncProgress) => void;
  /** Called with a line for each event worth telling: a lost connection, a reconnect, a table stopped. */
  onNotice?: (message: string) => void;
  /** Backoff of reconnecting a lost replication or SQL connection. */
  reconnect?: ReconnectOptions;
  /** Retries of a table's batch that failed transiently, before the table is stopped. */
  applyRetry?: ApplyRetryOptions;
  /** Opens each table at the start (default `openSyncTable`): a caller that kept a table open, its key index current, hands it back. */
  openTable?: typeof openSyncTable;
  /**
   * Opens the systems fed the same batches after the tables (event store, ClickHouse, Weaviate), given the tables'
   * bindings and positions; the slot is confirmed only after them.
   */
  fanout?: (start: FanoutStart) => Promise<SyncFanout>;
}

/** One table's figures. */
export interface SyncTableProgress {
  /** `schema.name` of the source table. */
  table: string;
  /** Row changes applied by this run (changes of transactions the table already held are not counted). */
  changesApplied: number;
  /** The position the table holds everything up to ('X/Y'). */
  appliedLsn: string | undefined;
}

/** A table that is stopped: it holds every change up to `lsn` and gets none after it until it is copied again. */
export interface StoppedTable extends TableStop {
  /** `schema.name` of the source table. */
  table: string;
}

/** The loop's figures at a moment. */
export interface SyncProgress {
  changesApplied: number;
  /** The tables that were running when the sync started. */
  tables: SyncTableProgress[];
  /** Tables stopped, by this run or an earlier one, with the reason. */
  stoppedTables: StoppedTable[];
  /** What the server has been told it may forget ('X/Y'). */
  confirmedLsn: string;
  /** The server's WAL position minus the confirmed position; undefined when it could not be read. */
  lagBytes: number | undefined;
  /** Now minus the commit time of the last transaction seen; undefined before the first. */
  lagSeconds: number | undefined;
}

/** How `runSync` ended. */
export interface SyncResult extends SyncProgress {
  /** caught-up: everything up to the start's WAL position is confirmed; stopped: the signal; failed: every table is stopped. */
  outcome: 'caught-up' | 'stopped' | 'failed';
  /** The server's WAL position when the loop started ('X/Y'). */
  targetLsn: string;
}

/**
 * Test-only switches: confirming a batch before it is applied (and telling the server at once) shows that the tests
 * catch lost changes; the hooks let a test stop the process before a batch's commits, or after each table's commit
 * (before the next table's and before the confirm), and see each session's stream (what it has confirmed, which
 * keepalives it has handled) while a batch is held.
 */
export const syncTestSwitches: {
  confirmBeforeApply: boolean;
  beforeApply?: () => void | Promise<void>;
  afterApply?: () => void | Promise<void>;
  onStream?: (stream: ReplicationStream) => void;
} = { confirmBeforeApply: false };

const PG_EPOCH_MS = 946_684_800_000;

/** What the loop keeps across reconnects. */
interface SyncState {
  sql: SqlLink;
  catalog: Catalog;
  members: Member[];
  fanout: SyncFanout | undefined;
  target: Lsn;
  /** The highest position confirmed by any session. */
  confirmed: Lsn;
  lastCommitMs: number | undefined;
  notice: (message: string) => void;
}

/**
 * Runs the loop on the run's slot until caught up (with `untilCaughtUp`), aborted, or every table is stopped. A
 * lost connection is made again (bounded backoff) and the stream restarted from what the tables hold; a table
 * whose batch fails (after retries of a transient failure) is stopped alone, and its stop recorded in the table.
 */
export async function runSync(env: RunEnvironment, options: SyncOptions): Promise<SyncResult> {
  const notice = options.onNotice ?? (() => undefined);
  const sql = new SqlLink(() => env.connectSource(), new Reconnector('SQL', options.reconnect, notice), notice);
  try {
    const published = await sql.run((client) => publicationTables(client, options.publication));
    if (published.length === 0) throw new ValidationError(`publication ${options.publication} has no tables (or does not exist)`);
    const { members, bindings } = await openMembers(env, sql, published, { ...options, notice });
    const target = await sql.run(walPosition);
    const fanout =
      options.fanout === undefined
        ? undefined
        : await options.fanout({
            bindings,
            applied: new Map(members.filter((m) => m.stop === undefined).map((m) => [`${m.source.schema}.${m.source.name}`, m.applied])),
            slotConfirmed: await sql.run((client) => slotConfirmedPosition(client, options.slot)),
            appliedBetween: async (table, after, upTo) => {
              const member = members.find((m) => `${m.source.schema}.${m.source.name}` === table);
              return member !== undefined && appliedBetween((await env.catalog.loadTable(member.id)).metadata, after, upTo);
            },
          });
    const state: SyncState = { sql, catalog: env.catalog, members, fanout, target, confirmed: 0n, lastCommitMs: undefined, notice };
    return await sessions(state, bindings, options);
  } finally {
    await sql.close();
  }
}

/** Streams in sessions: one per replication connection, a new one after a lost connection. */
async function sessions(state: SyncState, bindings: TableBinding[], options: SyncOptions): Promise<SyncResult> {
  const reconnector = new Reconnector('replication', options.reconnect, state.notice);
  for (;;) {
    const applied = lowestApplied(state.members);
    if (applied === undefined) return finish(state, undefined, options, 'failed');
    // A sink behind the tables has the stream start where it needs it; the tables skip what they hold.
    const needed = state.fanout?.startPosition();
    const start = needed !== undefined && needed < applied ? needed : applied;
    if (state.confirmed === 0n) state.confirmed = start;
    let replication: Client | undefined;
    let stream: ReplicationStream | undefined;
    const began = Date.now();
    try {
      replication = await connectReplication(options.sourceUrl);
      stream = await startReplication(replication, {
        slotName: options.slot,
        publications: [options.publication],
        startLsn: start,
        bindings,
        // A Relation message of a table whose shape changed has the table described again (ADD COLUMN).
        describeAgain: (source) =>
          state.sql
            .run((client) => describeSyncBinding(client, source))
            .catch((error: unknown) => {
              // The SQL link gave up reconnecting: the stream ends unconfirmed rather than stopping the table for good.
              if (error instanceof IcebridgeError && error.code === RECONNECT_FAILED)
                throw new IcebridgeError(RECONNECT_FAILED, error.message, { retryable: true, cause: error });
              throw error;
            }),
        // The server decodes up to one more full batch while a batch is applied (stream batches hold 1000 events).
        readyBatches: Math.ceil((options.maxBatchChanges ?? 50_000) / 1000),
      });
      if (reconnector.recovering) state.notice(`the replication connection is back; streaming from ${formatLsn(start)}`);
      syncTestSwitches.onStream?.(stream);
      return await loop(state, stream, options, () => reconnector.healthy());
    } catch (error) {
      if (!isConnectionLoss(error)) throw error;
      // A session that streamed for a while before the loss is not one more failure in a row.
      if (stream !== undefined && Date.now() - began > 60_000) reconnector.healthy();
      await stream?.close().catch(() => undefined);
      await replication?.end().catch(() => undefined);
      stream = undefined;
      replication = undefined;
      await reconnector.lost(error);
      // A stop asked for during the pause is a clean stop, not a reason to connect again.
      if (options.signal?.aborted) return finish(state, undefined, options, 'stopped');
    } finally {
      await stream?.close().catch(() => undefined);
      await replication?.end().catch(() => undefined);
    }
  }
}

/** The figures now; the WAL position is read on the SQL connection (reconnected when lost). */
async function progress(state: SyncState, stream: ReplicationStream | undefined): Promise<SyncProgress> {
  if (stream !== undefined) state.confirmed = maxLsn(state.confirmed, stream.stats().confirmedLsn);
  const wal = await state.sql.run(walPosition).catch((error: unknown) => {
    // A connection that could not be made again ends the sync; any other failure only leaves the lag unknown.
    if (error instanceof IcebridgeError && error.code === RECONNECT_FAILED) throw error;
    return undefined;
  });
  const confirmed = state.confirmed;
  const started = state.members.filter((m) => m.started);
  const figures: SyncProgress = {
    changesApplied: started.reduce((sum, m) => sum + m.changes, 0),
    tables: started.map((m) => ({ table: m.name, changesApplied: m.changes, appliedLsn: formatLsn(m.applied) })),
    stoppedTables: stoppedTables(state.members),
    confirmedLsn: formatLsn(confirmed),
    lagBytes: wal === undefined ? undefined : Number(wal > confirmed ? wal - confirmed : 0n),
    lagSeconds: state.lastCommitMs === undefined ? undefined : Math.max(0, (Date.now() - state.lastCommitMs) / 1000),
  };
  recordSyncLag(figures);
  return figures;
}

async function finish(state: SyncState, stream: ReplicationStream | undefined, options: SyncOptions, outcome: SyncResult['outcome']): Promise<SyncResult> {
  const figures = await progress(state, stream);
  options.onProgress?.(figures);
  return { ...figures, outcome, targetLsn: formatLsn(state.target) };
}

/** One session: reads the stream, applies batches; returns how the sync ended, throws on a lost connection. */
async function loop(state: SyncState, stream: ReplicationStream, options: SyncOptions, healthy: () => void): Promise<SyncResult> {
  const flushMs = options.flushIntervalMs ?? 1000;
  const maxChanges = options.maxBatchChanges ?? 50_000;
  const iterator = stream.batches();
  let pendingNext: Promise<IteratorResult<ChangeEvent[]>> | undefined;
  /** Whole transactions gathered and their changes; the events and changes of the one still open. */
  let whole: ChangeEvent[] = [];
  let changes = 0;
  let open: ChangeEvent[] = [];
  let openChanges = 0;
  let batchStarted: number | undefined;
  /** Whether the gathered transactions reach the target: a sync that stops there need not wait for the flush interval. */
  let reachesTarget = false;
  let ended = false;
  // A transaction still open cannot have committed before the target (the stream sends in commit order), so it
  // need not be waited for.
  const caughtUp = (): boolean => options.untilCaughtUp === true && whole.length === 0 && stream.stats().confirmedLsn >= state.target;
  // Every change up to the target is gathered: the server said so with nothing of ours still in flight.
  const targetDelivered = (): boolean => {
    const stats = stream.stats();
    return stats.confirmedLsn >= state.target || (open.length === 0 && stats.deliveredLsn >= state.target);
  };

  for (;;) {
    if (caughtUp()) return finish(state, stream, options, 'caught-up');
    if (options.signal?.aborted) return finish(state, stream, options, 'stopped');
    const due =
      whole.length > 0 &&
      (changes >= maxChanges || reachesTarget || (options.untilCaughtUp === true && targetDelivered()) || Date.now() - batchStarted! >= flushMs);
    if (due || (ended && whole.length > 0)) {
      const batch = whole;
      whole = [];
      changes = 0;
      batchStarted = undefined;
      reachesTarget = false;
      await applyBatch(state, stream, batch, options);
      if (lowestApplied(state.members) === undefined) return finish(state, stream, options, 'failed');
      stream.sendStatus();
      options.onProgress?.(await progress(state, stream));
      continue;
    }
    // The server ending the stream unasked is a lost connection: a new session resumes from the tables.
    if (ended)
      throw new IcebridgeError(PostgresErrorCodes.connectionLost, `the replication stream of slot ${options.slot} ended before the sync stopped`, {
        retryable: true,
      });
    if (pendingNext === undefined) {
      pendingNext = iterator.next();
      // A failure after the loop has stopped listening is not an unhandled rejection; a waiting loop still sees it.
      pendingNext.catch(() => undefined);
    }
    // Wake for the flush interval while a batch waits, and every so often to see a keepalive's advance.
    const wait = whole.length > 0 ? Math.max(0, flushMs - (Date.now() - batchStarted!)) : flushMs;
    // The wake-up (timer or abort) is made afresh each round and raced only with short-lived promises: a race with
    // one promise that never settles leaves a reaction on it per round, holding every batch the race returned.
    let timer: NodeJS.Timeout | undefined;
    let wake: () => void = () => undefined;
    const tick = new Promise<'tick'>((resolve) => {
      wake = () => resolve('tick');
      timer = setTimeout(wake, wait);
      options.signal?.addEventListener('abort', wake, { once: true });
    });
    // A keepalive that shows the target delivered (or confirmed) ends a catch-up's wait now, not at the timer.
    if (options.untilCaughtUp === true) stream.onServerPosition(() => targetDelivered() && wake());
    const next = await Promise.race([pendingNext, tick]);
    clearTimeout(timer);
    stream.onServerPosition(undefined);
    options.signal?.removeEventListener('abort', wake);
    if (next === 'tick') continue;
    pendingNext = undefined;
    if (next.done === true) {
      ended = true;
      continue;
    }
    healthy();
    for (const event of next.value) {
      open.push(event);
      if (event.kind === 'change') openChanges++;
      if (event.kind === 'commit') {
        // One push per event: a spread of a large transaction would pass the engine's argument limit.
        for (const held of open) whole.push(held);
        open = [];
        changes += openChanges;
        openChanges = 0;
        batchStarted ??= Date.now();
        if (options.untilCaughtUp === true && event.endLsn >= state.target) reachesTarget = true;
        state.lastCommitMs = Number(event.commitTime / 1000n) + PG_EPOCH_MS;
      }
    }
  }
}

/**
 * Applies one batch of whole transactions to every running table, then confirms it. A table whose apply fails
 * is stopped and its stop recorded before the confirmation; the others go on. A transient failure is retried
 * (the table reopened before each retry); one that persists ends the sync, the batch unconfirmed, the table not
 * stopped. Nothing is confirmed when no table runs any more.
 */
async function applyBatch(state: SyncState, stream: ReplicationStream, batch: ChangeEvent[], options: SyncOptions): Promise<void> {
  const catalog = state.catalog;
  let through: Lsn | undefined;
  for (const event of batch) if (event.kind === 'commit') through = through === undefined ? event.endLsn : maxLsn(through, event.endLsn);
  if (through === undefined) return;
  if (syncTestSwitches.confirmBeforeApply) {
    stream.confirm(through);
    stream.sendStatus();
  }
  await syncTestSwitches.beforeApply?.();
  for (const member of state.members) {
    if (member.stop !== undefined) continue;
    const counted = changesFor(member, batch);
    try {
      const result = await withApplyRetries(
        () => applyChangesAfterRewrite({ catalog }, member.table!, batch),
        () => reopenMember(catalog, member),
        options.applyRetry,
      );
      if (result.committed && result.through !== undefined) member.applied = maxLsn(member.applied, result.through);
      member.changes += counted;
      recordChangesApplied(member.name, counted);
      if (result.committed) await compactQuietly(state, member, options);
    } catch (error) {
      // A failure that may still pass does not cost the table a new copy: the sync ends unconfirmed, the next run retries.
      if (isRetriesExhausted(error)) throw error;
      await stopMember(catalog, options.slot, member, errorMessage(error), state.notice);
    }
    await syncTestSwitches.afterApply?.();
  }
  // The other systems take the batch after the tables: a failure there ends the sync with the batch unconfirmed.
  await state.fanout?.apply(batch);
  if (lowestApplied(state.members) !== undefined) stream.confirm(through);
}

/**
 * Compacts the member's table when its delete files passed the threshold. A failed compaction costs nothing the
 * table holds (the batch is committed): it is told and left for a later batch. Had it committed before failing,
 * the key index is stale, and the next batch's row delta finds its files gone and rebuilds it (auto-compact.ts).
 */
async function compactQuietly(state: SyncState, member: Member, options: SyncOptions): Promise<void> {
  try {
    await maybeCompact({ catalog: state.catalog }, member.table!, { afterDeleteFiles: options.compactAfterDeleteFiles });
  } catch (error) {
    state.notice(`sync: compacting ${member.name} failed (left for a later batch): ${errorMessage(error)}`);
  }
}

/** Row changes of the table in the batch's transactions after its applied position: what this batch adds to it. */
function changesFor(member: Member, batch: readonly ChangeEvent[]): number {
  let total = 0;
  let inTransaction = 0;
  for (const event of batch) {
    if (event.kind === 'change') {
      const change = event.change;
      const tables = change.op === 'truncate' ? change.tables : [change.table];
      if (tables.some((t) => t.schema === member.source.schema && t.name === member.source.name)) inTransaction++;
    } else if (event.kind === 'commit') {
      if (event.endLsn > member.applied) total += inTransaction;
      inTransaction = 0;
    }
  }
  return total;
}

/** The tables of a publication, as the server lists them. */
export async function publicationTables(client: Client, publication: string): Promise<TableName[]> {
  const result = await client.query<{ schemaname: string; tablename: string }>(
    'SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables WHERE pubname = $1 ORDER BY schemaname, tablename',
    [publication],
  );
  return result.rows.map((r) => ({ schema: r.schemaname, name: r.tablename }));
}

/** The position the slot's consumer last confirmed (0n for a slot never confirmed). */
async function slotConfirmedPosition(client: Client, slot: string): Promise<Lsn> {
  const result = await client.query<{ lsn: string | null }>(
    'SELECT confirmed_flush_lsn::text AS lsn FROM pg_catalog.pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  const text = result.rows[0]?.lsn;
  if (result.rows.length === 0) throw new ValidationError(`replication slot ${slot} does not exist`);
  return text === null || text === undefined ? 0n : parseLsn(text);
}

/**
 * The server's WAL insert position: past every commit that has returned. The write position (pg_current_wal_lsn)
 * is not, where synchronous_commit is off: a commit returns before its record is written.
 */
async function walPosition(client: Client): Promise<Lsn> {
  const result = await client.query<{ lsn: string }>('SELECT pg_catalog.pg_current_wal_insert_lsn()::text AS lsn');
  return parseLsn(result.rows[0]!.lsn);
}
