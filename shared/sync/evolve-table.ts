/**
 * Columns a source table gained during sync (ADD COLUMN): which ones a table can take on, and adding them to its
 * Iceberg table, at the end, optional, typed as the copy maps them, in one schema commit made before any row that
 * carries them is written. Taking them on again is a no-op, so a batch applied again after a stop between the
 * schema commit and its rows' commit is safe; `appliedColumns` tells the columns its applied rows have.
 */
import { TableShapeChangedError } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import { type TableMetadata, currentSchema, currentSnapshot } from '../iceberg/spec/table-metadata';
import type { TableBinding } from '../cdc/change-decoder';
import type { IcebergType, NestedField } from '../iceberg/spec/types';
import { updateSchema } from '../iceberg/transaction/table-evolution';
import { displayIdent } from '../postgres/identifiers';

/**
 * The columns the changes carry after a `relation` event: the binding's, which must extend `columns` at the end.
 * Rows already in the table read null in an added column (an Iceberg v2 table has no initial default), so a column
 * that gave them another value (a default, an identity) stops the table unless it holds no row (`liveRows`); so
 * does any column added to a table without a key, whose rows are matched by all their columns.
 */
export function takeOnColumns(table: string, columns: readonly string[], binding: TableBinding, keyed: boolean, liveRows: () => number): string[] {
  const names = binding.mapping.columns.map((c) => c.name);
  if (names.length < columns.length || columns.some((n, i) => names[i] !== n)) {
    throw new TableShapeChangedError(table, `the stream sends columns (${names.join(', ')}) where the table has (${columns.join(', ')})`);
  }
  const added = names.slice(columns.length);
  if (added.length === 0) return names;
  if (!keyed) {
    throw new TableShapeChangedError(
      table,
      `column(s) ${added.map(displayIdent).join(', ')} were added to a table without a key (REPLICA IDENTITY FULL), whose rows are matched by all their columns`,
    );
  }
  const filled = added.filter((c) => binding.filledColumns?.includes(c) === true);
  const held = filled.length === 0 ? 0 : liveRows();
  if (held > 0) {
    throw new TableShapeChangedError(
      table,
      `column(s) ${filled.map(displayIdent).join(', ')} were added with a default (or as an identity), which PostgreSQL gives the ${held} row(s) already in the table; ` +
        'an Iceberg v2 table has no initial default, so they would read null',
    );
  }
  return names;
}

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

/**
 * The columns the table's applied rows have: the current schema's, without the trailing columns a sync added after
 * the table's last data commit (the schema change is committed before the rows that need it; a stop between the
 * two leaves such columns, which the changes still to apply do not carry yet).
 */
export function appliedColumns(metadata: TableMetadata): string[] {
  const fields = currentSchema(metadata).fields;
  const snapshotSchemaId = currentSnapshot(metadata)?.['schema-id'];
  const snapshotSchema = metadata.schemas.find((s) => s['schema-id'] === snapshotSchemaId);
  if (snapshotSchema === undefined) return fields.map((f) => f.name);
  const had = new Set(snapshotSchema.fields.map((f) => f.id));
  let end = fields.length;
  while (end > 0 && !had.has(fields[end - 1]!.id) && !fields[end - 1]!.required) end--;
  return fields.slice(0, end).map((f) => f.name);
}

/** A type without its field ids, to compare the type a column has with the type it would be given. */
export function typeKey(type: IcebergType): string {
  return JSON.stringify(type, (k, v: unknown) => (k === 'id' || k.endsWith('-id') || k === 'doc' ? undefined : v));
}

/** A type as an error message shows it: `long`, `decimal(6, 2)`, or the JSON of a nested type without ids. */
export function displayType(type: IcebergType): string {
  return typeof type === 'string' ? type : typeKey(type);
}
