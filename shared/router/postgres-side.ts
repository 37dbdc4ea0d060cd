/**
 * The PostgreSQL side of a routed table: reads by key or by simple equality filters, with results in binary
 * decoded by the copy's own decoders; upserts and deletes by key. Values are parameters (text cast to each
 * column's type); identifiers come from pg_catalog and are quoted. Every session runs under the text-output
 * settings, so the text a value is sent as means the same thing to the server whatever its defaults.
 */
import type { ClientBase, Pool } from 'pg';
import { ValidationError } from '../errors';
import type { Row, Value } from '../iceberg/spec/values';
import { CopyBinaryParser } from '../postgres/copy-binary-parser';
import { CopyOutQuery } from '../postgres/copy-out-query';
import { TEXT_OUTPUT_SETTINGS } from '../postgres/session-settings';
import { type RecordRow, type TableShape, columnSql, columnType, parameterText, toRecord } from './table-shape';

/** Equality conditions on columns, by column index. */
export type Conditions = ReadonlyArray<{ index: number; value: Value }>;

/**
 * Runs `work` in a transaction of a pooled session with the text-output settings (and `values`, as the settings
 * `icebridge.router_<i>`) set for that transaction only, so an application's own pool keeps its session settings.
 */
export async function inSession<T>(pool: Pool, work: (client: ClientBase) => Promise<T>, values: readonly string[] = []): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await inTransaction(client, work, values);
  } catch (error) {
    if (error instanceof RollbackFailed) broken = error;
    throw error instanceof RollbackFailed ? error.original : error;
  } finally {
    // A session whose rollback failed is not given back to the pool.
    client.release(broken);
  }
}

/** A transaction that could not be rolled back: the session is unusable. */
class RollbackFailed extends Error {
  constructor(readonly original: unknown) {
    super('the transaction could not be rolled back');
  }
}

/** `work` in one transaction of `client`, under the text-output settings (and `values`) set for it only. */
export async function inTransaction<T>(client: ClientBase, work: (client: ClientBase) => Promise<T>, values: readonly string[] = []): Promise<T> {
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_catalog.set_config(s.name, s.value, true) FROM unnest($1::text[], $2::text[]) AS s(name, value)', [
      [...TEXT_OUTPUT_SETTINGS.map(([name]) => name), ...values.map((_, i) => `icebridge.router_${i}`)],
      [...TEXT_OUTPUT_SETTINGS.map(([, value]) => value), ...values],
    ]);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    let rolledBack = true;
    await client.query('ROLLBACK').catch(() => (rolledBack = false));
    throw rolledBack ? error : new RollbackFailed(error);
  }
}

/**
 * Rows matching every condition (at most `limit`), in key order. The rows come through `COPY … (FORMAT binary)`
 * and the copy's own parser and decoders (the driver cannot return binary results); COPY takes no parameters, so
 * the values travel as transaction-local settings set by a parameterised call and are read back, cast to each
 * column's type, inside the statement.
 */
export async function selectRows(pool: Pool, shape: TableShape, conditions: Conditions, limit: number): Promise<RecordRow[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError(`limit must be a positive integer, got ${limit}`);
  const values: string[] = [];
  const where = conditions.map(({ index, value }) => {
    const text = value === null ? null : parameterText(shape, index, value);
    if (text === null) return `${columnSql(shape, index)} IS NULL`;
    if (text.includes('\u0000')) throw new ValidationError(`table ${shape.name}: a lookup value cannot contain a NUL character`);
    values.push(text);
    return `${columnSql(shape, index)} = pg_catalog.current_setting('icebridge.router_${values.length - 1}')::${columnType(shape, index)}`;
  });
  // The limit is an integer checked above, not caller text: it may be written into the statement.
  const sql =
    `COPY (SELECT ${shape.mapping.columns.map((c) => c.selectSql).join(', ')} FROM ${shape.sql}` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${shape.key.map((i) => keyOrderSql(shape, i)).join(', ')} LIMIT ${limit}) TO STDOUT (FORMAT binary)`;
  const rows: Row[] = [];
  await inSession(pool, (client) => copyRows(client, shape, sql, rows), values);
  return rows.map((row) => toRecord(shape, row));
}

function copyRows(client: ClientBase, shape: TableShape, sql: string, rows: Row[]): Promise<void> {
  const parser = new CopyBinaryParser(shape.decoders, shape.key);
  return new Promise((resolve, reject) => {
    let failure: unknown;
    const copy = new CopyOutQuery(sql, {
      data: (buf, start, end) => {
        if (failure !== undefined) return;
        try {
          parser.push(buf, rows, start, end);
        } catch (error) {
          failure = error;
        }
      },
      end: () => {
        if (failure === undefined) {
          try {
            parser.finish();
          } catch (error) {
            failure = error;
          }
        }
        if (failure === undefined) resolve();
        else reject(failure instanceof Error ? failure : new Error('the COPY of the lookup could not be read'));
      },
      error: (error) => reject(error),
    });
    void client.query(copy);
  });
}

/** Text keys in code-point order ("C"), as the Iceberg side sorts them, so a limit cuts both sides alike. */
function keyOrderSql(shape: TableShape, index: number): string {
  const column = shape.mapping.columns[index]!;
  return column.decode.kind === 'text' ? `(${columnSql(shape, index)})::text COLLATE "C"` : columnSql(shape, index);
}

/** Inserts the row, or updates every other column of the row with its key, in its own transaction. */
export async function upsertRow(pool: Pool, shape: TableShape, row: RecordRow): Promise<void> {
  await inSession(pool, (client) => upsertWith(client, shape, row));
}

/**
 * Inserts the row, or updates every other column of the row with its key, on a session that runs under the
 * text-output settings (`inSession`).
 */
export async function upsertWith(client: ClientBase, shape: TableShape, row: RecordRow): Promise<void> {
  const columns = shape.mapping.columns.map((c, i) => ({ i, name: c.name })).filter((c) => c.name in row);
  if (columns.length === 0) throw new ValidationError(`table ${shape.name}: the row names no column of the table`);
  const values = columns.map(({ i, name }) => parameterText(shape, i, row[name] ?? null));
  const keys = new Set(shape.key);
  const updates = columns.filter(({ i }) => !keys.has(i)).map(({ i }) => `${columnSql(shape, i)} = EXCLUDED.${columnSql(shape, i)}`);
  const text =
    `INSERT INTO ${shape.sql} (${columns.map(({ i }) => columnSql(shape, i)).join(', ')}) ` +
    `VALUES (${columns.map(({ i }, n) => `$${n + 1}::${columnType(shape, i)}`).join(', ')}) ` +
    `ON CONFLICT (${shape.key.map((i) => columnSql(shape, i)).join(', ')}) ` +
    (updates.length > 0 ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING');
  await client.query(text, values);
}

/** Deletes the row with the key, in its own transaction; true when there was one. */
export async function deleteRow(pool: Pool, shape: TableShape, key: readonly Value[]): Promise<boolean> {
  return inSession(pool, (client) => deleteWith(client, shape, key));
}

/** Deletes the row with the key on a session under the text-output settings; true when there was one. */
export async function deleteWith(client: ClientBase, shape: TableShape, key: readonly Value[]): Promise<boolean> {
  const where = shape.key.map((i, n) => `${columnSql(shape, i)} = $${n + 1}::${columnType(shape, i)}`);
  const values = shape.key.map((i, n) => parameterText(shape, i, key[n] ?? null));
  const result = await client.query(`DELETE FROM ${shape.sql} WHERE ${where.join(' AND ')}`, values);
  return (result.rowCount ?? 0) > 0;
}
