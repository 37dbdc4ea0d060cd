/**
 * Iceberg types in the spec's own JSON shape (format/spec.md, "JSON serialization"), so a schema read from
 * metadata is used as it is and written back unchanged.
 */

/** Primitive type names as the spec writes them; decimal and fixed carry their parameters in the name. */
export type PrimitiveType =
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'string'
  | 'uuid'
  | 'binary'
  | `decimal(${number}, ${number})`
  | `fixed[${number}]`;

/** A field of a struct (or of a schema) with its permanent field id. */
export interface NestedField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
  doc?: string;
}

/** struct<...> */
export interface StructType {
  type: 'struct';
  fields: NestedField[];
}

/** list<element> */
export interface ListType {
  type: 'list';
  'element-id': number;
  element: IcebergType;
  'element-required': boolean;
}

/** map<key, value> */
export interface MapType {
  type: 'map';
  'key-id': number;
  key: IcebergType;
  'value-id': number;
  value: IcebergType;
  'value-required': boolean;
}

/** Any Iceberg type. */
export type IcebergType = PrimitiveType | StructType | ListType | MapType;

/** Precision and scale of a decimal type. */
export interface DecimalParams {
  precision: number;
  scale: number;
}

const DECIMAL_PATTERN = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;
const FIXED_PATTERN = /^fixed\[\s*(\d+)\s*\]$/;
const SIMPLE_PRIMITIVES = new Set<string>([
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'date',
  'time',
  'timestamp',
  'timestamptz',
  'string',
  'uuid',
  'binary',
]);

/** Largest decimal precision Iceberg allows. */
export const MAX_DECIMAL_PRECISION = 38;

/** decimal(P, S) as the spec spells it. */
export function decimalType(precision: number, scale: number): PrimitiveType {
  if (!Number.isInteger(precision) || precision < 1 || precision > MAX_DECIMAL_PRECISION) {
    throw new RangeError(`decimal precision must be 1..${MAX_DECIMAL_PRECISION}, got ${precision}`);
  }
  if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
    throw new RangeError(`decimal scale must be 0..${precision}, got ${scale}`);
  }
  return `decimal(${precision}, ${scale})`;
}

/** fixed[L] as the spec spells it. */
export function fixedType(length: number): PrimitiveType {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`fixed length must be positive, got ${length}`);
  return `fixed[${length}]`;
}

/** Precision and scale of a decimal type, or undefined for any other type. */
export function decimalParams(type: IcebergType): DecimalParams | undefined {
  if (typeof type !== 'string') return undefined;
  const m = DECIMAL_PATTERN.exec(type);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined;
}

/** Length of a fixed type, or undefined for any other type. */
export function fixedLength(type: IcebergType): number | undefined {
  if (typeof type !== 'string') return undefined;
  const m = FIXED_PATTERN.exec(type);
  return m ? Number(m[1]) : undefined;
}

/** True for primitive types. */
export function isPrimitive(type: IcebergType): type is PrimitiveType {
  return typeof type === 'string';
}

/** The primitive family: 'decimal' and 'fixed' without parameters, the name otherwise. */
export type PrimitiveKind =
  'boolean' | 'int' | 'long' | 'float' | 'double' | 'date' | 'time' | 'timestamp' | 'timestamptz' | 'string' | 'uuid' | 'binary' | 'decimal' | 'fixed';

/** The primitive family of a primitive type; throws for a name the spec does not define. */
export function primitiveKind(type: PrimitiveType): PrimitiveKind {
  if (SIMPLE_PRIMITIVES.has(type)) return type as PrimitiveKind;
  if (DECIMAL_PATTERN.test(type)) return 'decimal';
  if (FIXED_PATTERN.test(type)) return 'fixed';
  throw new TypeError(`unknown Iceberg primitive type ${JSON.stringify(type)}`);
}

/** Parses a type from metadata JSON, checking its shape; normalises decimal spacing to the spec's form. */
export function parseType(json: unknown): IcebergType {
  if (typeof json === 'string') {
    const decimal = DECIMAL_PATTERN.exec(json);
    if (decimal) return decimalType(Number(decimal[1]), Number(decimal[2]));
    const fixed = FIXED_PATTERN.exec(json);
    if (fixed) return fixedType(Number(fixed[1]));
    if (SIMPLE_PRIMITIVES.has(json)) return json as PrimitiveType;
    throw new TypeError(`unknown Iceberg type ${JSON.stringify(json)}`);
  }
  if (typeof json !== 'object' || json === null) throw new TypeError(`invalid Iceberg type ${JSON.stringify(json)}`);
  const node = json as Record<string, unknown>;
  switch (node.type) {
    case 'struct':
      return parseStruct(node);
    case 'list':
      return {
        type: 'list',
        'element-id': requireInt(node['element-id'], 'element-id'),
        element: parseType(node.element),
        'element-required': requireBool(node['element-required'], 'element-required'),
      };
    case 'map':
      return {
        type: 'map',
        'key-id': requireInt(node['key-id'], 'key-id'),
        key: parseType(node.key),
        'value-id': requireInt(node['value-id'], 'value-id'),
        value: parseType(node.value),
        'value-required': requireBool(node['value-required'], 'value-required'),
      };
    default:
      throw new TypeError(`invalid Iceberg type ${JSON.stringify(node.type)}`);
  }
}

/** Parses a struct type from metadata JSON. */
export function parseStruct(node: Record<string, unknown>): StructType {
  if (!Array.isArray(node.fields)) throw new TypeError('struct type has no fields array');
  return { type: 'struct', fields: node.fields.map(parseField) };
}

function parseField(json: unknown): NestedField {
  if (typeof json !== 'object' || json === null) throw new TypeError('struct field must be an object');
  const node = json as Record<string, unknown>;
  if (typeof node.name !== 'string') throw new TypeError('struct field has no name');
  const field: NestedField = {
    id: requireInt(node.id, 'field id'),
    name: node.name,
    required: requireBool(node.required, `required of field ${node.name}`),
    type: parseType(node.type),
  };
  if (typeof node.doc === 'string') field.doc = node.doc;
  return field;
}

function requireInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new TypeError(`${name} must be an integer`);
  return value;
}

function requireBool(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`);
  return value;
}
