/**
 * The sync loop: streams a run's slot from the smallest position its tables have applied, gathers whole
 * transactions into micro-batches (by time and size), applies each batch to every table, and only then confirms
 * the batch's end to the server. The tables, not the slot, say what was applied, so a stop at any point (a crash,
 * an abort) loses nothing and applies nothing twice on the next run.
 */
import type { Client } from 'pg';
import type { ChangeEvent, TableBinding, TableName } from '../cdc/change-decoder';
import { type Lsn, formatLsn, maxLsn, parseLsn } from '../cdc/lsn';
import { connectReplication } from '../cdc/replication-setup';
import { type ReplicationStream, startReplication } from '../cdc/replication-stream';
import { ValidationError, errorMessage } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import { describeTable } from '../postgres/introspect';
import { displayQualified } from '../postgres/identifiers';
import { mapTable } from '../postgres/type-mapping';
import type { RunEnvironment } from '../run/environment';
import { appliedLsn } from './applied-lsn';
import { type SyncTable, applyChanges, openSyncTable } from './apply-changes';

/** Options of `runSync`. */
export interface SyncOptions {
  /** The source URL, for the replication connection. */
  sourceUrl: string;
  slot: string;
  publication: string;
  /** Iceberg namespace of the tables; defaults to each table's source schema. */
  namespace?: string;
  /** Longest time a batch gathers transactions before it is applied; defaults to 1000 ms. */
  flushIntervalMs?: number;
  /** A batch is applied once it holds this many changes (checked per stream batch of whole transactions); defaults to 50,000. */
  maxBatchChanges?: number;
  /** Stop once everything up to the server's WAL position at the start is confirmed. */
  untilCaughtUp?: boolean;
  /** Stops the loop: the batch being applied finishes and is confirmed, changes gathered but not applied are not. */
  signal?: AbortSignal;
  /** Called after every applied batch (and once at the end). */
  onProgress?: (progress: SyncProgress) => void;
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

/** The loop's figures at a moment. */
export interface SyncProgress {
  changesApplied: number;
  tables: SyncTableProgress[];
  /** What the server has been told it may forget ('X/Y'). */
  confirmedLsn: string;
  /** The server's WAL position minus the confirmed position; undefined when it could not be read. */
  lagBytes: number | undefined;
  /** Now minus the commit time of the last transaction seen; undefined before the first. */
  lagSeconds: number | undefined;
}

/** How `runSync` ended. */
export interface SyncResult extends SyncProgress {
  /** caught-up: everything up to the start's WAL position is confirmed; stopped: the signal; failed: a table failed. */
  outcome: 'caught-up' | 'stopped' | 'failed';
  /** The table whose batch failed, and why (outcome failed). */
  failure?: { table: string; reason: string };
  /** The server's WAL position when the loop started ('X/Y'). */
  targetLsn: string;
}

/** Test-only switches: confirming a batch before it is applied shows that the tests catch lost changes. */
export const syncTestSwitches: { confirmBeforeApply: boolean; beforeApply?: () => void } = { confirmBeforeApply: false };

const PG_EPOCH_MS = 946_684_800_000;

interface Member {
  name: string;
  table: SyncTable;
  applied: Lsn;
  changes: number;
}

/**
 * Runs the loop on the run's slot until caught up (with `untilCaughtUp`), aborted, or a table fails. A table whose
 * batch fails stops the whole loop without confirming that batch: the other tables that committed it skip it on
 * the next run (their recorded LSN), and the failed one gets it again.
 */
export async function runSync(env: RunEnvironment, options: SyncOptions): Promise<SyncResult> {
  const client = await env.connectSource();
  let replication: Client | undefined;
  let stream: ReplicationStream | undefined;
  try {
    const names = await publicationTables(client, options.publication);
    if (names.length === 0) throw new ValidationError(`publication ${options.publication} has no tables (or does not exist)`);
    const bindings: TableBinding[] = [];
    const members: Member[] = [];
    for (const source of names) {
      const described = await describeTable(client, source.schema, source.name);
      const binding = { table: described, mapping: mapTable(described) };
      bindings.push(binding);
      const id = { namespace: [options.namespace ?? source.schema], name: source.name };
      const name = displayQualified(source.schema, source.name);
      const table = await openSyncTable(env, id, source, {
        keyColumns: binding.table.key.columns,
        rowColumns: binding.mapping.schema.fields.map((f) => f.name),
      });
      const applied = appliedLsn((await env.catalog.loadTable(id)).metadata);
      if (applied === undefined) throw new ValidationError(`table ${name} records no change capture position: was it migrated with --cdc?`);
      members.push({ name, table, applied, changes: 0 });
    }
    const target = await walPosition(client);
    const start = members.reduce((low, m) => (m.applied < low ? m.applied : low), members[0]!.applied);
    replication = await connectReplication(options.sourceUrl);
    // The server decodes up to one more full batch while a batch is applied (stream batches hold 1000 events).
    const readyBatches = Math.ceil((options.maxBatchChanges ?? 50_000) / 1000);
    stream = await startReplication(replication, { slotName: options.slot, publications: [options.publication], startLsn: start, bindings, readyBatches });
    return await loop(env.catalog, client, stream, members, target, options);
  } finally {
    await stream?.close().catch(() => undefined);
    await replication?.end().catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

async function loop(catalog: Catalog, client: Client, stream: ReplicationStream, members: Member[], target: Lsn, options: SyncOptions): Promise<SyncResult> {
  const flushMs = options.flushIntervalMs ?? 1000;
  const maxChanges = options.maxBatchChanges ?? 50_000;
  const iterator = stream.batches();
  let pendingNext: Promise<IteratorResult<ChangeEvent[]>> | undefined;
  let lastCommitMs: number | undefined;
  /** Whole transactions gathered and their changes; the events and changes of the one still open. */
  let whole: ChangeEvent[] = [];
  let changes = 0;
  let open: ChangeEvent[] = [];
  let openChanges = 0;
  let batchStarted: number | undefined;
  let ended = false;

  const progress = async (): Promise<SyncProgress> => {
    const confirmed = stream.stats().confirmedLsn;
    const wal = await walPosition(client).catch(() => undefined);
    return {
      changesApplied: members.reduce((sum, m) => sum + m.changes, 0),
      tables: members.map((m) => ({ table: m.name, changesApplied: m.changes, appliedLsn: formatLsn(m.applied) })),
      confirmedLsn: formatLsn(confirmed),
      lagBytes: wal === undefined ? undefined : Number(wal > confirmed ? wal - confirmed : 0n),
      lagSeconds: lastCommitMs === undefined ? undefined : Math.max(0, (Date.now() - lastCommitMs) / 1000),
    };
  };
  const finish = async (outcome: SyncResult['outcome'], failure?: SyncResult['failure']): Promise<SyncResult> => {
    const figures = await progress();
    options.onProgress?.(figures);
    return { ...figures, outcome, targetLsn: formatLsn(target), ...(failure ? { failure } : {}) };
  };
  // A transaction still open cannot have committed before the target (the stream sends in commit order), so it
  // need not be waited for.
  const caughtUp = (): boolean => options.untilCaughtUp === true && whole.length === 0 && stream.stats().confirmedLsn >= target;

  for (;;) {
    if (caughtUp()) return finish('caught-up');
    if (options.signal?.aborted) return finish('stopped');
    const due = whole.length > 0 && (changes >= maxChanges || Date.now() - batchStarted! >= flushMs);
    if (due || (ended && whole.length > 0)) {
      const batch = whole;
      whole = [];
      changes = 0;
      batchStarted = undefined;
      const failure = await applyBatch(catalog, stream, members, batch);
      if (failure) return finish('failed', failure);
      stream.sendStatus();
      options.onProgress?.(await progress());
      continue;
    }
    if (ended) throw new ValidationError(`the replication stream of slot ${options.slot} ended before the sync stopped`);
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
    const next = await Promise.race([pendingNext, tick]);
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', wake);
    if (next === 'tick') continue;
    pendingNext = undefined;
    if (next.done === true) {
      ended = true;
      continue;
    }
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
        lastCommitMs = Number(event.commitTime / 1000n) + PG_EPOCH_MS;
      }
    }
  }
}

/** Applies one batch of whole transactions to every table, then confirms it; the failed table, if any. */
async function applyBatch(
  catalog: Catalog,
  stream: ReplicationStream,
  members: Member[],
  batch: ChangeEvent[],
): Promise<{ table: string; reason: string } | undefined> {
  let through: Lsn | undefined;
  for (const event of batch) if (event.kind === 'commit') through = through === undefined ? event.endLsn : maxLsn(through, event.endLsn);
  if (through === undefined) return undefined;
  if (syncTestSwitches.confirmBeforeApply) stream.confirm(through);
  syncTestSwitches.beforeApply?.();
  for (const member of members) {
    const counted = changesFor(member, batch);
    try {
      const result = await applyChanges({ catalog }, member.table, batch);
      if (result.committed && result.through !== undefined) member.applied = maxLsn(member.applied, result.through);
      member.changes += counted;
    } catch (error) {
      return { table: member.name, reason: errorMessage(error) };
    }
  }
  stream.confirm(through);
  return undefined;
}

/** Row changes of the table in the batch's transactions after its applied position: what this batch adds to it. */
function changesFor(member: Member, batch: readonly ChangeEvent[]): number {
  let total = 0;
  let inTransaction = 0;
  for (const event of batch) {
    if (event.kind === 'change') {
      const change = event.change;
      const tables = change.op === 'truncate' ? change.tables : [change.table];
      if (tables.some((t) => t.schema === member.table.source.schema && t.name === member.table.source.name)) inTransaction++;
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

/**
 * The server's WAL insert position: past every commit that has returned. The write position (pg_current_wal_lsn)
 * is not, where synchronous_commit is off: a commit returns before its record is written.
 */
async function walPosition(client: Client): Promise<Lsn> {
  const result = await client.query<{ lsn: string }>('SELECT pg_catalog.pg_current_wal_insert_lsn()::text AS lsn');
  return parseLsn(result.rows[0]!.lsn);
}
