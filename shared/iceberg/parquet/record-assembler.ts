/**
 * Record assembly (the reverse of shredding): matches a projection schema to the file schema BY FIELD ID and
 * rebuilds rows from the decoded leaf columns' levels. A projected field absent from the file reads as null; a
 * struct none of whose projected fields are in the file still reads its first file column, levels only, to know
 * whether the struct itself is null.
 */
import { ValidationError } from '../../errors';
import type { Schema } from '../spec/schema';
import type { IcebergType } from '../spec/types';
import type { Row, Value } from '../spec/values';
import { type FileSchemaNode, childrenById, chooseValueKind, firstLeaf, isListGroup, isMapGroup, isPrimitiveNode, listParts, mapParts } from './file-schema';
import type { ColumnChunkReader, ColumnDecodeSpec, ValueKind } from './page-decoder';

const MISSING = 0;
const LEAF = 1;
const STRUCT = 2;
const LIST = 3;
const MAP = 4;
/** A file subtree read for its levels only; its value is dropped. */
const HIDDEN = 5;

/** Read position in one column: the current page's levels and values, refilled page by page. */
interface Cursor {
  leafIndex: number;
  maxDef: number;
  reader: ColumnChunkReader | undefined;
  /** Level entries in the current page. */
  count: number;
  defs: Uint8Array | undefined;
  reps: Uint8Array | undefined;
  values: Value[];
  /** Next level entry and next value in the current page. */
  i: number;
  vi: number;
}

interface ReadNode {
  kind: number;
  /** Present when the probe's definition level is at least this. */
  def: number;
  /** Lists and maps: at least one entry when the probe's definition level is at least this. */
  entryDef: number;
  /** Lists and maps: repetition level of their repeated group. */
  repLevel: number;
  /** Repetition depth of the node: an instance starts at a repetition level <= depth. */
  depth: number;
  children: ReadNode[];
  /** Structs: children at and after this index are hidden. */
  visible: number;
  cursors: Cursor[];
  probe: Cursor | undefined;
}

/** The columns to decode and the assembly tree for one projection of one file. */
export class ProjectionPlan {
  /** Leaf columns to decode, with how to decode each. */
  readonly columns: { leafIndex: number; spec: ColumnDecodeSpec }[] = [];
  private readonly cursors = new Map<number, Cursor>();
  private readonly top: ReadNode[];
  /** The row arrays handed out again and again, when rows are reused (ReadDataFileOptions.reuseRows). */
  private readonly reused: Row[] | undefined;

  /**
   * `safeIntegers`: 64-bit integers as numbers when safe (ReadDataFileOptions.safeIntegers); `reuseRows`: the same
   * row arrays for every batch (ReadDataFileOptions.reuseRows).
   */
  constructor(
    projection: Schema,
    root: FileSchemaNode,
    private readonly safeIntegers = false,
    reuseRows = false,
  ) {
    const byId = childrenById(root);
    this.top = projection.fields.map((field) => this.build(field.type, byId.get(field.id)));
    this.reused = reuseRows ? [] : undefined;
  }

  /** Points the cursors at a row group's column readers (in the order of `columns`). */
  bind(readers: ColumnChunkReader[]): void {
    this.columns.forEach(({ leafIndex }, k) => {
      const cursor = this.cursors.get(leafIndex)!;
      cursor.reader = readers[k]!;
      cursor.count = 0;
      cursor.i = 0;
      cursor.vi = 0;
    });
  }

  /**
   * Assembles the next `count` rows a field at a time (each field has cursors of its own, so the order does not
   * matter): a primitive field's values are taken in one loop over its cursor, not one call per value.
   */
  readRows(count: number): Row[] {
    const top = this.top;
    const rows = this.rowArrays(count);
    for (let k = 0; k < top.length; k++) {
      const node = top[k]!;
      if (node.kind === LEAF) readLeaves(node.probe!, rows, k);
      else for (let r = 0; r < count; r++) rows[r]![k] = read(node);
    }
    return rows;
  }

