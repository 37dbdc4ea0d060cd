/**
 * The live side of a drift check: every table of a PostgreSQL schema as the project describes it (introspect.ts)
 * and maps it (type-mapping.ts), plus what drift needs beyond a copy's description: each column's typmod, default
 * and identity, the primary key and the replica identity, read from pg_catalog in the same transaction.
 */
import type { Client } from 'pg';
import { IcebridgeError } from '../errors';
import { clientTarget } from '../postgres/connection';
import { describeTables, listTables } from '../postgres/introspect';
import { toPostgresError } from '../postgres/postgres-errors';
import type { SourceTable } from '../postgres/source-table';
import { mapTable } from '../postgres/type-mapping';
import type { DriftColumn, DriftTable, ReplicaIdentity } from './drift-model';

interface ColumnExtras {
  rel: string;
  name: string;
  typmod: number;
  default: string | null;
  identity: string;
}

interface TableExtras {
  rel: string;
  replident: string;
  primary_key: string[] | null;
  identity_index: string[] | null;
}

/** Describes every table of `schema` (or only `tables`, skipping names the schema lacks), sorted by name. */
export async function describeLiveTables(client: Client, schema: string, tables?: readonly string[]): Promise<DriftTable[]> {
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const refs = await listTables(client, schema);
    const wanted = tables === undefined ? undefined : new Set(tables);
    const names = refs.map((r) => r.name).filter((n) => wanted === undefined || wanted.has(n));
    const described = names.length === 0 ? [] : await describeTables(client, schema, names);
    // As describeTables does for format_type: pg_get_expr then qualifies every name outside pg_catalog. Set after
    // it, and for this transaction only, since it puts back the session's setting as it found it.
    await client.query("SELECT pg_catalog.set_config('search_path', 'pg_catalog', true)");
    const oids = described.map((t) => t.oid);
    const columns = await client.query<ColumnExtras>(
      `SELECT a.attrelid::int8 AS rel, a.attname AS name, a.atttypmod AS typmod,
              pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default, a.attidentity AS identity
         FROM pg_catalog.pg_attribute a
         LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped`,
      [oids],
    );
    const keys = await client.query<TableExtras>(
      `SELECT c.oid::int8 AS rel, c.relreplident AS replident,
              (SELECT json_agg(a.attname ORDER BY k.ord) FROM pg_catalog.pg_index i,
                      unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_catalog.pg_attribute a ON a.attnum = k.attnum
                WHERE i.indrelid = c.oid AND i.indisprimary AND a.attrelid = c.oid) AS primary_key,
              (SELECT json_agg(a.attname ORDER BY k.ord) FROM pg_catalog.pg_index i,
                      unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_catalog.pg_attribute a ON a.attnum = k.attnum
                WHERE i.indrelid = c.oid AND i.indisreplident AND a.attrelid = c.oid AND k.ord <= i.indnkeyatts) AS identity_index
         FROM pg_catalog.pg_class c
        WHERE c.oid = ANY($1::oid[])`,
      [oids],
    );
    await client.query('COMMIT');
    const extras = new Map(columns.rows.map((r) => [`${r.rel}/${r.name}`, r]));
    const tableExtras = new Map(keys.rows.map((r) => [Number(r.rel), r]));
    return described.map((t) => liveTable(t, extras, tableExtras.get(t.oid))).sort((a, b) => compareNames(a.name, b.name));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (error instanceof IcebridgeError) throw error;
    throw toPostgresError(error, { operation: `describing the tables of ${schema} for a drift check`, target: clientTarget(client) });
  }
}

function liveTable(table: SourceTable, extras: Map<string, ColumnExtras>, keys: TableExtras | undefined): DriftTable {
  // mapTable refuses a table without columns (nothing to migrate); such a table simply has no columns here.
  const fields = table.columns.length === 0 ? [] : mapTable(table).schema.fields;
  const columns = table.columns.map((c, i): DriftColumn => {
    const extra = extras.get(`${table.oid}/${c.name}`);
    const identity = extra?.identity === 'a' ? 'always' : extra?.identity === 'd' ? 'by-default' : null;
    return {
      name: c.name,
      pgType: c.type.sql,
      typmod: extra?.typmod ?? -1,
      icebergType: fields[i]!.type,
      notNull: c.notNull,
      default: extra?.default ?? null,
      identity,
    };
  });
  const primaryKey = keys?.primary_key ?? null;
  return { schema: table.schema, name: table.name, columns, primaryKey, replicaIdentity: replicaIdentity(keys, primaryKey) };
}

function replicaIdentity(keys: TableExtras | undefined, primaryKey: string[] | null): ReplicaIdentity {
  switch (keys?.replident) {
    case 'f':
      return { mode: 'full', columns: [] };
    case 'n':
      return { mode: 'nothing', columns: [] };
    case 'i':
      return { mode: 'index', columns: keys.identity_index ?? [] };
    default:
      return { mode: 'default', columns: primaryKey ?? [] };
  }
}

/** Byte order, as `ORDER BY … COLLATE "C"` sorts names. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
