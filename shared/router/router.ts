/**
 * The routing library for applications (`icebridge/router`): a repository per table whose reads go to PostgreSQL
 * or Iceberg as the cutover flags say, sticky per routing key, and whose writes go to the primary.
 *
 * - Reads: Iceberg when `use-iceberg-storage` is on and the routing key falls inside `iceberg-read-percentage`.
 *   With `validate-dual-writes` on, both sides are read and compared; the caller gets the primary's answer, a
 *   difference is counted and reported, and the secondary can never fail the caller (its errors are counted).
 * - Rows come back in one representation whichever side answered (shared/iceberg/spec/values.ts): the
 *   PostgreSQL side decodes with the copy's own decoders.
 * - Writes go to the primary: PostgreSQL, or Iceberg with `use-iceberg-as-primary` on (micro-batched commits,
 *   iceberg-writer.ts; refused while change capture writes the table). With `dual-write-mode` on, the router
 *   then writes the secondary itself, unless change capture is in charge of the table (it carries PostgreSQL's
 *   writes to Iceberg); a failed secondary write never fails the caller and goes to the durable reconciliation
 *   queue (reconcile-queue.ts), which `icebridge reconcile` drains.
 */
import { Pool } from 'pg';
import { ValidationError, errorMessage } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import { HadoopCatalog } from '../iceberg/catalog/hadoop-catalog';
import { type FileIOSettings, ResolvingFileIO } from '../iceberg/io';
import type { Value } from '../iceberg/spec/values';
import { FlagEvaluator, type RoutingDecision } from '../flags/flag-evaluator';
import type { FlagStore } from '../flags/flag-store';
import { describeTable } from '../postgres/introspect';
import { renderForComparison } from '../postgres/text-rendering';
import { IcebergSide } from './iceberg-side';
import { type IcebergWriteSettings, IcebergWriter } from './iceberg-writer';
import { type Conditions, deleteRow, selectRows, upsertRow } from './postgres-side';
import { SecondaryWrites } from './secondary-writes';
import { type RecordRow, type TableShape, columnIndex, comparableRow, keyNames, keyOf, keyValues, tableShape } from './table-shape';

/** Where the router reads and writes, and how it decides. */
export interface RouterOptions {
  /** PostgreSQL: a URL (the router keeps a pool of `max` connections, default 10) or a pool of the application's. */
  postgres: { url: string; max?: number } | { pool: Pool };
  /** The warehouse the tables were migrated into (a location, with storage settings for abfss://), or a catalog. */
  warehouse: string | Catalog;
  storage?: FileIOSettings;
  /** Iceberg namespace of the tables (default: each table's schema, as migrate). */
  namespace?: string;
  /** The flags: an evaluator, or a store to evaluate (with the default 30 s refresh). */
  flags: FlagEvaluator | FlagStore;
  /** Each read difference found by validation (default: a warning on the console, without values). */
  onDifference?: (difference: ReadDifference) => void;
  /** Each failure of the secondary side during validation (default: a warning on the console). */
  onSecondaryError?: (failure: SecondaryFailure) => void;
  /** How long Iceberg metadata is reused between reads (default 1000 ms). */
  metadataTtlMs?: number;
  /** How writes to Iceberg are gathered into commits (default: a 200 ms window, at most 1000 writes). */
  icebergWrites?: IcebergWriteSettings;
}

/** A validated read whose two answers differ. */
export interface ReadDifference {
  table: string;
  operation: 'findById' | 'find';
  /** The key (findById) or filter (find) as PostgreSQL prints the values. */
  lookup: string;
  primary: 'postgres' | 'iceberg';
  /** Rows only on the primary's side, only on the secondary's, and columns that differ in rows on both. */
  onlyPrimary: number;
  onlySecondary: number;
  columns: string[];
}

