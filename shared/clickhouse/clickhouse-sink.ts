/**
 * The ClickHouse sink of the fan-out. `apply` keeps the last change per key of a batch and writes, in ONE
 * TabSeparated INSERT per table:
 *
 * 1. for each key whose newest stored row (after FINAL) is live and older than the change: that row again with
 *    `_deleted = 1` and version `position - 1` (a delete: `position`), so the old month's partition holds no live
 *    copy and the daily figures count it -1;
 * 2. for each insert or update: the row with `_version = position`, `_deleted = 0`.
 *
 * A change whose key already holds a row of the same or a newer position is skipped: a replay after a crash, or a
 * historical-load chunk arriving after the stream moved on, writes nothing, so both the table and its daily
 * figures stay exact. Then `through` (when set) is recorded in `icebridge_checkpoints`.
 */
import type { Lsn } from '../cdc/lsn';
import { ValidationError } from '../errors';
import type { FanoutBatch, FanoutChange, FanoutSink, FanoutTable, SystemInventory } from '../fanout/fanout-types';
import { clickHouseInventory } from './clickhouse-inventory';
import { aggregateId, qualifiedName } from '../fanout/identity';
import type { Value } from '../iceberg/spec/values';
import { type ClickHouseConnection, openClickHouse, queryTexts } from './clickhouse-connection';
import type { ClickHouseSettings } from './clickhouse-settings';
import { CHECKPOINT_TABLE, TABLES_TABLE, qualified, quoteIdentifier, stringLiteral } from './clickhouse-sql';
import { DELETED_COLUMN, SOURCE_TIME_COLUMN, VERSION_COLUMN } from './column-types';
import { keyConditions } from './key-literals';
import {
  type AnalyticsTableOptions,
  type TableLayout,
  dailyFiguresText,
  preparedTableRow,
  sameType,
  sharedStatements,
  storedColumns,
  tableLayout,
  tableStatements,
} from './table-ddl';
import { type LinePart, decodeField, encodeField, lineBytes, splitFields, unescapeField } from './tsv-values';

/** Options of the ClickHouse sink. */
export interface ClickHouseSinkOptions {
  /** The checkpoint's name in `icebridge_checkpoints` (one per change feed); default `sync`. */
  checkpointName?: string;
  /** Per source table (`schema.name`): time column and summed columns of its daily figures. */
  tables?: Readonly<Record<string, AnalyticsTableOptions>>;
}

/** Bytes of key literals per lookup query: well inside 18.16's 256 KiB query limit. */
const LOOKUP_BYTES = 128 * 1024;

/** The ClickHouse sink (`system` 'clickhouse'). */
export class ClickHouseSink implements FanoutSink {
  readonly system = 'clickhouse' as const;
  private readonly layouts = new Map<string, TableLayout>();
  private readonly checkpointName: string;

  constructor(
    private readonly connection: ClickHouseConnection,
    private readonly options: ClickHouseSinkOptions = {},
  ) {
    this.checkpointName = options.checkpointName ?? 'sync';
  }

  /** A sink on its own connection to the server of `settings`. */
  static open(settings: ClickHouseSettings, options: ClickHouseSinkOptions = {}): ClickHouseSink {
    return new ClickHouseSink(openClickHouse(settings), options);
  }

  /** The layout of a prepared table. */
  layout(table: Pick<FanoutTable, 'schema' | 'name'>): TableLayout {
    const layout = this.layouts.get(qualifiedName(table));
    if (!layout) throw new ValidationError(`ClickHouse: table ${qualifiedName(table)} was not prepared`);
    return layout;
  }

  async prepare(tables: readonly FanoutTable[]): Promise<void> {
    const database = this.connection.database;
    const layouts = tables.map((table) => tableLayout(table, this.options.tables?.[qualifiedName(table)]));
    const byName = new Map<string, string>();
    for (const layout of layouts) {
      const other = byName.get(layout.names.table);
      const mine = qualifiedName(layout.plan.table);
      if (other !== undefined && other !== mine) throw new ValidationError(`ClickHouse: tables ${other} and ${mine} would both be ${layout.names.table}`);
      byName.set(layout.names.table, mine);
    }
    for (const statement of sharedStatements(database)) await this.connection.command(statement);
    for (const layout of layouts) {
      await this.refuseOtherLayout(layout);
      for (const statement of tableStatements(database, layout)) await this.connection.command(statement);
      await this.addMissingColumns(layout);
      await this.connection.command(preparedTableRow(database, layout));
      this.layouts.set(qualifiedName(layout.plan.table), layout);
    }
  }