  /** `count` row arrays to fill: new ones, or the reused ones (every field of each is written again). */
  private rowArrays(count: number): Row[] {
    const width = this.top.length;
    const reused = this.reused;
    if (reused === undefined) {
      const rows: Row[] = new Array<Row>(count);
      for (let r = 0; r < count; r++) rows[r] = new Array<Value>(width);
      return rows;
    }
    while (reused.length < count) reused.push(new Array<Value>(width));
    return reused.length === count ? reused : reused.slice(0, count);
  }

  /** Checks every column was consumed exactly; a mismatch means the file is corrupt. */
  verifyConsumed(): void {
    for (const { leafIndex, spec } of this.columns) {
      if (fill(this.cursors.get(leafIndex)!)) throw new ValidationError(`${spec.path}: level entries left after the row group's rows`);
    }
  }

  private cursor(node: FileSchemaNode, spec: ColumnDecodeSpec): Cursor {
    const cursor: Cursor = {
      leafIndex: node.leafIndex,
      maxDef: node.def,
      reader: undefined,
      count: 0,
      defs: undefined,
      reps: undefined,
      values: [],
      i: 0,
      vi: 0,
    };
    this.cursors.set(node.leafIndex, cursor);
    this.columns.push({ leafIndex: node.leafIndex, spec });
    return cursor;
  }

  private node(kind: number, file: FileSchemaNode): ReadNode {
    return { kind, def: file.def, entryDef: 0, repLevel: 0, depth: file.rep, children: [], visible: 0, cursors: [], probe: undefined };
  }

  private build(type: IcebergType, file: FileSchemaNode | undefined): ReadNode {
    if (file === undefined) {
      return { kind: MISSING, def: 0, entryDef: 0, repLevel: 0, depth: 0, children: [], visible: 0, cursors: [], probe: undefined };
    }
    const where = `column ${file.path} (field id ${file.fieldId ?? 'none'})`;
    if (typeof type === 'string') {
      if (!isPrimitiveNode(file)) throw new ValidationError(`${where} is a group in the file but ${type} in the projection`);
      const kind = chooseValueKind(file, type);
      const spec: ColumnDecodeSpec = {
        path: file.path,
        physicalType: file.element.type!,
        typeLength: file.element.type_length,
        maxDef: file.def,
        maxRep: file.rep,
        kind: this.safeIntegers ? safeKind(kind) : kind,
      };
      const node = this.node(LEAF, file);
      node.cursors = [this.cursor(file, spec)];
      node.probe = node.cursors[0];
      return node;
    }
    if (isPrimitiveNode(file)) throw new ValidationError(`${where} is primitive in the file but ${type.type} in the projection`);
    if (type.type === 'struct') {
      if (isListGroup(file) || isMapGroup(file)) throw new ValidationError(`${where} is a list or map in the file but a struct in the projection`);
      const byId = childrenById(file);
      const node = this.node(STRUCT, file);
      node.children = type.fields.map((f) => this.build(f.type, byId.get(f.id)));
      node.visible = node.children.length;
      if (node.children.every((c) => c.cursors.length === 0)) node.children.push(this.hidden(file));
      return this.withCursors(node);
    }
    if (type.type === 'list') {
      if (!isListGroup(file)) throw new ValidationError(`${where} is not a list in the file`);
      const { repeated, element } = listParts(file);
      const node = this.node(LIST, file);
      node.entryDef = repeated.def;
      node.repLevel = repeated.rep;
      node.children = [this.build(type.element, element)];
      return this.withCursors(node);
    }
    if (!isMapGroup(file)) throw new ValidationError(`${where} is not a map in the file`);
    const { repeated, key, value } = mapParts(file);
    const node = this.node(MAP, file);
    node.entryDef = repeated.def;
    node.repLevel = repeated.rep;
    node.children = [this.build(type.key, key), this.build(type.value, value)];
    return this.withCursors(node);
  }

  /** A levels-only read of the first column under `file`, standing in for a struct's presence. */
  private hidden(file: FileSchemaNode): ReadNode {
    const leaf = firstLeaf(file);
    const spec: ColumnDecodeSpec = {
      path: leaf.path,
      physicalType: leaf.element.type!,
      typeLength: leaf.element.type_length,
      maxDef: leaf.def,
      maxRep: leaf.rep,
      kind: 'skip',
    };
    const node = this.node(HIDDEN, file);
    node.cursors = [this.cursor(leaf, spec)];
    return node;
  }

