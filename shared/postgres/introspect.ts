/**
 * Catalog introspection: which tables a schema has and what each one looks like. Names given by callers are
 * only ever compared with pg_catalog as query parameters; what comes back is the catalog's own spelling.
 */
import type { Client } from 'pg';
import { NotFoundError, TableNotFoundError, ValidationError } from '../errors';
import { clientTarget } from './connection';
import { displayIdent } from './identifiers';
import { toPostgresError } from './postgres-errors';
import type { RelationStats, SourceColumn, SourceForeignKey, SourceKey, SourceLeaf, SourceTable, SourceTableRef } from './source-table';
import { TypeResolver } from './type-resolver';

const LISTED_NAMES = 60;

/** Ordinary and partitioned tables of a schema, by name; leaf partitions are not listed on their own. */
export async function listTables(client: Client, schema: string): Promise<SourceTableRef[]> {
  return catalogQuery(client, `listing tables of ${displayIdent(schema)}`, () => queryTables(client, schema));
}

async function queryTables(client: Client, schema: string): Promise<SourceTableRef[]> {
  const schemaOid = await resolveSchema(client, schema);
  const { rows } = await client.query<{ oid: string; name: string; relkind: string }>(
    `SELECT c.oid::int8 AS oid, c.relname AS name, c.relkind
       FROM pg_catalog.pg_class c
      WHERE c.relnamespace = $1::oid AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY c.relname COLLATE "C"`,
    [schemaOid],
  );
  return rows.map((r) => ({ oid: Number(r.oid), schema, name: r.name, kind: r.relkind === 'p' ? 'partitioned' : 'table' }));
}

/**
 * Describes tables of a schema (all of them when `names` is absent), in the order asked for. An unknown name
 * is a TableNotFoundError listing the schema's tables; a view or a leaf partition is a ValidationError.
 */
export async function describeTables(client: Client, schema: string, names?: readonly string[]): Promise<SourceTable[]> {
  return catalogQuery(client, `describing tables of ${displayIdent(schema)}`, () => queryDescriptions(client, schema, names));
}

/** The server's version as a number (server_version_num: 140005 for 14.5, 90624 for 9.6.24). */
export async function serverVersionNum(client: Client): Promise<number> {
  return catalogQuery(client, 'reading the server version', async () => {
    const { rows } = await client.query<{ version: string }>("SELECT pg_catalog.current_setting('server_version_num') AS version");
    return Number(rows[0]!.version);
  });
}

/** Describes one table (see `describeTables`). */
export async function describeTable(client: Client, schema: string, name: string): Promise<SourceTable> {
  const [table] = await describeTables(client, schema, [name]);
  return table!;
}

/**
 * Runs catalog queries with search_path = pg_catalog, so format_type() qualifies every type outside pg_catalog
 * (the type text is later cast to on other connections), and turns driver failures into IcebridgeErrors.
 */
async function catalogQuery<T>(client: Client, operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    const { rows } = await client.query<{ previous: string }>(
      "SELECT pg_catalog.current_setting('search_path') AS previous, pg_catalog.set_config('search_path', 'pg_catalog', false)",
    );
    try {
      return await fn();
    } finally {
      await client.query("SELECT pg_catalog.set_config('search_path', $1, false)", [rows[0]!.previous]).catch(() => undefined);
    }
  } catch (error) {
    throw toPostgresError(error, { operation, target: clientTarget(client) });
  }
}

async function queryDescriptions(client: Client, schema: string, names?: readonly string[]): Promise<SourceTable[]> {
  const tables = await queryTables(client, schema);
  let selected: SourceTableRef[] = tables;
  if (names !== undefined) {
    const byName = new Map(tables.map((t) => [t.name, t]));
    selected = [];
    for (const name of names) {
      const table = byName.get(name);
      if (table === undefined) throw await notATable(client, schema, name, tables);
      selected.push(table);
    }
  }
  if (selected.length === 0) return [];
  const oids = [...new Set(selected.map((t) => t.oid))];
  const leaves = await loadLeaves(client, oids);
  const columns = await loadColumns(client, oids);
  const keys = await loadKeys(client, oids);
  const foreignKeys = await loadForeignKeys(client, oids, leaves);
  return selected.map((ref) => {
    const tableLeaves = leaves.get(ref.oid) ?? [];
    return {
      ...ref,
      leaves: tableLeaves,
      columns: columns.get(ref.oid) ?? [],
      key: keys.get(ref.oid) ?? { kind: 'none', columns: [] },
      foreignKeys: foreignKeys.get(ref.oid) ?? [],
      stats: sumStats(tableLeaves.map((l) => l.stats)),
    };
  });
}

