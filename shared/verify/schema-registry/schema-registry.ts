/**
 * The schema registry: a versioned JSON document holding the mapped Iceberg schema of every table of a
 * PostgreSQL schema or a warehouse namespace, with a signature per table, so schemas can be compared across
 * databases, warehouses and points in time (`icebridge schema snapshot` / `icebridge schema diff`).
 *
 * The signature is the SHA-256 of a canonical JSON of the top-level fields in order: names, types (nested
 * fields included, recursively) and nullability. Field ids, docs, the schema id and identifier fields are left
 * out, because a table evolved in place and the same table mapped afresh carry different ids for the same
 * shape. Column ORDER is part of the signature: two tables with the same columns declared in a different order
 * have different signatures, since positional readers (`SELECT *`, COPY, INSERT without a column list) see
 * them differently.
 */
import { createHash } from 'node:crypto';
import type { Client } from 'pg';
import { ValidationError } from '../../errors';
import type { Catalog } from '../../iceberg/catalog/catalog';
import { type Schema, parseSchema } from '../../iceberg/spec/schema';
import { currentSchema } from '../../iceberg/spec/table-metadata';
import type { IcebergType } from '../../iceberg/spec/types';
import { describeTables, listTables } from '../../postgres/introspect';
import type { SourceTable } from '../../postgres/source-table';
import { mapTable } from '../../postgres/type-mapping';

/** The `format` value of every registry document. */
export const REGISTRY_FORMAT = 'icebridge-schema-registry';
/** The document version this code writes and reads. */
export const REGISTRY_VERSION = 1;

/** Where a registry was captured; never holds a password. */
export interface RegistrySource {
  /** 'postgres': a live database (its tables' PostgreSQL types are known); 'warehouse': Iceberg current schemas. */
  kind: 'postgres' | 'warehouse';
  /** Redacted database URL (`postgresql://user@host:port/db`) or warehouse location. */
  location: string;
  /** PostgreSQL schema, or the warehouse namespace joined by '.'. */
  schema: string;
}

/** One column as the registry lists it, in table order. */
export interface RegisteredColumn {
  name: string;
  /** The PostgreSQL type as declared (format_type), or null when the side is not a database. */
  pgType: string | null;
  /** The Iceberg type as text: `int`, `decimal(5, 2)`, `list<string>`, `struct<a: int not null>`. */
  icebergType: string;
  required: boolean;
}

/** One table of a registry. */
export interface RegisteredTable {
  /** Namespace (PostgreSQL schema) and name, since either may contain a '.'. */
  identifier: { namespace: string; name: string };
  /** The mapped (or current) Iceberg schema in the spec's JSON shape. */
  schema: Schema;
  columns: RegisteredColumn[];
  /** Hex SHA-256 of the canonical schema (see the module comment). */
  signature: string;
}

/** A registry document. */
export interface SchemaRegistry {
  format: typeof REGISTRY_FORMAT;
  version: typeof REGISTRY_VERSION;
  source: RegistrySource;
  /** ISO 8601 time of capture. */
  capturedAt: string;
  /** Keyed by `<schema>.<table>`, sorted by key. */
  tables: Record<string, RegisteredTable>;
}

/** Options of `snapshotDatabase`. */
export interface SnapshotDatabaseOptions {
  /** Only these tables; names the schema does not have are left out (the diff reports them as missing). */
  tables?: readonly string[];
  /** Shown as the registry's source; pass a redacted URL. Defaults to the client's host, port and database. */
  location?: string;
  /** Clock for `capturedAt`; defaults to now. */
  now?: () => Date;
}

/** Options of `snapshotWarehouse`. */
export interface SnapshotWarehouseOptions {
  /** Only these tables; names the namespace does not have are left out. */
  tables?: readonly string[];
  /** Shown as the registry's source; defaults to "warehouse". */
  location?: string;
  /** Clock for `capturedAt`; defaults to now. */
  now?: () => Date;
}

