/**
 * The schema of a Parquet file as a tree with definition/repetition levels, the LIST/MAP structure rules
 * (including the legacy 2-level lists), and which Iceberg types each leaf can be read as (by field id, with the
 * spec's type promotions: int -> long, float -> double, decimal precision widening).
 */
import { ValidationError } from '../../errors';
import { type PrimitiveType, decimalParams, fixedLength, primitiveKind } from '../spec/types';
import type { ValueKind } from './page-decoder';
import { ConvertedType, ParquetType, Repetition, type SchemaElement } from './parquet-thrift';

/** One node of the file schema with its levels; `def`/`rep` count this node itself. */
export interface FileSchemaNode {
  element: SchemaElement;
  name: string;
  /** Dotted path for messages. */
  path: string;
  fieldId: number | undefined;
  repetition: Repetition;
  children: FileSchemaNode[];
  /** Definition level reached when this node is present. */
  def: number;
  /** Number of repeated nodes from the root down to and including this one. */
  rep: number;
  /** Column index (position among the leaves) for primitives, -1 for groups. */
  leafIndex: number;
}

/** Rebuilds the tree from the flattened, depth-first schema elements of a footer. */
export function parseFileSchema(elements: readonly SchemaElement[]): FileSchemaNode {
  let next = 0;
  let leaves = 0;
  const build = (parentDef: number, parentRep: number, parentPath: string): FileSchemaNode => {
    const element = elements[next++];
    if (!element) throw new ValidationError('Parquet schema ends before all children were listed');
    const isRoot = next === 1;
    const repetition = isRoot ? Repetition.REQUIRED : (element.repetition_type ?? Repetition.REQUIRED);
    const def = parentDef + (repetition === Repetition.REQUIRED ? 0 : 1);
    const rep = parentRep + (repetition === Repetition.REPEATED ? 1 : 0);
    const path = isRoot ? '' : parentPath ? `${parentPath}.${element.name}` : element.name;
    const node: FileSchemaNode = {
      element,
      name: element.name,
      path,
      fieldId: element.field_id,
      repetition,
      children: [],
      def,
      rep,
      leafIndex: -1,
    };
    const childCount = element.num_children ?? 0;
    if (element.type !== undefined && childCount === 0 && !isRoot) node.leafIndex = leaves++;
    for (let i = 0; i < childCount; i++) node.children.push(build(def, rep, path));
    return node;
  };
  const root = build(0, 0, '');
  if (next !== elements.length) throw new ValidationError('Parquet schema has elements outside the root');
  return root;
}

/** True for a group annotated LIST (logical or converted type). */
export function isListGroup(node: FileSchemaNode): boolean {
  return node.element.logicalType?.LIST !== undefined || node.element.converted_type === ConvertedType.LIST;
}

/** True for a group annotated MAP (or the legacy MAP_KEY_VALUE). */
export function isMapGroup(node: FileSchemaNode): boolean {
  const e = node.element;
  return e.logicalType?.MAP !== undefined || e.converted_type === ConvertedType.MAP || e.converted_type === ConvertedType.MAP_KEY_VALUE;
}

/** True for primitive (leaf) nodes. */
export function isPrimitiveNode(node: FileSchemaNode): boolean {
  return node.leafIndex >= 0;
}

/** The repeated group and element node of a LIST group (LogicalTypes.md backward-compatibility rules). */
export function listParts(node: FileSchemaNode): { repeated: FileSchemaNode; element: FileSchemaNode } {
  const repeated = node.children[0];
  if (node.children.length !== 1 || !repeated || repeated.repetition !== Repetition.REPEATED) {
    throw new ValidationError(`${node.path}: a LIST group must have exactly one repeated child`);
  }
  // 2-level forms: the repeated node is itself the element.
  if (isPrimitiveNode(repeated) || repeated.children.length !== 1 || repeated.name === 'array' || repeated.name === `${node.name}_tuple`) {
    return { repeated, element: repeated };
  }
  return { repeated, element: repeated.children[0]! };
}

/** The repeated group and key/value nodes of a MAP group. */
export function mapParts(node: FileSchemaNode): { repeated: FileSchemaNode; key: FileSchemaNode; value: FileSchemaNode | undefined } {
  const repeated = node.children[0];
  if (node.children.length !== 1 || !repeated || repeated.repetition !== Repetition.REPEATED || repeated.children.length < 1) {
    throw new ValidationError(`${node.path}: a MAP group must have one repeated key/value child`);
  }
  return { repeated, key: repeated.children[0]!, value: repeated.children[1] };
}

