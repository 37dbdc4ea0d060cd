/**
 * The partition tuple of a spec: its struct type (the `partition` field of manifests), validation of a spec against
 * a schema, and computing a row's partition values.
 */
import { ValidationError } from '../../errors';
import { type Accessor, accessorFor, findFieldPosition } from './accessors';
import { PARTITION_DATA_ID_START, type PartitionField, type PartitionSpec } from './partition-spec';
import { type Schema, findFieldByName, indexFields } from './schema';
import { type TransformFunction, checkTransform, parseTransform, transformFunction, transformResultType } from './transforms';
import type { NestedField, PrimitiveType, StructType } from './types';
import type { Row, Value } from './values';

function describe(field: PartitionField): string {
  return `partition field ${JSON.stringify(field.name)} (id ${field['field-id']})`;
}

/**
 * The partition struct: one optional field per partition field, with the partition field's id and name and the
 * transform's result type. Throws a ValidationError when a source column is missing from the schema.
 */
export function partitionType(spec: PartitionSpec, schema: Schema): StructType {
  const index = indexFields(schema);
  const fields: NestedField[] = spec.fields.map((field) => {
    const source = index.get(field['source-id']);
    if (!source) {
      throw new ValidationError(`${describe(field)}: source column id ${field['source-id']} is not in the schema`);
    }
    return {
      id: field['field-id'],
      name: field.name,
      required: false,
      type: transformResultType(parseTransform(field.transform), source.type),
    };
  });
  return { type: 'struct', fields };
}

/**
 * Checks a spec against a schema: source columns exist, are primitives outside lists and maps, and accept their
 * transform; names are non-empty, unique, and do not reuse a column name (except identity or void of that same
 * column); field ids are >= 1000 and unique. Throws a ValidationError naming the first problem.
 */
export function validatePartitionSpec(spec: PartitionSpec, schema: Schema): void {
  if (!Number.isSafeInteger(spec['spec-id']) || spec['spec-id'] < 0) {
    throw new ValidationError(`partition spec id must be a non-negative integer, got ${spec['spec-id']}`);
  }
  const index = indexFields(schema);
  const names = new Set<string>();
  const ids = new Set<number>();
  for (const field of spec.fields) {
    const where = describe(field);
    const fieldId = field['field-id'];
    if (!Number.isSafeInteger(fieldId) || fieldId < PARTITION_DATA_ID_START) {
      throw new ValidationError(`${where}: partition field ids start at ${PARTITION_DATA_ID_START}`);
    }
    if (ids.has(fieldId)) throw new ValidationError(`${where}: field id ${fieldId} is used twice in the spec`);
    ids.add(fieldId);
    if (field.name === '') throw new ValidationError(`partition field id ${fieldId} has an empty name`);
    if (names.has(field.name)) throw new ValidationError(`${where}: the name is used twice in the spec`);
    names.add(field.name);

    const transform = parseTransform(field.transform);
    if (transform.kind === 'unknown') {
      throw new ValidationError(`${where}: unknown transform ${JSON.stringify(field.transform)} cannot be written`);
    }
    const source = index.get(field['source-id']);
    if (!source) throw new ValidationError(`${where}: source column id ${field['source-id']} is not in the schema`);
    const column = `column ${source.path.join('.')}`;
    if (!findFieldPosition(schema, source.id)) {
      throw new ValidationError(`${where}: ${column} is inside a list or map and cannot be partitioned on`);
    }
    checkTransform(transform, source.type, column);

    const clash = findFieldByName(schema, field.name);
    const sameColumn = clash?.id === source.id && (transform.kind === 'identity' || transform.kind === 'void');
    if (clash && !sameColumn) {
      throw new ValidationError(
        `${where}: the name is already the name of column ${clash.path.join('.')}; only an identity partition of ` + 'that same column may share it',
      );
    }
  }
}

/** Computes the partition tuple of a row, in spec order. */
export type Partitioner = (row: Row) => Value[];

/**
 * Resolves every source column to its struct positions and binds every transform once, so that computing a row's
 * partition tuple does no look-ups. Throws a ValidationError for a spec that does not fit the schema.
 */
export function compilePartitioner(spec: PartitionSpec, schema: Schema): Partitioner {
  const steps: Array<{ read: Accessor; apply: TransformFunction }> = spec.fields.map((field) => {
    const found = findFieldPosition(schema, field['source-id']);
    if (!found) {
      throw new ValidationError(`${describe(field)}: source column id ${field['source-id']} is not a struct-reachable column of the schema`);
    }
    const column = `column ${found.path.join('.')}`;
    const transform = parseTransform(field.transform);
    checkTransform(transform, found.field.type, column);
    return { read: accessorFor(found.positions), apply: transformFunction(transform, found.field.type as PrimitiveType) };
  });
  const count = steps.length;
  return (row) => {
    const out = new Array<Value>(count);
    for (let i = 0; i < count; i++) {
      const step = steps[i]!;
      out[i] = step.apply(step.read(row));
    }
    return out;
  };
}

const partitioners = new WeakMap<PartitionSpec, WeakMap<Schema, Partitioner>>();

/** The partition tuple of one row; the compiled partitioner is cached per (spec, schema) object pair. */
export function partitionValues(spec: PartitionSpec, schema: Schema, row: Row): Value[] {
  let bySchema = partitioners.get(spec);
  if (!bySchema) partitioners.set(spec, (bySchema = new WeakMap()));
  let partitioner = bySchema.get(schema);
  if (!partitioner) bySchema.set(schema, (partitioner = compilePartitioner(spec, schema)));
  return partitioner(row);
}
