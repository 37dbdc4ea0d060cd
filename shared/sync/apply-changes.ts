/**
 * Applies a micro-batch of decoded changes to one Iceberg table in ONE commit: inserts become new data files
 * (through the table writer, as the copy writes them), updates and deletes become position deletes of the row's
 * current location (from the key index) plus the new row, a truncate replaces the whole table. The commit's
 * summary records the batch's last end LSN, and transactions at or before the table's recorded LSN are skipped,
 * so a batch replayed after a crash between commit and confirmation applies nothing twice.
 */
import { randomUUID } from 'node:crypto';
import { ABSENT, type ChangeEvent, type ChangeRow, type RowChange, type TableBinding, type TableName, UNCHANGED } from '../cdc/change-decoder';
import { type Lsn, formatLsn } from '../cdc/lsn';
import { CommitStateUnknownError, ValidationError } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import { readDataFile } from '../iceberg/parquet/parquet-reader';
import type { DataFile } from '../iceberg/spec/manifest';
import { type TableMetadata, currentSchema, defaultSpec } from '../iceberg/spec/table-metadata';
import type { Row, Value } from '../iceberg/spec/values';
import { rowDelta } from '../iceberg/transaction/row-delta';
import { type SnapshotResult, overwrite } from '../iceberg/transaction/table-operations';
import { type PositionDelete, writePositionDeletes } from '../iceberg/writer/delete-writer';
import { TableWriter } from '../iceberg/writer/table-writer';
import { displayQualified } from '../postgres/identifiers';
import { boundedText } from '../text/bounded-text';
import { CDC_LSN_PROPERTY } from '../cdc/lsn';
import { appliedLsn } from './applied-lsn';
import { NewRows } from './new-rows';
import { addSyncColumns, appliedColumns, takeOnColumns } from './evolve-table';
import { type IndexKey, type IndexedFile, KeyIndex, type RowLocation, buildKeyIndex, keyDisplay } from './key-index';

/** What the applier needs of the run's environment. */
export interface SyncEnvironment {
  catalog: Catalog;
}

/** A table under change capture: its Iceberg identifier, its source name and its key index. */
export interface SyncTable {
  id: TableIdentifier;
  source: TableName;
  /** False for a table without a key (REPLICA IDENTITY FULL): the whole row is the key, repeats allowed. */
  keyed: boolean;
  index: KeyIndex;
  /**
   * The snapshot the index reflects. Another writer's commit (a second process on the slot, a compaction, a
   * commit that landed in an attempt reported as failed) moves the table past it: the index is then built again
   * before it is used, since a position delete from a stale index would delete the wrong row or none.
   */
  snapshotId: bigint | undefined;
  /** The columns the table's changes carry now: the Iceberg table's, or its first ones while it is ahead of them. */
  columns: string[];
}

/** What one applyChanges call did. */
export interface ApplyResult {
  /** True when a snapshot was committed (false: nothing to apply, or the batch's changes cancelled out). */
  committed: boolean;
  snapshotId?: bigint;
  /** End LSN of the last transaction of the batch (applied or skipped): the caller may confirm it after this call. */
  through: Lsn | undefined;
  /** Transactions applied, and skipped because the table had applied them already. */
  transactions: number;
  skippedTransactions: number;
  /** Rows appended and rows deleted by position in the commit. */
  rowsAdded: number;
  rowsDeleted: number;
  truncated: boolean;
}

/**
 * A writer of the table other than change capture (the router, writing with Iceberg as the primary). Its commits
 * record `property` = `value` instead of `icebridge.cdc.lsn`, which means "source changes applied up to here" and
 * must not move for writes the source never made; no transaction is skipped by position, and a commit whose
 * outcome is unknown is found again by `operationId`.
 */
export interface OtherWriter {
  property: string;
  value: string;
  operationId: string;
}

/** How the changes of a table are shaped. */
export interface SyncTableColumns {
  /** The source key's column names (the replica identity); empty for a keyless table, keyed by every column. */
  keyColumns: readonly string[];
  /** The names of a change row's columns, in order (the mapping's schema, `mapping.schema.fields`). */
  rowColumns: readonly string[];
}

/**
 * Opens a table for applying changes: its key index built from the current snapshot. The change rows must have
 * the table's columns in the table's order (or its first ones, when the rest were added by a schema commit whose
 * rows are not committed yet); anything else is refused here rather than written to the wrong column.
 */
