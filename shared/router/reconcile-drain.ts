/**
 * Drains the reconciliation queues (`icebridge reconcile`): for every entry, the key's CURRENT row on the side that
 * took the write is made the row on the side that missed it (written, or deleted where the source no longer holds
 * the key). Replaying an entry twice, or entries out of order, leaves the same result; an entry is removed only
 * after its write was made, so a failure leaves it for the next drain. Writes to Iceberg go through the router's
 * micro-batched writer (a table's entries share commits) and are refused while change capture is in charge of the
 * table: its sync carries PostgreSQL's rows there.
 */
import type { Pool } from 'pg';
import { ValidationError, errorMessage } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import { formatIdentifier } from '../iceberg/catalog/table-identifier';
import { describeTable } from '../postgres/introspect';
import { IcebergSide } from './iceberg-side';
import { IcebergWriter } from './iceberg-writer';
import { deleteRow, selectRows, upsertRow } from './postgres-side';
import { type RecordRow, type TableShape, tableShape } from './table-shape';
import { ReconcileQueue, type StoredEntry, reconcileRoot } from './reconcile-queue';

/** What to drain. */
export interface ReconcileOptions {
  pool: Pool;
  catalog: Catalog;
  /** Only these PostgreSQL tables (`schema.name`); default every queue in the warehouse. */
  tables?: readonly string[];
}

/** One table's drain. */
export interface TableReconcile {
  table: string;
  applied: number;
  /** Entries left in the queue (failed now, or added meanwhile). */
  left: number;
  /** The first failure, when an entry could not be applied. */
  error?: string;
}

/** Applies every queued entry (of the tables asked for) and removes it once applied. */
export async function drainReconcileQueues(options: ReconcileOptions): Promise<TableReconcile[]> {
  const byQueue = new Map<string, StoredEntry[]>();
  for (const queueDir of await queueDirectories(options.catalog)) {
    // Each directory is one table's queue; its entries name the table.
    const entries = await new ReconcileQueue(options.catalog, queueDir).entries();
    const wanted = entries.filter((e) => options.tables === undefined || options.tables.includes(e.entry.table));
    if (wanted.length > 0) byQueue.set(queueDir, wanted);
  }
  const results: TableReconcile[] = [];
  for (const entries of byQueue.values()) results.push(await drainTable(options, entries));
  return results;
}

async function drainTable(options: ReconcileOptions, entries: StoredEntry[]): Promise<TableReconcile> {
  const { entry: first } = entries[0]!;
  const result: TableReconcile = { table: first.table, applied: 0, left: 0 };
  const queue = ReconcileQueue.of(options.catalog, first.iceberg);
  let shape: TableShape;
  try {
    shape = await describe(options.pool, first.table);
  } catch (error) {
    return { ...result, left: entries.length, error: errorMessage(error) };
  }
  const iceberg = new IcebergSide(options.catalog, first.iceberg, shape, 0);
  const writer = new IcebergWriter(options.pool, options.catalog, first.iceberg, shape, { windowMs: 0 });
  const underCapture = await writer.underChangeCapture();
  const applied = await Promise.allSettled(
    entries.map(async ({ location, entry }) => {
      if (formatIdentifier(entry.iceberg) !== formatIdentifier(first.iceberg) || entry.table !== first.table) {
        throw new ValidationError(`entry ${location} belongs to another table (${entry.table})`);
      }
      const conditions = shape.key.map((index, n) => ({ index, value: entry.key[n] ?? null }));
      const [row]: Array<RecordRow | undefined> =
        entry.source === 'postgres' ? await selectRows(options.pool, shape, conditions, 1) : await iceberg.select(conditions, 1);
      if (entry.target === 'postgres') {
        if (row === undefined) await deleteRow(options.pool, shape, entry.key);
        else await upsertRow(options.pool, shape, row);
      } else {
        if (underCapture) {
          throw new ValidationError(`table ${entry.table} is under change capture: its sync carries PostgreSQL's rows to Iceberg, the entry is left`);
        }
        if (row === undefined) await writer.delete(entry.key);
        else await writer.save(row);
      }
      await queue.remove(location);
    }),
  );
  for (const outcome of applied) {
    if (outcome.status === 'fulfilled') result.applied++;
    else result.error ??= errorMessage(outcome.reason);
  }
  await writer.flush();
  result.left = await queue.depth();
  return result;
}

async function describe(pool: Pool, name: string): Promise<TableShape> {
  const [schema, table] = name.split('.');
  const client = await pool.connect();
  try {
    return tableShape(await describeTable(client, schema!, table!));
  } finally {
    client.release();
  }
}

/** The directories under the warehouse's reconciliation root that hold entries. */
async function queueDirectories(catalog: Catalog): Promise<string[]> {
  const root = reconcileRoot(catalog);
  const dirs = new Set<string>();
  for await (const file of catalog.io.list(`${root}/`)) {
    if (file.location.endsWith('.json')) dirs.add(file.location.slice(0, file.location.lastIndexOf('/')));
  }
  return [...dirs].sort();
}
