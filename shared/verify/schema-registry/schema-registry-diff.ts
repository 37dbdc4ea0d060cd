/**
 * Compares two schema registries table by table and field by field. The left registry is the reference
 * ("expected"), the right one is checked against it ("actual"): MISSING_* is on the left only, EXTRA_* on the
 * right only. Fields are matched by name, nested struct fields by dotted path.
 *
 * Where one side is a PostgreSQL database, each difference carries the SQL that would bring that database in
 * line with the other side, when the change is additive or in place (ADD COLUMN, SET/DROP NOT NULL, ALTER
 * COLUMN ... TYPE, CREATE TABLE for a missing table). Dropping a column or a table is never suggested. The SQL
 * is for people to review, never executed here.
 */
import type { NestedField } from '../../iceberg/spec/types';
import { quoteIdent, quoteQualified } from '../../postgres/identifiers';
import type { SchemaDifference } from '../contracts';
import { type RegisteredTable, type RegistrySource, type SchemaRegistry, typeText } from './schema-registry';

/** How one table compares. */
export type TableDiffStatus = 'equal' | 'differs' | 'MISSING_TABLE' | 'EXTRA_TABLE';

/** The comparison of one table. */
export interface TableSchemaDiff {
  /** The registry key, `<schema>.<table>`. */
  table: string;
  status: TableDiffStatus;
  leftSignature?: string;
  rightSignature?: string;
  /** Field differences in left column order, then fields only on the right. */
  differences: SchemaDifference[];
  /** Set when the columns both sides share come in a different order (the signature includes order). */
  columnOrder?: { left: string[]; right: string[] };
  /** For a missing or extra table: the CREATE TABLE that would bring the PostgreSQL side in line. */
  fixSql?: string;
}

/** The comparison of two registries. */
export interface RegistryDiff {
  left: RegistrySource;
  right: RegistrySource;
  /** True when every table compares equal. */
  equal: boolean;
  /** Every table of either side, sorted by key. */
  tables: TableSchemaDiff[];
}

/** Which side a fix applies to: the PostgreSQL side (the right one when both are). */
type FixTarget = 'left' | 'right' | undefined;

/** Compares two registries (left = reference, right = checked). */
export function diffRegistries(left: SchemaRegistry, right: SchemaRegistry): RegistryDiff {
  const target: FixTarget = right.source.kind === 'postgres' ? 'right' : left.source.kind === 'postgres' ? 'left' : undefined;
  const keys = [...new Set([...Object.keys(left.tables), ...Object.keys(right.tables)])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const tables = keys.map((key): TableSchemaDiff => {
    const l = left.tables[key];
    const r = right.tables[key];
    if (l === undefined) {
      const fixSql = target === 'left' ? createTableSql(left.source.schema, r!) : undefined;
      return { table: key, status: 'EXTRA_TABLE', rightSignature: r!.signature, differences: [], ...(fixSql ? { fixSql } : {}) };
    }
    if (r === undefined) {
      const fixSql = target === 'right' ? createTableSql(right.source.schema, l) : undefined;
      return { table: key, status: 'MISSING_TABLE', leftSignature: l.signature, differences: [], ...(fixSql ? { fixSql } : {}) };
    }
    return diffTables(key, l, r, target);
  });
  return { left: left.source, right: right.source, equal: tables.every((t) => t.status === 'equal'), tables };
}

/** Compares one table present on both sides; `target` names the PostgreSQL side fixes apply to. */
export function diffTables(key: string, left: RegisteredTable, right: RegisteredTable, target: FixTarget = undefined): TableSchemaDiff {
  const differences: SchemaDifference[] = [];
  compareFields('', left.schema.fields, right.schema.fields, differences, pgTypesByName(left), pgTypesByName(right));
  if (target !== undefined) {
    const [fixed, reference] = target === 'right' ? [right, left] : [left, right];
    for (const d of differences) {
      const sql = fixSql(d, target, fixed, reference);
      if (sql !== undefined) d.fixSql = sql;
    }
  }
  const rightNames = new Set(right.columns.map((c) => c.name));
  const leftNames = new Set(left.columns.map((c) => c.name));
  const leftOrder = left.columns.map((c) => c.name).filter((n) => rightNames.has(n));
  const rightOrder = right.columns.map((c) => c.name).filter((n) => leftNames.has(n));
  const reordered = leftOrder.some((name, i) => rightOrder[i] !== name);
  const result: TableSchemaDiff = {
    table: key,
    status: differences.length > 0 || reordered ? 'differs' : 'equal',
    leftSignature: left.signature,
    rightSignature: right.signature,
    differences,
  };
  if (reordered) result.columnOrder = { left: left.columns.map((c) => c.name), right: right.columns.map((c) => c.name) };
  return result;
}

function pgTypesByName(table: RegisteredTable): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of table.columns) if (c.pgType !== null) out.set(c.name, c.pgType);
  return out;
}

/**
 * Field-by-field comparison. PostgreSQL types (top level only) count when both sides know them, so two
 * databases differing in `varchar(10)` against `varchar(20)` differ even though both map to `string`.
 */
