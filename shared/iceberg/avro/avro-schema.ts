/**
 * The Avro schema JSON we read and write, and the Iceberg -> Avro type mapping of spec Appendix A, with the
 * Iceberg ids (`field-id`, `element-id`, `key-id`, `value-id`) that readers use to resolve columns.
 */
import { ValidationError } from '../../errors';
import { decimalRequiredBytes } from '../spec/conversions';
import { type IcebergType, type NestedField, type StructType, decimalParams, fixedLength, primitiveKind } from '../spec/types';

/** Names of Avro's primitive types. */
export type AvroPrimitiveName = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

/** A primitive written as an object, usually to carry a logical type. */
export interface AvroPrimitiveSchema {
  type: AvroPrimitiveName;
  logicalType?: string;
  /** Iceberg convention on timestamp-micros: true for timestamptz. */
  'adjust-to-utc'?: boolean;
  /** Decimal parameters when other writers store a decimal as bytes. */
  precision?: number;
  scale?: number;
}

/** A record field; `field-id` is the Iceberg field id. */
export interface AvroField {
  name: string;
  type: AvroSchema;
  default?: null;
  doc?: string;
  'field-id'?: number;
  /** The original Iceberg name when it is not a valid Avro name. */
  'iceberg-field-name'?: string;
  aliases?: string[];
}

/** An Avro record (Iceberg struct, or a map entry). */
export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  aliases?: string[];
  fields: AvroField[];
}

/** An Avro array (Iceberg list, or with logicalType "map" a map with non-string keys). */
export interface AvroArraySchema {
  type: 'array';
  items: AvroSchema;
  'element-id'?: number;
  logicalType?: 'map';
}

/** An Avro map (Iceberg map with string keys). */
export interface AvroMapSchema {
  type: 'map';
  values: AvroSchema;
  'key-id'?: number;
  'value-id'?: number;
}

/** An Avro fixed (Iceberg fixed, decimal and uuid). */
export interface AvroFixedSchema {
  type: 'fixed';
  name: string;
  namespace?: string;
  size: number;
  logicalType?: string;
  precision?: number;
  scale?: number;
}

/** An Avro enum; never written by us, read from other writers' files. */
export interface AvroEnumSchema {
  type: 'enum';
  name: string;
  namespace?: string;
  symbols: string[];
  default?: string;
}

/** A union; Iceberg only uses [null, T]. */
export type AvroUnionSchema = AvroSchema[];

/** Any Avro schema node: a primitive or named-type reference by name, an object, or a union. */
export type AvroSchema = string | AvroPrimitiveSchema | AvroRecordSchema | AvroArraySchema | AvroMapSchema | AvroFixedSchema | AvroEnumSchema | AvroUnionSchema;

/** Wraps a schema in the [null, T] union that marks it optional. */
export function optional(schema: AvroSchema): AvroUnionSchema {
  return ['null', schema];
}

/** The non-null branch of a [null, T] union, or undefined when the schema is not such a union. */
export function optionalBranch(schema: AvroSchema): AvroSchema | undefined {
  if (!Array.isArray(schema) || schema.length !== 2) return undefined;
  if (schema[0] === 'null') return schema[1];
  if (schema[1] === 'null') return schema[0];
  return undefined;
}

const AVRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when the name is a valid Avro name. */
export function isValidAvroName(name: string): boolean {
  return AVRO_NAME.test(name);
}

/** Makes a name valid for Avro the way the Java implementation does ("1a-b" -> "_1a_x2Db"). */
export function sanitizeAvroName(name: string): string {
  if (name.length === 0) throw new ValidationError('an Avro name cannot be empty');
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    const letter = /[A-Za-z_]/.test(c);
    const digit = /[0-9]/.test(c);
    if (letter || (digit && i > 0)) out += c;
    else if (digit) out += `_${c}`;
    else out += `_x${name.charCodeAt(i).toString(16).toUpperCase()}`;
  }
  return out;
}

/** The Avro field name of an Iceberg field (sanitised if needed). */
export function avroFieldName(name: string): string {
  return isValidAvroName(name) ? name : sanitizeAvroName(name);
}

/**
 * The Avro schema of an Iceberg type per spec Appendix A. `name` names the record when the type is a struct;
 * nested structs are named "r<field id>" and map entries "k<key id>_v<value id>" as the Java writer names them.
 * A named type used twice (e.g. two decimal(9, 2) columns) is defined once and referred to by name after.
 */
export function avroSchemaForType(type: IcebergType, name: string): AvroSchema {
  const defined = new Set<string>();
  return convert(type, name, defined);
}

