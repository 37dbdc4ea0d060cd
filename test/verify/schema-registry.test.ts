import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { MemoryFileIO } from '../../shared/iceberg/io';
import { createSchema, type Schema } from '../../shared/iceberg/spec/schema';
import type { NestedField } from '../../shared/iceberg/spec/types';
import type { SourceColumn, SourceTable, SourceType } from '../../shared/postgres/source-table';
import { diffRegistries, postgresType } from '../../shared/verify/schema-registry/schema-registry-diff';
import {
  type RegistrySource,
  type SchemaRegistry,
  buildRegistry,
  parseRegistry,
  registerSourceTable,
  registerTable,
  schemaSignature,
  snapshotWarehouse,
  typeText,
} from '../../shared/verify/schema-registry/schema-registry';

const base = (oid: number, sql: string, typmod = -1): SourceType => ({ kind: 'base', oid, schema: 'pg_catalog', name: sql, sql, typmod, typtype: 'b' });
const INT4 = base(23, 'integer');
const INT8 = base(20, 'bigint');
const TEXT = base(25, 'text');
const VARCHAR20 = base(1043, 'character varying(20)', 24);
const NUMERIC_5_2 = base(1700, 'numeric(5,2)', ((5 << 16) | 2) + 4);

function sourceTable(name: string, columns: Array<[string, SourceType, boolean?]>): SourceTable {
  const cols: SourceColumn[] = columns.map(([column, type, notNull], i) => ({ name: column, attnum: i + 1, notNull: notNull ?? false, type }));
  return {
    oid: 1,
    schema: 'public',
    name,
    kind: 'table',
    leaves: [],
    columns: cols,
    key: { kind: 'none', columns: [] },
    foreignKeys: [],
    stats: { reltuples: 0, relpages: 0, tableBytes: 0, totalBytes: 0 },
  };
}

const FIXED_CLOCK = (): Date => new Date('2026-01-02T03:04:05.000Z');
const POSTGRES = (schema = 'public'): RegistrySource => ({ kind: 'postgres', location: 'postgresql://u@h:5432/db', schema });
const WAREHOUSE: RegistrySource = { kind: 'warehouse', location: '/w', schema: 'public' };

function databaseRegistry(tables: SourceTable[], source = POSTGRES()): SchemaRegistry {
  return buildRegistry(source, tables.map(registerSourceTable), FIXED_CLOCK);
}

const field = (id: number, name: string, type: NestedField['type'], required = false): NestedField => ({ id, name, required, type });

