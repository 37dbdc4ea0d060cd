/**
 * Rolling an analytics table's months back, partition by partition (a partition is a month: `YYYYMM`):
 *
 * - `backupPartitions` copies partitions into `<table>__backup` with `ALTER TABLE … REPLACE PARTITION ID … FROM`
 *   (18.16 has it; the parts are hard-linked, not rewritten). `FREEZE` would only leave files on the server's disk
 *   that SQL cannot bring back, so the backup is a table.
 * - `restorePartitions` puts backed-up partitions back the same way, in the other direction.
 * - `reloadPartitions` rebuilds partitions from rows the caller reads elsewhere (an Iceberg snapshot): they go into
 *   `<table>__reload` first, and the chosen partitions replace the table's.
 *
 * Each shows, per partition, the live rows now and after (a dry run changes nothing), rebuilds the restored months
 * of the daily figures (replacing partitions runs no materialized view), and is recorded in the transaction log.
 */
import { NotFoundError, ValidationError } from '../errors';
import type { FanoutChange, FanoutTable } from '../fanout/fanout-types';
import { qualifiedName } from '../fanout/identity';
import { type TransactionLogOptions, recordAction } from '../state-db/transaction-log';
import { type ClickHouseConnection, queryTexts } from './clickhouse-connection';
import { TABLES_TABLE, analyticsNames, qualified, quoteIdentifier, stringLiteral } from './clickhouse-sql';
import { DELETED_COLUMN } from './column-types';
import { encodeRow } from './clickhouse-sink';
import { storedColumns, tableLayout } from './table-ddl';
import { unescapeField } from './tsv-values';

/** Live rows of one partition now and after the restore. */
export interface PartitionFigures {
  partition: string;
  rowsNow: number;
  rowsAfter: number;
}

/** What a restore did (or, in a dry run, would do). */
export interface PartitionRestoreResult {
  /** The ClickHouse table, `<schema>__<name>`. */
  table: string;
  dryRun: boolean;
  partitions: PartitionFigures[];
}

/** Who and why, for the transaction log. */
export interface PartitionActionOptions {
  actor: string;
  reason?: string;
  /** Where the action is recorded (default: the state database of the environment). */
  audit?: TransactionLogOptions;
}

/** Options of a restore or re-load. */
export interface PartitionRestoreOptions extends PartitionActionOptions {
  partitions: readonly string[];
  dryRun?: boolean;
}

const PARTITION = /^\d{6}$/;

/** The analytics table of a source table named `schema.name`, checked against the server's catalog. */
export async function resolveAnalyticsTable(connection: ClickHouseConnection, sourceTable: string): Promise<PreparedTable> {
  const dot = sourceTable.indexOf('.');
  if (dot <= 0 || dot === sourceTable.length - 1) throw new ValidationError('the table must be <schema>.<name>');
  const names = analyticsNames({ schema: sourceTable.slice(0, dot), name: sourceTable.slice(dot + 1) });
  const rows = await queryTexts(
    connection,
    `SELECT day_expression FROM ${qualified(connection.database, TABLES_TABLE)} FINAL WHERE table = ${stringLiteral(names.table)} FORMAT TabSeparated`,
  );
  const found = await queryTexts(
    connection,
    `SELECT count() FROM system.tables WHERE database = ${stringLiteral(connection.database)} AND name = ${stringLiteral(names.table)} FORMAT TabSeparated`,
  );
  if (rows.length === 0 || found[0]?.[0] !== '1') throw new NotFoundError(`ClickHouse has no analytics table of ${sourceTable}`);
  // The expression was written by `prepare`; it is read back through ClickHouse's own escaping, so unescape it.
  return { names, dayExpression: unescape(rows[0]![0]!) };
}

/** A prepared analytics table as a restore needs it. */
export interface PreparedTable {
  names: ReturnType<typeof analyticsNames>;
  dayExpression: string;
}

