/**
 * What the router knows of one table: its PostgreSQL description, the copy's mapping (the same columns, types and
 * decoders the migration used, so a row read from either side comes back in one representation), its key, and how
 * a value is written as a SQL parameter: PostgreSQL's own text output (`renderForComparison`), cast to the
 * column's declared type, which PostgreSQL's input parses back to the same value under the text-output session
 * settings.
 */
import { ValidationError } from '../errors';
import type { Row, Value } from '../iceberg/spec/values';
import { type FieldDecoder, compileDecoder } from '../postgres/binary-decoders';
import { displayQualified, quoteIdent, quoteQualified } from '../postgres/identifiers';
import type { SourceTable } from '../postgres/source-table';
import { type TableMapping, mapTable } from '../postgres/type-mapping';
import { renderForComparison } from '../postgres/text-rendering';

/** A row as the router hands it out: column name → value (shared/iceberg/spec/values.ts). */
export type RecordRow = Record<string, Value>;

/** A table's shape for routing. */
export interface TableShape {
  /** `schema.name`, as flags label per-table overrides. */
  name: string;
  table: SourceTable;
  mapping: TableMapping;
  /** Positions of the key columns in the mapping's column order. */
  key: number[];
  decoders: FieldDecoder[];
  /** `"schema"."name"`. */
  sql: string;
}

/** Builds the shape of a described table; refuses one the router cannot serve exactly. */
export function tableShape(table: SourceTable): TableShape {
  const name = displayQualified(table.schema, table.name);
  if (table.key.columns.length === 0) throw new ValidationError(`table ${name} has no primary key: the router finds and saves rows by key`);
  const mapping = mapTable(table);
  const key = table.key.columns.map((k) => mapping.columns.findIndex((c) => c.name === k));
  return {
    name,
    table,
    mapping,
    key,
    // Readers of Iceberg return 64-bit values as bigint: so must the PostgreSQL side, for one representation.
    decoders: mapping.columns.map((c) => compileDecoder(c.decode, { exactBigInt: true })),
    sql: quoteQualified(table.schema, table.name),
  };
}

/** The SQL type of column `index` (format_type, with its typmod). */
export function columnType(shape: TableShape, index: number): string {
  const name = shape.mapping.columns[index]!.name;
  return shape.table.columns.find((c) => c.name === name)!.type.sql;
}

/** A value as a text parameter PostgreSQL parses back to it (null stays null). */
export function parameterText(shape: TableShape, index: number, value: Value): string | null {
  const column = shape.mapping.columns[index]!;
  // A column copied as PostgreSQL's text output holds exactly that text.
  if (column.transfer === 'text') return value === null ? null : String(value as string);
  return renderForComparison(column.decode, value);
}

/** The key values of a row object, in key order; refuses a missing key column. */
export function keyOf(shape: TableShape, row: RecordRow): Value[] {
  return shape.key.map((i) => {
    const name = shape.mapping.columns[i]!.name;
    if (!(name in row) || row[name] === null || row[name] === undefined)
      throw new ValidationError(`table ${shape.name}: the row has no value for key column ${name}`);
    return row[name]!;
  });
}

/** A key given as one value (single-column key) or as values in key order. */
export function keyValues(shape: TableShape, key: Value | readonly Value[]): Value[] {
  const values = shape.key.length === 1 && !Array.isArray(key) ? [key as Value] : (key as Value[]);
  if (!Array.isArray(values) || values.length !== shape.key.length) {
    throw new ValidationError(`table ${shape.name}: the key has ${shape.key.length} column(s) (${keyNames(shape).join(', ')})`);
  }
  return values;
}

/** The key column names. */
export function keyNames(shape: TableShape): string[] {
  return shape.key.map((i) => shape.mapping.columns[i]!.name);
}

/** A row (mapping order) as a record. */
export function toRecord(shape: TableShape, row: Row): RecordRow {
  const record: RecordRow = {};
  shape.mapping.columns.forEach((c, i) => (record[c.name] = row[i] ?? null));
  return record;
}

/** The column's index by name; refuses an unknown column. */
export function columnIndex(shape: TableShape, name: string): number {
  const index = shape.mapping.columns.findIndex((c) => c.name === name);
  if (index < 0) throw new ValidationError(`table ${shape.name} has no column ${name}`);
  return index;
}

/** A row's values as PostgreSQL prints them, for comparing rows read from the two sides. */
export function comparableRow(shape: TableShape, row: RecordRow): (string | null)[] {
  return shape.mapping.columns.map((c) => renderForComparison(c.decode, row[c.name] ?? null));
}

/** `"col"` for SQL. */
export function columnSql(shape: TableShape, index: number): string {
  return quoteIdent(shape.mapping.columns[index]!.name);
}
