/**
 * restoreTable: a PostgreSQL table as it was at an Iceberg snapshot. The snapshot's rows (its delete files
 * applied) are streamed through `COPY … FROM STDIN` into either a new table shaped like the live one, or the live
 * table itself, emptied in the same transaction that loads it and that keeps its previous rows in a backup table,
 * so a failure leaves it as it was. The restored table is then verified at the full level against the snapshot;
 * any difference makes the restore fail.
 */
import type { Client } from 'pg';
import { IcebridgeError, ValidationError, errorMessage } from '../errors';
import { formatIdentifier, type TableIdentifier } from '../iceberg/catalog/table-identifier';
import { planScan, readScan } from '../iceberg/scan/table-scan';
import { currentSchema, schemaById } from '../iceberg/spec/table-metadata';
import type { Row } from '../iceberg/spec/values';
import { displayQualified, quoteQualified } from '../postgres/identifiers';
import { describeTable } from '../postgres/introspect';
import { TEXT_OUTPUT_SETTINGS } from '../postgres/session-settings';
import type { SourceTable } from '../postgres/source-table';
import { type RunEnvironment, withSource } from '../run/environment';
import type { TableVerification } from '../verify/contracts';
import { verifyTable } from '../verify/steps/verify-table';
import { encodeRow } from './copy-text';
import { CopyInQuery } from './copy-in-query';
import { type RestorePlan, planRestore } from './restore-plan';
import {
  advanceIdentities,
  backupTableName,
  checkNewTableName,
  createBackup,
  createLikeTable,
  lockExclusively,
  referencingTables,
  relationExists,
  truncate,
} from './restore-target';
import { type AsOf, chooseSnapshot } from './snapshot-choice';
import { recordRestore } from '../state-db/transaction-log';

/** Where the rows go: a new table in the source's schema, or the table itself (after a backup). */
export type RestoreMode = { into: string } | { replace: true };

/** One table to restore. */
export interface RestoreTableRequest {
  /** The PostgreSQL table (schema and name, as pg_catalog spells them). */
  table: { schema: string; name: string };
  /** Its Iceberg table; default: the source's name in the namespace named like its schema, as migrate does. */
  target?: TableIdentifier;
  asOf: AsOf;
  mode: RestoreMode;
  /**
   * Rows per transaction when loading a new table (`into`), so a very large table is not one transaction; the
   * table is dropped again if any batch fails. `replace` is always one transaction. Default: all rows in one.
   */
  batchRows?: number;
  /** Clock of the backup's name; defaults to now. */
  now?: () => Date;
  /**
   * Passes every row on its way into PostgreSQL (undefined drops it). For tests that prove a broken load is caught
   * by the verification; never set otherwise.
   */
  tamper?: (row: Row, index: number) => Row | undefined;
}

/** What a restore did. */
export interface RestoreTableResult {
  /** The table restored, `schema.name`. */
  table: string;
  /** The table the rows went into (the table itself with `replace`). */
  restoredInto: string;
  /** The Iceberg table and the snapshot restored. */
  icebergTable: string;
  snapshotId: string;
  snapshotTime: string;
  /** Rows written, as PostgreSQL counted them (decimal text). */
  rows: string;
  transactions: number;
  /** `replace`: the table holding the rows the table had before. */
  backupTable?: string;
  /** The full-level verification of the restored table against the snapshot. */
  verification: TableVerification;
  /** Restored and verified exact. */
  ok: boolean;
}

/** Rows encoded per COPY chunk sent: big enough to keep messages few, small enough to keep memory flat. */
const CHUNK_BYTES = 256 * 1024;

