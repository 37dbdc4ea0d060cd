/**
 * Row shredding (the Dremel algorithm): each row's values go to their leaf columns with repetition and definition
 * levels. Top-level primitive fields take a direct path with no recursion, which is what flat tables (the common
 * PostgreSQL case) run through.
 */
import { ValidationError } from '../../errors';
import type { Schema } from '../spec/schema';
import type { IcebergType } from '../spec/types';
import { type ColumnVector, type ListVector, NULL_FLAG, valueAt } from '../spec/column-batch';
import type { Row, Value } from '../spec/values';
import { type ColumnWriter, describeValue } from './column-writer';

const LEAF = 0;
const STRUCT = 1;
const LIST = 2;
const MAP = 3;

/** A node of the write tree; `def` is the definition level reached when this node's value is present. */
interface ShredNode {
  kind: typeof LEAF | typeof STRUCT | typeof LIST | typeof MAP;
  optional: boolean;
  def: number;
  /** Repetition level of this list's or map's repeated group. */
  repLevel: number;
  path: string;
  fieldId: number;
  type: IcebergType;
  /** Every leaf column under this node, written with a null's levels when this node is null or empty. */
  leaves: ColumnWriter[];
  column?: ColumnWriter;
  children?: ShredNode[];
}

/** Splits rows of one schema into per-leaf columns with levels. */
export class RowShredder {
  private readonly nodes: ShredNode[];
  /** The column of each top-level primitive field, or null for nested fields. */
  private readonly flat: (ColumnWriter | null)[];

  /** `columns` are the leaf writers in Parquet schema order (depth first), as toParquetSchema lists them. */
  constructor(schema: Schema, columns: readonly ColumnWriter[]) {
    let next = 0;
    const build = (path: string, fieldId: number, type: IcebergType, optional: boolean, parentDef: number, parentRep: number): ShredNode => {
      const def = parentDef + (optional ? 1 : 0);
      const node: ShredNode = { kind: LEAF, optional, def, repLevel: parentRep, path, fieldId, type, leaves: [] };
      if (typeof type === 'string') {
        const column = columns[next++];
        if (!column || column.leaf.fieldId !== fieldId) throw new Error(`column order does not match the schema at ${path}`);
        node.column = column;
        node.leaves = [column];
        return node;
      }
      if (type.type === 'struct') {
        node.kind = STRUCT;
        node.children = type.fields.map((f) => build(`${path}.${f.name}`, f.id, f.type, !f.required, def, parentRep));
      } else if (type.type === 'list') {
        node.kind = LIST;
        node.repLevel = parentRep + 1;
        node.children = [build(`${path}.element`, type['element-id'], type.element, !type['element-required'], def + 1, parentRep + 1)];
      } else {
        node.kind = MAP;
        node.repLevel = parentRep + 1;
        node.children = [
          build(`${path}.key`, type['key-id'], type.key, false, def + 1, parentRep + 1),
          build(`${path}.value`, type['value-id'], type.value, !type['value-required'], def + 1, parentRep + 1),
        ];
      }
      node.leaves = node.children.flatMap((c) => c.leaves);
      return node;
    };
    this.nodes = schema.fields.map((f) => build(f.name, f.id, f.type, !f.required, 0, 0));
    if (next !== columns.length) throw new Error('more columns than schema leaves');
    this.flat = this.nodes.map((n) => (n.kind === LEAF ? n.column! : null));
  }

  /** Shreds one row; throws a ValidationError naming the column for any invalid value. */
  writeRow(row: Row): void {
    const flat = this.flat;
    this.checkShape(row);
    for (let i = 0; i < flat.length; i++) {
      const column = flat[i]!;
      if (column !== null) column.writeTop(row[i]!);
      else writeNode(this.nodes[i]!, row[i]!, 0, 0);
    }
  }

  /** Shreds `rows[from, to)` a field at a time: each column writer takes its run of values in one call. */
  writeRows(rows: readonly Row[], from: number, to: number): void {
    for (let r = from; r < to; r++) this.checkShape(rows[r]!);
    const flat = this.flat;
    for (let i = 0; i < flat.length; i++) {
      const column = flat[i]!;
      if (column !== null) column.writeTops(rows, i, from, to);
      else for (let r = from; r < to; r++) writeNode(this.nodes[i]!, rows[r]![i]!, 0, 0);
    }
  }