/** Captures the mapped Iceberg schema of every table (or the given tables) of a PostgreSQL schema. */
export async function snapshotDatabase(client: Client, schema: string, options: SnapshotDatabaseOptions = {}): Promise<SchemaRegistry> {
  const refs = await listTables(client, schema);
  const wanted = options.tables === undefined ? undefined : new Set(options.tables);
  const names = refs.map((r) => r.name).filter((name) => wanted === undefined || wanted.has(name));
  const described = names.length === 0 ? [] : await describeTables(client, schema, names);
  const tables = described.map((table) => registerSourceTable(table));
  const location = options.location ?? `postgresql://${client.host}:${client.port}/${client.database ?? ''}`;
  return buildRegistry({ kind: 'postgres', location, schema }, tables, options.now);
}

/** Captures the current Iceberg schema of every table (or the given tables) of a warehouse namespace. */
export async function snapshotWarehouse(catalog: Catalog, namespace: string[], options: SnapshotWarehouseOptions = {}): Promise<SchemaRegistry> {
  const wanted = options.tables === undefined ? undefined : new Set(options.tables);
  const tables: RegisteredTable[] = [];
  for (const id of await catalog.listTables(namespace)) {
    if (wanted !== undefined && !wanted.has(id.name)) continue;
    const table = await catalog.loadTable(id);
    tables.push(registerTable(namespace.join('.'), id.name, currentSchema(table.metadata), null));
  }
  return buildRegistry({ kind: 'warehouse', location: options.location ?? 'warehouse', schema: namespace.join('.') }, tables, options.now);
}

/** The registry entry of a described PostgreSQL table: its mapping with the declared types. */
export function registerSourceTable(table: SourceTable): RegisteredTable {
  // mapTable refuses a table without columns (nothing to migrate); its registered shape is simply empty.
  if (table.columns.length === 0) return registerTable(table.schema, table.name, { type: 'struct', 'schema-id': 0, fields: [] }, []);
  const mapping = mapTable(table);
  return registerTable(
    table.schema,
    table.name,
    mapping.schema,
    mapping.columns.map((c) => c.sourceType),
  );
}

/** A registry entry from an Iceberg schema; `pgTypes` are the columns' PostgreSQL types in order, or null. */
export function registerTable(namespace: string, name: string, schema: Schema, pgTypes: ReadonlyArray<string | null> | null): RegisteredTable {
  return {
    identifier: { namespace, name },
    schema,
    columns: schema.fields.map((field, i) => ({
      name: field.name,
      pgType: pgTypes?.[i] ?? null,
      icebergType: typeText(field.type),
      required: field.required,
    })),
    signature: schemaSignature(schema),
  };
}

