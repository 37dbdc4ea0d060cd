/**
 * Columns a source table gained during sync (ADD COLUMN) added to its Iceberg table, at the end, optional, typed
 * as the copy maps them, in one schema commit made before any row that carries them is written. Taking them on
 * again is a no-op, so a batch applied again after a stop between the schema commit and its rows' commit is safe.
 */
import { TableShapeChangedError } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import { type TableMetadata, currentSchema } from '../iceberg/spec/table-metadata';
import type { IcebergType, NestedField } from '../iceberg/spec/types';
import { updateSchema } from '../iceberg/transaction/table-evolution';
import { displayIdent } from '../postgres/identifiers';

/**
 * Makes the table's schema end with `fields` (the mapping's fields beyond what it holds are added); a column it
 * holds already must have the same type. Returns the table's metadata after.
 */
export async function addSyncColumns(catalog: Catalog, id: TableIdentifier, table: string, fields: readonly NestedField[]): Promise<TableMetadata> {
  const { metadata } = await catalog.loadTable(id);
  const held = currentSchema(metadata).fields;
  const missing: NestedField[] = [];
  for (const field of fields) {
    const existing = held.find((f) => f.name === field.name);
    if (existing === undefined) missing.push(field);
    else if (typeKey(existing.type) !== typeKey(field.type)) {
      throw new TableShapeChangedError(
        table,
        `column ${displayIdent(field.name)} was added, and the Iceberg table already has a column of that name of another type (${displayType(existing.type)}, not ${displayType(field.type)})`,
      );
    }
  }
  if (missing.length === 0) return metadata;
  const evolved = await updateSchema(catalog, id, (update) => {
    for (const field of missing) update.addColumn(field.name, field.type, field.doc === undefined ? {} : { doc: field.doc });
  });
  return evolved.metadata;
}

/** A type without its field ids, to compare the type a column has with the type it would be given. */
export function typeKey(type: IcebergType): string {
  return JSON.stringify(type, (k, v: unknown) => (k === 'id' || k.endsWith('-id') || k === 'doc' ? undefined : v));
}

/** A type as an error message shows it: `long`, `decimal(6, 2)`, or the JSON of a nested type without ids. */
export function displayType(type: IcebergType): string {
  return typeof type === 'string' ? type : typeKey(type);
}