  /**
   * A table's partitioning and daily figures are fixed when it is created (CREATE … IF NOT EXISTS changes neither):
   * preparing it with another time column or other sums is refused rather than recorded as if it had happened.
   */
  private async refuseOtherLayout(layout: TableLayout): Promise<void> {
    const sql = `SELECT day_expression, daily_figures FROM ${qualified(this.connection.database, TABLES_TABLE)} FINAL WHERE table = ${stringLiteral(layout.names.table)} FORMAT TabSeparated`;
    for await (const line of this.connection.lines(sql)) {
      const [day, figures] = splitFields(line).map((field) => unescapeField(field).toString('utf8'));
      if (day !== layout.dayExpression || figures !== dailyFiguresText(layout)) {
        throw new ValidationError(
          `ClickHouse: table ${qualifiedName(layout.plan.table)} was created with another time column or other summed columns; drop ${layout.names.table} and its __daily tables to change them`,
        );
      }
    }
  }

  /** A column added at the source is added here (at the end); a column whose type changed is an error, never a silent cast. */
  private async addMissingColumns(layout: TableLayout): Promise<void> {
    const database = this.connection.database;
    const rows = await queryTexts(
      this.connection,
      `SELECT name, type FROM system.columns WHERE database = ${stringLiteral(database)} AND table = ${stringLiteral(layout.names.table)} FORMAT TabSeparated`,
    );
    const existing = new Map(rows.map(([name, type]) => [name!, type!]));
    for (const column of layout.plan.columns) {
      const found = existing.get(column.source.name);
      if (found === undefined) {
        await this.connection.command(
          `ALTER TABLE ${qualified(database, layout.names.table)} ADD COLUMN ${quoteIdentifier(column.source.name)} ${column.type}`,
        );
        if (column.nullFlag)
          await this.connection.command(`ALTER TABLE ${qualified(database, layout.names.table)} ADD COLUMN ${quoteIdentifier(column.nullFlag)} UInt8`);
      } else if (!sameType(found, column.type)) {
        throw new ValidationError(
          `ClickHouse: table ${qualifiedName(layout.plan.table)} column ${JSON.stringify(column.source.name)} is ${found} in ClickHouse but maps to ${column.type} now`,
        );
      }
    }
  }

  async checkpoint(): Promise<Lsn> {
    // Before the first prepare there is no checkpoint table: the sink holds nothing yet.
    const exists = await queryTexts(
      this.connection,
      `SELECT count() FROM system.tables WHERE database = ${stringLiteral(this.connection.database)} AND name = ${stringLiteral(CHECKPOINT_TABLE)} FORMAT TabSeparated`,
    );
    if (exists[0]?.[0] !== '1') return 0n;
    const rows = await queryTexts(
      this.connection,
      `SELECT max(position) FROM ${qualified(this.connection.database, CHECKPOINT_TABLE)} WHERE name = ${stringLiteral(this.checkpointName)} FORMAT TabSeparated`,
    );
    return BigInt(rows[0]?.[0] ?? '0') as Lsn;
  }

  async apply(batch: FanoutBatch): Promise<void> {
    const from = batch.through === undefined ? undefined : await this.checkpoint();
    const byTable = new Map<string, Map<string, FanoutChange>>();
    for (const change of batch.changes) {
      if (from !== undefined && change.position <= from) continue;
      const name = qualifiedName(change.table);
      let changes = byTable.get(name);
      if (!changes) byTable.set(name, (changes = new Map<string, FanoutChange>()));
      const id = aggregateId(change.key);
      // Changes come in commit order: the last one per key is the key's state after the batch.
      changes.delete(id);
      changes.set(id, change);
    }
    for (const [, changes] of byTable) await this.applyTable(this.layout([...changes.values()][0]!.table), [...changes.values()]);
    if (batch.through !== undefined) {
      await this.connection.command(
        `INSERT INTO ${qualified(this.connection.database, CHECKPOINT_TABLE)} (name, position, updated_at) VALUES (${stringLiteral(this.checkpointName)}, ${batch.through}, now())`,
      );
    }
  }

