/**
 * A sync as a Durable run: the request `POST /api/syncs` takes, the payloads between the syncDatabase
 * orchestration and its syncBatch activity, the state one execution hands the next, and the custom status built
 * from it. Pure: figures and names only, no clock, no I/O.
 */
import { ValidationError } from '../errors';
import { shortReason } from './instance-status';
import { IDEMPOTENCY_KEY_PATTERN, identifierList, integer, nonEmptyString, object, unknownFields } from './request-fields';

/** A validated sync request. */
export interface SyncRequest {
  /** The migrate --cdc run whose slot and publication are streamed. */
  runId: string;
  /** Where the run migrated to, when the caller names it: it must be the app's own warehouse. */
  warehouse?: string;
  /** Iceberg namespace of the tables (default: each table's schema, as migrate). */
  namespace?: string;
  /** The run's tables, checked against its publication (all of them are synced). */
  tables?: string[];
  /** Longest time a micro-batch gathers transactions before it is applied (ms). */
  flushIntervalMs: number;
  /** How long one syncBatch activity streams before it hands back to the orchestration (s). */
  batchSeconds: number;
}

/** Default and bounds of `flushIntervalMs`, as the CLI's `--flush-interval-ms`. */
export const FLUSH_INTERVAL_MS = { default: 1_000, min: 10, max: 3_600_000 } as const;

/**
 * Default and bounds of `batchSeconds`: a minute keeps an activity far below the Functions timeout (host.json,
 * 10 minutes; 5 on a Consumption plan) while paying the start of a batch (connect, open the tables) rarely.
 */
export const BATCH_SECONDS = { default: 60, min: 1, max: 240 } as const;

const REQUEST_FIELDS = new Set(['runId', 'warehouse', 'namespace', 'tables', 'flushIntervalMs', 'batchSeconds']);

/** Validates a request body; unknown fields, wrong types and out-of-range values are a ValidationError naming the field. */
export function parseSyncRequest(body: unknown): SyncRequest {
  const o = object(body, 'the request body');
  unknownFields(o, REQUEST_FIELDS, 'the request body');
  if (typeof o.runId !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(o.runId)) {
    throw new ValidationError('runId must be the id of a migrate --cdc run: 1-64 letters, digits, "-" or "_"');
  }
  const request: SyncRequest = {
    runId: o.runId,
    flushIntervalMs:
      o.flushIntervalMs === undefined ? FLUSH_INTERVAL_MS.default : integer(o.flushIntervalMs, 'flushIntervalMs', FLUSH_INTERVAL_MS.min, FLUSH_INTERVAL_MS.max),
    batchSeconds: o.batchSeconds === undefined ? BATCH_SECONDS.default : integer(o.batchSeconds, 'batchSeconds', BATCH_SECONDS.min, BATCH_SECONDS.max),
  };
  if (o.warehouse !== undefined) request.warehouse = nonEmptyString(o.warehouse, 'warehouse', 2048);
  if (o.namespace !== undefined) request.namespace = nonEmptyString(o.namespace, 'namespace', 255);
  if (o.tables !== undefined) request.tables = identifierList(o.tables, 'tables');
  return request;
}

/** Instance ids of syncs: `sync-<runId>`. */
export const SYNC_ID_PATTERN = /^sync-[A-Za-z0-9_-]{1,64}$/;

/** The instance id of the run's sync: derived from the run id, so one run has one sync however often it is posted. */
export function syncInstanceId(runId: string): string {
  return `sync-${runId}`;
}

/**
 * The slot is confirmed for every table of the publication at once, so a sync of some of them would let the
 * server forget the others' changes: `tables` may only name the publication's tables, all of them. The message of
 * the refusal, or undefined when the request's tables are acceptable.
 */
export function syncTablesProblem(published: ReadonlyArray<{ schema: string; name: string }>, asked: readonly string[] | undefined): string | undefined {
  if (asked === undefined) return undefined;
  const names = new Set(published.map((t) => t.name));
  const unknown = asked.filter((t) => !names.has(t));
  if (unknown.length > 0) return `not in the run's publication: ${unknown.join(', ')}`;
  const missing = published.filter((t) => !asked.includes(t.name));
  if (missing.length > 0)
    return `a sync applies every table of the run at once (the slot's position is shared); tables leaves out ${missing.map((t) => `${t.schema}.${t.name}`).join(', ')}`;
  return undefined;
}