/** A secondary read that failed (the caller still got the primary's answer). */
export interface SecondaryFailure {
  table: string;
  side: 'postgres' | 'iceberg';
  /** A read (validation) or a dual write; a failed dual write was queued for reconciliation unless `queued` is false. */
  operation?: 'read' | 'write';
  queued?: boolean;
  error: string;
}

/** The router's counters since it was made. */
export interface RouterStats {
  reads: { postgres: number; iceberg: number };
  validatedReads: number;
  differences: number;
  secondaryFailures: number;
  /** Writes made on the primary. */
  writes: number;
  /** Commits the router made to Iceberg tables (each holds one micro-batch of writes). */
  icebergCommits: number;
  /** Dual writes to the secondary made, and failed. */
  secondaryWrites: number;
  secondaryWriteFailures: number;
  /** Failed secondary writes this router queued, and the entries waiting in the queues of its tables as last seen. */
  reconcile: { queued: number; depth: number };
}

/** Options of a read. */
export interface ReadOptions {
  /** What keeps this caller on one side (a customer or tenant id); default: the key (findById) or filter (find). */
  routingKey?: string;
}

/** A table's repository. */
export interface TableRepository {
  readonly name: string;
  /** The row with the key (one value, or values in key order), or undefined. */
  findById(key: Value | readonly Value[], options?: ReadOptions): Promise<RecordRow | undefined>;
  /** Rows whose columns equal the given values (null: IS NULL), in key order, at most `limit` (default 100). */
  find(where: RecordRow, options?: ReadOptions & { limit?: number }): Promise<RecordRow[]>;
  /**
   * Inserts the row, or updates the row with its key, on the primary. Columns left out take their defaults in a
   * new row and keep their values in an existing one; a NOT NULL column without a default must be given.
   */
  save(row: RecordRow): Promise<void>;
  /** Deletes the row with the key on the primary; true when there was one. */
  delete(key: Value | readonly Value[]): Promise<boolean>;
}

/** The router. */
export interface Router {
  /** The repository of `schema.table` (described from pg_catalog once, then kept). */
  table(name: string): Promise<TableRepository>;
  stats(): RouterStats;
  /** Ends the router's own pool (not an application's). */
  close(): Promise<void>;
}

/** Largest `limit` of `find`. */
export const MAX_FIND_LIMIT = 10_000;