/** Assembles a registry document; tables are keyed `<namespace>.<name>` and sorted by key. */
export function buildRegistry(source: RegistrySource, tables: readonly RegisteredTable[], now: () => Date = () => new Date()): SchemaRegistry {
  const entries = tables.map((t) => [tableKey(t.identifier), t] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { format: REGISTRY_FORMAT, version: REGISTRY_VERSION, source, capturedAt: now().toISOString(), tables: Object.fromEntries(entries) };
}

/** `<namespace>.<name>`, the key of a table in a registry. */
export function tableKey(identifier: { namespace: string; name: string }): string {
  return `${identifier.namespace}.${identifier.name}`;
}

/** The canonical form a signature hashes: fields without ids or docs, in order. */
export function canonicalSchema(schema: Schema): unknown {
  return schema.fields.map((f) => ({ name: f.name, required: f.required, type: canonicalType(f.type) }));
}

/** Hex SHA-256 of the canonical JSON of a schema. */
export function schemaSignature(schema: Schema): string {
  return createHash('sha256')
    .update(JSON.stringify(canonicalSchema(schema)), 'utf8')
    .digest('hex');
}

function canonicalType(type: IcebergType): unknown {
  if (typeof type === 'string') return type;
  switch (type.type) {
    case 'struct':
      return { type: 'struct', fields: type.fields.map((f) => ({ name: f.name, required: f.required, type: canonicalType(f.type) })) };
    case 'list':
      return { type: 'list', element: canonicalType(type.element), elementRequired: type['element-required'] };
    case 'map':
      return { type: 'map', key: canonicalType(type.key), value: canonicalType(type.value), valueRequired: type['value-required'] };
  }
}

/** An Iceberg type as people read it; nested nullability is shown, ids are not. */
export function typeText(type: IcebergType): string {
  if (typeof type === 'string') return type;
  switch (type.type) {
    case 'struct':
      return `struct<${type.fields.map((f) => `${f.name}: ${typeText(f.type)}${f.required ? ' not null' : ''}`).join(', ')}>`;
    case 'list':
      return `list<${typeText(type.element)}${type['element-required'] ? ' not null' : ''}>`;
    case 'map':
      return `map<${typeText(type.key)}, ${typeText(type.value)}${type['value-required'] ? ' not null' : ''}>`;
  }
}

/**
 * Reads a registry document (as parsed from JSON), checking its format, version and every table's signature
 * against its schema, so a damaged or hand-edited file is refused rather than compared.
 */
export function parseRegistry(json: unknown, name = 'the registry'): SchemaRegistry {
  const doc = asObject(json, name);
  if (doc.format !== REGISTRY_FORMAT) throw new ValidationError(`${name} is not a schema registry (format is not "${REGISTRY_FORMAT}")`);
  if (doc.version !== REGISTRY_VERSION)
    throw new ValidationError(`${name} has version ${JSON.stringify(doc.version)}; this icebridge reads version ${REGISTRY_VERSION}`);
  const source = asObject(doc.source, `${name}: source`);
  if ((source.kind !== 'postgres' && source.kind !== 'warehouse') || typeof source.location !== 'string' || typeof source.schema !== 'string') {
    throw new ValidationError(`${name}: source must have kind (postgres or warehouse), location and schema`);
  }
  if (typeof doc.capturedAt !== 'string') throw new ValidationError(`${name}: capturedAt is missing`);
  const tables: RegisteredTable[] = [];
  for (const [key, value] of Object.entries(asObject(doc.tables, `${name}: tables`))) {
    const where = `${name}: table ${JSON.stringify(key)}`;
    const entry = asObject(value, where);
    const identifier = asObject(entry.identifier, `${where}: identifier`);
    if (typeof identifier.namespace !== 'string' || typeof identifier.name !== 'string')
      throw new ValidationError(`${where}: identifier needs namespace and name`);
    let schema: Schema;
    try {
      schema = parseSchema(entry.schema);
    } catch (error) {
      throw new ValidationError(`${where}: schema is not an Iceberg schema (${error instanceof Error ? error.message : String(error)})`);
    }
    const columns = Array.isArray(entry.columns) ? entry.columns : [];
    const pgTypes = schema.fields.map((field, i) => {
      const column = columns[i] as Record<string, unknown> | undefined;
      if (column === undefined || column.name !== field.name) throw new ValidationError(`${where}: columns do not match the schema's fields`);
      return typeof column.pgType === 'string' ? column.pgType : null;
    });
    if (columns.length !== schema.fields.length) throw new ValidationError(`${where}: columns do not match the schema's fields`);
    const table = registerTable(identifier.namespace, identifier.name, schema, pgTypes);
    if (tableKey(table.identifier) !== key) throw new ValidationError(`${where}: key does not match its identifier`);
    if (entry.signature !== table.signature) throw new ValidationError(`${where}: signature does not match its schema (the file was changed after capture)`);
    tables.push(table);
  }
  const registry = buildRegistry({ kind: source.kind, location: source.location, schema: source.schema }, tables);
  registry.capturedAt = doc.capturedAt;
  return registry;
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}
