/**
 * The PostgreSQL side of a routed table: reads by key or by simple equality filters, with results in binary
 * decoded by the copy's own decoders; upserts and deletes by key. Values are parameters (text cast to each
 * column's type); identifiers come from pg_catalog and are quoted. Every session runs under the text-output
 * settings, so the text a value is sent as means the same thing to the server whatever its defaults.
 */
import type { Pool, PoolClient, QueryArrayConfig } from 'pg';
import { ValidationError } from '../errors';
import type { Row, Value } from '../iceberg/spec/values';
import { TEXT_OUTPUT_SETTINGS } from '../postgres/session-settings';
import { type RecordRow, type TableShape, columnSql, columnType, parameterText, toRecord } from './table-shape';

/** Equality conditions on columns, by column index. */
export type Conditions = ReadonlyArray<{ index: number; value: Value }>;

/**
 * Runs `work` in a transaction of a pooled session with the text-output settings set for that transaction only,
 * so an application's own pool keeps its session settings.
 */
export async function inSession<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_catalog.set_config(s.name, s.value, true) FROM unnest($1::text[], $2::text[]) AS s(name, value)', [
      TEXT_OUTPUT_SETTINGS.map(([name]) => name),
      TEXT_OUTPUT_SETTINGS.map(([, value]) => value),
    ]);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError));
    throw error;
  } finally {
    // A session whose rollback failed is not given back to the pool.
    client.release(broken instanceof Error ? broken : undefined);
  }
}

/** Raw result buffers: the copy's decoders read PostgreSQL's binary send form. */
const RAW = { getTypeParser: () => (value: unknown) => value };

/** Rows matching every condition (at most `limit`), in key order. */
export async function selectRows(pool: Pool, shape: TableShape, conditions: Conditions, limit: number): Promise<RecordRow[]> {
  const params: (string | null)[] = [];
  const where = conditions.map(({ index, value }) => {
    if (value === null) return `${columnSql(shape, index)} IS NULL`;
    params.push(parameterText(shape, index, value));
    return `${columnSql(shape, index)} = $${params.length}::${columnType(shape, index)}`;
  });
  params.push(String(limit));
  const text =
    `SELECT ${shape.mapping.columns.map((c) => c.selectSql).join(', ')} FROM ${shape.sql}` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${shape.key.map((i) => keyOrderSql(shape, i)).join(', ')} LIMIT $${params.length}::bigint`;
  const query: QueryArrayConfig & { binary: boolean } = { text, values: params, binary: true, types: RAW, rowMode: 'array' };
  const result = await inSession(pool, (client) => client.query<Array<Buffer | null>>(query));
  return result.rows.map((raw) => toRecord(shape, decodeRow(shape, raw)));
}

/** Text keys in code-point order ("C"), as the Iceberg side sorts them, so a limit cuts both sides alike. */
function keyOrderSql(shape: TableShape, index: number): string {
  const column = shape.mapping.columns[index]!;
  return column.decode.kind === 'text' ? `(${columnSql(shape, index)})::text COLLATE "C"` : columnSql(shape, index);
}

function decodeRow(shape: TableShape, raw: Array<Buffer | null>): Row {
  return raw.map((bytes, i) => (bytes === null ? null : shape.decoders[i]!(bytes, 0, bytes.length)));
}

/** Inserts the row, or updates every other column of the row with its key. */
export async function upsertRow(pool: Pool, shape: TableShape, row: RecordRow): Promise<void> {
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
  await inSession(pool, (client) => client.query(text, values));
}

/** Deletes the row with the key; true when there was one. */
export async function deleteRow(pool: Pool, shape: TableShape, key: readonly Value[]): Promise<boolean> {
  const where = shape.key.map((i, n) => `${columnSql(shape, i)} = $${n + 1}::${columnType(shape, i)}`);
  const values = shape.key.map((i, n) => parameterText(shape, i, key[n] ?? null));
  const result = await inSession(pool, (client) => client.query(`DELETE FROM ${shape.sql} WHERE ${where.join(' AND ')}`, values));
  return (result.rowCount ?? 0) > 0;
}
