/**
 * Writes to an Iceberg table through the router, micro-batched: the saves and deletes that arrive within a short
 * window (`windowMs`, default 200 ms, or until `maxRows` writes wait) become ONE commit of the table, made by the
 * change-capture applier (`applyChanges`: position deletes of the old row versions found through the key index,
 * plus appended rows), not by a second writer. Each caller's promise settles only with the commit that holds its
 * write: resolved once it landed, rejected with the commit's error when it failed. Commits of one table are made
 * one after the other.
 *
 * Such a commit does NOT record `icebridge.cdc.lsn` (that property means "source changes applied up to here", and
 * these writes are not source changes): it records `icebridge.router.batch-id`. Change capture's position and the
 * default start of reverse replay (the newest snapshot change capture wrote) therefore stay where change capture
 * left them, and a replay from there carries every router write back to PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { ABSENT, type ChangeEvent, type ChangeRow, type RowChange, UNCHANGED } from '../cdc/change-decoder';
import { CommitStateUnknownError, IcebridgeError, ValidationError, errorMessage } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import type { TableMetadata } from '../iceberg/spec/table-metadata';
import type { PrimitiveType } from '../iceberg/spec/types';
import type { Value } from '../iceberg/spec/values';
import { type SyncTable, applyChanges, openSyncTable } from '../sync/apply-changes';
import { type IndexKey, buildKeyIndex } from '../sync/key-index';
import { SyncWritingError } from '../restore/table-rollback';
import { changeCaptureInCharge, takeOverFromChangeCapture } from './change-capture-guard';
import { type RecordRow, type TableShape, keyNames } from './table-shape';

/** The snapshot summary property of the router's commits: the micro-batch's id. */
export const ROUTER_BATCH_PROPERTY = 'icebridge.router.batch-id';

/** How writes are gathered into commits. */
export interface IcebergWriteSettings {
  /** How long the first write of a batch waits for others (default 200 ms). */
  windowMs?: number;
  /** A batch is committed at once when this many writes wait (default 1000). */
  maxRows?: number;
}

type Pending = { kind: 'save'; row: RecordRow; settle: Settle<void> } | { kind: 'delete'; key: Value[]; settle: Settle<boolean> };

interface Settle<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

/** A micro-batch whose commit failed (or whose outcome is unknown): every write in it gets this error. */
export class IcebergWriteError extends IcebridgeError {
  constructor(message: string, cause: unknown) {
    super(isUnknownOutcome(cause) ? 'ICEBERG_WRITE_UNKNOWN' : 'ICEBERG_WRITE_FAILED', message, {
      cause,
      retryable: cause instanceof IcebridgeError && cause.retryable && !isUnknownOutcome(cause),
    });
  }
}

function isUnknownOutcome(cause: unknown): boolean {
  return cause instanceof CommitStateUnknownError;
}

/** What the writer tells its owner after each commit. */
export interface CommitReport {
  writes: number;
  committed: boolean;
}

/** A table's micro-batched Iceberg writer. */
export class IcebergWriter {
  private table: SyncTable | undefined;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly windowMs: number;
  private readonly maxRows: number;

  constructor(
    private readonly pool: Pool,
    private readonly catalog: Catalog,
    readonly id: TableIdentifier,
    private readonly shape: TableShape,
    settings: IcebergWriteSettings = {},
    private readonly onCommit: (report: CommitReport) => void = () => undefined,
  ) {
    this.windowMs = settings.windowMs ?? 200;
    this.maxRows = settings.maxRows ?? 1000;
    if (!Number.isFinite(this.windowMs) || this.windowMs < 0) throw new ValidationError('windowMs must be a number of milliseconds, 0 or more');
    if (!Number.isSafeInteger(this.maxRows) || this.maxRows < 1) throw new ValidationError('maxRows must be a positive integer');
  }

  /** Inserts the row or updates the row with its key; resolves once the commit holding it landed. */
  save(row: RecordRow): Promise<void> {
    // Checked now, so one caller's bad value fails that caller alone, not the batch it would have joined.
    icebergRow(this.shape, row);
    return new Promise((resolve, reject) => this.enqueue({ kind: 'save', row, settle: { resolve, reject } }));
  }