/** Input of the syncDatabase orchestration (the request's choices; `carried` only from its own continueAsNew). */
export interface SyncDatabaseInput {
  runId: string;
  namespace?: string;
  tables?: string[];
  flushIntervalMs: number;
  batchSeconds: number;
  /** What the previous execution handed on; absent in the first. */
  carried?: SyncCursor;
}

/** Input of the syncBatch activity. */
export interface SyncBatchInput {
  /** The sync's instance id: names its stop marker. */
  syncId: string;
  runId: string;
  namespace?: string;
  flushIntervalMs: number;
  batchSeconds: number;
}

/** One table's position after a batch. */
export interface SyncTableFigures {
  /** `schema.name` of the source table. */
  table: string;
  /** What the table holds everything up to ('X/Y'). */
  appliedLsn: string | undefined;
  changesApplied: number;
}

/** A table that stopped while the others went on, with why and where. */
export interface StoppedTable {
  table: string;
  reason: string;
  /** The position it holds everything up to ('X/Y'). */
  lsn: string | undefined;
}

/** What one syncBatch answers: figures, never changes. */
export interface SyncBatchResult {
  /** caught-up: applied all the source had when the batch began; stopped: its time was up or a stop was asked; failed: no table is running. */
  outcome: 'caught-up' | 'stopped' | 'failed';
  /** The sync's stop marker was found: no more batches. */
  stopRequested: boolean;
  changesApplied: number;
  /** How long the batch streamed, by the activity's own clock. */
  elapsedMs: number;
  tables: SyncTableFigures[];
  confirmedLsn: string | undefined;
  lagBytes: number | undefined;
  lagSeconds: number | undefined;
  /** Tables stopped by their own failure (in this batch or before) while the others went on. */
  stoppedTables: StoppedTable[];
  /** The batch found the sync's tables already open in its process (their key index kept from an earlier batch). */
  tablesReused: number;
}

/** What one execution of syncDatabase hands the next: figures for the status, never changes. */
export interface SyncCursor {
  /** Executions so far, this one included. */
  execution: number;
  batches: number;
  changesApplied: number;
  /** When the sync's first execution started (the orchestration's replay-safe clock). */
  startedAt: string;
  lastBatch?: LastBatch;
  stoppedTables: StoppedTable[];
}

/** The figures of the most recent batch. */
export interface LastBatch {
  at: string;
  changesApplied: number;
  changesPerSecond: number;
  confirmedLsn: string | undefined;
  lagBytes: number | undefined;
  lagSeconds: number | undefined;
  tables: SyncTableFigures[];
  tablesReused: number;
}

/** Phases a sync goes through. */
export type SyncPhase = 'starting' | 'syncing' | 'idle' | 'stopped' | 'all-tables-stopped' | 'failed';

/** The syncDatabase orchestration's custom status, and the body of `GET /api/syncs/{id}` around it. */
export interface SyncStatus {
  phase: SyncPhase;
  runId: string;
  execution: number;
  batches: number;
  changesApplied: number;
  startedAt: string;
  lastBatchAt?: string;
  changesPerSecond?: number;
  lagBytes?: number;
  lagSeconds?: number;
  confirmedLsn?: string;
  /** Each table's applied position, as many as fit the status's budget; the rest are counted in `tablesOmitted`. */
  tables: Array<{ table: string; appliedLsn: string | undefined }>;
  tablesOmitted: number;
  stoppedTables: StoppedTable[];
  /** Stopped tables beyond those listed. */
  stoppedTablesOmitted: number;
  lastError?: string;
}

/**
 * Characters of per-table positions a status carries: with the rest of the status (five stopped tables, the last
 * error, all cut short) under 2,500 characters, the whole stays below 10 KB as UTF-16, well inside Azure's 16 KB
 * custom status limit, whatever the number of tables (measured in test/run/sync-run.test.ts).
 */
export const STATUS_TABLES_BUDGET = 2_500;
/** Stopped tables listed, and the length their names and reasons are cut to. */
export const STATUS_STOPPED_TABLES = 5;
const STOPPED_NAME_LENGTH = 130;
const STOPPED_REASON_LENGTH = 150;
const LAST_ERROR_LENGTH = 300;

