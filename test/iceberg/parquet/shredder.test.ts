import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import { ByteBuffer } from '../../../shared/iceberg/parquet/byte-buffer';
import type { ColumnWriter, PageContext } from '../../../shared/iceberg/parquet/column-writer';
import { toParquetSchema } from '../../../shared/iceberg/parquet/parquet-schema';
import { type ColumnMetaData, CompressionCodec } from '../../../shared/iceberg/parquet/parquet-thrift';
import { decodeColumnChunk } from '../../../shared/iceberg/parquet/page-decoder';
import { RowShredder } from '../../../shared/iceberg/parquet/shredder';
import { createColumnWriter } from '../../../shared/iceberg/parquet/value-columns';
import { type Schema, createSchema } from '../../../shared/iceberg/spec/schema';
import type { IcebergType, NestedField } from '../../../shared/iceberg/spec/types';
import type { Row } from '../../../shared/iceberg/spec/values';

const context: PageContext = {
  compress: (page) => Buffer.from(page),
  body: new ByteBuffer(),
  header: new ByteBuffer(),
};

interface Levels {
  rep: number[];
  def: number[];
  /** The non-null values, in order.*/
  values: (number | string)[];
}

function shred(schema: Schema, rows: Row[]): Map<string, Levels> {
  const { leaves } = toParquetSchema(schema);
  const columns = leaves.map((leaf) => createColumnWriter(leaf, context, 1 << 20));
  const shredder = new RowShredder(schema, columns);
  for (const row of rows) shredder.writeRow(row);
  const out = new Map<string, Levels>();
  for (const column of columns) out.set(column.leaf.parquetPath.join('.'), levelsOf(column));
  return out;
}

/** Levels straight from the column's buffers; values through the page encoder and decoder (PLAIN or dictionary). */
function levelsOf(column: ColumnWriter): Levels {
  const n = column.levelCount;
  const rep = column.hasRep ? [...column.reps.subarray(0, n)] : new Array<number>(n).fill(0);
  const def = column.hasDef ? [...column.defs.subarray(0, n)] : new Array<number>(n).fill(0);
  const chunk = column.takeChunk();
  const meta = { num_values: chunk.numValues, codec: CompressionCodec.UNCOMPRESSED } as ColumnMetaData;
  const decoded = decodeColumnChunk(Buffer.concat(chunk.pages), meta, {
    path: column.leaf.icebergPath.join('.'),
    physicalType: column.leaf.physicalType,
    typeLength: column.leaf.typeLength,
    maxDef: column.maxDef,
    maxRep: column.maxRep,
    kind: column.leaf.type === 'string' ? 'utf8' : 'int32',
  });
  expect([...(decoded.defs ?? [])]).toEqual(column.hasDef ? def : []);
  expect([...(decoded.reps ?? [])]).toEqual(column.hasRep ? rep : []);
  return { rep, def, values: decoded.values as (number | string)[] };
}

const field = (id: number, name: string, type: IcebergType, required = false): NestedField => ({ id, name, required, type });
const list = (elementId: number, element: IcebergType, elementRequired = false): IcebergType => ({
  type: 'list',
  'element-id': elementId,
  element,
  'element-required': elementRequired,
});