  /** Deletes the row with the key; resolves true when there was one, once the commit landed. */
  delete(key: Value[]): Promise<boolean> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'delete', key, settle: { resolve, reject } }));
  }

  /** Commits what waits now, and resolves when every commit asked for so far is made (or failed). */
  flush(): Promise<void> {
    this.commitPending();
    return this.chain;
  }

  /** True when change capture is in charge of the table: its sync carries PostgreSQL's writes there. */
  async underChangeCapture(): Promise<boolean> {
    return changeCaptureInCharge((await this.catalog.loadTable(this.id)).metadata) !== undefined;
  }

  private enqueue(write: Pending): void {
    this.pending.push(write);
    if (this.pending.length >= this.maxRows) this.commitPending();
    else this.timer ??= setTimeout(() => this.commitPending(), this.windowMs);
  }

  private commitPending(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.chain = this.chain.then(() => this.commit(batch));
  }

  /** Commits one batch and settles its writers; never rejects. */
  private async commit(batch: Pending[]): Promise<void> {
    const batchId = randomUUID();
    try {
      const metadata = await this.prepare();
      const { events, results } = this.changes(batch, metadata);
      let committed = false;
      if (events.length > 2) {
        const result = await applyChanges({ catalog: this.catalog }, this.table!, events, {
          property: ROUTER_BATCH_PROPERTY,
          value: batchId,
          operationId: `icebridge-router-${batchId}`,
        });
        committed = result.committed;
      }
      safely(() => this.onCommit({ writes: batch.length, committed }));
      batch.forEach((write, i) => {
        const result = results[i]!;
        if (result instanceof Error) write.settle.reject(result);
        else if (write.kind === 'save') write.settle.resolve();
        else write.settle.resolve(result);
      });
    } catch (error) {
      // The index may no longer be the table's: the next batch opens the table again.
      this.table = undefined;
      const reason =
        error instanceof CommitStateUnknownError
          ? `the outcome of the commit is unknown (read the rows back before writing them again): ${errorMessage(error)}`
          : `the commit failed, nothing of it was written: ${errorMessage(error)}`;
      // A refusal (change capture still writes the table) is passed on as it is: nothing was attempted.
      const failure =
        error instanceof SyncWritingError
          ? error
          : new IcebergWriteError(`table ${this.shape.name}: ${batch.length} write(s) to Iceberg in batch ${batchId}: ${reason}`, error);
      for (const write of batch) write.settle.reject(failure);
    }
  }

  /** The table opened (the router as its only writer) with a key index of its current snapshot. */
  private async prepare(): Promise<TableMetadata> {
    let { metadata } = await this.catalog.loadTable(this.id);
    if (await takeOverFromChangeCapture(this.pool, this.catalog, this.id, this.shape.name, metadata)) {
      metadata = (await this.catalog.loadTable(this.id)).metadata;
    }
    if (this.table === undefined) {
      const source = { schema: this.shape.table.schema, name: this.shape.table.name };
      this.table = await openSyncTable({ catalog: this.catalog }, this.id, source, {
        keyColumns: keyNames(this.shape),
        rowColumns: this.shape.mapping.schema.fields.map((f) => f.name),
      });
    } else if (this.table.snapshotId !== metadata['current-snapshot-id']) {
      // Another writer committed (a compaction, a replay's marker): the index must be the snapshot's.
      this.table.index = await buildKeyIndex(this.catalog.io, metadata, this.table.index.keyColumns);
      this.table.snapshotId = metadata['current-snapshot-id'];
    }
    return metadata;
  }

  /**
   * The batch as one transaction of changes, deciding insert or update by whether the key is live (in the table,
   * or after the batch's earlier writes); a write that cannot be made fails alone (its result is the error).
   */
  private changes(batch: Pending[], metadata: TableMetadata): { events: ChangeEvent[]; results: Array<boolean | Error | undefined> } {
    const table = this.table!;
    if (table.snapshotId !== metadata['current-snapshot-id']) throw new ValidationError('the table moved while the batch was prepared');
    // A key's state after the batch's earlier writes; the index knows the rest.
    const live = new Map<IndexKey, boolean>();
    const isLive = (row: ChangeRow): boolean => {
      const key = table.index.keyText(row as Value[]);
      return live.get(key) ?? table.index.location(key, 0) !== undefined;
    };
    const setLive = (row: ChangeRow, value: boolean): void => void live.set(table.index.keyText(row as Value[]), value);
    const events: ChangeEvent[] = [{ kind: 'begin', finalLsn: 1n, commitTime: 0n, xid: 1 }];
    const results: Array<boolean | Error | undefined> = [];
    for (const write of batch) {
      try {
        const change = this.change(write, isLive);
        results.push(write.kind === 'delete' ? change !== undefined : undefined);
        if (change === undefined) continue;
        events.push({ kind: 'change', change });
        setLive(change.op === 'delete' ? change.before : change.after, change.op !== 'delete');
      } catch (error) {
        results.push(error instanceof Error ? error : new Error(String(error)));
      }
    }
    events.push({ kind: 'commit', commitLsn: 1n, endLsn: 1n, commitTime: 0n });
    return { events, results };
  }

  private change(write: Pending, isLive: (row: ChangeRow) => boolean): Extract<RowChange, { op: 'insert' | 'update' | 'delete' }> | undefined {
    const table = { schema: this.shape.table.schema, name: this.shape.table.name };
    if (write.kind === 'delete') {
      const before = keyRow(this.shape, write.key);
      return isLive(before) ? { op: 'delete', table, before, beforeKind: 'key' } : undefined;
    }
    const after = icebergRow(this.shape, write.row);
    if (isLive(after)) return { op: 'update', table, before: undefined, beforeKind: undefined, after };
    const missing = this.shape.mapping.columns.filter((_, i) => after[i] === UNCHANGED).map((c) => c.name);
    if (missing.length > 0) {
      throw new ValidationError(
        `table ${this.shape.name}: a new row written to Iceberg must give every column (PostgreSQL's defaults are not applied there); missing ${missing.join(', ')}`,
      );
    }
    return { op: 'insert', table, after };
  }
}

