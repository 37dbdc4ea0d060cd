/** Schemas: the top-level struct of a table with a schema id, and look-ups by field id and by name. */
import { type IcebergType, type NestedField, type StructType, parseStruct } from './types';

/** A table schema in the spec's JSON shape. */
export interface Schema {
  type: 'struct';
  'schema-id': number;
  'identifier-field-ids'?: number[];
  fields: NestedField[];
}

/** Builds a schema from top-level fields. */
export function createSchema(fields: NestedField[], schemaId = 0, identifierFieldIds?: number[]): Schema {
  const schema: Schema = { type: 'struct', 'schema-id': schemaId, fields };
  if (identifierFieldIds && identifierFieldIds.length > 0) schema['identifier-field-ids'] = identifierFieldIds;
  validateSchema(schema);
  return schema;
}

/** Parses a schema from metadata JSON. */
export function parseSchema(json: unknown): Schema {
  if (typeof json !== 'object' || json === null) throw new TypeError('schema must be an object');
  const node = json as Record<string, unknown>;
  const struct = parseStruct(node);
  const schemaId = node['schema-id'];
  if (typeof schemaId !== 'number' || !Number.isSafeInteger(schemaId)) throw new TypeError('schema has no schema-id');
  const schema: Schema = { type: 'struct', 'schema-id': schemaId, fields: struct.fields };
  const ids = node['identifier-field-ids'];
  if (Array.isArray(ids) && ids.length > 0) schema['identifier-field-ids'] = ids.map(Number);
  return schema;
}

/** A field together with the names leading to it (list elements are "element", map parts "key"/"value"). */
export interface IndexedField {
  id: number;
  path: string[];
  type: IcebergType;
  required: boolean;
  /** Field id of the enclosing field, or undefined at top level. */
  parentId?: number;
}

/** Every field id in a type with its path, depth first, parents before children. */
export function indexFields(root: StructType | Schema): Map<number, IndexedField> {
  const index = new Map<number, IndexedField>();
  const visit = (type: IcebergType, path: string[], parentId: number | undefined): void => {
    if (typeof type === 'string') return;
    if (type.type === 'struct') {
      for (const field of type.fields) add(field.id, [...path, field.name], field.type, field.required, parentId);
    } else if (type.type === 'list') {
      add(type['element-id'], [...path, 'element'], type.element, type['element-required'], parentId);
    } else {
      add(type['key-id'], [...path, 'key'], type.key, true, parentId);
      add(type['value-id'], [...path, 'value'], type.value, type['value-required'], parentId);
    }
  };
  const add = (id: number, path: string[], type: IcebergType, required: boolean, parentId: number | undefined) => {
    if (index.has(id)) throw new TypeError(`field id ${id} is used twice (${index.get(id)!.path.join('.')}, ${path.join('.')})`);
    index.set(id, parentId === undefined ? { id, path, type, required } : { id, path, type, required, parentId });
    visit(type, path, id);
  };
  visit({ type: 'struct', fields: root.fields }, [], undefined);
  return index;
}

/** The field with this id anywhere in the schema, or undefined. */
export function findField(schema: Schema | StructType, id: number): IndexedField | undefined {
  return indexFields(schema).get(id);
}

/** The top-level or nested field reached by a dotted name ("address.city"), or undefined. */
export function findFieldByName(schema: Schema | StructType, name: string): IndexedField | undefined {
  for (const field of indexFields(schema).values()) if (field.path.join('.') === name) return field;
  return undefined;
}

/** Highest field id used anywhere in the type (0 for an empty struct). */
export function highestFieldId(schema: Schema | StructType): number {
  let max = 0;
  for (const id of indexFields(schema).keys()) if (id > max) max = id;
  return max;
}

/** Checks ids are unique and positive and sibling names are unique; throws TypeError naming the problem. */
export function validateSchema(schema: Schema | StructType): void {
  const index = indexFields(schema);
  for (const field of index.values()) {
    if (field.id <= 0) throw new TypeError(`field ${field.path.join('.')} has invalid id ${field.id}`);
  }
  const checkNames = (type: IcebergType, where: string): void => {
    if (typeof type === 'string') return;
    if (type.type === 'struct') {
      const seen = new Set<string>();
      for (const field of type.fields) {
        if (seen.has(field.name)) throw new TypeError(`duplicate field name ${JSON.stringify(field.name)} in ${where}`);
        seen.add(field.name);
        checkNames(field.type, `${where}.${field.name}`);
      }
    } else if (type.type === 'list') checkNames(type.element, `${where}.element`);
    else {
      checkNames(type.key, `${where}.key`);
      checkNames(type.value, `${where}.value`);
    }
  };
  checkNames({ type: 'struct', fields: schema.fields }, 'schema');
  for (const id of (schema as Schema)['identifier-field-ids'] ?? []) {
    const field = index.get(id);
    if (!field) throw new TypeError(`identifier field id ${id} is not in the schema`);
    if (!field.required) throw new TypeError(`identifier field ${field.path.join('.')} must be required`);
  }
}

/** Structural equality of two types (field ids, names, nullability and order included). */
export function sameType(a: IcebergType, b: IcebergType): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
