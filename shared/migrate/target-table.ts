/**
 * The Iceberg side of a migrated table: created from the mapped schema on the first run; on later runs the
 * existing table is kept when it still matches, new source columns are added, and anything else is refused
 * with a reason (the data would not fit the table's schema).
 */
import { ValidationError } from '../errors';
import type { Catalog, Table } from '../iceberg/catalog/catalog';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import type { Schema } from '../iceberg/spec/schema';
import { currentSchema } from '../iceberg/spec/table-metadata';
import type { IcebergType } from '../iceberg/spec/types';
import { type PartitionFieldRequest, setPartitionSpec, updateSchema } from '../iceberg/transaction/table-evolution';
import { canPromote } from '../iceberg/transaction/update-schema';

/** Options of ensureTargetTable. */
export interface EnsureTargetTableOptions {
  partitionSpec?: PartitionFieldRequest[];
  properties?: Record<string, string>;
}

/** Creates the table or brings an existing one in line with `schema`; returns the table as it now is. */
export async function ensureTargetTable(catalog: Catalog, id: TableIdentifier, schema: Schema, options: EnsureTargetTableOptions = {}): Promise<Table> {
  let table = await catalog.tryLoadTable(id);
  if (!table) {
    try {
      table = await catalog.createTable(id, { schema, ...(options.properties ? { properties: options.properties } : {}) });
    } catch (error) {
      // Another planner may have created it a moment ago; then it is checked like any existing table.
      table = await catalog.tryLoadTable(id);
      if (!table) throw error;
    }
  }
  const current = currentSchema(table.metadata);
  const missing = schema.fields.filter((f) => !current.fields.some((c) => c.name === f.name));
  for (const field of schema.fields) {
    const existing = current.fields.find((c) => c.name === field.name);
    if (existing && !compatible(field.type, existing.type)) {
      throw new ValidationError(
        `column ${field.name} is ${describe(field.type)} in PostgreSQL but ${describe(existing.type)} in the Iceberg table; change one of them or migrate to a new table`,
      );
    }
  }
  for (const field of current.fields) {
    if (!schema.fields.some((f) => f.name === field.name) && field.required) {
      throw new ValidationError(`required column ${field.name} of the Iceberg table no longer exists in PostgreSQL`);
    }
  }
  if (missing.length > 0) {
    table = await updateSchema(catalog, id, (update) => {
      for (const field of missing) update.addColumn(field.name, field.type, field.doc === undefined ? {} : { doc: field.doc });
    });
  }
  if (options.partitionSpec && options.partitionSpec.length > 0) table = await setPartitionSpec(catalog, id, options.partitionSpec);
  return table;
}

/** Same shape ignoring field ids, or data of `source` readable as `target` (a widened primitive). */
function compatible(source: IcebergType, target: IcebergType): boolean {
  if (typeof source === 'string' || typeof target === 'string') {
    return typeof source === 'string' && typeof target === 'string' && canPromote(source, target);
  }
  if (source.type !== target.type) return false;
  if (source.type === 'list' && target.type === 'list') return compatible(source.element, target.element);
  if (source.type === 'map' && target.type === 'map') return compatible(source.key, target.key) && compatible(source.value, target.value);
  if (source.type === 'struct' && target.type === 'struct') {
    return (
      source.fields.length === target.fields.length &&
      source.fields.every((f, i) => f.name === target.fields[i]!.name && compatible(f.type, target.fields[i]!.type))
    );
  }
  return false;
}

function describe(type: IcebergType): string {
  return typeof type === 'string' ? type : type.type;
}