describe('row shredding (Dremel levels)', () => {
  it('flat columns: optional gets definition levels, required none', () => {
    const schema = createSchema([field(1, 'a', 'int', true), field(2, 'b', 'string')]);
    const out = shred(schema, [
      [1, 'x'],
      [2, null],
      [3, ''],
    ]);
    expect(out.get('a')).toEqual({ rep: [0, 0, 0], def: [0, 0, 0], values: [1, 2, 3] });
    expect(out.get('b')).toEqual({ rep: [0, 0, 0], def: [1, 0, 1], values: ['x', ''] });
  });

  it('optional list of optional ints: null list, empty list, null element, values', () => {
    // Levels: list optional (1), repeated group (2), element optional (3); max repetition 1.
    const schema = createSchema([field(1, 'xs', list(2, 'int'))]);
    const out = shred(schema, [[[1, null, 2]], [[]], [null], [[null]], [[7]]]);
    expect(out.get('xs.list.element')).toEqual({
      rep: [0, 1, 1, 0, 0, 0, 0],
      def: [3, 2, 3, 1, 0, 2, 3],
      values: [1, 2, 7],
    });
  });

  it('required list of required elements only counts the repeated level', () => {
    const schema = createSchema([field(1, 'xs', list(2, 'int', true), true)]);
    const out = shred(schema, [[[1, 2]], [[]], [[3]]]);
    expect(out.get('xs.list.element')).toEqual({ rep: [0, 1, 0, 0], def: [1, 1, 0, 1], values: [1, 2, 3] });
  });

  it('list of lists with nulls and empties at both levels', () => {
    // def: outer list 1, outer repeated 2, inner list (element) 3, inner repeated 4, inner element 5; rep max 2.
    const schema = createSchema([field(1, 'xss', list(2, list(3, 'int')))]);
    const out = shred(schema, [[[[1, 2], [], null, [null]]], [null], [[]], [[[3]]]]);
    expect(out.get('xss.list.element.list.element')).toEqual({
      rep: [0, 2, 1, 1, 1, 0, 0, 0],
      def: [5, 5, 3, 2, 4, 0, 1, 5],
      values: [1, 2, 3],
    });
  });

  it('struct with a required int and an optional list, itself optional', () => {
    const schema = createSchema([field(1, 's', { type: 'struct', fields: [field(2, 'a', 'int', true), field(3, 'tags', list(4, 'string', true))] })]);
    const out = shred(schema, [[[1, ['x', 'y']]], [[2, null]], [null], [[3, []]]]);
    // s.a: present iff s present (def 1 = max).
    expect(out.get('s.a')).toEqual({ rep: [0, 0, 0, 0], def: [1, 1, 0, 1], values: [1, 2, 3] });
    // s.tags.list.element: s 1, tags 2, repeated 3 (element required).
    expect(out.get('s.tags.list.element')).toEqual({ rep: [0, 1, 0, 0, 0], def: [3, 3, 1, 0, 2], values: ['x', 'y'] });
  });

  it('map with optional values: keys and values share repetition levels', () => {
    const schema = createSchema([field(1, 'm', { type: 'map', 'key-id': 2, key: 'string', 'value-id': 3, value: 'int', 'value-required': false })]);
    const out = shred(schema, [
      [
        new Map<string, number | null>([
          ['a', 1],
          ['b', null],
        ]),
      ],
      [new Map()],
      [null],
      [new Map([['c', 3]])],
    ]);
    // map optional 1, key_value repeated 2, key required (2), value optional 3.
    expect(out.get('m.key_value.key')).toEqual({ rep: [0, 1, 0, 0, 0], def: [2, 2, 1, 0, 2], values: ['a', 'b', 'c'] });
    expect(out.get('m.key_value.value')).toEqual({ rep: [0, 1, 0, 0, 0], def: [3, 2, 1, 0, 3], values: [1, 3] });
  });

  it('list of structs with a nested list: nulls at every level', () => {
    const inner: IcebergType = { type: 'struct', fields: [field(3, 'n', 'int'), field(4, 'ys', list(5, 'int'))] };
    const schema = createSchema([field(1, 'ls', list(2, inner))]);
    const out = shred(schema, [[[[1, [10, null]], null, [null, []], [2, null]]], [[]]]);
    // ls 1, repeated 2, element struct 3, n 4 | ys 4, ys repeated 5, ys element 6.
    expect(out.get('ls.list.element.n')).toEqual({ rep: [0, 1, 1, 1, 0], def: [4, 2, 3, 4, 1], values: [1, 2] });
    expect(out.get('ls.list.element.ys.list.element')).toEqual({
      rep: [0, 2, 1, 1, 1, 0],
      def: [6, 5, 2, 4, 3, 1],
      values: [10],
    });
  });

  it('rejects malformed rows with the column path', () => {
    const schema = createSchema([field(1, 'a', 'int', true), field(2, 's', { type: 'struct', fields: [field(3, 'x', 'int', true)] })]);
    expect(() => shred(schema, [[1]])).toThrow(/row must be an array of 2 values/);
    expect(() => shred(schema, [[null, null]])).toThrow(/column a \(field id 1, int\): null in a required field/);
    expect(() => shred(schema, [[1, [null]]])).toThrow(/column s\.x \(field id 3\): null in a required field/);
    expect(() => shred(schema, [[1, [1, 2]]])).toThrow(/struct value must be an array of its 1 field values/);
    expect(() => shred(schema, [[1, [1, 2]]])).toThrow(ValidationError);
  });
});