/** Copies partitions (default: all the table has) into the backup table; answers the live rows copied per partition. */
export async function backupPartitions(
  connection: ClickHouseConnection,
  table: PreparedTable,
  options: PartitionActionOptions & { partitions?: readonly string[] },
): Promise<{ table: string; partitions: { partition: string; rows: number }[] }> {
  const source = qualified(connection.database, table.names.table);
  const backup = qualified(connection.database, table.names.backup);
  const partitions = options.partitions ? checkPartitions(options.partitions) : await activePartitions(connection, table.names.table);
  await connection.command(`CREATE TABLE IF NOT EXISTS ${backup} AS ${source}`);
  await alignColumns(connection, table.names.table, table.names.backup);
  for (const partition of partitions) await connection.command(`ALTER TABLE ${backup} REPLACE PARTITION ID ${stringLiteral(partition)} FROM ${source}`);
  const counts = await liveRows(connection, table.names.backup, table.dayExpression);
  const result = { table: table.names.table, partitions: partitions.map((partition) => ({ partition, rows: counts.get(partition) ?? 0 })) };
  await recordAction(
    {
      kind: 'clickhouse.backup',
      actor: options.actor,
      ...(options.reason ? { reason: options.reason } : {}),
      subject: `clickhouse:${table.names.table}`,
      after: result,
    },
    options.audit,
  );
  return result;
}

/** Puts backed-up partitions back; a partition the backup has no rows of is refused (it would empty the month). */
export async function restorePartitions(
  connection: ClickHouseConnection,
  table: PreparedTable,
  options: PartitionRestoreOptions,
): Promise<PartitionRestoreResult> {
  const partitions = checkPartitions(options.partitions);
  const backupParts = await rawRows(connection, table.names.backup);
  const missing = partitions.filter((p) => !backupParts.has(p));
  if (missing.length > 0) throw new NotFoundError(`ClickHouse has no backup of partition ${missing.join(', ')} of ${table.names.table}`);
  await alignColumns(connection, table.names.table, table.names.backup);
  return replaceFrom(connection, table, table.names.backup, partitions, options);
}

/**
 * Rebuilds partitions of `table` from `rows` (the rows of an Iceberg snapshot, as changes: deletes are ignored):
 * only the chosen partitions change, and one the rows have nothing for becomes empty.
 */
export async function reloadPartitions(
  connection: ClickHouseConnection,
  table: FanoutTable,
  rows: AsyncIterable<FanoutChange>,
  options: PartitionRestoreOptions,
): Promise<PartitionRestoreResult> {
  const partitions = checkPartitions(options.partitions);
  const prepared = await resolveAnalyticsTable(connection, qualifiedName(table));
  const layout = tableLayout(table);
  const staging = qualified(connection.database, prepared.names.reload);
  await connection.command(`DROP TABLE IF EXISTS ${staging}`);
  await connection.command(`CREATE TABLE ${staging} AS ${qualified(connection.database, prepared.names.table)}`);
  try {
    async function* lines(): AsyncIterable<Buffer> {
      for await (const change of rows) if (change.op !== 'delete') yield encodeRow(layout, change);
    }
    const columns = storedColumns(layout).map(quoteIdentifier).join(', ');
    await connection.insert(`INSERT INTO ${staging} (${columns}) FORMAT TabSeparated`, lines());
    return await replaceFrom(connection, prepared, prepared.names.reload, partitions, options);
  } finally {
    await connection.command(`DROP TABLE IF EXISTS ${staging}`);
  }
}

async function replaceFrom(
  connection: ClickHouseConnection,
  table: PreparedTable,
  from: string,
  partitions: string[],
  options: PartitionRestoreOptions,
): Promise<PartitionRestoreResult> {
  const target = qualified(connection.database, table.names.table);
  const now = await liveRows(connection, table.names.table, table.dayExpression);
  const incoming = await liveRows(connection, from, table.dayExpression);
  if (options.dryRun) {
    return {
      table: table.names.table,
      dryRun: true,
      partitions: partitions.map((p) => ({ partition: p, rowsNow: now.get(p) ?? 0, rowsAfter: incoming.get(p) ?? 0 })),
    };
  }
  const daily = qualified(connection.database, table.names.daily);
  const figures = await dailyFigures(connection, table);
  for (const partition of partitions) {
    await connection.command(`ALTER TABLE ${target} REPLACE PARTITION ID ${stringLiteral(partition)} FROM ${qualified(connection.database, from)}`);
    await connection.command(`ALTER TABLE ${daily} DROP PARTITION ID ${stringLiteral(partition)}`);
    await connection.command(
      `INSERT INTO ${daily} (day, rows${figures.map((f) => `, ${quoteIdentifier(f.name)}`).join('')}) SELECT ${table.dayExpression} AS day, count()${figures.map((f) => `, sum(${f.expression})`).join('')} FROM ${target} FINAL WHERE ${DELETED_COLUMN} = 0 AND toYYYYMM(${table.dayExpression}) = ${Number(partition)} GROUP BY day`,
    );
  }
  const after = await liveRows(connection, table.names.table, table.dayExpression);
  const result: PartitionRestoreResult = {
    table: table.names.table,
    dryRun: false,
    partitions: partitions.map((p) => ({ partition: p, rowsNow: now.get(p) ?? 0, rowsAfter: after.get(p) ?? 0 })),
  };
  await recordAction(
    {
      kind: 'clickhouse.restore',
      actor: options.actor,
      ...(options.reason ? { reason: options.reason } : {}),
      subject: `clickhouse:${table.names.table}`,
      before: result.partitions.map((p) => ({ partition: p.partition, rows: p.rowsNow })),
      after: { from, partitions: result.partitions.map((p) => ({ partition: p.partition, rows: p.rowsAfter })) },
    },
    options.audit,
  );
  return result;
}

