/**
 * The snapshot a whole migration reads, held open on a connection of its own, as parallel pg_dump does: a
 * REPEATABLE READ READ ONLY transaction exports its snapshot, every copy's transaction imports it (SET TRANSACTION
 * SNAPSHOT), and ACCESS SHARE locks on the tables being copied make DDL on them wait for the copy. The snapshot is
 * server-side state that lives exactly as long as this transaction, so the holder keeps it alive with a light
 * periodic query and lets the server end it (idle_in_transaction_session_timeout) when this process freezes.
 */
import type { Client } from 'pg';
import { IcebridgeError, errorMessage } from '../errors';
import { clientTarget } from './connection';
import { displayQualified, quoteQualified } from './identifiers';
import { sqlState, toPostgresError } from './postgres-errors';
import { beginSnapshotTransaction, exportSnapshot } from './snapshot-transaction';

/** A table the holder locks: schema and name as pg_catalog spells them. */
export interface HeldTable {
  schema: string;
  name: string;
}

/** Options of `SnapshotHolder.open`. */
export interface OpenSnapshotHolderOptions {
  /**
   * Start from a snapshot another connection exported (a replication slot's `SNAPSHOT 'export'`) instead of a new
   * one: the holder imports it and exports it again, so it outlives the connection that made it.
   */
  adoptSnapshotId?: string;
  /** How often the holder's connection is used while it waits (default 20 s). */
  keepaliveInMs?: number;
  /** The session's idle_in_transaction_session_timeout; must exceed the keepalive period (default 4 keepalives). */
  idleTimeoutInMs?: number;
  /** Called on every keepalive; true ends the holder (a cancelled run, a release asked for by another process). */
  shouldRelease?: () => Promise<boolean>;
}

/** The snapshot could not be imported any more: its holder's transaction ended (process gone, connection lost). */
export class SnapshotLostError extends IcebridgeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SNAPSHOT_LOST', message, options);
  }
}

/** A table could not be locked without waiting: DDL is queued on it behind the migration's own lock. */
export class TableLockedError extends IcebridgeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('TABLE_LOCKED_BY_DDL', message, options);
  }
}

/** The holder could not be started for a reason a retry will not change (privileges, a pooler, a standby). */
export class SnapshotRefusedError extends IcebridgeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SNAPSHOT_REFUSED', message, options);
  }
}

const DEFAULT_KEEPALIVE_MS = 20_000;

/** One open snapshot-holding transaction. */
export class SnapshotHolder {
  /** The exported snapshot id other connections import. */
  readonly snapshotId: string;
  private readonly client: Client;
  private readonly timer: NodeJS.Timeout;
  private readonly locked = new Set<string>();
  private ended = false;

  private constructor(client: Client, snapshotId: string, keepaliveInMs: number, shouldRelease: OpenSnapshotHolderOptions['shouldRelease']) {
    this.client = client;
    this.snapshotId = snapshotId;
    // The connection stays quiet otherwise; a failed keepalive means the snapshot is gone, and copies importing
    // it will say so.
    this.timer = setInterval(() => {
      void (async () => {
        // A storage hiccup while looking for a release is not a reason to drop the snapshot; the next tick looks again.
        if (shouldRelease && (await shouldRelease().catch(() => false))) return this.release();
        try {
          if (!this.ended) await this.client.query('SELECT 1');
        } catch {
          await this.release();
        }
      })();
    }, keepaliveInMs);
    this.timer.unref();
    client.once('end', () => {
      this.ended = true;
      clearInterval(this.timer);
    });
  }

  /**
   * Opens the holding transaction on `client` (which the holder then owns and closes) and exports its snapshot.
   * A server that refuses to export or to adopt is a SnapshotRefusedError; a lost connection stays retryable.
   */
  static async open(client: Client, options: OpenSnapshotHolderOptions = {}): Promise<SnapshotHolder> {
    const keepaliveInMs = options.keepaliveInMs ?? DEFAULT_KEEPALIVE_MS;
    const idleTimeoutInMs = Math.max(options.idleTimeoutInMs ?? keepaliveInMs * 4, keepaliveInMs * 2);
    try {
      // A frozen process must not hold back the server's xmin for ever: the server ends the transaction then.
      await client.query(`SET idle_in_transaction_session_timeout = ${Math.round(idleTimeoutInMs)}`);
      await beginSnapshotTransaction(client, options.adoptSnapshotId === undefined ? {} : { snapshotId: options.adoptSnapshotId });
      const snapshotId = await exportSnapshot(client);
      return new SnapshotHolder(client, snapshotId, keepaliveInMs, options.shouldRelease);
    } catch (error) {
      await client.end().catch(() => undefined);
      if (error instanceof IcebridgeError && error.retryable) throw error;
      throw new SnapshotRefusedError(`the source cannot share one snapshot between connections: ${errorMessage(error)}`, { cause: error });
    }
  }

  /** Whether the holding transaction is still open as far as this process knows. */
  get alive(): boolean {
    return !this.ended;
  }