/** Restores one table as of a snapshot, then verifies it; a verification difference is `ok: false`, never hidden. */
export async function restoreTable(env: RunEnvironment, request: RestoreTableRequest): Promise<RestoreTableResult> {
  const icebergId = request.target ?? { namespace: [request.table.schema], name: request.table.name };
  const iceberg = await env.catalog.loadTable(icebergId);
  const snapshot = chooseSnapshot(iceberg.metadata, request.asOf, formatIdentifier(icebergId));
  const schemaId = snapshot['schema-id'];
  const snapshotSchema = schemaId === undefined ? currentSchema(iceberg.metadata) : schemaById(iceberg.metadata, schemaId);
  if (request.batchRows !== undefined && (!Number.isInteger(request.batchRows) || request.batchRows < 1)) {
    throw new ValidationError(`batchRows must be a positive integer, got ${request.batchRows}`);
  }

  const loaded = await withSource(env, async (client) => {
    await applyInputSession(client);
    const source = await describeTable(client, request.table.schema, request.table.name);
    const plan = planRestore(source, snapshotSchema);
    const scan = await planScan(env.catalog.io, iceberg.metadata, { snapshotId: snapshot['snapshot-id'], columns: plan.columns });
    const rows = rowsOf(readScan(env.catalog.io, scan), request.tamper);
    if ('into' in request.mode) return loadNewTable(client, source, request.mode.into, plan, rows, request.batchRows);
    return replaceTable(client, source, plan, rows, (request.now ?? (() => new Date()))());
  });

  const verification = await verifyTable(
    env,
    { source: { schema: request.table.schema, name: loaded.name }, target: icebergId, snapshotId: snapshot['snapshot-id'].toString() },
    { level: 'full' },
  );
  return recordRestore({
    table: displayQualified(request.table.schema, request.table.name),
    restoredInto: displayQualified(request.table.schema, loaded.name),
    icebergTable: formatIdentifier(icebergId),
    snapshotId: snapshot['snapshot-id'].toString(),
    snapshotTime: new Date(snapshot['timestamp-ms']).toISOString(),
    rows: loaded.rows.toString(),
    transactions: loaded.transactions,
    ...(loaded.backup === undefined ? {} : { backupTable: displayQualified(request.table.schema, loaded.backup) }),
    verification,
    ok: verification.status === 'ok',
  });
}

interface Loaded {
  name: string;
  rows: number;
  transactions: number;
  backup?: string;
}

/** The session settings PostgreSQL reads the texts under as it printed them for the copy (UTC, ISO dates…). */
async function applyInputSession(client: Client): Promise<void> {
  await client.query('SELECT count(pg_catalog.set_config(s.name, s.value, false)) FROM unnest($1::text[], $2::text[]) AS s(name, value)', [
    TEXT_OUTPUT_SETTINGS.map((s) => s[0]),
    TEXT_OUTPUT_SETTINGS.map((s) => s[1]),
  ]);
}