/** A group's children that carry a field id, by that id: how a projection finds its fields in the file. */
export function childrenById(node: FileSchemaNode): Map<number, FileSchemaNode> {
  const byId = new Map<number, FileSchemaNode>();
  for (const child of node.children) if (child.fieldId !== undefined) byId.set(child.fieldId, child);
  return byId;
}

/** First leaf below (or at) a node. */
export function firstLeaf(node: FileSchemaNode): FileSchemaNode {
  let current = node;
  while (!isPrimitiveNode(current)) {
    const child = current.children[0];
    if (!child) throw new ValidationError(`${node.path}: group has no columns`);
    current = child;
  }
  return current;
}

function decimalOf(element: SchemaElement): { precision: number; scale: number } | undefined {
  const logical = element.logicalType?.DECIMAL;
  if (logical) return { precision: logical.precision, scale: logical.scale };
  if (element.converted_type === ConvertedType.DECIMAL) return { precision: element.precision ?? 0, scale: element.scale ?? 0 };
  return undefined;
}

/** How to decode a file leaf as the Iceberg type `target`; throws when the file's type cannot be read as it. */
export function chooseValueKind(node: FileSchemaNode, target: PrimitiveType): ValueKind {
  const e = node.element;
  const physical = e.type!;
  const logical = e.logicalType;
  const fail = (): never => {
    throw new ValidationError(
      `column ${node.path} (field id ${node.fieldId ?? 'none'}): Parquet ${ParquetType[physical]}` +
        `${logical ? ` ${Object.keys(logical).join()}` : ''} cannot be read as ${target}`,
    );
  };
  const decimal = decimalOf(e);
  const timestampUnit = logical?.TIMESTAMP?.unit;
  switch (primitiveKind(target)) {
    case 'boolean':
      return physical === ParquetType.BOOLEAN ? 'boolean' : fail();
    case 'int':
      return physical === ParquetType.INT32 && !decimal && !logical?.DATE && e.converted_type !== ConvertedType.DATE ? 'int32' : fail();
    case 'long':
      if (decimal || timestampUnit || logical?.TIME) return fail();
      if (physical === ParquetType.INT64) return 'int64';
      return physical === ParquetType.INT32 && !logical?.DATE && e.converted_type !== ConvertedType.DATE ? 'int32-bigint' : fail();
    case 'float':
      return physical === ParquetType.FLOAT ? 'float' : fail();
    case 'double':
      return physical === ParquetType.DOUBLE || physical === ParquetType.FLOAT ? 'double' : fail();
    case 'date':
      return physical === ParquetType.INT32 && (logical?.DATE !== undefined || e.converted_type === ConvertedType.DATE) ? 'int32' : fail();
    case 'time': {
      const micros = logical?.TIME ? logical.TIME.unit.MICROS !== undefined : e.converted_type === ConvertedType.TIME_MICROS;
      return physical === ParquetType.INT64 && micros ? 'int64' : fail();
    }
    case 'timestamp':
    case 'timestamptz': {
      if (physical !== ParquetType.INT64) return fail();
      if (logical?.TIMESTAMP) {
        if (logical.TIMESTAMP.isAdjustedToUTC !== (target === 'timestamptz')) return fail();
        if (timestampUnit?.MICROS) return 'int64';
        if (timestampUnit?.MILLIS) return 'int64-millis';
        return fail();
      }
      if (e.converted_type === ConvertedType.TIMESTAMP_MICROS) return 'int64';
      if (e.converted_type === ConvertedType.TIMESTAMP_MILLIS) return 'int64-millis';
      return fail();
    }
    case 'string':
      return physical === ParquetType.BYTE_ARRAY && !decimal ? 'utf8' : fail();
    case 'binary':
      return physical === ParquetType.BYTE_ARRAY && !decimal ? 'bytes' : fail();
    case 'uuid':
      return physical === ParquetType.FIXED_LEN_BYTE_ARRAY && e.type_length === 16 ? 'uuid' : fail();
    case 'fixed':
      return physical === ParquetType.FIXED_LEN_BYTE_ARRAY && e.type_length === fixedLength(target) && !decimal ? 'fixed' : fail();
    case 'decimal': {
      const want = decimalParams(target)!;
      if (!decimal || decimal.scale !== want.scale || decimal.precision > want.precision) return fail();
      if (physical === ParquetType.INT32) return 'int32-bigint';
      if (physical === ParquetType.INT64) return 'int64';
      if (physical === ParquetType.FIXED_LEN_BYTE_ARRAY) return 'decimal-fixed';
      if (physical === ParquetType.BYTE_ARRAY) return 'decimal-bytes';
      return fail();
    }
  }
}
