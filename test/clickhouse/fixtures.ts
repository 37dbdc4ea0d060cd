/** Tables and changes for the ClickHouse tests: a table of every type with hostile values, and a small one. */
import type { FanoutChange, FanoutColumn, FanoutTable } from '../../shared/fanout/fanout-types';
import type { Value } from '../../shared/iceberg/spec/values';

const col = (name: string, type: FanoutColumn['type'], nullable = true): FanoutColumn => ({ name, type, nullable, sourceType: 'test' });

/** A table with a column of every type the copy produces. */
export const EVERY_TYPE: FanoutTable = {
  schema: 'public',
  name: 'every_type',
  entity: 'EveryType',
  key: ['id'],
  references: [],
  columns: [
    col('id', 'long', false),
    col('i', 'int'),
    col('flag', 'boolean'),
    col('f', 'float'),
    col('d', 'double'),
    col('amount', 'decimal(38, 10)'),
    col('day', 'date'),
    col('at_time', 'time'),
    col('ts', 'timestamp'),
    col('tz', 'timestamptz'),
    col('s', 'string'),
    col('u', 'uuid'),
    col('bin', 'binary'),
    col('fx', 'fixed[3]'),
    col('tags', { type: 'list', 'element-id': 100, element: 'string', 'element-required': false }),
    col('grid', {
      type: 'list',
      'element-id': 101,
      element: { type: 'list', 'element-id': 102, element: 'decimal(10, 2)', 'element-required': true },
      'element-required': true,
    }),
  ],
};

/** Rows of EVERY_TYPE with the values most likely to be changed on the way: extremes, NUL and 0xff bytes, non-BMP text. */
export const HOSTILE_ROWS: Value[][] = [
  [
    2n ** 63n - 1n,
    2 ** 31 - 1,
    true,
    Math.fround(3.4028234663852886e38),
    Number.NaN,
    -123456789012345678901234567n,
    -719162,
    86_399_999_999n,
    -62_135_596_800_000_000n,
    -1n,
    "tab\there\nnew\\line 'q' \\N 😀𝄞",
    '00000000-0000-0000-0000-000000000000',
    new Uint8Array([0x00, 0xff, 0x09, 0x0a, 0x5c, 0x27, 0x0d]),
    new Uint8Array([0, 0, 0]),
    ["a'b", null, '\\0x😀', '', 'NULL'],
    [[-1n, 1234567891n], []],
  ],
  [
    -(2n ** 63n),
    -(2 ** 31),
    false,
    -0,
    -Infinity,
    -1n,
    0,
    0n,
    0n,
    253_402_300_799_999_999n,
    '',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    new Uint8Array([]),
    new Uint8Array([0xff, 0xfe, 0x00]),
    [],
    [],
  ],
  [3n, null, null, null, Infinity, null, null, null, null, null, null, null, null, null, null, [[0n]]],
  [
    4n,
    0,
    true,
    1.5,
    -0,
    10000000000000000000000000000n,
    20_000,
    1n,
    1_700_000_000_123_456n,
    1_700_000_000_123_456n,
    '\\',
    '5d0f3b7e-2c4a-4f8e-9b61-3a7c2e9d1f40',
    new Uint8Array([0x5c, 0x4e]),
    new Uint8Array([0x5c, 0x4e, 0x09]),
    [null, null],
    [[-99999999n]],
  ],
];

/** A small table: key, a month-partitioning timestamp, a summed amount. */
export const ORDERS: FanoutTable = {
  schema: 'shop',
  name: 'orders',
  entity: 'Orders',
  key: ['id'],
  references: [],
  columns: [col('id', 'long', false), col('placed_at', 'timestamp'), col('amount', 'decimal(10, 2)'), col('note', 'string')],
};

/** Microseconds of a UTC ISO time. */
export function micros(iso: string): bigint {
  return BigInt(Date.parse(iso)) * 1000n;
}

/** A change of `table`. */
export function change(table: FanoutTable, op: FanoutChange['op'], row: Value[], position: bigint, index = 0): FanoutChange {
  const key = table.key.map((name) => row[table.columns.findIndex((c) => c.name === name)]!);
  return { table, op, key, row: op === 'delete' ? undefined : row, position, index, committedAt: 1_700_000_000_000, origin: 'stream' };
}

/** A table keyed by four columns of the types whose SQL literals differ: text, bytes, uuid and decimal. */
export const COMPOSITE: FanoutTable = {
  schema: 'odd keys',
  name: 'composite`table',
  entity: 'Composite',
  key: ['name', 'raw', 'u', 'price'],
  references: [],
  columns: [col('name', 'string', false), col('raw', 'binary', false), col('u', 'uuid', false), col('price', 'decimal(12, 3)', false), col('v', 'int')],
};