/** Makes a router. */
export function createRouter(options: RouterOptions): Router {
  const ownPool = 'url' in options.postgres;
  const pool = 'url' in options.postgres ? new Pool({ connectionString: options.postgres.url, max: options.postgres.max ?? 10 }) : options.postgres.pool;
  // An idle session of the router's own pool that the server ends (a restart, a terminated backend) is dropped by the
  // pool; without a listener its error would be unhandled and end the application's process.
  if (ownPool) pool.on('error', () => undefined);
  const catalog = typeof options.warehouse === 'string' ? new HadoopCatalog(new ResolvingFileIO(options.storage ?? {}), options.warehouse) : options.warehouse;
  const evaluator = options.flags instanceof FlagEvaluator ? options.flags : new FlagEvaluator(options.flags);
  const stats: RouterStats = {
    reads: { postgres: 0, iceberg: 0 },
    validatedReads: 0,
    differences: 0,
    secondaryFailures: 0,
    writes: 0,
    icebergCommits: 0,
    secondaryWrites: 0,
    secondaryWriteFailures: 0,
    reconcile: { queued: 0, depth: 0 },
  };
  const onDifference =
    options.onDifference ?? ((d) => console.warn(`icebridge router: ${d.table} ${d.operation} differs between PostgreSQL and Iceberg (${describe(d)})`));
  const onSecondaryError =
    options.onSecondaryError ?? ((f) => console.warn(`icebridge router: ${f.table}: the ${f.side} ${f.operation ?? 'read'} failed: ${f.error}`));
  const tables = new Map<string, Promise<TableRepository>>();
  const writers: IcebergWriter[] = [];
  const secondary = new SecondaryWrites(catalog, stats, (f) => safely(() => onSecondaryError(f)));

  const open = async (name: string): Promise<TableRepository> => {
    const [schema, table, extra] = name.split('.');
    if (schema === undefined || table === undefined || extra !== undefined)
      throw new ValidationError(`name a table as schema.table, found ${JSON.stringify(name)}`);
    const client = await pool.connect();
    let shape: TableShape;
    try {
      shape = tableShape(await describeTable(client, schema, table));
    } finally {
      client.release();
    }
    const id = { namespace: [options.namespace ?? schema], name: table };
    const iceberg = new IcebergSide(catalog, id, shape, options.metadataTtlMs);
    const writer = new IcebergWriter(pool, catalog, id, shape, options.icebergWrites, (report) => {
      if (report.committed) stats.icebergCommits++;
      // A read after the write sees it.
      iceberg.refresh();
    });
    writers.push(writer);
    await secondary.watch(shape.name, id);
    return repository(shape, iceberg, writer);
  };

  const read = async (
    shape: TableShape,
    iceberg: IcebergSide,
    operation: ReadDifference['operation'],
    conditions: Conditions,
    limit: number,
    routingKey: string,
  ): Promise<RecordRow[]> => {
    const decision: RoutingDecision = await evaluator.decide(shape.name, routingKey);
    const primary = decision.readFromIceberg ? 'iceberg' : 'postgres';
    const side = (which: 'postgres' | 'iceberg'): Promise<RecordRow[]> => {
      stats.reads[which]++;
      return which === 'iceberg' ? iceberg.select(conditions, limit) : selectRows(pool, shape, conditions, limit);
    };
    if (!decision.validateReads) return side(primary);
    const secondary = primary === 'iceberg' ? 'postgres' : 'iceberg';
    const [first, second] = await Promise.allSettled([side(primary), side(secondary)]);
    if (first.status === 'rejected') throw first.reason;
    stats.validatedReads++;
    if (second.status === 'rejected') {
      stats.secondaryFailures++;
      safely(() => onSecondaryError({ table: shape.name, side: secondary, operation: 'read', error: errorMessage(second.reason) }));
      return first.value;
    }
    // A limited find whose answers are both full may have been cut at different rows; only complete answers compare.
    if (operation === 'find' && (first.value.length >= limit || second.value.length >= limit)) return first.value;
    const difference = compare(shape, first.value, second.value);
    if (difference !== undefined) {
      stats.differences++;
      safely(() => onDifference({ table: shape.name, operation, lookup: lookupText(shape, conditions), primary, ...difference }));
    }
    return first.value;
  };

  const repository = (shape: TableShape, iceberg: IcebergSide, writer: IcebergWriter): TableRepository => ({
    name: shape.name,
    async findById(key, readOptions = {}) {
      const values = keyValues(shape, key);
      const conditions = shape.key.map((index, n) => ({ index, value: values[n]! }));
      const rows = await read(shape, iceberg, 'findById', conditions, 1, readOptions.routingKey ?? lookupText(shape, conditions));
      return rows[0];
    },
    async find(where, readOptions = {}) {
      const limit = readOptions.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FIND_LIMIT) throw new ValidationError(`limit must be an integer from 1 to ${MAX_FIND_LIMIT}`);
      const conditions = Object.entries(where).map(([column, value]) => ({ index: columnIndex(shape, column), value }));
      return read(shape, iceberg, 'find', conditions, limit, readOptions.routingKey ?? lookupText(shape, conditions));
    },
    async save(row) {
      const key = keyOf(shape, row);
      const decision = await writeDecision(shape, key);
      if (decision.icebergPrimary) {
        await writer.save(row);
        stats.writes++;
        if (decision.dualWrite) await secondary.write(shape.name, writer.id, 'save', key, 'iceberg', () => upsertRow(pool, shape, row));
        return;
      }
      await upsertRow(pool, shape, row);
      stats.writes++;
      if (decision.dualWrite && !(await writer.underChangeCapture()))
        await secondary.write(shape.name, writer.id, 'save', key, 'postgres', () => writer.save(row));
    },
    async delete(key) {
      const values = keyValues(shape, key);
      const decision = await writeDecision(shape, values);
      if (decision.icebergPrimary) {
        const deleted = await writer.delete(values);
        stats.writes++;
        if (decision.dualWrite) await secondary.write(shape.name, writer.id, 'delete', values, 'iceberg', () => deleteRow(pool, shape, values));
        return deleted;
      }
      const deleted = await deleteRow(pool, shape, values);
      stats.writes++;
      if (decision.dualWrite && !(await writer.underChangeCapture()))
        await secondary.write(shape.name, writer.id, 'delete', values, 'postgres', () => writer.delete(values));
      return deleted;
    },
  });

  /** The flags for a write, routed by its key as PostgreSQL prints it. */
  const writeDecision = (shape: TableShape, key: readonly Value[]): Promise<RoutingDecision> =>
    evaluator.decide(
      shape.name,
      lookupText(
        shape,
        shape.key.map((index, n) => ({ index, value: key[n]! })),
      ),
    );

  return {
    table(name) {
      let repository = tables.get(name);
      if (repository === undefined) {
        repository = open(name);
        tables.set(name, repository);
        // A failed open is not kept: the next call tries again.
        repository.catch(() => tables.delete(name));
      }
      return repository;
    },
    stats: () => structuredClone(stats),
    close: async () => {
      // Writes already asked for are committed (or fail) before the pool goes.
      await Promise.all(writers.map((w) => w.flush()));
      if (ownPool) await pool.end();
    },
  };
}

