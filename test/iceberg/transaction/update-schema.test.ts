import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import { SchemaUpdate, canPromote } from '../../../shared/iceberg/transaction/update-schema';

const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'int' },
  { id: 2, name: 'price', required: true, type: 'decimal(9, 2)' },
  { id: 3, name: 'ratio', required: false, type: 'float' },
  { id: 4, name: 'address', required: false, type: { type: 'struct', fields: [{ id: 5, name: 'city', required: false, type: 'string' }] } },
]);

describe('schema evolution', () => {
  it('adds optional columns with fresh ids, including nested types', () => {
    const { schema: next, lastColumnId } = new SchemaUpdate(schema, 5)
      .addColumn('tags', { type: 'list', 'element-id': 0, element: 'string', 'element-required': false })
      .addColumn('zip', 'string', { parent: 'address' })
      .apply();
    expect(lastColumnId).toBe(8);
    expect(next.fields.at(-1)).toEqual({
      id: 6,
      name: 'tags',
      required: false,
      type: { type: 'list', 'element-id': 7, element: 'string', 'element-required': false },
    });
    const address = next.fields[3]!.type as { fields: Array<{ id: number; name: string }> };
    expect(address.fields.map((f) => [f.id, f.name])).toEqual([
      [5, 'city'],
      [8, 'zip'],
    ]);
  });

  it('widens int->long, float->double and decimal precision; refuses narrowing and other changes', () => {
    const { schema: next } = new SchemaUpdate(schema, 5)
      .updateColumnType('id', 'long')
      .updateColumnType('ratio', 'double')
      .updateColumnType('price', 'decimal(12, 2)')
      .apply();
    expect(next.fields.map((f) => f.type).slice(0, 3)).toEqual(['long', 'decimal(12, 2)', 'double']);
    expect(() => new SchemaUpdate(schema, 5).updateColumnType('price', 'decimal(9, 3)')).toThrow(ValidationError);
    expect(() => new SchemaUpdate(schema, 5).updateColumnType('id', 'string')).toThrow(/only int->long/);
    expect(canPromote('long', 'int')).toBe(false);
  });

  it('renames, makes optional and reorders; refuses required adds, deletes and making required', () => {
    const { schema: next } = new SchemaUpdate(schema, 5)
      .renameColumn('ratio', 'share')
      .makeOptional('price')
      .moveColumn('address', { first: true })
      .moveColumn('share', { before: 'id' })
      .apply();
    expect(next.fields.map((f) => [f.name, f.id])).toEqual([
      ['address', 4],
      ['share', 3],
      ['id', 1],
      ['price', 2],
    ]);
    expect(next.fields[3]!.required).toBe(false);
    expect(() => new SchemaUpdate(schema, 5).addColumn('x', 'int', { required: true } as never)).toThrow(/required column/);
    expect(() => new SchemaUpdate(schema, 5).deleteColumn('id')).toThrow(ValidationError);
    expect(() => new SchemaUpdate(schema, 5).makeRequired('ratio')).toThrow(ValidationError);
    expect(() => new SchemaUpdate(schema, 5).renameColumn('id', 'price')).toThrow(/already exists/);
    expect(() => new SchemaUpdate(schema, 5).addColumn('id', 'int')).toThrow(/already exists/);
    expect(() => new SchemaUpdate(schema, 5).moveColumn('city', { first: true })).toThrow(/does not exist/);
  });
});
