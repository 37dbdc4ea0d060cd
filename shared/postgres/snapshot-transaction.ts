/**
 * The transaction every COPY runs in: REPEATABLE READ READ ONLY, so all statements of one read see a single
 * snapshot and nothing can be written by mistake. Several connections can share one exported snapshot.
 */
import type { Client } from 'pg';
import { ValidationError } from '../errors';
import { clientTarget } from './connection';
import { toPostgresError } from './postgres-errors';

/** Options of `withSnapshotTransaction`. */
export interface WithSnapshotTransactionOptions {
  /** A snapshot exported by `exportSnapshot` on another connection whose transaction is still open. */
  snapshotId?: string;
}

const SNAPSHOT_ID = /^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/i;

/**
 * Runs `fn` inside BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY ... COMMIT, rolling back when it throws.
 * Errors of `fn` pass through unchanged; failures of BEGIN/COMMIT are IcebridgeErrors (retryable when the
 * connection was lost).
 */
export async function withSnapshotTransaction<T>(client: Client, fn: (client: Client) => Promise<T>, options: WithSnapshotTransactionOptions = {}): Promise<T> {
  const target = clientTarget(client);
  await beginSnapshotTransaction(client, options);
  let result: T;
  try {
    result = await fn(client);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  try {
    await client.query('COMMIT');
  } catch (error) {
    throw toPostgresError(error, { operation: 'COMMIT', target });
  }
  return result;
}

/**
 * BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY, importing `options.snapshotId` when given, for a transaction
 * that outlives one call (a snapshot holder); rolled back when the import fails.
 */
export async function beginSnapshotTransaction(client: Client, options: WithSnapshotTransactionOptions = {}): Promise<void> {
  if (options.snapshotId !== undefined && !SNAPSHOT_ID.test(options.snapshotId)) {
    throw new ValidationError('snapshotId is not a PostgreSQL snapshot identifier (as returned by pg_export_snapshot)');
  }
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // SET TRANSACTION SNAPSHOT takes no parameters; the id was checked against the server's format above.
    if (options.snapshotId !== undefined) await client.query(`SET TRANSACTION SNAPSHOT '${options.snapshotId}'`);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw toPostgresError(error, { operation: 'BEGIN', target: clientTarget(client) });
  }
}

/** Exports the snapshot of the client's open REPEATABLE READ transaction for other connections to share. */
export async function exportSnapshot(client: Client): Promise<string> {
  try {
    const { rows } = await client.query<{ id: string }>('SELECT pg_catalog.pg_export_snapshot() AS id');
    return rows[0]!.id;
  } catch (error) {
    throw toPostgresError(error, { operation: 'pg_export_snapshot()', target: clientTarget(client) });
  }
}