/** The differences between two answers, by key; undefined when they agree. */
function compare(
  shape: TableShape,
  primary: RecordRow[],
  secondary: RecordRow[],
): Omit<ReadDifference, 'table' | 'operation' | 'lookup' | 'primary'> | undefined {
  const keyed = (rows: RecordRow[]) =>
    new Map(
      rows.map((row) => [JSON.stringify(keyNames(shape).map((k) => (row[k] === undefined ? null : renderKey(shape, k, row[k]!)))), comparableRow(shape, row)]),
    );
  const a = keyed(primary);
  const b = keyed(secondary);
  let onlyPrimary = 0;
  let onlySecondary = 0;
  const columns = new Set<string>();
  for (const [key, row] of a) {
    const other = b.get(key);
    if (other === undefined) onlyPrimary++;
    else row.forEach((text, i) => text !== other[i] && columns.add(shape.mapping.columns[i]!.name));
  }
  for (const key of b.keys()) if (!a.has(key)) onlySecondary++;
  return onlyPrimary === 0 && onlySecondary === 0 && columns.size === 0 ? undefined : { onlyPrimary, onlySecondary, columns: [...columns] };
}

function renderKey(shape: TableShape, column: string, value: Value): string | null {
  return renderForComparison(shape.mapping.columns[columnIndex(shape, column)]!.decode, value);
}

/** `(id)=(42)` as PostgreSQL prints the values. */
function lookupText(shape: TableShape, conditions: Conditions): string {
  const names = conditions.map(({ index }) => shape.mapping.columns[index]!.name);
  const values = conditions.map(({ index, value }) => renderForComparison(shape.mapping.columns[index]!.decode, value) ?? 'NULL');
  return `(${names.join(', ')})=(${values.join(', ')})`;
}

function describe(d: ReadDifference): string {
  const parts = [];
  if (d.onlyPrimary > 0) parts.push(`${d.onlyPrimary} row(s) only on ${d.primary}`);
  if (d.onlySecondary > 0) parts.push(`${d.onlySecondary} row(s) only on the other side`);
  if (d.columns.length > 0) parts.push(`columns ${d.columns.join(', ')} differ`);
  return parts.join('; ');
}

/** A callback of the application never fails a read. */
function safely(call: () => void): void {
  try {
    call();
  } catch {
    // The caller's answer matters more than a failing observer.
  }
}