/** A new table shaped like the source, loaded in batches of `batchRows`; dropped again when anything fails. */
async function loadNewTable(client: Client, source: SourceTable, name: string, plan: RestorePlan, rows: RowCursor, batchRows?: number): Promise<Loaded> {
  checkNewTableName(name);
  if (await relationExists(client, source.schema, name)) {
    throw new ValidationError(`${displayQualified(source.schema, name)} already exists: restore into a new name, or use replace`);
  }
  await createLikeTable(client, source, name);
  let total = 0;
  let transactions = 0;
  try {
    while (!rows.exhausted) {
      await client.query('BEGIN');
      try {
        total += await copyRows(client, quoteQualified(source.schema, name), plan, rows, batchRows ?? Infinity);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      transactions++;
    }
    await advanceIdentities(client, source.schema, name);
  } catch (error) {
    // A half-loaded table must not pass for a restore.
    const dropped = await client.query(`DROP TABLE IF EXISTS ${quoteQualified(source.schema, name)}`).then(
      () => true,
      () => false,
    );
    if (dropped) throw error;
    throw new IcebridgeError(
      'RESTORE_FAILED',
      `${errorMessage(error)}; the partly loaded ${displayQualified(source.schema, name)} could not be dropped: drop it before restoring into that name again`,
    );
  }
  return { name, rows: total, transactions };
}

/**
 * The table itself, in ONE transaction: locked, its rows kept in a backup table, emptied, loaded. A failure rolls
 * all of it back, the backup included, and leaves the table as it was.
 */
async function replaceTable(client: Client, source: SourceTable, plan: RestorePlan, rows: RowCursor, now: Date): Promise<Loaded> {
  const referencing = await referencingTables(client, source);
  if (referencing.length > 0) {
    throw new ValidationError(
      `cannot replace ${displayQualified(source.schema, source.name)} in place: foreign keys of ${referencing.join(', ')} reference it (emptying it would need CASCADE, which empties those tables too); restore it into a new table instead`,
    );
  }
  const backup = backupTableName(source.name, now);
  if (await relationExists(client, source.schema, backup)) throw new ValidationError(`${displayQualified(source.schema, backup)} already exists`);
  const table = displayQualified(source.schema, source.name);
  await client.query('BEGIN');
  let total: number;
  try {
    await lockExclusively(client, source);
    await createBackup(client, source, backup);
    await truncate(client, source);
    total = await copyRows(client, quoteQualified(source.schema, source.name), plan, rows, Infinity);
  } catch (error) {
    // Nothing was committed: a ROLLBACK, or the server's own when the connection is gone, undoes all of it.
    await client.query('ROLLBACK').catch(() => undefined);
    throw new ValidationError(`restoring ${table} failed and was rolled back, the table is as it was: ${errorMessage(error)}`);
  }
  try {
    await client.query('COMMIT');
  } catch (error) {
    // The COMMIT may have reached the server before the failure: the outcome cannot be known from here.
    throw new IcebridgeError(
      'RESTORE_OUTCOME_UNKNOWN',
      `restoring ${table}: the commit's outcome is unknown (${errorMessage(error)}); if ${displayQualified(source.schema, backup)} exists the restore landed and it holds the rows replaced, otherwise the table is as it was`,
    );
  }
  return { name: source.name, rows: total, transactions: 1, backup };
}

/** The snapshot's rows one at a time, remembering when they ran out (so batches know when to stop). */
interface RowCursor {
  next(): Promise<Row | undefined>;
  exhausted: boolean;
}

function rowsOf(batches: AsyncIterable<Row[]>, tamper: RestoreTableRequest['tamper']): RowCursor {
  const iterator = batches[Symbol.asyncIterator]();
  let batch: Row[] = [];
  let at = 0;
  let index = 0;
  const cursor: RowCursor = {
    exhausted: false,
    async next() {
      for (;;) {
        while (at < batch.length) {
          const row = batch[at++]!;
          const passed = tamper ? tamper(row, index++) : row;
          if (passed !== undefined) return passed;
        }
        const step = await iterator.next();
        if (step.done === true) {
          cursor.exhausted = true;
          return undefined;
        }
        batch = step.value;
        at = 0;
      }
    },
  };
  return cursor;
}

/** One COPY of up to `limit` rows from the cursor into `relationSql`; the rows the server counted. */
async function copyRows(client: Client, relationSql: string, plan: RestorePlan, rows: RowCursor, limit: number): Promise<number> {
  async function* chunks(): AsyncGenerator<Buffer> {
    let text = '';
    for (let n = 0; n < limit; n++) {
      const row = await rows.next();
      if (row === undefined) break;
      text += encodeRow(plan.encoders, row);
      if (text.length >= CHUNK_BYTES) {
        yield Buffer.from(text, 'utf8');
        text = '';
      }
    }
    if (text.length > 0) yield Buffer.from(text, 'utf8');
  }
  const query = new CopyInQuery(`COPY ${relationSql} (${plan.columnListSql}) FROM STDIN`, chunks());
  void client.query(query);
  return query.done;
}
