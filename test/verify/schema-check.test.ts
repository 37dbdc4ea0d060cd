import { describe, expect, it } from 'vitest';
import { createSchema } from '../../shared/iceberg/spec/schema';
import { compareSchemas, typeToString } from '../../shared/verify/checks/schema-check';

const TABLE = { schema: 'public', name: 'Orders' };

describe('compareSchemas', () => {
  it('matches fields by name, not by id', () => {
    const expected = createSchema([
      { id: 1, name: 'id', required: true, type: 'int' },
      { id: 2, name: 'note', required: false, type: 'string' },
    ]);
    const actual = createSchema([
      { id: 7, name: 'note', required: false, type: 'string' },
      { id: 9, name: 'id', required: true, type: 'int' },
    ]);
    expect(compareSchemas(expected, actual, TABLE)).toEqual([]);
  });

  it('reports each kind of difference with both sides and the SQL that would align PostgreSQL', () => {
    const expected = createSchema([
      { id: 1, name: 'id', required: true, type: 'int' },
      { id: 2, name: 'added', required: false, type: 'string' },
      { id: 3, name: 'amount', required: false, type: 'decimal(10, 2)' },
      { id: 4, name: 'Flag', required: true, type: 'boolean' },
    ]);
    const actual = createSchema([
      { id: 1, name: 'id', required: true, type: 'long', doc: 'PostgreSQL bigint' },
      { id: 3, name: 'amount', required: false, type: 'decimal(10, 2)' },
      { id: 4, name: 'Flag', required: false, type: 'boolean' },
      { id: 5, name: 'dropped', required: false, type: { type: 'list', 'element-id': 6, element: 'timestamptz', 'element-required': false } },
      { id: 7, name: 'legacy', required: false, type: 'string', doc: 'PostgreSQL character varying(20)' },
    ]);
    expect(compareSchemas(expected, actual, TABLE)).toEqual([
      {
        kind: 'TYPE_MISMATCH',
        field: 'id',
        expected: { type: 'int', required: true },
        actual: { type: 'long', required: true },
        fixSql: 'ALTER TABLE "public"."Orders" ALTER COLUMN "id" TYPE bigint',
      },
      { kind: 'MISSING_FIELD', field: 'added', expected: { type: 'string', required: false } },
      {
        kind: 'NULLABILITY_MISMATCH',
        field: 'Flag',
        expected: { type: 'boolean', required: true },
        actual: { type: 'boolean', required: false },
        fixSql: 'ALTER TABLE "public"."Orders" ALTER COLUMN "Flag" DROP NOT NULL',
      },
      {
        kind: 'EXTRA_FIELD',
        field: 'dropped',
        actual: { type: 'list<optional timestamptz>', required: false },
        fixSql: 'ALTER TABLE "public"."Orders" ADD COLUMN "dropped" timestamp with time zone[]',
      },
      {
        kind: 'EXTRA_FIELD',
        field: 'legacy',
        actual: { type: 'string', required: false },
        fixSql: 'ALTER TABLE "public"."Orders" ADD COLUMN "legacy" character varying(20)',
      },
    ]);
  });

  it('compares struct fields by dotted path', () => {
    const struct = (fields: Array<{ id: number; name: string; type: 'int' | 'string' }>) => ({
      type: 'struct' as const,
      fields: fields.map((f) => ({ ...f, required: false })),
    });
    const expected = createSchema([
      {
        id: 1,
        name: 'address',
        required: false,
        type: struct([
          { id: 2, name: 'city', type: 'string' },
          { id: 3, name: 'zip', type: 'int' },
        ]),
      },
    ]);
    const actual = createSchema([
      {
        id: 1,
        name: 'address',
        required: false,
        type: struct([
          { id: 2, name: 'city', type: 'string' },
          { id: 3, name: 'zip', type: 'string' },
        ]),
      },
    ]);
    expect(compareSchemas(expected, actual, TABLE).map((d) => [d.kind, d.field, d.fixSql])).toEqual([['TYPE_MISMATCH', 'address.zip', undefined]]);
    expect(typeToString(expected.fields[0]!.type)).toBe('struct<city: optional string, zip: optional int>');
  });
});