  private async applyTable(layout: TableLayout, changes: FanoutChange[]): Promise<void> {
    const stored = await this.storedRows(layout, changes);
    const lines: Buffer[] = [];
    const rows: Buffer[] = [];
    for (const change of changes) {
      const current = stored.get(aggregateId(change.key));
      if (current && current.version >= change.position) continue;
      if (current && !current.deleted) {
        const version = change.op === 'delete' ? change.position : change.position - 1n;
        // The copy keeps the stored row's commit time: a table partitioned by it finds the copy in the old row's month.
        lines.push(Buffer.concat([current.fields, Buffer.from(`\t${version}\t1\t${current.sourceTime}\n`)]));
      }
      if (change.op !== 'delete') rows.push(encodeRow(layout, change));
    }
    lines.push(...rows);
    if (lines.length === 0) return;
    const columns = storedColumns(layout).map(quoteIdentifier).join(', ');
    await this.connection.insert(`INSERT INTO ${qualified(this.connection.database, layout.names.table)} (${columns}) FORMAT TabSeparated`, lines);
  }

  /** The newest stored row (after FINAL) of each key of `changes`: its source fields as stored, version and deletion. */
  private async storedRows(layout: TableLayout, changes: readonly FanoutChange[]): Promise<Map<string, StoredRow>> {
    const found = new Map<string, StoredRow>();
    const sourceColumns = storedColumns(layout).slice(0, -3);
    const keyColumns = layout.plan.table.key.map((name) => layout.plan.columns.find((c) => c.source.name === name)!);
    const keyFields = keyColumns.map((column) => sourceColumns.indexOf(column.source.name));
    const select = [...sourceColumns, VERSION_COLUMN, DELETED_COLUMN, SOURCE_TIME_COLUMN].map(quoteIdentifier).join(', ');
    for (const condition of keyConditions(
      keyColumns,
      changes.map((c) => c.key),
      LOOKUP_BYTES,
    )) {
      const sql = `SELECT ${select} FROM ${qualified(this.connection.database, layout.names.table)} FINAL WHERE ${condition} FORMAT TabSeparated`;
      for await (const line of this.connection.lines(sql)) {
        const fields = splitFields(line);
        const key = keyFields.map((at, i) => decodeField(fields[at]!, keyColumns[i]!.source.type));
        const n = sourceColumns.length;
        found.set(aggregateId(key), {
          fields: Buffer.from(line.subarray(0, fieldsEnd(line, n))),
          version: BigInt(fields[n]!.toString('latin1')),
          deleted: fields[n + 1]!.toString('latin1') === '1',
          sourceTime: fields[n + 2]!.toString('latin1'),
        });
      }
    }
    return found;
  }

  /** What ClickHouse holds of `table`, for the consistency check (the table need not be prepared by this sink). */
  inventory(table: FanoutTable): Promise<SystemInventory> {
    const layout = this.layouts.get(qualifiedName(table)) ?? tableLayout(table, this.options.tables?.[qualifiedName(table)]);
    return clickHouseInventory(this.connection, layout);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

interface StoredRow {
  /** The source columns' fields exactly as ClickHouse wrote them, tab-separated. */
  fields: Buffer;
  version: bigint;
  deleted: boolean;
  /** `_source_time` as ClickHouse wrote it. */
  sourceTime: string;
}

/** Where the first `count` fields of a TabSeparated line end. */
function fieldsEnd(line: Buffer, count: number): number {
  let at = -1;
  for (let i = 0; i < count; i++) at = line.indexOf(0x09, at + 1);
  return at;
}

/** One TabSeparated line of a change's row: source columns (and null flags), version, 0, commit time. */
export function encodeRow(layout: TableLayout, change: FanoutChange): Buffer {
  const row = change.row!;
  const fields: LinePart[][] = [];
  layout.plan.columns.forEach((column, i) => {
    const value: Value = row[i] ?? null;
    const context = { table: change.table, column: column.source.name, key: change.key };
    const out: LinePart[] = [];
    if (column.nullFlag) {
      encodeField(value === null ? [] : value, column.source.type, false, context, out);
      fields.push(out, [value === null ? '1' : '0']);
    } else {
      encodeField(value, column.source.type, column.type.startsWith('Nullable('), context, out);
      fields.push(out);
    }
  });
  fields.push([change.position.toString()], ['0'], [String(Math.trunc(change.committedAt))]);
  return lineBytes(fields);
}