/** A key as a change row: the key columns' values, every other column absent. */
function keyRow(shape: TableShape, key: readonly Value[]): ChangeRow {
  const row: ChangeRow = shape.mapping.columns.map(() => ABSENT);
  shape.key.forEach((index, n) => (row[index] = checkedValue(shape, index, key[n] ?? null)));
  return row;
}

/** A record as a change row in the table's column order: a column left out keeps its value (UNCHANGED). */
export function icebergRow(shape: TableShape, record: RecordRow): ChangeRow {
  const known = new Set(shape.mapping.columns.map((c) => c.name));
  const unknown = Object.keys(record).filter((name) => !known.has(name));
  if (unknown.length > 0) throw new ValidationError(`table ${shape.name} has no column ${unknown.join(', ')}`);
  const row = shape.mapping.columns.map((c, i): Value | typeof UNCHANGED => (c.name in record ? checkedValue(shape, i, record[c.name] ?? null) : UNCHANGED));
  for (const index of shape.key) {
    if (row[index] === UNCHANGED || row[index] === null)
      throw new ValidationError(`table ${shape.name}: the row has no value for key column ${shape.mapping.columns[index]!.name}`);
  }
  return row;
}

/**
 * The value in the representation Iceberg holds for the column's type (64-bit kinds as bigint, 32-bit ones as
 * number); a value of another kind is refused rather than written as something else.
 */
function checkedValue(shape: TableShape, index: number, value: Value): Value {
  if (value === null) return null;
  const field = shape.mapping.schema.fields[index]!;
  const type = field.type;
  if (typeof type !== 'string') return value;
  const wrong = (): never => {
    throw new ValidationError(`table ${shape.name}: column ${field.name} (${type}) cannot hold a ${value instanceof Uint8Array ? 'byte array' : typeof value}`);
  };
  const primitive = type as PrimitiveType;
  if (primitive === 'long' || primitive === 'time' || primitive === 'timestamp' || primitive === 'timestamptz' || primitive.startsWith('decimal')) {
    if (typeof value === 'bigint') return value;
    // A decimal is its unscaled integer: a JavaScript number would be ambiguous about its scale.
    if (typeof value === 'number' && Number.isSafeInteger(value) && !primitive.startsWith('decimal')) return BigInt(value);
    return wrong();
  }
  if (primitive === 'int' || primitive === 'date') {
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'bigint' && value >= -(2n ** 31n) && value < 2n ** 31n) return Number(value);
    return wrong();
  }
  if (primitive === 'float' || primitive === 'double') return typeof value === 'number' ? value : wrong();
  if (primitive === 'boolean') return typeof value === 'boolean' ? value : wrong();
  if (primitive === 'string' || primitive === 'uuid') return typeof value === 'string' ? value : wrong();
  if (primitive === 'binary' || primitive.startsWith('fixed')) return value instanceof Uint8Array ? value : wrong();
  return value;
}

/** An observer's failure never fails a write. */
function safely(call: () => void): void {
  try {
    call();
  } catch {
    // The writers' outcome matters more than a failing observer.
  }
}
