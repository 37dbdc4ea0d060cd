/**
 * PostgreSQL columns to Iceberg fields (ARCHITECTURE.md §5) and, for each column, how COPY delivers it and how
 * it is decoded. Types with a simple, exact binary form are read in binary; everything else is selected as
 * PostgreSQL's own text (`::text`, or `::text[]` for arrays of such types) and kept as a string.
 */
import { ValidationError } from '../errors';
import { createSchema, type Schema } from '../iceberg/spec/schema';
import { MAX_DECIMAL_PRECISION, decimalType, type IcebergType, type NestedField } from '../iceberg/spec/types';
import type { DecodePlan, InfinityMapping } from './decode-plan';
import { displayIdent, quoteIdent } from './identifiers';
import { baseOf, type SourceColumn, type SourceTable, type SourceType } from './source-table';

/** How numeric columns without a usable precision (no typmod, or precision > 38) are mapped. */
export type WideNumericMapping =
  /** string: PostgreSQL's exact text, 'NaN' and '±Infinity' included (the default). */
  | { as: 'string' }
  /** decimal(38, s): s is the column's scale, or `unconstrainedScale` without a typmod; misfits are errors. */
  | { as: 'decimal'; unconstrainedScale: number };

/** Options of `mapTable`. */
export interface MapTableOptions {
  /** Columns left out of the Iceberg table. */
  excludedColumns?: readonly string[];
  /** Mapping of numeric without precision or with precision > 38; defaults to string. */
  wideNumeric?: WideNumericMapping;
  /** Days from 1970 stored for date ±infinity; without it ±infinity is an error. */
  dateInfinity?: InfinityMapping<number>;
  /** Microseconds from 1970 stored for timestamp(tz) ±infinity; without it ±infinity is an error. */
  timestampInfinity?: InfinityMapping<bigint>;
}

/** One migrated column: its Iceberg field, how it is selected and how it is decoded. */
export interface ColumnPlan {
  name: string;
  fieldId: number;
  /** The PostgreSQL type as declared (a domain keeps its name). */
  sourceType: string;
  /** 'binary': decoded from the binary COPY form; 'text': PostgreSQL's text output, kept as a string. */
  transfer: 'binary' | 'text';
  /** The select-list expression: `"col"`, `"col"::text` or `"col"::text[]`. */
  selectSql: string;
  decode: DecodePlan;
}

/** The Iceberg schema of a table and the per-column read plan, in the same order. */
export interface TableMapping {
  schema: Schema;
  columns: ColumnPlan[];
}

