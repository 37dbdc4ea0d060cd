import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import type { PartitionField, PartitionSpec } from '../../../shared/iceberg/spec/partition-spec';
import { compilePartitioner, partitionType, partitionValues, validatePartitionSpec } from '../../../shared/iceberg/spec/partition-type';
import { type Schema, createSchema } from '../../../shared/iceberg/spec/schema';
import { applyTransform, parseTransform } from '../../../shared/iceberg/spec/transforms';

const schema: Schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'ts', required: false, type: 'timestamptz' },
  { id: 3, name: 'data', required: false, type: 'string' },
  {
    id: 4,
    name: 'location',
    required: false,
    type: {
      type: 'struct',
      fields: [
        { id: 5, name: 'lat', required: false, type: 'double' },
        { id: 6, name: 'city', required: false, type: 'string' },
      ],
    },
  },
  { id: 7, name: 'tags', required: false, type: { type: 'list', 'element-id': 8, element: 'string', 'element-required': false } },
  { id: 9, name: 'amount', required: false, type: 'decimal(10, 2)' },
  { id: 10, name: 'event_date', required: false, type: 'date' },
]);

const field = (sourceId: number, fieldId: number, name: string, transform: string): PartitionField => ({
  'source-id': sourceId,
  'field-id': fieldId,
  name,
  transform,
});
const spec = (...fields: PartitionField[]): PartitionSpec => ({ 'spec-id': 1, fields });

const good = spec(
  field(2, 1000, 'ts_day', 'day'),
  field(1, 1001, 'id_bucket', 'bucket[16]'),
  field(6, 1002, 'city', 'identity'),
  field(3, 1003, 'data_trunc', 'truncate[4]'),
);

describe('partitionType', () => {
  it('has one optional field per partition field with its id, name and result type', () => {
    expect(partitionType(good, schema)).toEqual({
      type: 'struct',
      fields: [
        { id: 1000, name: 'ts_day', required: false, type: 'date' },
        { id: 1001, name: 'id_bucket', required: false, type: 'int' },
        { id: 1002, name: 'city', required: false, type: 'string' },
        { id: 1003, name: 'data_trunc', required: false, type: 'string' },
      ],
    });
  });

  it('is empty for the unpartitioned spec', () => {
    expect(partitionType({ 'spec-id': 0, fields: [] }, schema)).toEqual({ type: 'struct', fields: [] });
  });

  it('refuses a missing source column', () => {
    expect(() => partitionType(spec(field(99, 1000, 'x', 'identity')), schema)).toThrow(/source column id 99/);
  });
});

describe('validatePartitionSpec', () => {
  it('accepts a valid spec, including identity of a column under its own name', () => {
    expect(() => validatePartitionSpec(good, schema)).not.toThrow();
    expect(() => validatePartitionSpec(spec(field(3, 1000, 'data', 'identity')), schema)).not.toThrow();
    expect(() => validatePartitionSpec(spec(field(6, 1000, 'location.city', 'identity')), schema)).not.toThrow();
  });

  const rejects = (s: PartitionSpec, message: RegExp) => {
    expect(() => validatePartitionSpec(s, schema)).toThrow(ValidationError);
    expect(() => validatePartitionSpec(s, schema)).toThrow(message);
  };

  it('rejects field ids below 1000 or repeated', () => {
    rejects(spec(field(1, 999, 'a', 'identity')), /ids start at 1000/);
    rejects(spec(field(1, 1000, 'a', 'identity'), field(3, 1000, 'b', 'identity')), /used twice/);
  });

  it('rejects empty, repeated and clashing names', () => {
    rejects(spec(field(1, 1000, '', 'identity')), /empty name/);
    rejects(spec(field(1, 1000, 'a', 'identity'), field(3, 1001, 'a', 'identity')), /name is used twice/);
    rejects(spec(field(1, 1000, 'data', 'bucket[4]')), /already the name of column data/);
    rejects(spec(field(3, 1000, 'id', 'identity')), /already the name of column id/);
    rejects(spec(field(2, 1000, 'location.city', 'day')), /already the name of column location.city/);
  });

  it('rejects missing, nested-in-list and non-primitive sources', () => {
    rejects(spec(field(42, 1000, 'x', 'identity')), /source column id 42 is not in the schema/);
    rejects(spec(field(8, 1000, 'x', 'identity')), /tags.element is inside a list or map/);
    rejects(spec(field(4, 1000, 'x', 'identity')), /not a primitive/);
  });

  it('rejects transforms that do not fit the column type, and unknown transforms', () => {
    rejects(spec(field(10, 1000, 'x', 'hour')), /hour cannot be applied to column event_date of type date/);
    rejects(spec(field(5, 1000, 'x', 'bucket[4]')), /column location.lat of type double/);
    rejects(spec(field(1, 1000, 'x', 'zorder')), /unknown transform "zorder"/);
    rejects(spec(field(1, 1000, 'x', 'bucket[0]')), /invalid transform/);
  });
});

describe('partitionValues', () => {
  const ts = BigInt(Date.UTC(2019, 0, 1, 13)) * 1000n;
  const row = [42n, ts, 'icebergs', [37.5, 'Paris'], ['a'], 1234n, 17501];

  it('computes the tuple, reading nested struct fields by position', () => {
    expect(partitionValues(good, schema, row)).toEqual([17897, applyTransform(parseTransform('bucket[16]'), 'long', 42n), 'Paris', 'iceb']);
  });

  it('gives null for nulls and for a null enclosing struct', () => {
    expect(partitionValues(good, schema, [7n, null, null, null, null, null, null])).toEqual([
      null,
      applyTransform(parseTransform('bucket[16]'), 'long', 7n),
      null,
      null,
    ]);
  });

  it('agrees with the compiled partitioner and accepts numbers for longs', () => {
    const partitioner = compilePartitioner(good, schema);
    expect(partitioner(row)).toEqual(partitionValues(good, schema, row));
    expect(partitioner([42, ts, 'icebergs', [37.5, 'Paris'], null, null, null])).toEqual(partitioner(row));
  });

  it('refuses a source inside a list', () => {
    expect(() => compilePartitioner(spec(field(8, 1000, 'x', 'identity')), schema)).toThrow(ValidationError);
  });
});