  /**
   * Takes ACCESS SHARE locks on `tables` (and, through them, their partitions and children) for the rest of the
   * transaction, waiting as pg_dump does: DDL already running finishes first, later DDL waits for the release.
   */
  async lock(tables: readonly HeldTable[]): Promise<void> {
    const fresh = tables.filter((t) => !this.locked.has(quoteQualified(t.schema, t.name)));
    if (fresh.length === 0) return;
    const names = fresh.map((t) => quoteQualified(t.schema, t.name));
    try {
      await this.client.query(`LOCK TABLE ${names.join(', ')} IN ACCESS SHARE MODE`);
    } catch (error) {
      throw toPostgresError(error, { operation: 'LOCK TABLE', target: clientTarget(this.client) });
    }
    for (const name of names) this.locked.add(name);
  }

  /** Runs `fn` on the holder's connection, inside its snapshot (reads only: the transaction is READ ONLY). */
  async read<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    return fn(this.client);
  }

  /** Ends the transaction (the snapshot and the locks go with it) and closes the connection; idempotent. */
  async release(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    await this.client.end().catch(() => undefined);
  }
}

/**
 * LOCK … IN ACCESS SHARE MODE NOWAIT before reading, the table with its partitions or children (the partition read
 * is one of them): when DDL waits on the run's own lock, a plain lock (or the COPY's) would queue behind it and
 * stall the copy for good (pg_dump's lock queue hazard). The table fails instead.
 */
export async function lockWithoutWaiting(client: Client, relation: HeldTable): Promise<void> {
  try {
    await client.query(`LOCK TABLE ${quoteQualified(relation.schema, relation.name)} IN ACCESS SHARE MODE NOWAIT`);
  } catch (error) {
    if (!isLockNotAvailable(error)) throw error;
    throw new TableLockedError(
      `${displayQualified(relation.schema, relation.name)}: DDL (ALTER TABLE or similar) is waiting on the table while it is being copied; the table is not copied so that the DDL is not blocked, and can be migrated again once it is done`,
      { cause: error },
    );
  }
}

/**
 * Whether `error` says the imported snapshot no longer exists: its holder is gone. The server says 42704
 * `snapshot "…" does not exist`, or 22023 `invalid snapshot identifier`; nothing else is this.
 */
export function isSnapshotGone(error: unknown): boolean {
  let inner: unknown = error;
  for (let depth = 0; inner !== undefined && inner !== null && depth < 5; depth++) {
    const state = sqlState(inner);
    if ((state === '22023' || state === '42704') && /snapshot/i.test(errorMessage(inner))) return true;
    inner = (inner as { cause?: unknown }).cause;
  }
  return false;
}

/** Whether `error` is 55P03 lock_not_available, anywhere in its causes. */
export function isLockNotAvailable(error: unknown): boolean {
  let inner: unknown = error;
  for (let depth = 0; inner !== undefined && inner !== null && depth < 5; depth++) {
    if (sqlState(inner) === '55P03') return true;
    inner = (inner as { cause?: unknown }).cause;
  }
  return false;
}

interface Held {
  generation: number;
  holder: SnapshotHolder;
}

/** The holders of this process, by run id: one per generation (a later generation replaces a lost snapshot). */
const registry = new Map<string, Held[]>();
/** Holders being opened, by run id and generation. */
const openings = new Map<string, Promise<SnapshotHolder>>();

/**
 * The run's live holder of `generation` in this process, opened with `open` when there is none (activities run
 * at least once: a second planning of the same run finds the first one's holder and shares its snapshot).
 */
export async function holdSnapshot(runId: string, generation: number, open: () => Promise<SnapshotHolder>): Promise<SnapshotHolder> {
  const existing = (registry.get(runId) ?? []).find((h) => h.holder.alive && h.generation === generation);
  if (existing) return existing.holder;
  // Tables asking at once for the same generation wait for one opening instead of each taking a snapshot.
  const key = `${runId}\u0000${generation}`;
  let opening = openings.get(key);
  if (!opening) {
    opening = open()
      .then((holder) => {
        registry.set(runId, [...(registry.get(runId) ?? []).filter((h) => h.holder.alive), { generation, holder }]);
        return holder;
      })
      .finally(() => openings.delete(key));
    openings.set(key, opening);
  }
  return opening;
}

/** Releases every holder of the run in this process; returns how many were open. Idempotent. */
export async function releaseSnapshots(runId: string): Promise<number> {
  const held = registry.get(runId) ?? [];
  registry.delete(runId);
  const open = held.filter((h) => h.holder.alive).length;
  await Promise.all(held.map((h) => h.holder.release()));
  return open;
}

/** The live holder of `snapshotId` in this process, if it is here. */
export function localHolder(snapshotId: string): SnapshotHolder | undefined {
  for (const held of registry.values()) {
    const found = held.find((h) => h.holder.alive && h.holder.snapshotId === snapshotId);
    if (found) return found.holder;
  }
  return undefined;
}

/** Run ids with a live holder in this process (for tests and diagnostics). */
export function heldRuns(): string[] {
  return [...registry].filter(([, held]) => held.some((h) => h.holder.alive)).map(([runId]) => runId);
}
