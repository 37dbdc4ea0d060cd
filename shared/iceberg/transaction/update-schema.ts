/**
 * Schema evolution limited to the changes every reader handles without rewriting data: add an optional column,
 * widen int->long / float->double / decimal(P,S)->decimal(P2,S) with P2 > P, make a column optional, rename,
 * reorder. Anything else is refused with a ValidationError that says what and why.
 */
import { ValidationError } from '../../errors';
import { type Schema, indexFields, validateSchema } from '../spec/schema';
import { type IcebergType, type NestedField, type StructType, decimalParams } from '../spec/types';

/** Where a moved column goes. */
export type ColumnPosition = { first: true } | { before: string } | { after: string };

/** Options for a new column. */
export interface AddColumnOptions {
  /** Dotted name of the struct to add into; top level when absent. */
  parent?: string;
  doc?: string;
  /** Only optional columns can be added: existing rows have no value for them. */
  required?: false;
}

/** Accumulates schema changes and produces the evolved schema with fresh field ids for added columns. */
export class SchemaUpdate {
  private root: StructType;
  private lastColumnId: number;

  /** Starts from `schema`; `lastColumnId` is the table's last-column-id (never reuse an id). */
  constructor(
    private readonly base: Schema,
    lastColumnId: number,
  ) {
    this.root = structuredClone({ type: 'struct', fields: base.fields });
    this.lastColumnId = lastColumnId;
  }

  /** Adds an optional column; nested ids inside `type` are reassigned. */
  addColumn(name: string, type: IcebergType, options: AddColumnOptions = {}): this {
    if ((options as { required?: boolean }).required) {
      throw new ValidationError(`cannot add required column ${qualified(options.parent, name)}: existing rows have no value for it`);
    }
    if (name.includes('.')) throw new ValidationError(`column name ${JSON.stringify(name)} must not contain '.'; use the parent option`);
    const parent = options.parent === undefined ? this.root : this.structAt(options.parent);
    if (parent.fields.some((f) => f.name === name)) throw new ValidationError(`column ${qualified(options.parent, name)} already exists`);
    const field: NestedField = { id: ++this.lastColumnId, name, required: false, type: this.assignIds(type) };
    if (options.doc !== undefined) field.doc = options.doc;
    parent.fields.push(field);
    return this;
  }

  /** Renames a column (its field id, and so its data, stay the same). */
  renameColumn(name: string, newName: string): this {
    const { siblings, field } = this.locate(name);
    if (newName.includes('.') || newName === '') throw new ValidationError(`invalid column name ${JSON.stringify(newName)}`);
    if (siblings.some((f) => f !== field && f.name === newName)) throw new ValidationError(`cannot rename ${name}: ${newName} already exists`);
    field.name = newName;
    return this;
  }

  /** Widens a primitive column's type; only the spec's safe promotions are accepted. */
  updateColumnType(name: string, newType: IcebergType): this {
    const { field } = this.locate(name);
    if (!canPromote(field.type, newType)) {
      throw new ValidationError(
        `cannot change ${name} from ${describe(field.type)} to ${describe(newType)}: only int->long, float->double and decimal precision widening (same scale) keep existing data readable`,
      );
    }
    field.type = newType;
    return this;
  }

  /** Makes a required column optional. */
  makeOptional(name: string): this {
    this.locate(name).field.required = false;
    return this;
  }

  /** Refuses: existing rows may hold nulls, and readers would have no value to give them. */
  makeRequired(name: string): never {
    throw new ValidationError(`cannot make ${name} required: existing data files may contain nulls for it`);
  }

  /** Refuses deletes: the migration keeps every column the source has. */
  deleteColumn(name: string): never {
    throw new ValidationError(`cannot delete column ${name}: dropping columns is not a supported schema change`);
  }

  /** Moves a column within its struct. */
  moveColumn(name: string, position: ColumnPosition): this {
    const { siblings, field } = this.locate(name);
    siblings.splice(siblings.indexOf(field), 1);
    if ('first' in position) {
      siblings.unshift(field);
      return this;
    }
    const anchorName = 'before' in position ? position.before : position.after;
    const anchor = siblings.find((f) => f.name === lastPart(anchorName));
    if (!anchor || parentPath(anchorName) !== parentPath(name)) {
      throw new ValidationError(`cannot move ${name} relative to ${anchorName}: not a sibling column`);
    }
    siblings.splice(siblings.indexOf(anchor) + ('before' in position ? 0 : 1), 0, field);
    return this;
  }

  /** The evolved schema (schema id left to the metadata builder) and the new last-column-id. */
  apply(): { schema: Schema; lastColumnId: number } {
    const schema: Schema = { type: 'struct', 'schema-id': this.base['schema-id'], fields: this.root.fields };
    if (this.base['identifier-field-ids']) schema['identifier-field-ids'] = [...this.base['identifier-field-ids']];
    validateSchema(schema);
    return { schema: structuredClone(schema), lastColumnId: this.lastColumnId };
  }

  private structAt(name: string): StructType {
    const { field } = this.locate(name);
    if (typeof field.type === 'string' || field.type.type !== 'struct') throw new ValidationError(`${name} is not a struct`);
    return field.type;
  }

  private locate(name: string): { siblings: NestedField[]; field: NestedField } {
    let siblings = this.root.fields;
    const parts = name.split('.');
    for (let i = 0; i < parts.length; i++) {
      const field = siblings.find((f) => f.name === parts[i]);
      if (!field) throw new ValidationError(`column ${name} does not exist`);
      if (i === parts.length - 1) return { siblings, field };
      if (typeof field.type === 'string' || field.type.type !== 'struct') throw new ValidationError(`column ${name} does not exist`);
      siblings = field.type.fields;
    }
    throw new ValidationError(`column ${name} does not exist`);
  }

  private assignIds(type: IcebergType): IcebergType {
    if (typeof type === 'string') return type;
    if (type.type === 'struct') {
      return { type: 'struct', fields: type.fields.map((f) => ({ ...f, id: ++this.lastColumnId, type: this.assignIds(f.type) })) };
    }
    if (type.type === 'list') {
      const elementId = ++this.lastColumnId;
      return { ...type, 'element-id': elementId, element: this.assignIds(type.element) };
    }
    const keyId = ++this.lastColumnId;
    const valueId = ++this.lastColumnId;
    return { ...type, 'key-id': keyId, key: this.assignIds(type.key), 'value-id': valueId, value: this.assignIds(type.value) };
  }
}

/** True when data written as `from` reads correctly as `to` (spec "Schema Evolution", type promotion). */
export function canPromote(from: IcebergType, to: IcebergType): boolean {
  if (typeof from !== 'string' || typeof to !== 'string') return false;
  if (from === to) return true;
  if (from === 'int' && to === 'long') return true;
  if (from === 'float' && to === 'double') return true;
  const a = decimalParams(from);
  const b = decimalParams(to);
  return a !== undefined && b !== undefined && a.scale === b.scale && b.precision >= a.precision;
}

/** Field ids present in `before` but missing in `after` (used to refuse silent drops). */
export function droppedFieldIds(before: Schema, after: Schema): number[] {
  const kept = indexFields(after);
  return [...indexFields(before).keys()].filter((id) => !kept.has(id));
}

function describe(type: IcebergType): string {
  return typeof type === 'string' ? type : type.type;
}

function qualified(parent: string | undefined, name: string): string {
  return parent ? `${parent}.${name}` : name;
}

function lastPart(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function parentPath(name: string): string {
  const i = name.lastIndexOf('.');
  return i < 0 ? '' : name.slice(0, i);
}
