/**
 * The ClickHouse sink on a real server (Debian's clickhouse-server 18.16): exact round trips of every type,
 * idempotent replays, deletes, checkpoints, the daily figures and the inventory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseConnection, openClickHouse, queryTexts } from '../../shared/clickhouse/clickhouse-connection';
import { clickHouseInventory } from '../../shared/clickhouse/clickhouse-inventory';
import { ClickHouseSink } from '../../shared/clickhouse/clickhouse-sink';
import { qualified } from '../../shared/clickhouse/clickhouse-sql';
import { readRows } from '../../shared/clickhouse/table-reader';
import { aggregateId } from '../../shared/fanout/identity';
import type { FanoutTable } from '../../shared/fanout/fanout-types';
import type { Value } from '../../shared/iceberg/spec/values';
import { COMPOSITE, EVERY_TYPE, HOSTILE_ROWS, ORDERS, change, micros } from '../clickhouse/fixtures';
import { type ClickHouseInstance, startClickHouse } from './support/clickhouse-server';

let server: ClickHouseInstance;
let sink: ClickHouseSink;
let connection: ClickHouseConnection;

beforeAll(async () => {
  server = await startClickHouse({ database: 'sink_test' });
  connection = openClickHouse(server.settings);
  sink = new ClickHouseSink(openClickHouse(server.settings), { tables: { 'shop.orders': { sumColumns: ['amount'] } } });
  await sink.prepare([EVERY_TYPE, ORDERS, COMPOSITE]);
}, 120_000);

afterAll(async () => {
  await sink?.close();
  await connection?.close();
  await server?.stop();
});

async function live(table: FanoutTable): Promise<Value[][]> {
  const rows: Value[][] = [];
  for await (const stored of readRows(connection, sink.layout(table))) rows.push(stored.row);
  return rows;
}

function order(id: bigint, at: string, amount: bigint | null, note: string | null = null): Value[] {
  return [id, micros(at), amount, note];
}

describe('the ClickHouse sink', () => {
  it('holds no position before its first prepare', async () => {
    const fresh = new ClickHouseSink(openClickHouse({ ...server.settings, database: 'never_prepared' }));
    try {
      expect(await fresh.checkpoint()).toBe(0n);
    } finally {
      await fresh.close();
    }
  });

  it('keeps every type exactly, hostile values included', async () => {
    await sink.apply({
      through: undefined,
      changes: HOSTILE_ROWS.map((row, i) => ({ ...change(EVERY_TYPE, 'insert', row, 10n, i), origin: 'load' as const })),
    });
    const back = await live(EVERY_TYPE);
    const sorted = [...HOSTILE_ROWS].sort((a, b) => (BigInt(a[0] as bigint) < BigInt(b[0] as bigint) ? -1 : 1));
    expect(back).toHaveLength(sorted.length);
    back.forEach((row, i) => {
      const expected = sorted[i]!;
      expected.forEach((value, c) => {
        const name = EVERY_TYPE.columns[c]!.name;
        if (typeof value === 'number' && Number.isNaN(value)) expect(Number.isNaN(row[c]), name).toBe(true);
        else if (typeof value === 'number')
          expect(Object.is(row[c], value), `${name}: ${Object.is(row[c], -0) ? '-0' : JSON.stringify(row[c])} for ${Object.is(value, -0) ? '-0' : value}`).toBe(
            true,
          );
        else expect(row[c], name).toEqual(value);
      });
    });
  });

  it('refuses a value it cannot keep, naming system, table, column and key', async () => {
    const row = [...HOSTILE_ROWS[2]!];
    row[0] = 99n;
    row[10] = 'lone \ud800 surrogate';
    await expect(sink.apply({ through: undefined, changes: [change(EVERY_TYPE, 'insert', row, 11n)] })).rejects.toThrow(
      /clickhouse: table public\.every_type column "s" key 99: a string with a lone UTF-16 surrogate/,
    );
  });

  it('applies a batch twice as once, hides deleted keys, and skips what the checkpoint holds', async () => {
    const batch = {
      through: 100n,
      changes: [
        change(ORDERS, 'insert', order(1n, '2024-01-05T10:00:00Z', 1050n, 'first'), 100n, 0),
        change(ORDERS, 'insert', order(2n, '2024-01-06T10:00:00Z', 250n), 100n, 1),
        change(ORDERS, 'insert', order(3n, '2024-02-01T00:00:00Z', -75n), 100n, 2),
        change(ORDERS, 'update', order(1n, '2024-01-05T10:00:00Z', 1100n, 'second'), 100n, 3),
      ],
    };
    // Twice without a checkpoint (as after a crash before it was recorded), then once more recording it.
    await sink.apply({ ...batch, through: undefined });
    await sink.apply({ ...batch, through: undefined });
    await sink.apply(batch);
    expect(await sink.checkpoint()).toBe(100n);
    expect(await live(ORDERS)).toHaveLength(3);
    await sink.apply({
      through: 200n,
      changes: [
        // Held by the checkpoint (position 100): skipped, although ClickHouse has no row of key 5.
        change(ORDERS, 'insert', order(5n, '2024-01-06T10:00:00Z', 999999n), 100n, 0),
        change(ORDERS, 'delete', order(3n, '2024-02-01T00:00:00Z', null), 150n, 0),
        // Moves the row to another month's partition.
        change(ORDERS, 'update', order(1n, '2024-03-09T08:00:00Z', 1200n, 'moved'), 200n, 0),
      ],
    });
    const table = qualified(connection.database, sink.layout(ORDERS).names.table);
    const raw = await queryTexts(connection, `SELECT count() FROM ${table} FINAL WHERE _deleted = 0 FORMAT TabSeparated`);
    expect(raw).toEqual([['2']]);
    expect(await live(ORDERS)).toEqual([order(1n, '2024-03-09T08:00:00Z', 1200n, 'moved'), order(2n, '2024-01-06T10:00:00Z', 250n)]);
    // No partition holds a live copy of key 1 besides March's: the old month's copy was written again as deleted.
    const perMonth = await queryTexts(
      connection,
      `SELECT toYYYYMM(toDate(toUInt16(intDiv(placed_at, 86400000000)))) AS m, argMax(_deleted, _version) FROM ${table} WHERE id = 1 GROUP BY m ORDER BY m FORMAT TabSeparated`,
    );
    expect(perMonth).toEqual([
      ['202401', '1'],
      ['202403', '0'],
    ]);
    expect(await sink.checkpoint()).toBe(200n);
  });

  it('keeps the daily figures equal to the live rows through updates, moves, deletes and replays', async () => {
    const layout = sink.layout(ORDERS);
    const daily = await queryTexts(
      connection,
      `SELECT day, sum(rows), sum(amount_sum) FROM ${qualified(connection.database, layout.names.daily)} GROUP BY day HAVING sum(rows) != 0 OR sum(amount_sum) != 0 ORDER BY day FORMAT TabSeparated`,
    );
    expect(daily).toEqual([
      ['2024-01-06', '1', '2.50'],
      ['2024-03-09', '1', '12.00'],
    ]);
  });

  it('finds composite keys of text, bytes, uuid and decimal again to update and delete them', async () => {
    const key = (name: string, raw: number[], price: bigint): Value[] => [name, new Uint8Array(raw), '5d0f3b7e-2c4a-4f8e-9b61-3a7c2e9d1f40', price];
    const a = key("it's\\ a 😀", [0x00, 0x27, 0xff, 0x5c], -1234567n);
    const b = key('', [], 0n);
    await sink.apply({ through: 300n, changes: [change(COMPOSITE, 'insert', [...a, 1], 300n, 0), change(COMPOSITE, 'insert', [...b, 1], 300n, 1)] });
    await sink.apply({ through: 310n, changes: [change(COMPOSITE, 'update', [...a, 2], 310n, 0), change(COMPOSITE, 'delete', [...b, null], 310n, 1)] });
    const stored: { row: Value[]; deleted: boolean }[] = [];
    for await (const r of readRows(connection, sink.layout(COMPOSITE), { withDeleted: true })) stored.push({ row: r.row, deleted: r.deleted });
    // One row per key after FINAL: a's update replaced it, b's delete hid it.
    expect(stored).toEqual([
      { row: [...b, 1], deleted: true },
      { row: [...a, 2], deleted: false },
    ]);
    const inventory = await clickHouseInventory(connection, sink.layout(COMPOSITE));
    expect([...inventory.live.entries()]).toEqual([[aggregateId(a), 310n]]);
  });

  it('answers an inventory of live keys and positions, and finds a row deleted behind its back', async () => {
    const before = await clickHouseInventory(connection, sink.layout(ORDERS));
    expect(before.system).toBe('clickhouse');
    expect(before.table).toBe('shop.orders');
    expect([...before.live.entries()]).toEqual([
      [aggregateId([1n]), 200n],
      [aggregateId([2n]), 100n],
    ]);
    expect(before.newest).toBe(200n);
    expect(before.findings).toEqual([]);
    // Damage: a row removed in ClickHouse only.
    await connection.command(`ALTER TABLE ${qualified(connection.database, sink.layout(ORDERS).names.table)} DELETE WHERE id = 2`);
    await waitForMutations(connection);
    const after = await clickHouseInventory(connection, sink.layout(ORDERS));
    expect([...after.live.keys()]).toEqual([aggregateId([1n])]);
  });

  it('looks keys up in queries ClickHouse accepts however long the keys are', async () => {
    // 400 keys of 2,000 characters: 800,000 characters of literals, over 18.16's 256 KiB query limit in one query.
    const long = (i: number): Value[] => [
      `${String(i).padStart(4, '0')}${'k'.repeat(1996)}`,
      new Uint8Array([i % 256]),
      '5d0f3b7e-2c4a-4f8e-9b61-3a7c2e9d1f40',
      1n,
    ];
    const keys = Array.from({ length: 400 }, (_, i) => long(i));
    await sink.apply({ through: 500n, changes: keys.map((k, i) => change(COMPOSITE, 'insert', [...k, 1], 500n, i)) });
    await sink.apply({ through: 510n, changes: keys.map((k, i) => change(COMPOSITE, 'delete', [...k, null], 510n, i)) });
    const inventory = await clickHouseInventory(connection, sink.layout(COMPOSITE));
    expect(inventory.live.size).toBe(1);
    // The sink's own inventory answers the same.
    expect((await sink.inventory(COMPOSITE)).live).toEqual(inventory.live);
  });

  it('adds a column added at the source, and refuses a changed type, a changed time column and two tables of one name', async () => {
    const grown: FanoutTable = { ...ORDERS, columns: [...ORDERS.columns, { name: 'channel', type: 'string', nullable: true, sourceType: 'text' }] };
    const other = new ClickHouseSink(openClickHouse(server.settings), { tables: { 'shop.orders': { sumColumns: ['amount'] } } });
    try {
      await other.prepare([grown]);
      await other.apply({ through: 600n, changes: [change(grown, 'insert', [...order(9n, '2024-04-01T00:00:00Z', 1n), 'web'], 600n)] });
      const rows: Value[][] = [];
      for await (const r of readRows(connection, other.layout(grown), { where: 'id = 9' })) rows.push(r.row);
      expect(rows).toEqual([[...order(9n, '2024-04-01T00:00:00Z', 1n), 'web']]);
      const retyped: FanoutTable = { ...grown, columns: grown.columns.map((c) => (c.name === 'channel' ? { ...c, type: 'long' as const } : c)) };
      await expect(other.prepare([retyped])).rejects.toThrow('column "channel" is Nullable(String) in ClickHouse but maps to Nullable(Int64) now');
    } finally {
      await other.close();
    }
    const moved = new ClickHouseSink(openClickHouse(server.settings), { tables: { 'shop.orders': {} } });
    try {
      await expect(moved.prepare([ORDERS])).rejects.toThrow(/created with another time column or other summed columns/);
      const twins: FanoutTable[] = [
        { ...ORDERS, schema: 'a__b', name: 'c' },
        { ...ORDERS, schema: 'a', name: 'b__c' },
      ];
      await expect(moved.prepare(twins)).rejects.toThrow('ClickHouse: tables a__b.c and a.b__c would both be a__b__c');
    } finally {
      await moved.close();
    }
  });

  it('keeps the daily figures of a table partitioned by commit time exact when an update moves a row', async () => {
    const layout = sink.layout(COMPOSITE);
    const k: Value[] = ['by commit time', new Uint8Array([1]), '5d0f3b7e-2c4a-4f8e-9b61-3a7c2e9d1f40', 5n];
    const january = Date.parse('2024-01-15T00:00:00Z');
    const march = Date.parse('2024-03-20T00:00:00Z');
    await sink.apply({ through: 700n, changes: [{ ...change(COMPOSITE, 'insert', [...k, 1], 700n), committedAt: january }] });
    await sink.apply({ through: 710n, changes: [{ ...change(COMPOSITE, 'update', [...k, 2], 710n), committedAt: march }] });
    const days = await queryTexts(
      connection,
      `SELECT day, sum(rows) FROM ${qualified(connection.database, layout.names.daily)} GROUP BY day HAVING sum(rows) != 0 ORDER BY day FORMAT TabSeparated`,
    );
    // The row counts for March only; January's count went back to 0 (other rows of the table are from 2023).
    expect(days.filter(([day]) => day!.startsWith('2024'))).toEqual([['2024-03-20', '1']]);
  });
});

async function waitForMutations(c: ClickHouseConnection): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const [[pending]] = (await queryTexts(c, `SELECT count() FROM system.mutations WHERE is_done = 0 FORMAT TabSeparated`)) as [[string]];
    if (pending === '0') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('mutations did not finish');
}
