/**
 * The fan-out's historical load: each table's rows as of its current Iceberg snapshot, handed to every sink as
 * inserts at the snapshot's source position (the position the table holds every change up to). The stream then
 * gives the sinks each table's changes after that position. Loads in chunks, recording after each chunk how many
 * rows of the snapshot every sink holds, so a load that stops resumes where it was (a chunk applied again changes
 * nothing: the sinks are idempotent).
 */
import type { ClientBase } from 'pg';
import { type Lsn, formatLsn } from '../cdc/lsn';
import { ValidationError } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import { readScan, planScan } from '../iceberg/scan/table-scan';
import { currentSnapshot, snapshotById } from '../iceberg/spec/table-metadata';
import type { Value } from '../iceberg/spec/values';
import { appliedLsn } from '../sync/applied-lsn';
import type { FanoutChange, FanoutSink, FanoutTable } from './fanout-types';
import { qualifiedName } from './identity';
import { type LoadCheckpoint, readLoadCheckpoints, writeLoadCheckpoint } from './load-checkpoints';

/** Options of `loadHistory`. */
export interface HistoricalLoadOptions {
  catalog: Catalog;
  /** Iceberg namespace of the tables (default: each table's source schema). */
  namespace?: string;
  tables: readonly FanoutTable[];
  sinks: readonly FanoutSink[];
  /** The state database connection and schema the load's checkpoints live in. */
  state: { client: ClientBase; schema: string };
  /** Rows per chunk handed to the sinks (default 5,000). */
  chunkRows?: number;
  /** Read and count only: no sink is written, no checkpoint moves. */
  dryRun?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: TableLoadProgress) => void;
}

/** One table's load, as it goes. */
export interface TableLoadProgress {
  table: string;
  snapshotId: string;
  position: string;
  /** Rows every sink holds (or, in a dry run, rows read). */
  rows: number;
  /** skipped: loaded before; resumed: went on from a checkpoint; loaded: read from the start. */
  state: 'loading' | 'skipped' | 'resumed' | 'loaded';
}

/**
 * Loads every table not loaded yet into every sink; returns each table's final progress. A table that records no
 * change-capture position (not migrated with --cdc) is refused: the stream could not take over from its rows.
 */
export async function loadHistory(options: HistoricalLoadOptions): Promise<TableLoadProgress[]> {
  const chunkRows = options.chunkRows ?? 5_000;
  const { client, schema } = options.state;
  const checkpoints = options.dryRun === true ? new Map<string, LoadCheckpoint>() : await readLoadCheckpoints(client, schema);
  if (options.dryRun !== true) for (const sink of options.sinks) await sink.prepare(options.tables);
  const results: TableLoadProgress[] = [];
  for (const table of options.tables) {
    options.signal?.throwIfAborted();
    const name = qualifiedName(table);
    const done = checkpoints.get(name);
    if (done?.status === 'done') {
      const skipped: TableLoadProgress = { table: name, snapshotId: done.snapshotId, position: formatLsn(done.position), rows: done.rows, state: 'skipped' };
      options.onProgress?.(skipped);
      results.push(skipped);
      continue;
    }
    results.push(await loadTable(options, table, done, chunkRows));
  }
  return results;
}

async function loadTable(
  options: HistoricalLoadOptions,
  table: FanoutTable,
  earlier: LoadCheckpoint | undefined,
  chunkRows: number,
): Promise<TableLoadProgress> {
  const name = qualifiedName(table);
  const { metadata } = await options.catalog.loadTable({ namespace: [options.namespace ?? table.schema], name: table.name });
  // Resume on the snapshot an earlier run began with, while it is still there (expiry may have removed it).
  const resumed = earlier !== undefined ? snapshotById(metadata, BigInt(earlier.snapshotId)) : undefined;
  const snapshot = resumed ?? currentSnapshot(metadata);
  if (snapshot === undefined) throw new ValidationError(`the Iceberg table of ${name} has no snapshot to load from`);
  const position = appliedLsn({ ...metadata, 'current-snapshot-id': snapshot['snapshot-id'] });
  if (position === undefined)
    throw new ValidationError(`the Iceberg table of ${name} records no change-capture position: migrate it with --cdc before fanning it out`);
  const skip = resumed !== undefined ? earlier!.rows : 0;
  const progress: TableLoadProgress = {
    table: name,
    snapshotId: String(snapshot['snapshot-id']),
    position: formatLsn(position),
    rows: skip,
    state: 'loading',
  };
  const record = async (status: LoadCheckpoint['status']): Promise<void> => {
    if (options.dryRun === true) return;
    await writeLoadCheckpoint(options.state.client, options.state.schema, {
      table: name,
      status,
      snapshotId: progress.snapshotId,
      position,
      rows: progress.rows,
    });
  };
  await record('running');
  const plan = await planScan(options.catalog.io, metadata, { snapshotId: snapshot['snapshot-id'], columns: table.columns.map((c) => c.name) });
  const keyIndexes = table.key.map((k) => table.columns.findIndex((c) => c.name === k));
  let seen = 0;
  let chunk: FanoutChange[] = [];
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    if (options.dryRun !== true) for (const sink of options.sinks) await sink.apply({ through: undefined, changes: chunk });
    progress.rows += chunk.length;
    chunk = [];
    await record('running');
    options.onProgress?.({ ...progress });
  };
  for await (const rows of readScan(options.catalog.io, plan)) {
    options.signal?.throwIfAborted();
    for (const row of rows) {
      if (seen++ < skip) continue;
      chunk.push(loadChange(table, row, keyIndexes, position, snapshot['timestamp-ms']));
      if (chunk.length >= chunkRows) await flush();
    }
  }
  await flush();
  progress.state = resumed !== undefined && skip > 0 ? 'resumed' : 'loaded';
  await record('done');
  options.onProgress?.({ ...progress });
  return progress;
}

function loadChange(table: FanoutTable, row: Value[], keyIndexes: number[], position: Lsn, committedAt: number): FanoutChange {
  return { table, op: 'insert', key: keyIndexes.map((i) => row[i]!), row, position, index: 0, committedAt, origin: 'load' };
}
