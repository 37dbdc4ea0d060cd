/**
 * Partition backup, restore and re-load of a ClickHouse analytics table on the real 18.16 server: damage a month,
 * put it back, and check the rows and the daily figures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseConnection, openClickHouse, queryTexts } from '../../shared/clickhouse/clickhouse-connection';
import { ClickHouseSink } from '../../shared/clickhouse/clickhouse-sink';
import { qualified } from '../../shared/clickhouse/clickhouse-sql';
import { backupPartitions, reloadPartitions, resolveAnalyticsTable, restorePartitions } from '../../shared/clickhouse/partition-restore';
import { readRows } from '../../shared/clickhouse/table-reader';
import type { FanoutChange, FanoutTable } from '../../shared/fanout/fanout-types';
import type { Value } from '../../shared/iceberg/spec/values';
import { ORDERS, change, micros } from '../clickhouse/fixtures';
import { listActions } from '../../shared/state-db/transaction-log';
import type { StateDatabaseSettings } from '../../shared/state-db/state-settings';
import { type ClickHouseInstance, startClickHouse } from './support/clickhouse-server';
import { type PostgresInstance, startPostgres } from './support/postgres';

let server: ClickHouseInstance;
let sink: ClickHouseSink;
let connection: ClickHouseConnection;
let pg: PostgresInstance;
let state: StateDatabaseSettings;
const who = { actor: 'test', reason: 'damaged month', audit: { database: null as StateDatabaseSettings | null } };

const row = (id: bigint, at: string, amount: bigint): Value[] => [id, micros(at), amount, `order ${id}`];
const JANUARY = [row(1n, '2024-01-03T00:00:00Z', 100n), row(2n, '2024-01-04T00:00:00Z', 200n), row(3n, '2024-01-04T12:00:00Z', 300n)];
const FEBRUARY = [row(4n, '2024-02-10T00:00:00Z', 400n), row(5n, '2024-02-11T00:00:00Z', 500n)];

beforeAll(async () => {
  [server, pg] = await Promise.all([startClickHouse({ database: 'restore_test' }), startPostgres()]);
  // The transaction log the restores are recorded in: a real state database, migrated on first write.
  state = { url: pg.url, schema: 'icebridge', migrateOnStart: true };
  who.audit = { database: state };
  connection = openClickHouse(server.settings);
  sink = new ClickHouseSink(openClickHouse(server.settings), { tables: { 'shop.orders': { sumColumns: ['amount'] } } });
  await sink.prepare([ORDERS]);
  await sink.apply({ through: 10n, changes: [...JANUARY, ...FEBRUARY].map((r, i) => change(ORDERS, 'insert', r, 10n, i)) });
}, 120_000);

afterAll(async () => {
  await sink?.close();
  await connection?.close();
  await Promise.all([server?.stop(), pg?.stop()]);
});

async function live(): Promise<Value[][]> {
  const rows: Value[][] = [];
  for await (const stored of readRows(connection, sink.layout(ORDERS))) rows.push(stored.row);
  return rows;
}

async function daily(): Promise<string[][]> {
  return queryTexts(
    connection,
    `SELECT day, sum(rows), sum(amount_sum) FROM ${qualified(connection.database, sink.layout(ORDERS).names.daily)} GROUP BY day HAVING sum(rows) != 0 ORDER BY day FORMAT TabSeparated`,
  );
}

describe('ClickHouse partition restore', () => {
  it('backs up months and puts a damaged one back, rows and daily figures', async () => {
    const table = await resolveAnalyticsTable(connection, 'shop.orders');
    const backup = await backupPartitions(connection, table, who);
    expect(backup.partitions).toEqual([
      { partition: '202401', rows: 3 },
      { partition: '202402', rows: 2 },
    ]);
    const figuresBefore = await daily();
    // Damage: a bad batch deletes January's orders and rewrites one of February's.
    await sink.apply({
      through: 20n,
      changes: [
        change(ORDERS, 'delete', JANUARY[0]!, 20n, 0),
        change(ORDERS, 'delete', JANUARY[1]!, 20n, 1),
        change(ORDERS, 'update', row(4n, '2024-02-10T00:00:00Z', 1n), 20n, 2),
      ],
    });
    expect(await live()).toHaveLength(3);

    const dry = await restorePartitions(connection, table, { ...who, partitions: ['202401'], dryRun: true });
    expect(dry).toEqual({ table: 'shop__orders', dryRun: true, partitions: [{ partition: '202401', rowsNow: 1, rowsAfter: 3 }] });
    expect(await live()).toHaveLength(3);

    const done = await restorePartitions(connection, table, { ...who, partitions: ['202401'] });
    expect(done.partitions).toEqual([{ partition: '202401', rowsNow: 1, rowsAfter: 3 }]);
    // January is back; February keeps its later change (only the chosen month moved).
    expect(await live()).toEqual([...JANUARY, row(4n, '2024-02-10T00:00:00Z', 1n), FEBRUARY[1]!]);
    const figures = await daily();
    expect(figures.filter(([day]) => day!.startsWith('2024-01'))).toEqual(figuresBefore.filter(([day]) => day!.startsWith('2024-01')));
    // Recorded: the backup, and the restore with the rows before and after (the dry run changed nothing: not recorded).
    expect((await listActions({ kind: 'clickhouse.backup' }, state)).map((a) => [a.actor, a.subject])).toEqual([['test', 'clickhouse:shop__orders']]);
    const restores = await listActions({ kind: 'clickhouse.restore' }, state);
    expect(restores.map((a) => ({ actor: a.actor, reason: a.reason, subject: a.subject, before: a.before, after: a.after }))).toEqual([
      {
        actor: 'test',
        reason: 'damaged month',
        subject: 'clickhouse:shop__orders',
        before: [{ partition: '202401', rows: 1 }],
        after: { from: 'shop__orders__backup', partitions: [{ partition: '202401', rows: 3 }] },
      },
    ]);
  });

  it('refuses a month it has no backup of, and a partition that is not a month', async () => {
    const table = await resolveAnalyticsTable(connection, 'shop.orders');
    await expect(restorePartitions(connection, table, { ...who, partitions: ['203001'] })).rejects.toThrow(/no backup of partition 203001/);
    await expect(restorePartitions(connection, table, { ...who, partitions: ["2024'; DROP"] })).rejects.toThrow(/YYYYMM/);
    await expect(resolveAnalyticsTable(connection, 'shop.nothing')).rejects.toThrow(/no analytics table of shop.nothing/);
  });

  it('re-loads a month from rows given by the caller, the other months untouched', async () => {
    async function* snapshot(): AsyncIterable<FanoutChange> {
      for (const [i, r] of [...JANUARY, ...FEBRUARY].entries()) yield { ...change(ORDERS, 'insert', r, 10n, i), origin: 'load' };
    }
    const dry = await reloadPartitions(connection, ORDERS, snapshot(), { ...who, partitions: ['202402'], dryRun: true });
    expect(dry.partitions).toEqual([{ partition: '202402', rowsNow: 2, rowsAfter: 2 }]);
    expect(await live()).toContainEqual(row(4n, '2024-02-10T00:00:00Z', 1n));
    const done = await reloadPartitions(connection, ORDERS, snapshot(), { ...who, partitions: ['202402'] });
    expect(done.partitions).toEqual([{ partition: '202402', rowsNow: 2, rowsAfter: 2 }]);
    expect(await live()).toEqual([...JANUARY, ...FEBRUARY]);
    expect((await daily()).find(([day]) => day === '2024-02-10')).toEqual(['2024-02-10', '1', '4.00']);
  });

  it('restores from a backup made before a column was added at the source', async () => {
    const grown: FanoutTable = { ...ORDERS, columns: [...ORDERS.columns, { name: 'channel', type: 'string', nullable: true, sourceType: 'text' }] };
    const later = new ClickHouseSink(openClickHouse(server.settings), { tables: { 'shop.orders': { sumColumns: ['amount'] } } });
    try {
      await later.prepare([grown]);
      await later.apply({ through: 30n, changes: [change(grown, 'delete', [...JANUARY[2]!, null], 30n)] });
      const table = await resolveAnalyticsTable(connection, 'shop.orders');
      const done = await restorePartitions(connection, table, { ...who, partitions: ['202401'] });
      expect(done.partitions).toEqual([{ partition: '202401', rowsNow: 2, rowsAfter: 3 }]);
      const rows: Value[][] = [];
      for await (const r of readRows(connection, later.layout(grown), { where: 'id = 3' })) rows.push(r.row);
      expect(rows).toEqual([[...JANUARY[2]!, null]]);
    } finally {
      await later.close();
    }
  });
});