  private withCursors(node: ReadNode): ReadNode {
    node.cursors = node.children.flatMap((c) => c.cursors);
    node.probe = node.cursors[0];
    if (!node.probe) throw new ValidationError('internal: nested node without a column to read');
    return node;
  }
}

/** Makes the entry at `c.i` available, loading the next page when the current one is used up; false at the end. */
function fill(c: Cursor): boolean {
  if (c.i < c.count) return true;
  const reader = c.reader!;
  if (!reader.nextPage()) return false;
  c.count = reader.count;
  c.defs = reader.defs;
  c.reps = reader.reps;
  c.values = reader.values;
  c.i = 0;
  c.vi = 0;
  return true;
}

function need(c: Cursor): void {
  if (!fill(c)) throw new ValidationError('column has fewer level entries than the rows need');
}

/** Definition level of the next entry. */
function defAt(c: Cursor): number {
  need(c);
  return c.defs === undefined ? 0 : c.defs[c.i]!;
}

/** True when another entry follows and it continues the repeated group at `repLevel`. */
function continues(c: Cursor, repLevel: number): boolean {
  return fill(c) && c.reps![c.i] === repLevel;
}

function advance(c: Cursor): void {
  if (defAt(c) === c.maxDef) c.vi++;
  c.i++;
}

/** Consumes one instance at `depth`: its first entry and every deeper repetition that follows. */
function skipInstance(c: Cursor, depth: number): void {
  advance(c);
  if (c.reps === undefined) return;
  while (fill(c) && c.reps[c.i]! > depth) advance(c);
}

function skipAll(node: ReadNode): void {
  for (const c of node.cursors) skipInstance(c, node.depth);
}

/** Field `k` of each of `rows` from a top-level primitive column's cursor: read() of a LEAF, in one loop. */
function readLeaves(c: Cursor, rows: Row[], k: number): void {
  for (let r = 0; r < rows.length; r++) {
    const present = defAt(c) === c.maxDef;
    c.i++;
    rows[r]![k] = present ? c.values[c.vi++]! : null;
  }
}

function read(node: ReadNode): Value {
  switch (node.kind) {
    case LEAF: {
      const c = node.probe!;
      const present = defAt(c) === c.maxDef;
      c.i++;
      return present ? c.values[c.vi++]! : null;
    }
    case STRUCT: {
      if (defAt(node.probe!) < node.def) {
        skipAll(node);
        return null;
      }
      const children = node.children;
      const out = new Array<Value>(node.visible);
      for (let k = 0; k < children.length; k++) {
        const v = read(children[k]!);
        if (k < node.visible) out[k] = v;
      }
      return out;
    }
    case LIST: {
      const probe = node.probe!;
      const def = defAt(probe);
      if (def < node.entryDef) {
        skipAll(node);
        return def < node.def ? null : [];
      }
      const element = node.children[0]!;
      const out: Value[] = [];
      do out.push(read(element));
      while (continues(probe, node.repLevel));
      return out;
    }
    case MAP: {
      const probe = node.probe!;
      const def = defAt(probe);
      if (def < node.entryDef) {
        skipAll(node);
        return def < node.def ? null : new Map();
      }
      const [keyNode, valueNode] = node.children as [ReadNode, ReadNode];
      const out = new Map<Value, Value>();
      do {
        const key = read(keyNode);
        out.set(key, read(valueNode));
      } while (continues(probe, node.repLevel));
      return out;
    }
    case HIDDEN:
      skipInstance(node.probe ?? node.cursors[0]!, node.depth);
      return null;
    default:
      return null;
  }
}

/** The kind that reads the same values as numbers where they are safe integers. */
function safeKind(kind: ValueKind): ValueKind {
  return kind === 'int64' ? 'int64-safe' : kind === 'int32-bigint' ? 'int32' : kind;
}