/**
 * Gives the backup the columns added to the table since it was made (at the end, as the table got them): moving
 * partitions needs both tables alike. A backed-up month then reads the new columns' defaults (NULL).
 */
async function alignColumns(connection: ClickHouseConnection, table: string, backup: string): Promise<void> {
  const columns = async (name: string) =>
    queryTexts(
      connection,
      `SELECT name, type FROM system.columns WHERE database = ${stringLiteral(connection.database)} AND table = ${stringLiteral(name)} AND default_kind != 'ALIAS' FORMAT TabSeparated`,
    );
  const have = new Set((await columns(backup)).map(([name]) => name));
  for (const [name, type] of await columns(table)) {
    if (!have.has(name))
      await connection.command(
        `ALTER TABLE ${qualified(connection.database, backup)} ADD COLUMN ${quoteIdentifier(unescapeField(Buffer.from(name!)).toString('utf8'))} ${type}`,
      );
  }
}

/** The summed figures of the daily table, as `prepare` recorded them. */
async function dailyFigures(connection: ClickHouseConnection, table: PreparedTable): Promise<{ name: string; expression: string }[]> {
  const rows = await queryTexts(
    connection,
    `SELECT daily_figures FROM ${qualified(connection.database, TABLES_TABLE)} FINAL WHERE table = ${stringLiteral(table.names.table)} FORMAT TabSeparated`,
  );
  return JSON.parse(unescape(rows[0]?.[0] ?? '[]')) as { name: string; expression: string }[];
}

/** Live rows after FINAL per partition of a table. */
async function liveRows(connection: ClickHouseConnection, name: string, dayExpression: string): Promise<Map<string, number>> {
  const rows = await queryTexts(
    connection,
    `SELECT toYYYYMM(${dayExpression}) AS p, count() FROM ${qualified(connection.database, name)} FINAL WHERE ${DELETED_COLUMN} = 0 GROUP BY p FORMAT TabSeparated`,
  );
  return new Map(rows.map(([p, n]) => [p!, Number(n)]));
}

/** Stored rows (every version) per active partition. */
async function rawRows(connection: ClickHouseConnection, name: string): Promise<Map<string, number>> {
  const rows = await queryTexts(
    connection,
    `SELECT partition_id, sum(rows) FROM system.parts WHERE database = ${stringLiteral(connection.database)} AND table = ${stringLiteral(name)} AND active GROUP BY partition_id FORMAT TabSeparated`,
  );
  return new Map(rows.filter(([, n]) => Number(n) > 0).map(([p, n]) => [p!, Number(n)]));
}

async function activePartitions(connection: ClickHouseConnection, name: string): Promise<string[]> {
  return [...(await rawRows(connection, name)).keys()].sort();
}

function checkPartitions(partitions: readonly string[]): string[] {
  if (partitions.length === 0) throw new ValidationError('name at least one partition (YYYYMM)');
  for (const p of partitions) if (!PARTITION.test(p)) throw new ValidationError(`a partition is a month, YYYYMM: ${JSON.stringify(p.slice(0, 40))}`);
  return [...new Set(partitions)].sort();
}

/** Undoes TabSeparated escaping of a text field. */
function unescape(text: string): string {
  return unescapeField(Buffer.from(text, 'utf8')).toString('utf8');
}
