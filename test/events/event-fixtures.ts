/**
 * Fan-out tables and changes for the event store's tests: a table with a column of every Iceberg type, a small
 * keyed table, and changes built from positions and rows.
 */
import type { FanoutChange, FanoutColumn, FanoutTable } from '../../shared/fanout/fanout-types';
import type { IcebergType } from '../../shared/iceberg/spec/types';
import type { Value } from '../../shared/iceberg/spec/values';

/** A column of `type`, nullable. */
export function column(name: string, type: IcebergType): FanoutColumn {
  return { name, type, nullable: true, sourceType: typeof type === 'string' ? type : type.type };
}

/** A table with one column of every type the shared value representation holds. */
export const ALL_TYPES: FanoutTable = {
  schema: 'public',
  name: 'all_types',
  entity: 'AllTypes',
  key: ['id'],
  references: [],
  columns: [
    column('id', 'long'),
    column('flag', 'boolean'),
    column('small', 'int'),
    column('big', 'long'),
    column('ratio', 'float'),
    column('measure', 'double'),
    column('price', 'decimal(38, 10)'),
    column('day', 'date'),
    column('at_time', 'time'),
    column('at', 'timestamp'),
    column('at_tz', 'timestamptz'),
    column('label', 'string'),
    column('ref', 'uuid'),
    column('hash', 'fixed[4]'),
    column('blob', 'binary'),
    column('tags', { type: 'list', 'element-id': 100, element: 'string', 'element-required': false }),
    column('attrs', { type: 'map', 'key-id': 101, key: 'string', 'value-id': 102, value: 'long', 'value-required': false }),
    column('address', {
      type: 'struct',
      fields: [
        { id: 103, name: 'city', required: false, type: 'string' },
        { id: 104, name: '__proto__', required: false, type: 'int' },
      ],
    }),
  ],
};

/** A small keyed table: `public.film (film_id long, title string)`. */
export const FILM: FanoutTable = {
  schema: 'public',
  name: 'film',
  entity: 'Film',
  key: ['film_id'],
  references: [],
  columns: [column('film_id', 'long'), column('title', 'string')],
};

/** A change of FILM at `position`. */
export function filmChange(op: FanoutChange['op'], id: number, position: bigint, index = 0, title = `film ${id}`): FanoutChange {
  const row: Value[] | undefined = op === 'delete' ? undefined : [BigInt(id), title];
  return { table: FILM, op, key: [BigInt(id)], row, position, index, committedAt: 1_700_000_000_000, origin: 'stream' };
}

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

/** Hostile and ordinary values of each column of ALL_TYPES. */
export const HOSTILE: Record<string, Value[]> = {
  id: [1n],
  flag: [true, false, null],
  small: [0, -(2 ** 31), 2 ** 31 - 1, null],
  big: [0n, LONG_MAX, LONG_MIN, (1n << 53n) + 1n, -1n],
  ratio: [NaN, Infinity, -Infinity, -0, 0, Math.fround(1.1), Math.fround(1.401298464324817e-45), Math.fround(3.4028234663852886e38)],
  measure: [NaN, Infinity, -Infinity, -0, 0.1, 5e-324, 1.7976931348623157e308, -2.2250738585072014e-308, 1e21, 123456789.12345679],
  price: [0n, 1n, -1n, 10n ** 38n - 1n, -(10n ** 38n - 1n), 12345678901234567890123456789n],
  day: [0, -1, 19_000, 2_932_897, -719_529, -800_000],
  at_time: [0n, 1n, 86_399_999_999n, 86_400_000_000n],
  at: [0n, -1n, 1_700_000_000_123_456n, LONG_MAX, LONG_MIN, -62_135_596_800_000_001n],
  at_tz: [0n, 999_999n, LONG_MAX, LONG_MIN],
  label: ['', 'naïve café', '😀 𝄞 non-BMP', 'quote " backslash \\ newline\n tab\t \u2028 \u001f', 'x'.repeat(100_000), '__proto__'],
  ref: ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-4fff-bfff-ffffffffffff'],
  hash: [new Uint8Array([0, 1, 254, 255])],
  blob: [new Uint8Array(0), new Uint8Array(Array.from({ length: 256 }, (_, i) => i))],
  tags: [[], ['a', null, '😀'], null],
  attrs: [
    new Map<Value, Value>(),
    new Map<Value, Value>([
      ['a', LONG_MAX],
      ['b', null],
    ]),
  ],
  address: [
    ['Lisbon', 7],
    [null, null],
  ],
};
