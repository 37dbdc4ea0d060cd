/**
 * What ClickHouse holds of one table, for the cross-system consistency check: every live key (after FINAL) with the
 * source position of the change that wrote it, streamed; the newest position; and as findings any key FINAL still
 * answers more than once (it must not: that would be a table whose rows ClickHouse cannot collapse).
 */
import type { Lsn } from '../cdc/lsn';
import type { SystemFinding, SystemInventory } from '../fanout/fanout-types';
import { aggregateId, qualifiedName } from '../fanout/identity';
import type { ClickHouseConnection } from './clickhouse-connection';
import { qualified, quoteIdentifier } from './clickhouse-sql';
import { DELETED_COLUMN, VERSION_COLUMN } from './column-types';
import type { TableLayout } from './table-ddl';
import { decodeField, splitFields } from './tsv-values';

/** Findings kept per table: a broken table would otherwise repeat one finding per row. */
const FINDINGS_LIMIT = 1_000;

/** The inventory of a prepared table. */
export async function clickHouseInventory(connection: ClickHouseConnection, layout: TableLayout): Promise<SystemInventory> {
  const keyColumns = layout.plan.table.key.map((name) => layout.plan.columns.find((c) => c.source.name === name)!);
  const select = [...keyColumns.map((c) => c.source.name), VERSION_COLUMN, DELETED_COLUMN].map(quoteIdentifier).join(', ');
  const sql = `SELECT ${select} FROM ${qualified(connection.database, layout.names.table)} FINAL FORMAT TabSeparated`;
  const live = new Map<string, Lsn>();
  const findings: SystemFinding[] = [];
  let newest: Lsn | undefined;
  let deleted = 0;
  let seen = 0;
  const keys = new Set<string>();
  for await (const line of connection.lines(sql)) {
    const fields = splitFields(line);
    const id = aggregateId(keyColumns.map((column, i) => decodeField(fields[i]!, column.source.type)));
    const version = BigInt(fields[keyColumns.length]!.toString('latin1'));
    seen++;
    if (newest === undefined || version > newest) newest = version;
    if (keys.has(id)) {
      if (findings.length < FINDINGS_LIMIT) findings.push({ key: id, problem: 'more than one row after FINAL' });
    }
    keys.add(id);
    if (fields[keyColumns.length + 1]!.toString('latin1') === '1') deleted++;
    else live.set(id, version);
  }
  return {
    system: 'clickhouse',
    table: qualifiedName(layout.plan.table),
    live,
    newest,
    findings,
    figures: { rows: live.size, deletedRows: deleted, rowsAfterFinal: seen },
  };
}