export async function openSyncTable(env: SyncEnvironment, id: TableIdentifier, source: TableName, shape: SyncTableColumns): Promise<SyncTable> {
  const { metadata } = await env.catalog.loadTable(id);
  const schema = currentSchema(metadata);
  const name = displayQualified(source.schema, source.name);
  const names = schema.fields.map((f) => f.name);
  if (shape.rowColumns.length > names.length || shape.rowColumns.some((n, i) => n !== names[i]) || appliedColumns(metadata).length > shape.rowColumns.length) {
    throw new ValidationError(
      `table ${name}: the changes carry columns (${shape.rowColumns.join(', ')}), the Iceberg table has (${names.join(', ')}); applying needs the same columns in the same order`,
    );
  }
  const columns =
    shape.keyColumns.length === 0
      ? shape.rowColumns.map((_, i) => i)
      : shape.keyColumns.map((key) => {
          const at = shape.rowColumns.indexOf(key);
          if (at < 0) throw new ValidationError(`table ${name}: key column ${key} is not in the Iceberg table`);
          return at;
        });
  return {
    id,
    source,
    keyed: shape.keyColumns.length > 0,
    index: await buildKeyIndex(env.catalog.io, metadata, columns),
    snapshotId: metadata['current-snapshot-id'],
    columns: [...shape.rowColumns],
  };
}

/** A table gaining columns (ADD COLUMN): the changes after it carry them. */
type RelationEvent = Extract<ChangeEvent, { kind: 'relation' }>;

interface Transaction {
  endLsn: Lsn;
  changes: Array<RowChange | RelationEvent>;
}

/**
 * Applies the batch's changes of `table` in one commit. The batch holds whole transactions (begin … commit); the
 * changes of other tables are ignored. Confirm `through` to the stream only after this returns.
 */
export async function applyChanges(env: SyncEnvironment, table: SyncTable, batch: readonly ChangeEvent[], writer?: OtherWriter): Promise<ApplyResult> {
  const { metadata } = await env.catalog.loadTable(table.id);
  const applied = writer === undefined ? appliedLsn(metadata) : undefined;
  const { transactions, through, skipped } = splitTransactions(batch, applied);
  const result: ApplyResult = {
    committed: false,
    through,
    transactions: transactions.length,
    skippedTransactions: skipped,
    rowsAdded: 0,
    rowsDeleted: 0,
    truncated: false,
  };
  if (transactions.length === 0) return result;
  if (metadata['current-snapshot-id'] !== table.snapshotId) {
    table.index = await buildKeyIndex(env.catalog.io, metadata, table.index.keyColumns);
    table.snapshotId = metadata['current-snapshot-id'];
  }
  const delta = new BatchDelta(env, table, metadata);
  for (const transaction of transactions) {
    for (const change of transaction.changes) {
      // Most changes need no read: no promise per change then, which was much of the fold's garbage.
      const reading = delta.apply(change);
      if (reading) await reading;
    }
  }
  const lastEnd = transactions[transactions.length - 1]!.endLsn;
  // Columns the source gained: the schema takes them on before any row that carries them is written.
  const evolved = delta.binding === undefined ? metadata : await addSyncColumns(env.catalog, table.id, delta.name(), delta.binding.mapping.schema.fields);
  const width = currentSchema(evolved).fields.length;
  // Rows from before the ADD COLUMN have no value for it: null, as Iceberg reads rows written before it.
  const { rows: newRows, keys } = delta.written();
  const rows = newRows.map((row) => (row.length < width ? [...row, ...new Array<Value>(width - row.length).fill(null)] : row));
  result.truncated = delta.truncated;
  result.rowsDeleted = delta.deletes.length;
  result.rowsAdded = rows.length;
  if (rows.length === 0 && delta.deletes.length === 0 && !delta.truncated) {
    table.columns = [...delta.columns];
    return result;
  }
  const committed = await commitDelta(env, table, evolved, lastEnd, rows, delta, writer);
  table.columns = [...delta.columns];
  result.committed = true;
  result.snapshotId = committed.result.snapshotId;
  // The index follows the table only once the commit is made: a failed commit leaves it as the table is.
  if (delta.truncated) table.index.clear();
  for (const [key, count] of delta.taken) table.index.remove(key, count);
  const after = committed.result.table.metadata;
  // One writer fills an unpartitioned table's files in turn, so the rows' positions are known without reading them back.
  const known = defaultSpec(evolved).fields.length === 0 && table.index.addWritten(keys, committed.dataFiles, after['default-spec-id']);
  if (!known) await table.index.addFiles(env.catalog.io, after, committed.dataFiles, after['default-spec-id']);
  // The index now reflects the new snapshot only if it was made on the one the index reflected: a commit rebased
  // on another writer's leaves the index unknown, and the next batch builds it again.
  const made = after.snapshots.find((s) => s['snapshot-id'] === committed.result.snapshotId);
  table.snapshotId = made?.['parent-snapshot-id'] === metadata['current-snapshot-id'] ? committed.result.snapshotId : undefined;
  return result;
}