describe('schemaSignature', () => {
  const fields = [field(1, 'id', 'long', true), field(2, 'tags', { type: 'list', 'element-id': 3, element: 'string', 'element-required': false })];

  it('ignores field ids, docs, the schema id and identifier fields', () => {
    const renumbered = createSchema(
      [
        { ...field(7, 'id', 'long', true), doc: 'PostgreSQL bigint' },
        field(9, 'tags', { type: 'list', 'element-id': 8, element: 'string', 'element-required': false }),
      ],
      4,
      [7],
    );
    expect(schemaSignature(renumbered)).toBe(schemaSignature(createSchema(fields)));
    expect(schemaSignature(createSchema(fields))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with a name, a type, nullability, nested nullability and column order', () => {
    const signature = schemaSignature(createSchema(fields));
    const variants: Schema[] = [
      createSchema([field(1, 'ID', 'long', true), fields[1]!]),
      createSchema([field(1, 'id', 'int', true), fields[1]!]),
      createSchema([field(1, 'id', 'long', false), fields[1]!]),
      createSchema([fields[0]!, field(2, 'tags', { type: 'list', 'element-id': 3, element: 'string', 'element-required': true })]),
      createSchema([fields[1]!, fields[0]!]),
    ];
    const signatures = variants.map(schemaSignature);
    expect(new Set([signature, ...signatures]).size).toBe(variants.length + 1);
  });

  it('is the same for the same table mapped twice, and differs for columns declared in another order', () => {
    const a = registerSourceTable(
      sourceTable('t', [
        ['id', INT4, true],
        ['name', TEXT],
      ]),
    );
    const b = registerSourceTable(
      sourceTable('t', [
        ['id', INT4, true],
        ['name', TEXT],
      ]),
    );
    const reordered = registerSourceTable(
      sourceTable('t', [
        ['name', TEXT],
        ['id', INT4, true],
      ]),
    );
    expect(a.signature).toBe(b.signature);
    expect(reordered.signature).not.toBe(a.signature);
  });
});

describe('typeText', () => {
  it('shows nested types and nullability without ids', () => {
    expect(typeText('decimal(5, 2)')).toBe('decimal(5, 2)');
    expect(typeText({ type: 'list', 'element-id': 3, element: 'int', 'element-required': true })).toBe('list<int not null>');
    expect(typeText({ type: 'struct', fields: [field(4, 'a', 'int', true), field(5, 'b', 'string')] })).toBe('struct<a: int not null, b: string>');
    expect(typeText({ type: 'map', 'key-id': 1, key: 'string', 'value-id': 2, value: 'long', 'value-required': false })).toBe('map<string, long>');
  });
});

describe('registerSourceTable', () => {
  it('lists each column with its PostgreSQL and Iceberg types', () => {
    const table = registerSourceTable(
      sourceTable('t', [
        ['id', INT8, true],
        ['price', NUMERIC_5_2],
      ]),
    );
    expect(table.identifier).toEqual({ namespace: 'public', name: 't' });
    expect(table.columns).toEqual([
      { name: 'id', pgType: 'bigint', icebergType: 'long', required: true },
      { name: 'price', pgType: 'numeric(5,2)', icebergType: 'decimal(5, 2)', required: false },
    ]);
  });
});

describe('diffRegistries', () => {
  const reference = databaseRegistry([
    sourceTable('orders', [
      ['id', INT8, true],
      ['price', NUMERIC_5_2, true],
      ['note', TEXT],
      ['code', VARCHAR20],
    ]),
    sourceTable('gone', [
      ['id', INT4, true],
      ['label', TEXT],
    ]),
  ]);

  it('finds nothing between equal registries', () => {
    const diff = diffRegistries(
      reference,
      databaseRegistry([
        sourceTable('gone', [
          ['id', INT4, true],
          ['label', TEXT],
        ]),
        sourceTable('orders', [
          ['id', INT8, true],
          ['price', NUMERIC_5_2, true],
          ['note', TEXT],
          ['code', VARCHAR20],
        ]),
      ]),
    );
    expect(diff.equal).toBe(true);
    expect(diff.tables.map((t) => [t.table, t.status])).toEqual([
      ['public.gone', 'equal'],
      ['public.orders', 'equal'],
    ]);
  });

  it('reports every kind of difference with both sides and the SQL that brings the right database in line', () => {
    const checked = databaseRegistry([
      sourceTable('orders', [
        ['id', INT4, true],
        ['price', NUMERIC_5_2],
        ['code', TEXT],
        ['extra', TEXT, true],
      ]),
      sourceTable('new "one"', [['id', INT4, true]]),
    ]);
    const diff = diffRegistries(reference, checked);
    expect(diff.equal).toBe(false);
    expect(diff.tables.map((t) => [t.table, t.status])).toEqual([
      ['public.gone', 'MISSING_TABLE'],
      ['public.new "one"', 'EXTRA_TABLE'],
      ['public.orders', 'differs'],
    ]);
    expect(diff.tables[0]!.fixSql).toBe('CREATE TABLE "public"."gone" (\n  "id" integer NOT NULL,\n  "label" text\n)');
    expect(diff.tables[1]!.fixSql).toBeUndefined();
    expect(diff.tables[2]!.differences).toEqual([
      {
        kind: 'TYPE_MISMATCH',
        field: 'id',
        expected: { type: 'long (bigint)', required: true },
        actual: { type: 'int (integer)', required: true },
        fixSql: 'ALTER TABLE "public"."orders" ALTER COLUMN "id" TYPE bigint USING "id"::bigint',
      },
      {
        kind: 'NULLABILITY_MISMATCH',
        field: 'price',
        expected: { type: 'decimal(5, 2) (numeric(5,2))', required: true },
        actual: { type: 'decimal(5, 2) (numeric(5,2))', required: false },
        fixSql: 'ALTER TABLE "public"."orders" ALTER COLUMN "price" SET NOT NULL',
      },
      {
        kind: 'MISSING_FIELD',
        field: 'note',
        expected: { type: 'string (text)', required: false },
        fixSql: 'ALTER TABLE "public"."orders" ADD COLUMN "note" text',
      },
      {
        // Both map to string; the PostgreSQL types still differ, and both databases know them.
        kind: 'TYPE_MISMATCH',
        field: 'code',
        expected: { type: 'string (character varying(20))', required: false },
        actual: { type: 'string (text)', required: false },
        fixSql: 'ALTER TABLE "public"."orders" ALTER COLUMN "code" TYPE character varying(20) USING "code"::character varying(20)',
      },
      // Dropping a column is never suggested.
      { kind: 'EXTRA_FIELD', field: 'extra', actual: { type: 'string (text)', required: true } },
    ]);
  });

  it('fixes the left side when only the left is a database, deriving types from Iceberg', () => {
    const catalogSide = buildRegistry(
      WAREHOUSE,
      [
        registerTable(
          'public',
          'orders',
          createSchema([
            field(1, 'id', 'long', true),
            field(2, 'price', 'decimal(5, 2)'),
            field(3, 'tags', { type: 'list', 'element-id': 4, element: 'string', 'element-required': false }),
          ]),
          null,
        ),
      ],
      FIXED_CLOCK,
    );
    const db = databaseRegistry([
      sourceTable('orders', [
        ['id', INT8, true],
        ['price', NUMERIC_5_2, true],
      ]),
    ]);
    const diff = diffRegistries(db, catalogSide);
    expect(diff.tables[0]!.differences).toEqual([
      {
        kind: 'NULLABILITY_MISMATCH',
        field: 'price',
        expected: { type: 'decimal(5, 2) (numeric(5,2))', required: true },
        actual: { type: 'decimal(5, 2)', required: false },
        fixSql: 'ALTER TABLE "public"."orders" ALTER COLUMN "price" DROP NOT NULL',
      },
      {
        kind: 'EXTRA_FIELD',
        field: 'tags',
        actual: { type: 'list<string>', required: false },
        fixSql: 'ALTER TABLE "public"."orders" ADD COLUMN "tags" text[]',
      },
    ]);
  });

  it('gives no SQL when neither side is a database', () => {
    const a = buildRegistry(WAREHOUSE, [registerTable('public', 't', createSchema([field(1, 'a', 'int')]), null)]);
    const b = buildRegistry(WAREHOUSE, [registerTable('public', 't', createSchema([field(1, 'a', 'long')]), null)]);
    expect(diffRegistries(a, b).tables[0]!.differences).toEqual([
      { kind: 'TYPE_MISMATCH', field: 'a', expected: { type: 'int', required: false }, actual: { type: 'long', required: false } },
    ]);
  });

  it('compares nested struct fields by dotted path', () => {
    const struct = (required: boolean, type: 'int' | 'long'): Schema =>
      createSchema([field(1, 'addr', { type: 'struct', fields: [field(2, 'zip', type, required), field(3, 'city', 'string')] })]);
    const a = buildRegistry(WAREHOUSE, [registerTable('public', 't', struct(true, 'int'), null)]);
    const b = buildRegistry(WAREHOUSE, [registerTable('public', 't', struct(false, 'long'), null)]);
    expect(diffRegistries(a, b).tables[0]!.differences.map((d) => [d.kind, d.field])).toEqual([
      ['TYPE_MISMATCH', 'addr.zip'],
      ['NULLABILITY_MISMATCH', 'addr.zip'],
    ]);
  });

  it('reports the same columns in another order as a difference (the signature includes order)', () => {
    const a = databaseRegistry([
      sourceTable('t', [
        ['id', INT4, true],
        ['name', TEXT],
      ]),
    ]);
    const b = databaseRegistry([
      sourceTable('t', [
        ['name', TEXT],
        ['id', INT4, true],
      ]),
    ]);
    const [table] = diffRegistries(a, b).tables;
    expect(table!.status).toBe('differs');
    expect(table!.differences).toEqual([]);
    expect(table!.columnOrder).toEqual({ left: ['id', 'name'], right: ['name', 'id'] });
  });

  it('quotes identifiers in the SQL', () => {
    const a = databaseRegistry([sourceTable('Odd"Name', [['Mixed Case', INT4, true]])], POSTGRES('My Schema'));
    const b = databaseRegistry([sourceTable('Odd"Name', [['Mixed Case', INT4]])], POSTGRES('My Schema'));
    a.tables = Object.fromEntries(
      Object.values(a.tables).map((t) => [`My Schema.${t.identifier.name}`, { ...t, identifier: { namespace: 'My Schema', name: t.identifier.name } }]),
    );
    b.tables = Object.fromEntries(
      Object.values(b.tables).map((t) => [`My Schema.${t.identifier.name}`, { ...t, identifier: { namespace: 'My Schema', name: t.identifier.name } }]),
    );
    expect(diffRegistries(a, b).tables[0]!.differences[0]!.fixSql).toBe('ALTER TABLE "My Schema"."Odd""Name" ALTER COLUMN "Mixed Case" SET NOT NULL');
  });
});

describe('postgresType', () => {
  it('keeps declared types, derives from Iceberg otherwise, and refuses text that is not a type', () => {
    expect(postgresType('public.year', 'int')).toBe('public.year');
    expect(postgresType(null, 'decimal(38, 0)')).toBe('numeric(38,0)');
    expect(postgresType(null, 'timestamptz')).toBe('timestamptz');
    expect(postgresType(null, 'struct<a: int>')).toBeUndefined();
    expect(postgresType('integer; DROP TABLE x', 'int')).toBeUndefined();
    expect(postgresType('integer -- x', 'int')).toBeUndefined();
  });
});

describe('parseRegistry', () => {
  const registry = databaseRegistry([
    sourceTable('t', [
      ['id', INT8, true],
      ['price', NUMERIC_5_2],
    ]),
  ]);

  it('reads back what was written, unchanged', () => {
    const text = JSON.stringify(registry);
    expect(parseRegistry(JSON.parse(text))).toEqual(registry);
    expect(JSON.parse(text)).toMatchObject({ format: 'icebridge-schema-registry', version: 1, capturedAt: '2026-01-02T03:04:05.000Z' });
  });

  it('refuses other documents, other versions and edited schemas', () => {
    const doc = JSON.parse(JSON.stringify(registry)) as Record<string, unknown>;
    expect(() => parseRegistry({ ...doc, format: 'x' })).toThrow(ValidationError);
    expect(() => parseRegistry({ ...doc, version: 2 })).toThrow(/version 2/);
    const edited = JSON.parse(JSON.stringify(registry)) as SchemaRegistry;
    edited.tables['public.t']!.schema.fields[0]!.type = 'int';
    expect(() => parseRegistry(edited)).toThrow(/signature does not match/);
  });
});

describe('snapshotWarehouse', () => {
  it('captures the current schema of each table of a namespace', async () => {
    const catalog = new HadoopCatalog(new MemoryFileIO(), 'memory://wh');
    const schema = createSchema([{ ...field(1, 'id', 'long', true), doc: 'PostgreSQL bigint' }, field(2, 'price', 'decimal(5, 2)')]);
    await catalog.createTable({ namespace: ['public'], name: 'orders' }, { schema });
    await catalog.createTable({ namespace: ['public'], name: 'other' }, { schema });
    await catalog.createTable({ namespace: ['elsewhere'], name: 'x' }, { schema });
    const registry = await snapshotWarehouse(catalog, ['public'], { tables: ['orders'], location: 'memory://wh', now: FIXED_CLOCK });
    expect(registry.source).toEqual({ kind: 'warehouse', location: 'memory://wh', schema: 'public' });
    expect(Object.keys(registry.tables)).toEqual(['public.orders']);
    expect(registry.tables['public.orders']!.columns).toEqual([
      { name: 'id', pgType: null, icebergType: 'long', required: true },
      { name: 'price', pgType: null, icebergType: 'decimal(5, 2)', required: false },
    ]);
    const mapped = registerSourceTable(
      sourceTable('orders', [
        ['id', INT8, true],
        ['price', NUMERIC_5_2],
      ]),
    );
    expect(registry.tables['public.orders']!.signature).toBe(mapped.signature);
    expect(
      diffRegistries(
        databaseRegistry([
          sourceTable('orders', [
            ['id', INT8, true],
            ['price', NUMERIC_5_2],
          ]),
        ]),
        registry,
      ).equal,
    ).toBe(true);
  });
});
