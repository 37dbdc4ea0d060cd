/**
 * The bindings the sync decodes a table's changes with: the table described from pg_catalog and mapped as the copy
 * maps it, with the exact columns the stream sends for it (pg_attribute's names, type oids and typmods, and the
 * replica identity), read under a lock that keeps DDL out while the description is taken. Used at start, and again
 * when a Relation message says the table changed (ADD COLUMN).
 */
import type { Client } from 'pg';
import type { TableBinding, TableName } from '../cdc/change-decoder';
import type { RelationColumn } from '../cdc/pgoutput';
import { IcebridgeError, TableShapeChangedError } from '../errors';
import { type TableMetadata, currentSchema } from '../iceberg/spec/table-metadata';
import { describeTable } from '../postgres/introspect';
import { displayIdent, displayQualified, quoteQualified } from '../postgres/identifiers';
import { toPostgresError } from '../postgres/postgres-errors';
import { clientTarget } from '../postgres/connection';
import { mapTable } from '../postgres/type-mapping';
import { displayType, typeKey } from './evolve-table';

/**
 * Describes a table for the sync. The table is locked in ACCESS SHARE mode for the few catalog queries, so an
 * ALTER TABLE cannot land between the description and its exact columns: both describe one shape.
 */
export async function describeSyncBinding(client: Client, source: TableName): Promise<TableBinding> {
  const where = displayQualified(source.schema, source.name);
  try {
    await client.query('BEGIN');
    await client.query(`LOCK TABLE ONLY ${quoteQualified(source.schema, source.name)} IN ACCESS SHARE MODE`);
    const table = await describeTable(client, source.schema, source.name);
    const { rows } = await client.query<{ name: string; type_oid: string; typmod: number; key: boolean; filled: boolean }>(
      `SELECT a.attname AS name, a.atttypid::int8 AS type_oid, a.atttypmod AS typmod,
              CASE c.relreplident
                WHEN 'f' THEN true
                WHEN 'd' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey))
                WHEN 'i' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisreplident AND a.attnum = ANY (i.indkey))
                ELSE false
              END AS key,
              (a.atthasmissing OR a.attidentity <> '' OR d.adrelid IS NOT NULL) AS filled
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
        WHERE c.oid = $1 AND a.attgenerated = ''
        ORDER BY a.attnum`,
      [table.oid],
    );
    await client.query('COMMIT');
    const shape: RelationColumn[] = rows.map((r) => ({ name: r.name, typeOid: Number(r.type_oid), typmod: r.typmod, key: r.key }));
    // Generated columns are not published (before PostgreSQL 18), so they are not part of what the stream sends.
    return { table, mapping: mapTable(table), shape, filledColumns: rows.filter((r) => r.filled).map((r) => r.name) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (error instanceof IcebridgeError) throw error;
    throw toPostgresError(error, { operation: `describing ${where}`, target: clientTarget(client) });
  }
}

/** The binding limited to its first columns when they are exactly `names` (columns the target has not taken on yet). */
export function bindingFor(binding: TableBinding, names: readonly string[]): TableBinding {
  const columns = binding.mapping.columns;
  if (names.length >= columns.length || names.some((n, i) => columns[i]?.name !== n)) return binding;
  const kept = new Set(names);
  return {
    table: { ...binding.table, columns: binding.table.columns.filter((c) => kept.has(c.name)) },
    mapping: { schema: { ...binding.mapping.schema, fields: binding.mapping.schema.fields.slice(0, names.length) }, columns: columns.slice(0, names.length) },
    ...(binding.shape ? { shape: binding.shape.filter((c) => kept.has(c.name)) } : {}),
    ...(binding.filledColumns ? { filledColumns: binding.filledColumns.filter((c) => kept.has(c)) } : {}),
  };
}

/**
 * Refuses a table whose columns the copy would now map to other Iceberg types than the table holds (a type changed
 * while the sync was stopped, or the copy mapped it otherwise): applying its changes would write wrong values.
 */
export function checkHeldTypes(binding: TableBinding, metadata: TableMetadata, source: TableName): void {
  const fields = currentSchema(metadata).fields;
  for (const field of binding.mapping.schema.fields) {
    const held = fields.find((f) => f.name === field.name);
    if (held !== undefined && typeKey(held.type) !== typeKey(field.type)) {
      throw new TableShapeChangedError(
        displayQualified(source.schema, source.name),
        `column ${displayIdent(field.name)} is ${displayType(field.type)} as the copy maps its type now, the Iceberg table holds ${displayType(held.type)} (its type changed while the sync was stopped, or the copy mapped it otherwise)`,
      );
    }
  }
}