/** The batch's transactions not yet applied (end LSN after `applied`), in order. */
function splitTransactions(
  batch: readonly ChangeEvent[],
  applied: Lsn | undefined,
): { transactions: Transaction[]; through: Lsn | undefined; skipped: number } {
  const transactions: Transaction[] = [];
  let open: Transaction['changes'] | undefined;
  let through: Lsn | undefined;
  let skipped = 0;
  for (const event of batch) {
    if (event.kind === 'begin') {
      if (open) throw new ValidationError('a transaction begins inside another one: the batch is not whole transactions');
      open = [];
    } else if (event.kind === 'change' || event.kind === 'relation') {
      if (!open) throw new ValidationError('a change outside a transaction: the batch is not whole transactions');
      open.push(event.kind === 'change' ? event.change : event);
    } else if (event.kind === 'commit') {
      if (!open) throw new ValidationError('a commit without its begin: the batch is not whole transactions');
      if (applied !== undefined && event.endLsn <= applied) skipped++;
      else transactions.push({ endLsn: event.endLsn, changes: open });
      through = event.endLsn;
      open = undefined;
    }
  }
  // Half a transaction applied would be a state the source never had.
  if (open) throw new ValidationError('the batch ends inside a transaction: pass whole transactions');
  return { transactions, through, skipped };
}

/** A row a change replaces: new in the batch (the row itself), or in the table (where it lives). */
type Replaced = { row: Row } | { location: RowLocation };

/** The net effect of a batch on one table, built change by change: rows to append and existing rows to delete. */
class BatchDelta {
  /** Rows new in this batch, by key (several for a keyless table's repeated rows). */
  private readonly pending: NewRows;
  /** Existing rows deleted, by key: how many of the key's index locations (oldest first). */
  readonly taken = new Map<IndexKey, number>();
  readonly deletes: RowLocation[] = [];
  truncated = false;
  private readonly fileRows = new Map<string, Row[]>();
  /** The columns the changes carry at this point of the batch. */
  columns: string[];
  /** The table's binding after the last ADD COLUMN of the batch, if any. */
  binding: TableBinding | undefined;

  constructor(
    private readonly env: SyncEnvironment,
    private readonly table: SyncTable,
    private readonly metadata: TableMetadata,
  ) {
    this.columns = [...table.columns];
    this.pending = new NewRows(table.keyed);
  }

  /** Folds one change into the delta; later changes to a key win over earlier ones. A promise only when it reads a row. */
  apply(change: RowChange | RelationEvent): Promise<void> | undefined {
    if ('kind' in change) {
      if (this.isOurs(change.table)) this.addColumns(change.binding);
      return undefined;
    }
    if (change.op === 'truncate') {
      const unusable = change.unusable?.find((u) => this.isOurs(u.table));
      if (unusable !== undefined) throw unusable.error;
      if (change.tables.some((t) => this.isOurs(t))) this.truncate();
      return undefined;
    }
    if (!this.isOurs(change.table)) return undefined;
    if (change.op === 'unusable') throw change.error;
    if (change.op === 'insert') return this.addCompleted(change.after, undefined);
    if (change.op === 'delete') {
      this.remove(this.keyOf(change.before));
      return undefined;
    }
    const old = this.remove(this.keyOf(change.before ?? change.after));
    return this.addCompleted(change.after, old);
  }

  private addCompleted(after: ChangeRow, replaced: Replaced | undefined): Promise<void> | undefined {
    const row = this.complete(after, replaced);
    if (row instanceof Promise) return row.then((r) => this.add(r));
    this.add(row);
    return undefined;
  }

  /** Every row to append, and each one's key, in the same order. */
  written(): { rows: Row[]; keys: IndexKey[] } {
    const rows: Row[] = [];
    const keys: IndexKey[] = [];
    this.pending.collect(rows, keys);
    return { rows, keys };
  }

  /**
   * The table gained columns at the end. Rows already in it read null there (Iceberg v2 has no initial default),
   * so a column that gave them another value (a default, an identity) stops the table unless it holds no row.
   */
  private addColumns(binding: TableBinding): void {
    this.columns = takeOnColumns(this.name(), this.columns, binding, this.table.keyed, () => this.liveRows());
    this.binding = binding;
  }