async function resolveSchema(client: Client, schema: string): Promise<number> {
  const { rows } = await client.query<{ oid: string }>('SELECT oid::int8 AS oid FROM pg_catalog.pg_namespace WHERE nspname = $1', [schema]);
  if (rows[0] !== undefined) return Number(rows[0].oid);
  const all = await client.query<{ name: string }>(
    `SELECT nspname AS name FROM pg_catalog.pg_namespace
      WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND nspname NOT LIKE 'pg\\_temp\\_%'
        AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
      ORDER BY nspname COLLATE "C"`,
  );
  throw new NotFoundError(`schema ${JSON.stringify(schema)} does not exist; schemas: ${listNames(all.rows.map((r) => r.name))}`);
}

async function notATable(client: Client, schema: string, name: string, tables: SourceTableRef[]): Promise<Error> {
  const { rows } = await client.query<{ relkind: string; root: string | null }>(
    `SELECT c.relkind, CASE WHEN c.relispartition THEN pg_catalog.pg_partition_root(c.oid)::regclass::text END AS root
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, name],
  );
  const available = `tables in ${displayIdent(schema)}: ${listNames(tables.map((t) => t.name))}`;
  const shown = JSON.stringify(`${schema}.${name}`);
  const found = rows[0];
  if (found === undefined) {
    const similar = tables.find((t) => t.name.toLowerCase() === name.toLowerCase());
    const hint = similar === undefined ? '' : ` (names are case-sensitive: did you mean ${displayIdent(similar.name)}?)`;
    return new TableNotFoundError(`table ${shown} does not exist${hint}; ${available}`);
  }
  if (found.root !== null) return new ValidationError(`${shown} is a partition of ${found.root}; migrate the partitioned table instead`);
  const kinds: Record<string, string> = { v: 'a view', m: 'a materialized view', f: 'a foreign table', S: 'a sequence', i: 'an index', c: 'a composite type' };
  return new ValidationError(`${shown} is ${kinds[found.relkind] ?? 'not a table'}, not a table; ${available}`);
}

function listNames(names: string[]): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, LISTED_NAMES).map(displayIdent).join(', ');
  return names.length > LISTED_NAMES ? `${shown}, … (${names.length - LISTED_NAMES} more)` : shown;
}

async function loadLeaves(client: Client, oids: number[]): Promise<Map<number, SourceLeaf[]>> {
  // pg_partition_tree lists every level of a partitioned table; an ordinary table is its own only leaf.
  const { rows } = await client.query<{
    root: string;
    oid: string;
    schema: string;
    name: string;
    relkind: string;
    reltuples: number;
    relpages: number;
    table_bytes: string;
    data_bytes: string;
    total_bytes: string;
  }>(
    `WITH roots AS (SELECT unnest($1::oid[]) AS root),
          members AS (
            SELECT r.root, p.relid FROM roots r CROSS JOIN LATERAL pg_catalog.pg_partition_tree(r.root) AS p WHERE p.isleaf
             UNION ALL
            SELECT r.root, r.root FROM roots r JOIN pg_catalog.pg_class c ON c.oid = r.root WHERE c.relkind = 'r')
     SELECT m.root::int8 AS root, c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind,
            c.reltuples::float8 AS reltuples, c.relpages,
            pg_catalog.pg_relation_size(c.oid)::int8 AS table_bytes,
            (pg_catalog.pg_relation_size(c.oid)
              + CASE WHEN c.reltoastrelid = 0 THEN 0 ELSE pg_catalog.pg_relation_size(c.reltoastrelid) END)::int8 AS data_bytes, pg_catalog.pg_total_relation_size(c.oid)::int8 AS total_bytes
       FROM members m
       JOIN pg_catalog.pg_class c ON c.oid = m.relid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'f')
      ORDER BY m.root, n.nspname COLLATE "C", c.relname COLLATE "C"`,
    [oids],
  );
  const out = new Map<number, SourceLeaf[]>();
  for (const r of rows) {
    const stats: RelationStats = {
      // reltuples is -1 until the first VACUUM/ANALYZE; an empty never-analyzed relation is certainly empty.
      reltuples: r.reltuples >= 0 ? r.reltuples : r.relpages === 0 ? 0 : null,
      relpages: r.relpages,
      tableBytes: Number(r.table_bytes),
      dataBytes: Number(r.data_bytes),
      totalBytes: Number(r.total_bytes),
    };
    const leaf: SourceLeaf = { oid: Number(r.oid), schema: r.schema, name: r.name, kind: r.relkind === 'f' ? 'foreign' : 'table', stats };
    const list = out.get(Number(r.root)) ?? [];
    list.push(leaf);
    out.set(Number(r.root), list);
  }
  return out;
}

function sumStats(stats: RelationStats[]): RelationStats {
  let reltuples: number | null = 0;
  let relpages = 0;
  let tableBytes = 0;
  let dataBytes = 0;
  let totalBytes = 0;
  for (const s of stats) {
    reltuples = reltuples === null || s.reltuples === null ? null : reltuples + s.reltuples;
    relpages += s.relpages;
    tableBytes += s.tableBytes;
    dataBytes += s.dataBytes ?? s.tableBytes;
    totalBytes += s.totalBytes;
  }
  return { reltuples, relpages, tableBytes, dataBytes, totalBytes };
}

async function loadColumns(client: Client, oids: number[]): Promise<Map<number, SourceColumn[]>> {
  const { rows } = await client.query<{
    rel: string;
    attnum: number;
    name: string;
    not_null: boolean;
    type: string;
    typmod: number;
    generated: string;
  }>(
    `SELECT a.attrelid::int8 AS rel, a.attnum, a.attname AS name, a.attnotnull AS not_null, a.atttypid::int8 AS type,
            a.atttypmod AS typmod, a.attgenerated AS generated
       FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  );
  const types = await new TypeResolver(client).resolveAll(rows.map((r) => ({ type: Number(r.type), typmod: r.typmod })));
  const out = new Map<number, SourceColumn[]>();
  rows.forEach((r, i) => {
    const column: SourceColumn = { name: r.name, attnum: r.attnum, notNull: r.not_null, type: types[i]! };
    if (r.generated !== '') column.generated = r.generated;
    const list = out.get(Number(r.rel)) ?? [];
    list.push(column);
    out.set(Number(r.rel), list);
  });
  return out;
}