/** The cursor a sync's first execution starts from. */
export function firstCursor(startedAt: string): SyncCursor {
  return { execution: 1, batches: 0, changesApplied: 0, startedAt, stoppedTables: [] };
}

/** The cursor after a batch that answered `result` at `at` (tables that stopped are added once). */
export function afterBatch(cursor: SyncCursor, result: SyncBatchResult, at: string): SyncCursor {
  // A batch that found the stop marker before it opened anything has no figures: the last batch's stay.
  if (result.tables.length === 0 && result.stoppedTables.length === 0) return cursor;
  const stopped = [...cursor.stoppedTables];
  for (const table of result.stoppedTables) {
    const at = stopped.findIndex((s) => s.table === table.table);
    if (at >= 0) stopped[at] = table;
    else stopped.push(table);
  }
  const seconds = result.elapsedMs / 1000;
  return {
    ...cursor,
    batches: cursor.batches + 1,
    changesApplied: cursor.changesApplied + result.changesApplied,
    stoppedTables: stopped,
    lastBatch: {
      at,
      changesApplied: result.changesApplied,
      changesPerSecond: seconds > 0 ? Math.round((result.changesApplied / seconds) * 10) / 10 : 0,
      confirmedLsn: result.confirmedLsn,
      lagBytes: result.lagBytes,
      lagSeconds: result.lagSeconds,
      tables: result.tables.map((t) => ({ table: t.table, appliedLsn: t.appliedLsn, changesApplied: t.changesApplied })),
      tablesReused: result.tablesReused,
    },
  };
}

/** True when every table of the sync has stopped (and there was at least one). */
export function allTablesStopped(cursor: SyncCursor): boolean {
  const tables = cursor.lastBatch?.tables ?? [];
  return tables.length > 0 && tables.every((t) => cursor.stoppedTables.some((s) => s.table === t.table));
}

/** The custom status for `cursor` in `phase`: bounded in size whatever the number of tables or the reasons' length. */
export function syncStatusOf(runId: string, cursor: SyncCursor, phase: SyncPhase, lastError?: string): SyncStatus {
  const last = cursor.lastBatch;
  const tables: SyncStatus['tables'] = [];
  let used = 0;
  for (const t of last?.tables ?? []) {
    const entry = { table: t.table, appliedLsn: t.appliedLsn };
    used += JSON.stringify(entry).length + 1;
    if (used > STATUS_TABLES_BUDGET) break;
    tables.push(entry);
  }
  const status: SyncStatus = {
    phase,
    runId,
    execution: cursor.execution,
    batches: cursor.batches,
    changesApplied: cursor.changesApplied,
    startedAt: cursor.startedAt,
    tables,
    tablesOmitted: (last?.tables.length ?? 0) - tables.length,
    stoppedTables: cursor.stoppedTables
      .slice(0, STATUS_STOPPED_TABLES)
      .map((s) => ({ table: shortReason(s.table, STOPPED_NAME_LENGTH), reason: shortReason(s.reason, STOPPED_REASON_LENGTH), lsn: s.lsn })),
    stoppedTablesOmitted: Math.max(0, cursor.stoppedTables.length - STATUS_STOPPED_TABLES),
  };
  if (last) {
    status.lastBatchAt = last.at;
    status.changesPerSecond = last.changesPerSecond;
    if (last.lagBytes !== undefined) status.lagBytes = last.lagBytes;
    if (last.lagSeconds !== undefined) status.lagSeconds = Math.round(last.lagSeconds * 10) / 10;
    if (last.confirmedLsn !== undefined) status.confirmedLsn = last.confirmedLsn;
  }
  if (lastError !== undefined) status.lastError = shortReason(lastError, LAST_ERROR_LENGTH);
  return status;
}

/** How long an idle sync waits between batches that found nothing to apply. */
export const IDLE_PAUSE_MS = 5_000;

/** When the pause after an idle batch ends: `now` plus IDLE_PAUSE_MS (deterministic, for a durable timer). */
export function idlePauseEnd(now: Date): Date {
  return new Date(now.getTime() + IDLE_PAUSE_MS);
}
