/**
 * The Iceberg side of a drift check: the migrated tables of a warehouse namespace (those whose
 * `icebridge.source-table` property names a table of the source schema) as their current schemas hold them.
 */
import type { Catalog } from '../iceberg/catalog/catalog';
import { currentSchema } from '../iceberg/spec/table-metadata';
import { SOURCE_PROPERTY } from '../migrate/commit-table';
import type { DriftTable } from './drift-model';
import { compareNames } from './describe-live';

/** The migrated tables of `namespace` copied from `schema` (or only those of `tables`), sorted by source name. */
export async function describeIcebergTables(catalog: Catalog, namespace: string[], schema: string, tables?: readonly string[]): Promise<DriftTable[]> {
  const wanted = tables === undefined ? undefined : new Set(tables);
  const out: DriftTable[] = [];
  for (const id of await catalog.listTables(namespace)) {
    const { metadata } = await catalog.loadTable(id);
    const source = metadata.properties[SOURCE_PROPERTY];
    // Both parts may contain '.', so the schema is matched as a prefix rather than split off.
    if (source === undefined || !source.startsWith(`${schema}.`)) continue;
    const name = source.slice(schema.length + 1);
    if (wanted !== undefined && !wanted.has(name)) continue;
    const fields = currentSchema(metadata).fields;
    out.push({
      schema,
      name,
      columns: fields.map((f) => {
        const mappedFrom = mappedType(f.doc);
        return { name: f.name, pgType: null, typmod: -1, icebergType: f.type, fieldId: f.id, notNull: f.required, ...(mappedFrom ? { mappedFrom } : {}) };
      }),
      ...(id.name === name && id.namespace.join('.') === namespace.join('.') ? {} : { icebergTable: { namespace: id.namespace, name: id.name } }),
    });
  }
  return out.sort((a, b) => compareNames(a.name, b.name));
}

/** The type in a mapped field's doc, `PostgreSQL numeric(6,2)` or `PostgreSQL public.price (domain over …)`. */
function mappedType(doc: string | undefined): string | undefined {
  const match = doc === undefined ? null : /^PostgreSQL (.+?)(?: \(domain over .*\))?$/.exec(doc);
  return match?.[1];
}
