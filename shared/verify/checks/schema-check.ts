/**
 * Schema check: the Iceberg schema the live PostgreSQL table maps to against the table's current Iceberg
 * schema, field by field BY NAME (field ids are assigned independently on each side and legitimately differ).
 */
import { quoteIdent, quoteQualified } from '../../postgres/identifiers';
import type { Schema } from '../../iceberg/spec/schema';
import { type IcebergType, type NestedField, decimalParams } from '../../iceberg/spec/types';
import type { SchemaDifference } from '../contracts';

/** The PostgreSQL table the fix SQL is written for. */
export interface SchemaCheckTable {
  schema: string;
  name: string;
}

/** Compares expected (mapped from PostgreSQL) with actual (Iceberg); nested struct fields by dotted path. */
export function compareSchemas(expected: Schema, actual: Schema, table: SchemaCheckTable): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  compareFields(expected.fields, actual.fields, '', table, out);
  return out;
}

/** An Iceberg type as text without field ids: `list<string>`, `struct<a: int, b: optional string>`. */
export function typeToString(type: IcebergType): string {
  if (typeof type === 'string') return type;
  switch (type.type) {
    case 'list':
      return `list<${type['element-required'] ? '' : 'optional '}${typeToString(type.element)}>`;
    case 'map':
      return `map<${typeToString(type.key)}, ${type['value-required'] ? '' : 'optional '}${typeToString(type.value)}>`;
    case 'struct':
      return `struct<${type.fields.map((f) => `${f.name}: ${f.required ? '' : 'optional '}${typeToString(f.type)}`).join(', ')}>`;
  }
}

function compareFields(expected: NestedField[], actual: NestedField[], prefix: string, table: SchemaCheckTable, out: SchemaDifference[]): void {
  const byName = new Map(actual.map((f) => [f.name, f]));
  const top = prefix === '';
  for (const e of expected) {
    const path = prefix + e.name;
    const a = byName.get(e.name);
    const expectedSide = { type: typeToString(e.type), required: e.required };
    if (a === undefined) {
      // PostgreSQL has the column and Iceberg does not: the fix is on the Iceberg side (the next migration adds it).
      out.push({ kind: 'MISSING_FIELD', field: path, expected: expectedSide });
      continue;
    }
    const actualSide = { type: typeToString(a.type), required: a.required };
    if (typeof e.type !== 'string' && e.type.type === 'struct' && typeof a.type !== 'string' && a.type.type === 'struct') {
      compareFields(e.type.fields, a.type.fields, `${path}.`, table, out);
    } else if (expectedSide.type !== actualSide.type) {
      const difference: SchemaDifference = { kind: 'TYPE_MISMATCH', field: path, expected: expectedSide, actual: actualSide };
      const pgType = top ? postgresType(a) : undefined;
      if (pgType !== undefined) {
        difference.fixSql = `ALTER TABLE ${quoteQualified(table.schema, table.name)} ALTER COLUMN ${quoteIdent(e.name)} TYPE ${pgType}`;
      }
      out.push(difference);
    }
    if (e.required !== a.required) {
      const difference: SchemaDifference = { kind: 'NULLABILITY_MISMATCH', field: path, expected: expectedSide, actual: actualSide };
      if (top) {
        difference.fixSql = `ALTER TABLE ${quoteQualified(table.schema, table.name)} ALTER COLUMN ${quoteIdent(e.name)} ${a.required ? 'SET' : 'DROP'} NOT NULL`;
      }
      out.push(difference);
    }
  }
  const expectedNames = new Set(expected.map((f) => f.name));
  for (const a of actual) {
    if (expectedNames.has(a.name)) continue;
    const difference: SchemaDifference = { kind: 'EXTRA_FIELD', field: prefix + a.name, actual: { type: typeToString(a.type), required: a.required } };
    const pgType = top ? postgresType(a) : undefined;
    if (pgType !== undefined) {
      difference.fixSql = `ALTER TABLE ${quoteQualified(table.schema, table.name)} ADD COLUMN ${quoteIdent(a.name)} ${pgType}${a.required ? ' NOT NULL' : ''}`;
    }
    out.push(difference);
  }
}

const PRIMITIVE_TO_POSTGRES: Record<string, string> = {
  boolean: 'boolean',
  int: 'integer',
  long: 'bigint',
  float: 'real',
  double: 'double precision',
  date: 'date',
  time: 'time without time zone',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
  string: 'text',
  uuid: 'uuid',
  binary: 'bytea',
};

/**
 * The PostgreSQL type of an Iceberg field: the type the migration recorded in the field's doc
 * ("PostgreSQL <type>") when there is one, else derived from the Iceberg type; undefined when not derivable.
 */
export function postgresType(field: NestedField): string | undefined {
  const doc = field.doc !== undefined ? /^PostgreSQL (.+?)(?: \(domain over .*\))?$/.exec(field.doc) : null;
  if (doc && /^[\w\s.,()[\]"]+$/.test(doc[1]!)) return doc[1]!;
  return derivedType(field.type);
}

function derivedType(type: IcebergType): string | undefined {
  if (typeof type === 'string') {
    const decimal = decimalParams(type);
    if (decimal) return `numeric(${decimal.precision},${decimal.scale})`;
    if (type.startsWith('fixed')) return 'bytea';
    return PRIMITIVE_TO_POSTGRES[type];
  }
  if (type.type === 'list' && typeof type.element === 'string') {
    const element = derivedType(type.element);
    return element === undefined ? undefined : `${element}[]`;
  }
  return undefined;
}