async function loadKeys(client: Client, oids: number[]): Promise<Map<number, SourceKey>> {
  // The primary key first; otherwise the narrowest unique index usable as a row identity: valid, not partial,
  // no expressions, every key column NOT NULL (INCLUDE columns are not part of the key).
  const { rows } = await client.query<{ rel: string; kind: SourceKey['kind']; name: string; columns: string[] }>(
    `SELECT DISTINCT ON (i.indrelid) i.indrelid::int8 AS rel,
            CASE WHEN i.indisprimary THEN 'primary-key' ELSE 'unique-index' END AS kind,
            COALESCE(con.conname, ic.relname) AS name,
            (SELECT json_agg(a.attname ORDER BY k.ord)
               FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE k.ord <= i.indnkeyatts) AS columns
       FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
       LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')
      WHERE i.indrelid = ANY($1::oid[]) AND i.indisunique AND i.indisvalid
        AND i.indpred IS NULL AND i.indexprs IS NULL
        AND NOT EXISTS (
              SELECT 1 FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
               WHERE k.ord <= i.indnkeyatts AND (a.attnum IS NULL OR NOT a.attnotnull))
      ORDER BY i.indrelid, i.indisprimary DESC, i.indnkeyatts, ic.relname COLLATE "C"`,
    [oids],
  );
  return new Map(rows.map((r) => [Number(r.rel), { kind: r.kind, name: r.name, columns: r.columns }]));
}

async function loadForeignKeys(client: Client, oids: number[], leaves: Map<number, SourceLeaf[]>): Promise<Map<number, SourceForeignKey[]>> {
  const rootOf = new Map<number, number>();
  for (const oid of oids) rootOf.set(oid, oid);
  for (const [root, list] of leaves) for (const leaf of list) if (!rootOf.has(leaf.oid)) rootOf.set(leaf.oid, root);
  // conparentid <> 0 marks copies PostgreSQL makes for partitions; the declaring constraint stands for them.
  const { rows } = await client.query<{
    name: string;
    rel: string;
    ref_oid: string;
    ref_schema: string;
    ref_name: string;
    columns: string[];
    ref_columns: string[];
  }>(
    `SELECT con.conname AS name, con.conrelid::int8 AS rel, rc.oid::int8 AS ref_oid, rn.nspname AS ref_schema, rc.relname AS ref_name,
            (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
            (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_columns
       FROM pg_catalog.pg_constraint con
       JOIN pg_catalog.pg_class rc ON rc.oid = COALESCE(pg_catalog.pg_partition_root(con.confrelid), con.confrelid)
       JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.contype = 'f' AND con.conparentid = 0 AND con.conrelid = ANY($1::oid[])
      ORDER BY con.conname COLLATE "C"`,
    [[...rootOf.keys()]],
  );
  const out = new Map<number, SourceForeignKey[]>();
  const seen = new Map<string, SourceForeignKey>();
  for (const r of rows) {
    const rel = Number(r.rel);
    const root = rootOf.get(rel)!;
    const declaredOn = rel === root ? 'table' : 'leaf';
    const identity = JSON.stringify([root, r.columns, Number(r.ref_oid), r.ref_columns]);
    const existing = seen.get(identity);
    if (existing !== undefined) {
      if (declaredOn === 'table') existing.declaredOn = 'table';
      continue;
    }
    const fk: SourceForeignKey = {
      name: r.name,
      columns: r.columns,
      referencedTable: { oid: Number(r.ref_oid), schema: r.ref_schema, name: r.ref_name },
      referencedColumns: r.ref_columns,
      declaredOn,
    };
    seen.set(identity, fk);
    const list = out.get(root) ?? [];
    list.push(fk);
    out.set(root, list);
  }
  return out;
}
