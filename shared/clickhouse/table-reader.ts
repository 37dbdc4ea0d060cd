/**
 * Reads an analytics table back as values (after FINAL, so one row per key): what the round-trip tests compare and
 * what a re-check of a restore reads. Values come back in the shared representation, exactly as written.
 */
import type { Value } from '../iceberg/spec/values';
import type { ClickHouseConnection } from './clickhouse-connection';
import { qualified, quoteIdentifier } from './clickhouse-sql';
import { DELETED_COLUMN, VERSION_COLUMN } from './column-types';
import type { TableLayout } from './table-ddl';
import { decodeField, splitFields } from './tsv-values';

/** One stored row: the source row in column order, its version and whether it is a deletion. */
export interface StoredRowValues {
  row: Value[];
  version: bigint;
  deleted: boolean;
}

/** Options of `readRows`. */
export interface ReadRowsOptions {
  /** Also the `_deleted = 1` rows (default: live rows only). */
  withDeleted?: boolean;
  /** An SQL condition built by the caller from validated parts. */
  where?: string;
}

/** Streams a table's rows after FINAL, in key order. */
export async function* readRows(connection: ClickHouseConnection, layout: TableLayout, options: ReadRowsOptions = {}): AsyncIterable<StoredRowValues> {
  const names: string[] = [];
  for (const column of layout.plan.columns) {
    names.push(column.source.name);
    if (column.nullFlag) names.push(column.nullFlag);
  }
  const conditions = [...(options.withDeleted ? [] : [`${DELETED_COLUMN} = 0`]), ...(options.where ? [options.where] : [])];
  const sql =
    `SELECT ${[...names, VERSION_COLUMN, DELETED_COLUMN].map(quoteIdentifier).join(', ')} FROM ${qualified(connection.database, layout.names.table)} FINAL` +
    `${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${layout.plan.table.key.map(quoteIdentifier).join(', ')} FORMAT TabSeparated`;
  for await (const line of connection.lines(sql)) {
    const fields = splitFields(line);
    let at = 0;
    const row: Value[] = [];
    for (const column of layout.plan.columns) {
      const value = decodeField(fields[at++]!, column.source.type);
      if (column.nullFlag) row.push(fields[at++]!.toString('latin1') === '1' ? null : value);
      else row.push(value);
    }
    yield { row, version: BigInt(fields[at]!.toString('latin1')), deleted: fields[at + 1]!.toString('latin1') === '1' };
  }
}