function convert(type: IcebergType, recordName: string, defined: Set<string>): AvroSchema {
  if (typeof type === 'string') return primitive(type, defined);
  switch (type.type) {
    case 'struct':
      return struct(type, recordName, defined);
    case 'list': {
      const items = convert(type.element, `r${type['element-id']}`, defined);
      return { type: 'array', items: type['element-required'] ? items : optional(items), 'element-id': type['element-id'] };
    }
    case 'map': {
      const key = convert(type.key, `r${type['key-id']}`, defined);
      const value = convert(type.value, `r${type['value-id']}`, defined);
      const values = type['value-required'] ? value : optional(value);
      if (key === 'string') return { type: 'map', values, 'key-id': type['key-id'], 'value-id': type['value-id'] };
      const entryName = `k${type['key-id']}_v${type['value-id']}`;
      const valueField: AvroField = { name: 'value', type: values, 'field-id': type['value-id'] };
      if (!type['value-required']) valueField.default = null;
      return {
        type: 'array',
        logicalType: 'map',
        items: { type: 'record', name: entryName, fields: [{ name: 'key', type: key, 'field-id': type['key-id'] }, valueField] },
      };
    }
  }
}

function struct(type: StructType, recordName: string, defined: Set<string>): AvroRecordSchema {
  if (defined.has(recordName)) throw new ValidationError(`Avro record name ${recordName} is used twice`);
  defined.add(recordName);
  return { type: 'record', name: recordName, fields: type.fields.map((field) => avroField(field, defined)) };
}

function avroField(field: NestedField, defined: Set<string>): AvroField {
  const inner = convert(field.type, `r${field.id}`, defined);
  const out: AvroField = { name: avroFieldName(field.name), type: field.required ? inner : optional(inner) };
  if (!field.required) out.default = null;
  if (field.doc !== undefined) out.doc = field.doc;
  out['field-id'] = field.id;
  if (out.name !== field.name) out['iceberg-field-name'] = field.name;
  return out;
}

function named(schema: AvroFixedSchema, defined: Set<string>): AvroSchema {
  if (defined.has(schema.name)) return schema.name;
  defined.add(schema.name);
  return schema;
}

function primitive(type: Extract<IcebergType, string>, defined: Set<string>): AvroSchema {
  const kind = primitiveKind(type);
  switch (kind) {
    case 'boolean':
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'string':
      return kind;
    case 'binary':
      return 'bytes';
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'time':
      return { type: 'long', logicalType: 'time-micros' };
    case 'timestamp':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false };
    case 'timestamptz':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true };
    case 'uuid':
      return named({ type: 'fixed', name: 'uuid_fixed', size: 16, logicalType: 'uuid' }, defined);
    case 'fixed': {
      const size = fixedLength(type)!;
      return named({ type: 'fixed', name: `fixed_${size}`, size }, defined);
    }
    case 'decimal': {
      const { precision, scale } = decimalParams(type)!;
      return named(
        { type: 'fixed', name: `decimal_${precision}_${scale}`, size: decimalRequiredBytes(precision), logicalType: 'decimal', precision, scale },
        defined,
      );
    }
  }
}

/** Every named type (record, fixed, enum) defined in a schema, keyed by both its name and its full name. */
export function namedTypes(schema: AvroSchema): Map<string, AvroSchema> {
  const out = new Map<string, AvroSchema>();
  const visit = (node: AvroSchema, namespace: string): void => {
    if (typeof node === 'string') return;
    if (Array.isArray(node)) {
      for (const branch of node) visit(branch, namespace);
      return;
    }
    switch (node.type) {
      case 'record':
      case 'fixed':
      case 'enum': {
        const space = node.namespace ?? namespace;
        const full = node.name.includes('.') || !space ? node.name : `${space}.${node.name}`;
        out.set(full, node);
        out.set(full.slice(full.lastIndexOf('.') + 1), node);
        if (node.type === 'record') {
          const inner = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : '';
          for (const field of node.fields) visit(field.type, inner);
        }
        return;
      }
      case 'array':
        visit(node.items, namespace);
        return;
      case 'map':
        visit(node.values, namespace);
        return;
      default:
        return;
    }
  };
  visit(schema, '');
  return out;
}

/** Follows a reference by name to its definition; any other schema is returned unchanged. */
export function resolveNamed(schema: AvroSchema, named: Map<string, AvroSchema>): AvroSchema {
  if (typeof schema !== 'string') return schema;
  return named.get(schema) ?? schema;
}
