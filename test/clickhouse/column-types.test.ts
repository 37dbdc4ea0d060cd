/** The ClickHouse form of each Iceberg type, and the tables refused when they are prepared. */
import { describe, expect, it } from 'vitest';
import { planTable } from '../../shared/clickhouse/column-types';
import { tableLayout, tableStatements } from '../../shared/clickhouse/table-ddl';
import type { FanoutColumn, FanoutTable } from '../../shared/fanout/fanout-types';
import { EVERY_TYPE, ORDERS } from './fixtures';

const table = (columns: FanoutColumn[], key = ['id']): FanoutTable => ({ schema: 's', name: 't', entity: 'T', key, references: [], columns });
const id: FanoutColumn = { name: 'id', type: 'long', nullable: false, sourceType: 'bigint' };

describe('ClickHouse column types', () => {
  it('maps every type exactly, key columns never Nullable, a nullable list with a null flag', () => {
    const plan = planTable({ ...EVERY_TYPE, columns: EVERY_TYPE.columns.map((c) => (c.name === 'id' ? { ...c, nullable: true } : c)) });
    expect(plan.columns.map((c) => [c.source.name, c.type, c.nullFlag ?? ''])).toEqual([
      ['id', 'Int64', ''],
      ['i', 'Nullable(Int32)', ''],
      ['flag', 'Nullable(UInt8)', ''],
      ['f', 'Nullable(Float32)', ''],
      ['d', 'Nullable(Float64)', ''],
      ['amount', 'Nullable(Decimal(38, 10))', ''],
      ['day', 'Nullable(Int32)', ''],
      ['at_time', 'Nullable(Int64)', ''],
      ['ts', 'Nullable(Int64)', ''],
      ['tz', 'Nullable(Int64)', ''],
      ['s', 'Nullable(String)', ''],
      ['u', 'Nullable(UUID)', ''],
      ['bin', 'Nullable(String)', ''],
      ['fx', 'Nullable(FixedString(3))', ''],
      ['tags', 'Array(Nullable(String))', 'tags__is_null'],
      ['grid', 'Array(Array(Decimal(10, 2)))', 'grid__is_null'],
    ]);
    expect(plan.aliases.map((a) => `${a.name} ${a.type}`)).toEqual([
      'day__date Nullable(Date)',
      'ts__datetime Nullable(DateTime)',
      'tz__datetime Nullable(DateTime)',
    ]);
  });

  it('refuses, naming table and column, what has no exact form', () => {
    const struct: FanoutColumn = { name: 'address', type: { type: 'struct', fields: [] }, nullable: true, sourceType: 'composite' };
    expect(() => planTable(table([id, struct]))).toThrow('ClickHouse: table s.t column "address": a struct has no exact ClickHouse form');
    const nested: FanoutColumn = {
      name: 'm',
      type: { type: 'list', 'element-id': 1, element: { type: 'list', 'element-id': 2, element: 'int', 'element-required': true }, 'element-required': false },
      nullable: false,
      sourceType: 'int[][]',
    };
    expect(() => planTable(table([id, nested]))).toThrow(/column "m": a list of nullable lists/);
    const clash: FanoutColumn = { name: 'ts__datetime', type: 'string', nullable: true, sourceType: 'text' };
    expect(() => planTable(table([id, { name: 'ts', type: 'timestamp', nullable: true, sourceType: 'timestamp' }, clash]))).toThrow(
      /column "ts": the name "ts__datetime" is taken/,
    );
    expect(() => planTable(table([id, { name: '_version', type: 'long', nullable: true, sourceType: 'bigint' }]))).toThrow(/"_version" is taken/);
  });

  it('partitions by the configured time column, else the first date or timestamp, else the commit time', () => {
    expect(tableLayout(ORDERS).dayExpression).toBe('toDate(toUInt16(least(greatest(intDiv(ifNull(`placed_at`, 0), 86400000000), 0), 65535)))');
    expect(tableLayout(table([id])).dayExpression).toBe('toDate(toUInt16(least(greatest(intDiv(_source_time, 86400000), 0), 65535)))');
    expect(() => tableLayout(ORDERS, { timeColumn: 'note' })).toThrow(/"note" is not a date or timestamp/);
    expect(() => tableLayout(ORDERS, { sumColumns: ['note'] })).toThrow(/"note" is not numeric/);
    const [, create, daily, view] = tableStatements('db', tableLayout(ORDERS, { sumColumns: ['amount'] }));
    expect(create).toContain('ENGINE = ReplacingMergeTree(_version) PARTITION BY toYYYYMM(');
    expect(create).toContain('ORDER BY (`id`)');
    expect(daily).toContain('`amount_sum` Decimal(38, 2)) ENGINE = SummingMergeTree');
    expect(view).toContain('sum(if(_deleted = 1, -1, 1) * assumeNotNull(`amount`)) AS `amount_sum`');
  });
});