  /** Rows the table holds at this point of the batch. */
  private liveRows(): number {
    let taken = 0;
    for (const count of this.taken.values()) taken += count;
    return (this.truncated ? 0 : this.table.index.rows - taken) + this.pending.size;
  }

  private isOurs(name: TableName): boolean {
    return name.schema === this.table.source.schema && name.name === this.table.source.name;
  }

  private truncate(): void {
    this.truncated = true;
    this.pending.clear();
    this.taken.clear();
    this.deletes.length = 0;
  }

  private keyOf(row: ChangeRow): IndexKey {
    for (const c of this.table.index.keyColumns) {
      const value = row[c];
      if (value === UNCHANGED || value === ABSENT || value === undefined) {
        throw new ValidationError(`table ${this.name()}: a change does not carry key column ${currentSchema(this.metadata).fields[c]!.name}`);
      }
    }
    return this.table.index.keyText(row as Value[]);
  }

  /**
   * The change's row with unchanged TOASTed values taken from the row it replaces. That row is read from its data
   * file only when a value is unchanged: a whole new row needs nothing of the old one, and is used as it came.
   */
  private complete(after: ChangeRow, replaced: Replaced | undefined): Row | Promise<Row> {
    if (after.length !== this.columns.length)
      throw new ValidationError(`table ${this.name()}: a change has ${after.length} columns, the table ${this.columns.length}`);
    let whole = true;
    for (const value of after) {
      if (value === UNCHANGED || value === ABSENT) {
        whole = false;
        break;
      }
    }
    if (whole) return after as Row;
    if (replaced === undefined || !after.includes(UNCHANGED)) return this.fill(after, undefined);
    if ('row' in replaced) return this.fill(after, replaced.row);
    return this.readRow(replaced.location).then((old) => this.fill(after, old));
  }

  /** The change's row with its unchanged values taken from `old`. */
  private fill(after: ChangeRow, old: Row | undefined): Row {
    return after.map((value, c) => {
      if (value === UNCHANGED) {
        if (!old)
          throw new ValidationError(
            `table ${this.name()}: an unchanged value of column ${currentSchema(this.metadata).fields[c]!.name} without a row to take it from`,
          );
        return old[c]!;
      }
      if (value === ABSENT) throw new ValidationError(`table ${this.name()}: a new row lacks column ${currentSchema(this.metadata).fields[c]!.name}`);
      return value;
    });
  }

  private add(row: Row): void {
    const key = this.table.index.keyText(row);
    if (this.table.keyed && (this.pending.has(key) || this.existing(key) !== undefined)) {
      throw new ValidationError(`table ${this.name()} already holds key ${boundedText(keyDisplay(key))}: an insert cannot add it again`);
    }
    this.pending.push(key, row);
  }

  /** Removes the current row of `key` (new in this batch, or in the table) and returns it, or where it lives. */
  private remove(key: IndexKey): Replaced {
    const row = this.pending.shift(key);
    if (row !== undefined) return { row };
    const location = this.existing(key);
    if (!location) throw new ValidationError(`table ${this.name()} holds no row with key ${boundedText(keyDisplay(key))}: the change cannot be applied`);
    this.taken.set(key, (this.taken.get(key) ?? 0) + 1);
    this.deletes.push(location);
    return { location };
  }

  /** The location of the next live row of `key` in the table, undefined when it holds none any more. */
  private existing(key: IndexKey): RowLocation | undefined {
    if (this.truncated) return undefined;
    return this.table.index.location(key, this.taken.get(key) ?? 0);
  }

  /** The full row at a location; each data file is read once per batch. */
  private async readRow(location: RowLocation): Promise<Row> {
    const file = this.table.index.file(location);
    let rows = this.fileRows.get(file.path);
    if (!rows) {
      rows = [];
      for await (const batch of readDataFile(this.env.catalog.io, file.path, currentSchema(this.metadata))) rows.push(...batch);
      this.fileRows.set(file.path, rows);
    }
    const row = rows[location.pos];
    if (!row) throw new ValidationError(`table ${this.name()}: ${file.path} has no row at position ${location.pos}`);
    return row;
  }

  /** The source table as displayed. */
  name(): string {
    return displayQualified(this.table.source.schema, this.table.source.name);
  }
}