function compareFields(
  prefix: string,
  left: readonly NestedField[],
  right: readonly NestedField[],
  out: SchemaDifference[],
  leftPg: Map<string, string> | undefined,
  rightPg: Map<string, string> | undefined,
): void {
  const rightByName = new Map(right.map((f) => [f.name, f]));
  const leftNames = new Set(left.map((f) => f.name));
  const side = (field: NestedField, pg: Map<string, string> | undefined): { type: string; required: boolean } => {
    const pgType = pg?.get(field.name);
    return { type: pgType === undefined ? typeText(field.type) : `${typeText(field.type)} (${pgType})`, required: field.required };
  };
  for (const l of left) {
    const path = prefix + l.name;
    const r = rightByName.get(l.name);
    if (r === undefined) {
      out.push({ kind: 'MISSING_FIELD', field: path, expected: side(l, leftPg) });
      continue;
    }
    const expected = side(l, leftPg);
    const actual = side(r, rightPg);
    if (typeof l.type !== 'string' && l.type.type === 'struct' && typeof r.type !== 'string' && r.type.type === 'struct') {
      if (l.required !== r.required) out.push({ kind: 'NULLABILITY_MISMATCH', field: path, expected, actual });
      compareFields(`${path}.`, l.type.fields, r.type.fields, out, undefined, undefined);
      continue;
    }
    const pgDiffers = leftPg?.has(l.name) === true && rightPg?.has(l.name) === true && leftPg.get(l.name) !== rightPg.get(l.name);
    if (typeText(l.type) !== typeText(r.type) || pgDiffers) out.push({ kind: 'TYPE_MISMATCH', field: path, expected, actual });
    if (l.required !== r.required) out.push({ kind: 'NULLABILITY_MISMATCH', field: path, expected, actual });
  }
  for (const r of right) if (!leftNames.has(r.name)) out.push({ kind: 'EXTRA_FIELD', field: prefix + r.name, actual: side(r, rightPg) });
}

/** The SQL bringing `fixed` (the PostgreSQL side, `target`) in line with `reference`, or undefined. */
function fixSql(d: SchemaDifference, target: 'left' | 'right', fixed: RegisteredTable, reference: RegisteredTable): string | undefined {
  // Nested struct fields live in composite types; changing those is not a one-statement fix.
  if (d.field.includes('.') && !fixed.columns.some((c) => c.name === d.field)) return undefined;
  const table = quoteQualified(fixed.identifier.namespace, fixed.identifier.name);
  const column = quoteIdent(d.field);
  const ref = reference.columns.find((c) => c.name === d.field);
  // MISSING_FIELD is on the left only, EXTRA_FIELD on the right only: either way, absent from one side.
  const absentFromFixed = (d.kind === 'MISSING_FIELD' && target === 'right') || (d.kind === 'EXTRA_FIELD' && target === 'left');
  if (d.kind === 'MISSING_FIELD' || d.kind === 'EXTRA_FIELD') {
    if (!absentFromFixed || ref === undefined) return undefined;
    const type = postgresType(ref.pgType, ref.icebergType);
    return type === undefined ? undefined : `ALTER TABLE ${table} ADD COLUMN ${column} ${type}${ref.required ? ' NOT NULL' : ''}`;
  }
  if (ref === undefined) return undefined;
  if (d.kind === 'NULLABILITY_MISMATCH') return `ALTER TABLE ${table} ALTER COLUMN ${column} ${ref.required ? 'SET' : 'DROP'} NOT NULL`;
  const type = postgresType(ref.pgType, ref.icebergType);
  return type === undefined ? undefined : `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${type} USING ${column}::${type}`;
}

/** CREATE TABLE for a table the PostgreSQL side lacks, when every column's type is known or derivable. */
function createTableSql(schema: string, table: RegisteredTable): string | undefined {
  const columns: string[] = [];
  for (const c of table.columns) {
    const type = postgresType(c.pgType, c.icebergType);
    if (type === undefined) return undefined;
    columns.push(`  ${quoteIdent(c.name)} ${type}${c.required ? ' NOT NULL' : ''}`);
  }
  return `CREATE TABLE ${quoteQualified(schema, table.identifier.name)} (\n${columns.join(',\n')}\n)`;
}

const ICEBERG_TO_POSTGRES: Record<string, string> = {
  boolean: 'boolean',
  int: 'integer',
  long: 'bigint',
  float: 'real',
  double: 'double precision',
  date: 'date',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  string: 'text',
  uuid: 'uuid',
  binary: 'bytea',
};

/**
 * A PostgreSQL type for a column: the declared one when known (format_type output, which quotes what needs
 * quoting), else one derived from the Iceberg type. A registry file is user input, so a declared type that
 * does not look like format_type output is not echoed into SQL.
 */
export function postgresType(pgType: string | null, icebergType: string): string | undefined {
  if (pgType !== null) return /^[A-Za-z_"][\w ."(),[\]]*$/.test(pgType) && !pgType.includes('--') ? pgType : undefined;
  const decimal = /^decimal\((\d+), (\d+)\)$/.exec(icebergType);
  if (decimal) return `numeric(${decimal[1]},${decimal[2]})`;
  if (/^fixed\[\d+\]$/.test(icebergType)) return 'bytea';
  const list = /^list<(.+)>$/.exec(icebergType);
  if (list) {
    const element = postgresType(null, list[1]!);
    return element === undefined || element.endsWith(']') ? undefined : `${element}[]`;
  }
  return ICEBERG_TO_POSTGRES[icebergType];
}