  /** writeRows of rows [from, to) held as column vectors, one per top-level field (column-batch.ts). */
  writeColumns(columns: readonly ColumnVector[], from: number, to: number): void {
    const flat = this.flat;
    if (columns.length !== flat.length) {
      throw new ValidationError(`a column batch must have ${flat.length} columns (one per top-level field), got ${columns.length}`);
    }
    for (let i = 0; i < flat.length; i++) {
      const column = flat[i]!;
      const vector = columns[i]!;
      const node = this.nodes[i]!;
      if (column !== null) column.writeColumn(vector, from, to);
      else if (vector.kind === 'list' && node.kind === LIST) writeListColumn(node, vector, from, to);
      else for (let r = from; r < to; r++) writeNode(node, valueAt(vector, r), 0, 0);
    }
  }

  private checkShape(row: Row): void {
    if (!Array.isArray(row) || row.length !== this.flat.length) {
      throw new ValidationError(`a row must be an array of ${this.flat.length} values (one per top-level field), got ${describeValue(row as Value)}`);
    }
  }
}

/** A top-level list column's rows [from, to) from a list vector: what writeNode does with each row's array. */
function writeListColumn(node: ShredNode, vector: ListVector, from: number, to: number): void {
  const { flags, starts, ends, elements } = vector;
  for (let r = from; r < to; r++) {
    if (flags[r] === NULL_FLAG) writeNode(node, null, 0, 0);
    else writeList(node, elements, starts[r]!, ends[r]!, 0);
  }
}

/** A present list (`node`, a LIST) of the elements `items[start, end)`, at repetition level `rep`. */
function writeList(node: ShredNode, items: readonly Value[], start: number, end: number, rep: number): void {
  if (start === end) {
    for (const leaf of node.leaves) leaf.writeNull(rep, node.def);
    return;
  }
  const element = node.children![0]!;
  const inner = node.def + 1;
  writeNode(element, items[start]!, rep, inner);
  for (let i = start + 1; i < end; i++) writeNode(element, items[i]!, node.repLevel, inner);
}

function invalid(node: ShredNode, reason: string, value: Value): never {
  throw new ValidationError(`column ${node.path} (field id ${node.fieldId}): ${reason}: ${describeValue(value)}`);
}

/** Writes `value` of `node` at repetition level `rep`, the parent having reached definition level `parentDef`. */
function writeNode(node: ShredNode, value: Value, rep: number, parentDef: number): void {
  if (value === null) {
    if (!node.optional) invalid(node, 'null in a required field', value);
    for (const leaf of node.leaves) leaf.writeNull(rep, parentDef);
    return;
  }
  const def = node.def;
  switch (node.kind) {
    case LEAF:
      node.column!.writeValue(value, rep);
      return;
    case STRUCT: {
      const children = node.children!;
      if (!Array.isArray(value) || value.length !== children.length) {
        invalid(node, `a struct value must be an array of its ${children.length} field values`, value);
      }
      for (let i = 0; i < children.length; i++) writeNode(children[i]!, value[i]!, rep, def);
      return;
    }
    case LIST: {
      if (!Array.isArray(value)) invalid(node, 'a list value must be an array', value);
      writeList(node, value, 0, value.length, rep);
      return;
    }
    case MAP: {
      if (!(value instanceof Map)) invalid(node, 'a map value must be a Map', value);
      if (value.size === 0) {
        for (const leaf of node.leaves) leaf.writeNull(rep, def);
        return;
      }
      const [keyNode, valueNode] = node.children as [ShredNode, ShredNode];
      const inner = def + 1;
      let entryRep = rep;
      for (const [k, v] of value) {
        writeNode(keyNode, k, entryRep, inner);
        writeNode(valueNode, v, entryRep, inner);
        entryRep = node.repLevel;
      }
      return;
    }
  }
}
