import { describe, expect, it } from 'vitest';
import { avroSchemaForType, sanitizeAvroName } from '../../../shared/iceberg/avro/avro-schema';
import { decimalRequiredBytes } from '../../../shared/iceberg/spec/conversions';
import type { StructType } from '../../../shared/iceberg/spec/types';
import { allIds, avscType, missingIds } from './avsc-judge';

const TABLE: StructType = {
  type: 'struct',
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'flag', required: false, type: 'boolean' },
    { id: 3, name: 'day', required: false, type: 'date' },
    { id: 4, name: 'at', required: false, type: 'time' },
    { id: 5, name: 'ts', required: false, type: 'timestamp' },
    { id: 6, name: 'tstz', required: true, type: 'timestamptz' },
    { id: 7, name: 'price', required: false, type: 'decimal(9, 2)' },
    { id: 8, name: 'cost', required: false, type: 'decimal(9, 2)' },
    { id: 9, name: 'u', required: false, type: 'uuid' },
    { id: 10, name: 'f', required: false, type: 'fixed[3]' },
    { id: 11, name: 'bin', required: false, type: 'binary', doc: 'raw bytes' },
    { id: 12, name: 'tags', required: false, type: { type: 'list', 'element-id': 13, element: 'string', 'element-required': false } },
    {
      id: 14,
      name: 'attrs',
      required: false,
      type: { type: 'map', 'key-id': 15, key: 'string', 'value-id': 16, value: 'int', 'value-required': true },
    },
    {
      id: 17,
      name: 'by-id',
      required: false,
      type: { type: 'map', 'key-id': 18, key: 'int', 'value-id': 19, value: 'double', 'value-required': false },
    },
    {
      id: 20,
      name: 'addr',
      required: false,
      type: {
        type: 'struct',
        fields: [
          { id: 21, name: 'city', required: true, type: 'string' },
          { id: 22, name: 'u2', required: false, type: 'uuid' },
        ],
      },
    },
    {
      id: 23,
      name: 'points',
      required: false,
      type: {
        type: 'list',
        'element-id': 24,
        'element-required': true,
        element: { type: 'struct', fields: [{ id: 25, name: 'x', required: true, type: 'float' }] },
      },
    },
  ],
};

describe('avroSchemaForType', () => {
  it('maps every type as spec Appendix A says, with every id', () => {
    const schema = avroSchemaForType(TABLE, 'table');
    expect(schema).toEqual({
      type: 'record',
      name: 'table',
      fields: [
        { name: 'id', type: 'long', 'field-id': 1 },
        { name: 'flag', type: ['null', 'boolean'], default: null, 'field-id': 2 },
        { name: 'day', type: ['null', { type: 'int', logicalType: 'date' }], default: null, 'field-id': 3 },
        { name: 'at', type: ['null', { type: 'long', logicalType: 'time-micros' }], default: null, 'field-id': 4 },
        {
          name: 'ts',
          type: ['null', { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false }],
          default: null,
          'field-id': 5,
        },
        { name: 'tstz', type: { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true }, 'field-id': 6 },
        {
          name: 'price',
          type: ['null', { type: 'fixed', name: 'decimal_9_2', size: 4, logicalType: 'decimal', precision: 9, scale: 2 }],
          default: null,
          'field-id': 7,
        },
        { name: 'cost', type: ['null', 'decimal_9_2'], default: null, 'field-id': 8 },
        { name: 'u', type: ['null', { type: 'fixed', name: 'uuid_fixed', size: 16, logicalType: 'uuid' }], default: null, 'field-id': 9 },
        { name: 'f', type: ['null', { type: 'fixed', name: 'fixed_3', size: 3 }], default: null, 'field-id': 10 },
        { name: 'bin', type: ['null', 'bytes'], default: null, doc: 'raw bytes', 'field-id': 11 },
        { name: 'tags', type: ['null', { type: 'array', items: ['null', 'string'], 'element-id': 13 }], default: null, 'field-id': 12 },
        { name: 'attrs', type: ['null', { type: 'map', values: 'int', 'key-id': 15, 'value-id': 16 }], default: null, 'field-id': 14 },
        {
          name: 'by_x2Did',
          type: [
            'null',
            {
              type: 'array',
              logicalType: 'map',
              items: {
                type: 'record',
                name: 'k18_v19',
                fields: [
                  { name: 'key', type: 'int', 'field-id': 18 },
                  { name: 'value', type: ['null', 'double'], default: null, 'field-id': 19 },
                ],
              },
            },
          ],
          default: null,
          'field-id': 17,
          'iceberg-field-name': 'by-id',
        },
        {
          name: 'addr',
          type: [
            'null',
            {
              type: 'record',
              name: 'r20',
              fields: [
                { name: 'city', type: 'string', 'field-id': 21 },
                { name: 'u2', type: ['null', 'uuid_fixed'], default: null, 'field-id': 22 },
              ],
            },
          ],
          default: null,
          'field-id': 20,
        },
        {
          name: 'points',
          type: [
            'null',
            {
              type: 'array',
              items: { type: 'record', name: 'r24', fields: [{ name: 'x', type: 'float', 'field-id': 25 }] },
              'element-id': 24,
            },
          ],
          default: null,
          'field-id': 23,
        },
      ],
    });
    expect(missingIds(schema)).toEqual([]);
    expect(allIds(schema)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('produces a schema another Avro implementation accepts, named types reused by reference', () => {
    const type = avscType(avroSchemaForType(TABLE, 'table'));
    const fields = (type as unknown as { fields: { name: string }[] }).fields.map((f) => f.name);
    expect(fields).toContain('by_x2Did');
  });

  it('sizes decimals to the fewest bytes that hold the precision', () => {
    const sizes = Object.fromEntries([1, 2, 3, 4, 9, 10, 18, 19, 28, 38].map((p) => [p, decimalRequiredBytes(p)]));
    expect(sizes).toEqual({ 1: 1, 2: 1, 3: 2, 4: 2, 9: 4, 10: 5, 18: 8, 19: 9, 28: 12, 38: 16 });
  });

  it('sanitises names as the Java writer does', () => {
    expect(sanitizeAvroName('1a-b')).toBe('_1a_x2Db');
    expect(sanitizeAvroName('a.b c')).toBe('a_x2Eb_x20c');
    expect(sanitizeAvroName('_ok9')).toBe('_ok9');
  });
});