const OID = {
  bool: 16,
  bytea: 17,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

const SIMPLE_PLANS = new Map<number, DecodePlan>([
  [OID.bool, { kind: 'boolean' }],
  [OID.bytea, { kind: 'bytea' }],
  [OID.name, { kind: 'text' }],
  [OID.int8, { kind: 'int8' }],
  [OID.int2, { kind: 'int2' }],
  [OID.int4, { kind: 'int4' }],
  [OID.text, { kind: 'text' }],
  [OID.oid, { kind: 'oid' }],
  [OID.json, { kind: 'text' }],
  [OID.float4, { kind: 'float4' }],
  [OID.float8, { kind: 'float8' }],
  [OID.bpchar, { kind: 'text' }],
  [OID.varchar, { kind: 'text' }],
  [OID.time, { kind: 'time' }],
  [OID.interval, { kind: 'interval' }],
  [OID.uuid, { kind: 'uuid' }],
  [OID.jsonb, { kind: 'jsonb' }],
]);

/**
 * Maps a described table: field ids 1..n in column order, nested ids after them; required = NOT NULL.
 * The key columns become identifier fields when all of them are migrated, required and not floating point.
 */
export function mapTable(table: SourceTable, options: MapTableOptions = {}): TableMapping {
  const excluded = new Set(options.excludedColumns ?? []);
  for (const name of excluded) {
    if (!table.columns.some((c) => c.name === name)) {
      throw new ValidationError(
        `cannot exclude column ${displayIdent(name)} of ${displayIdent(table.schema)}.${displayIdent(table.name)}: no such column; columns: ${table.columns.map((c) => displayIdent(c.name)).join(', ')}`,
      );
    }
  }
  const columns = table.columns.filter((c) => !excluded.has(c.name));
  if (columns.length === 0) throw new ValidationError(`no column of ${displayIdent(table.schema)}.${displayIdent(table.name)} is left to migrate`);
  const plans = columns.map((column, i) => planColumn(column, i + 1, options));
  let nextId = columns.length + 1;
  const allocate = (): number => nextId++;
  const fields: NestedField[] = plans.map((plan, i) => {
    const column = columns[i]!;
    const field: NestedField = { id: plan.fieldId, name: column.name, required: column.notNull, type: 'string', doc: describeType(column.type) };
    field.type = icebergType(plan.decode, allocate);
    return field;
  });
  return { schema: createSchema(fields, 0, identifierFieldIds(table, plans, fields)), columns: plans };
}

function identifierFieldIds(table: SourceTable, plans: ColumnPlan[], fields: NestedField[]): number[] | undefined {
  if (table.key.kind === 'none') return undefined;
  const ids: number[] = [];
  for (const name of table.key.columns) {
    const index = plans.findIndex((p) => p.name === name);
    const field = fields[index];
    if (field === undefined || !field.required || typeof field.type !== 'string' || field.type === 'float' || field.type === 'double') return undefined;
    ids.push(field.id);
  }
  return ids;
}

function planColumn(column: SourceColumn, fieldId: number, options: MapTableOptions): ColumnPlan {
  const quoted = quoteIdent(column.name);
  const binary = binaryPlan(column.type, options);
  const common = { name: column.name, fieldId, sourceType: column.type.sql };
  if (binary !== undefined) return { ...common, transfer: 'binary', selectSql: quoted, decode: binary };
  const base = baseOf(column.type);
  if (base.kind === 'array') {
    const element = baseOf(base.element);
    // An array of a type we only have as text becomes text[]: PostgreSQL casts each element with its output function.
    if (element.kind === 'base' || element.kind === 'enum') {
      return { ...common, transfer: 'text', selectSql: `${quoted}::text[]`, decode: { kind: 'array', element: { kind: 'text' } } };
    }
  }
  return { ...common, transfer: 'text', selectSql: `${quoted}::text`, decode: { kind: 'text' } };
}

/** The binary decode plan of a type, or undefined when some part of it has no binary decoder here. */
function binaryPlan(type: SourceType, options: MapTableOptions): DecodePlan | undefined {
  switch (type.kind) {
    case 'domain':
      return binaryPlan(type.base, options);
    case 'enum':
      return { kind: 'text' };
    case 'array': {
      const element = binaryPlan(type.element, options);
      return element === undefined ? undefined : { kind: 'array', element };
    }
    case 'composite': {
      const fields: Array<{ name: string; plan: DecodePlan }> = [];
      for (const attribute of type.attributes) {
        const plan = binaryPlan(attribute.type, options);
        if (plan === undefined) return undefined;
        fields.push({ name: attribute.name, plan });
      }
      return fields.length === 0 ? undefined : { kind: 'composite', fields };
    }
    case 'base':
      return basePlan(type.oid, type.typmod, options);
  }
}

function basePlan(oid: number, typmod: number, options: MapTableOptions): DecodePlan | undefined {
  switch (oid) {
    case OID.numeric:
      return numericPlan(typmod, options.wideNumeric ?? { as: 'string' });
    case OID.date:
      return options.dateInfinity === undefined ? { kind: 'date' } : { kind: 'date', infinity: options.dateInfinity };
    case OID.timestamp:
    case OID.timestamptz: {
      const kind = oid === OID.timestamp ? 'timestamp' : 'timestamptz';
      return options.timestampInfinity === undefined ? { kind } : { kind, infinity: options.timestampInfinity };
    }
    default:
      return SIMPLE_PLANS.get(oid);
  }
}

/** numeric(p,s) typmod -> precision and scale (PostgreSQL 15+ allows a negative scale and scale > precision). */
export function numericTypmod(typmod: number): { precision: number; scale: number } | undefined {
  if (typmod < 4) return undefined;
  const packed = typmod - 4;
  return { precision: (packed >> 16) & 0xffff, scale: ((packed & 0x7ff) ^ 1024) - 1024 };
}

function numericPlan(typmod: number, wide: WideNumericMapping): DecodePlan {
  const declared = numericTypmod(typmod);
  if (declared !== undefined) {
    // A negative scale rounds to tens, hundreds...: the values are integers with up to p - s digits.
    const scale = Math.max(declared.scale, 0);
    const precision = Math.max(declared.precision - Math.min(declared.scale, 0), scale);
    if (precision <= MAX_DECIMAL_PRECISION) return { kind: 'decimal', precision, scale, checked: false };
    if (wide.as === 'decimal' && scale <= MAX_DECIMAL_PRECISION) return { kind: 'decimal', precision: MAX_DECIMAL_PRECISION, scale, checked: true };
    return { kind: 'numeric-text' };
  }
  if (wide.as === 'decimal') {
    const scale = wide.unconstrainedScale;
    if (!Number.isInteger(scale) || scale < 0 || scale > MAX_DECIMAL_PRECISION) {
      throw new ValidationError(`wideNumeric.unconstrainedScale must be 0..${MAX_DECIMAL_PRECISION}, got ${scale}`);
    }
    return { kind: 'decimal', precision: MAX_DECIMAL_PRECISION, scale, checked: true };
  }
  return { kind: 'numeric-text' };
}

/** The Iceberg type a decode plan produces values of; `allocate` hands out nested field ids. */
export function icebergType(plan: DecodePlan, allocate: () => number): IcebergType {
  switch (plan.kind) {
    case 'boolean':
      return 'boolean';
    case 'int2':
    case 'int4':
      return 'int';
    case 'int8':
    case 'oid':
      return 'long';
    case 'float4':
      return 'float';
    case 'float8':
      return 'double';
    case 'decimal':
      return decimalType(plan.precision, plan.scale);
    case 'numeric-text':
    case 'text':
    case 'jsonb':
    case 'interval':
      return 'string';
    case 'uuid':
      return 'uuid';
    case 'bytea':
      return 'binary';
    case 'date':
      return 'date';
    case 'time':
      return 'time';
    case 'timestamp':
      return 'timestamp';
    case 'timestamptz':
      return 'timestamptz';
    case 'array': {
      const elementId = allocate();
      return { type: 'list', 'element-id': elementId, element: icebergType(plan.element, allocate), 'element-required': false };
    }
    case 'composite': {
      // Ids of a struct's own fields first, then whatever nests inside them, as Iceberg assigns fresh ids.
      const ids = plan.fields.map(() => allocate());
      const fields = plan.fields.map((f, i): NestedField => ({ id: ids[i]!, name: f.name, required: false, type: 'string' }));
      plan.fields.forEach((f, i) => {
        fields[i]!.type = icebergType(f.plan, allocate);
      });
      return { type: 'struct', fields };
    }
  }
}

/** Field doc: the PostgreSQL type, with a domain's base type. */
function describeType(type: SourceType): string {
  if (type.kind === 'domain') return `PostgreSQL ${type.sql} (domain over ${baseOf(type).sql})`;
  return `PostgreSQL ${type.sql}`;
}