/** Writes the delta's files and commits them in one snapshot recording `lastEnd`. */
async function commitDelta(
  env: SyncEnvironment,
  table: SyncTable,
  metadata: TableMetadata,
  lastEnd: Lsn,
  rows: Row[],
  delta: BatchDelta,
  writer: OtherWriter | undefined,
): Promise<{ result: SnapshotResult; dataFiles: DataFile[] }> {
  const io = env.catalog.io;
  const hex = lastEnd.toString(16).padStart(16, '0');
  // Fresh names per attempt: a retried batch never overwrites a file a concurrent reader may hold.
  const prefix = writer === undefined ? `cdc-${hex}-${randomUUID()}` : `router-${randomUUID()}`;
  const dataFiles: DataFile[] = [];
  const deleteFiles: DataFile[] = [];
  try {
    return await writeAndCommit(env, table, metadata, lastEnd, rows, delta, prefix, dataFiles, deleteFiles, writer);
  } catch (error) {
    // Known not committed: the batch's files are nobody's, remove them. Unknown: they may be the table's now.
    if (!(error instanceof CommitStateUnknownError)) {
      await Promise.all([...dataFiles, ...deleteFiles].map((f) => io.delete(f.filePath).catch(() => undefined)));
    }
    throw error;
  }
}

/** The body of commitDelta; the files it writes are pushed to `dataFiles` and `deleteFiles` as they are made. */
async function writeAndCommit(
  env: SyncEnvironment,
  table: SyncTable,
  metadata: TableMetadata,
  lastEnd: Lsn,
  rows: Row[],
  delta: BatchDelta,
  prefix: string,
  dataFiles: DataFile[],
  deleteFiles: DataFile[],
  writer: OtherWriter | undefined,
): Promise<{ result: SnapshotResult; dataFiles: DataFile[] }> {
  const io = env.catalog.io;
  const hex = lastEnd.toString(16).padStart(16, '0');
  if (rows.length > 0) {
    const writer = new TableWriter({ io, metadata, filePrefix: prefix });
    try {
      await writer.writeRows(rows);
      dataFiles.push(...(await writer.close()));
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }
  // The operation id makes a retried commit of this batch (an unknown outcome) find its snapshot, not add another.
  const common =
    writer === undefined
      ? { operationId: `icebridge-cdc-${hex}`, properties: { [CDC_LSN_PROPERTY]: formatLsn(lastEnd) } }
      : { operationId: writer.operationId, properties: { [writer.property]: writer.value } };
  if (delta.truncated) {
    // A truncate replaces the table: every data and delete file goes in metadata alone, whatever the table's
    // size, and readers stop reading dead rows (position deletes of every row would write a file as big as the keys).
    return { result: await overwrite(env.catalog, table.id, { ...common, deleteWhere: () => true, dataFiles }), dataFiles };
  }
  // By data file first: a file's partition text is made once, not once per deleted row.
  const byFile = new Map<number, { file: IndexedFile; deletes: PositionDelete[] }>();
  for (const location of delta.deletes) {
    let entry = byFile.get(location.file);
    if (!entry) {
      const file = table.index.file(location);
      byFile.set(location.file, (entry = { file, deletes: [] }));
    }
    entry.deletes.push({ filePath: entry.file.path, pos: BigInt(location.pos) });
  }
  const groups = new Map<string, { file: IndexedFile; deletes: PositionDelete[] }>();
  for (const { file, deletes } of byFile.values()) {
    const group = `${file.specId}:${JSON.stringify(file.partition, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))}`;
    const entry = groups.get(group);
    if (!entry) groups.set(group, { file, deletes });
    else for (const d of deletes) entry.deletes.push(d);
  }
  const specs = new Set([...groups.values()].map((g) => g.file.specId));
  if (specs.size > 1)
    throw new ValidationError(
      `table ${displayQualified(table.source.schema, table.source.name)}: deletes across partition specs ${[...specs].join(', ')} in one batch`,
    );
  let n = 0;
  for (const { file, deletes } of groups.values()) {
    deleteFiles.push(await writePositionDeletes(io, metadata, deletes, { partition: file.partition, specId: file.specId, filePrefix: `${prefix}-${n++}` }));
  }
  const referencedDataFiles = [...byFile.values()].map((entry) => entry.file.path);
  const result = await rowDelta(env.catalog, table.id, {
    ...common,
    dataFiles,
    deleteFiles,
    referencedDataFiles,
    ...(specs.size === 1 ? { deleteSpecId: [...specs][0]! } : {}),
  });
  return { result, dataFiles };
}
