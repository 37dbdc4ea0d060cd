/**
 * Field accessors: a field id resolved once to its path of struct positions, then read from rows without look-ups.
 * Only fields reachable through structs have accessors; a field inside a list or map has no single value per row.
 */
import { ValidationError } from '../../errors';
import type { Schema } from './schema';
import type { NestedField, StructType } from './types';
import type { Row, Value } from './values';

/** Where a field lives: its positions through nested structs, and the field itself. */
export interface FieldPosition {
  positions: number[];
  field: NestedField;
  /** Names from the top level to the field, for messages. */
  path: string[];
}

/** Finds a field by id through nested structs only; undefined when absent or inside a list or map. */
export function findFieldPosition(root: Schema | StructType, fieldId: number): FieldPosition | undefined {
  const search = (fields: NestedField[], positions: number[], path: string[]): FieldPosition | undefined => {
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      if (field.id === fieldId) return { positions: [...positions, i], field, path: [...path, field.name] };
      if (typeof field.type !== 'string' && field.type.type === 'struct') {
        const found = search(field.type.fields, [...positions, i], [...path, field.name]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return search(root.fields, [], []);
}

/** A function reading one field from a row; a null enclosing struct reads as null. */
export type Accessor = (row: Row) => Value;

/** Builds the reader for a position path; the common depths are unrolled because this runs per row. */
export function accessorFor(positions: readonly number[]): Accessor {
  if (positions.length === 0) throw new ValidationError('an accessor needs at least one position');
  const [a, b] = positions as [number, number?];
  if (positions.length === 1) return (row) => row[a] ?? null;
  if (positions.length === 2) {
    return (row) => {
      const inner = row[a] as Value[] | null | undefined;
      return inner == null ? null : (inner[b!] ?? null);
    };
  }
  return (row) => {
    let current: Value | undefined = row;
    for (const p of positions) {
      if (current == null) return null;
      current = (current as Value[])[p];
    }
    return current ?? null;
  };
}

/** The accessor of a field id, or a ValidationError naming why it has none. */
export function fieldAccessor(root: Schema | StructType, fieldId: number): Accessor {
  const found = findFieldPosition(root, fieldId);
  if (!found) throw new ValidationError(`field id ${fieldId} is not a field reachable through structs`);
  return accessorFor(found.positions);
}
