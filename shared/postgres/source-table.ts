/**
 * What introspection learns about a source table: plain data (JSON-safe, no bigint), built from pg_catalog
 * only, so every name in it is a real catalog name and may be quoted into SQL.
 */

/** Fields every resolved type carries. */
interface TypeBase {
  oid: number;
  /** Schema of the type (pg_catalog for built-ins). */
  schema: string;
  /** pg_type.typname, e.g. "int4", "mpaa_rating", "_text". */
  name: string;
  /** format_type() with the typmod that applies here, e.g. "numeric(5,2)", "public.year", "text[]". */
  sql: string;
}

/** A base type (also ranges, multiranges and pseudo types), with the typmod that applies to it (-1: none). */
export interface BaseSourceType extends TypeBase {
  kind: 'base';
  typmod: number;
  /** pg_type.typtype: b base, r range, m multirange, p pseudo. */
  typtype: string;
}

/** A domain; values are those of its base type. */
export interface DomainSourceType extends TypeBase {
  kind: 'domain';
  base: SourceType;
}

/** An enum and its labels in sort order. */
export interface EnumSourceType extends TypeBase {
  kind: 'enum';
  labels: string[];
}

/** A composite (row) type and its live attributes in order. */
export interface CompositeSourceType extends TypeBase {
  kind: 'composite';
  attributes: CompositeAttribute[];
}

/** One attribute of a composite type. */
export interface CompositeAttribute {
  name: string;
  type: SourceType;
}

/** An array type; PostgreSQL does not record the number of dimensions of a column, so none is given. */
export interface ArraySourceType extends TypeBase {
  kind: 'array';
  element: SourceType;
}

/** A column or attribute type resolved through domains, enums, composites and arrays. */
export type SourceType = BaseSourceType | DomainSourceType | EnumSourceType | CompositeSourceType | ArraySourceType;

/** A column of a source table. */
export interface SourceColumn {
  name: string;
  /** pg_attribute.attnum of the table (leaves may number the same column differently). */
  attnum: number;
  notNull: boolean;
  type: SourceType;
  /** Set for generated columns ('s' stored, 'v' virtual); they are read like any other column. */
  generated?: string;
}

/** Row-count and size figures for planning, from pg_class and the size functions. */
export interface RelationStats {
  /** Planner row estimate (pg_class.reltuples); null when a relation with pages was never analyzed. */
  reltuples: number | null;
  /** Heap pages as of the last VACUUM/ANALYZE (pg_class.relpages). */
  relpages: number;
  /** Heap bytes now (pg_relation_size). */
  tableBytes: number;
  /**
   * Heap and TOAST heap bytes now (their main forks, without free-space and visibility maps): what a copy reads,
   * wide values included. Absent in descriptions built by hand, where `tableBytes` stands for it.
   */
  dataBytes?: number;
  /** Heap, TOAST and index bytes now (pg_total_relation_size). */
  totalBytes: number;
}

/** A relation rows are physically read from: an ordinary table or one leaf partition. */
export interface SourceLeaf {
  oid: number;
  schema: string;
  name: string;
  /** 'foreign' leaves are read through their foreign data wrapper and cannot be split by page. */
  kind: 'table' | 'foreign';
  stats: RelationStats;
}

/** Which columns identify a row. */
export interface SourceKey {
  /** 'primary-key', or 'unique-index' (a unique, valid, non-partial index on NOT NULL columns), or 'none'. */
  kind: 'primary-key' | 'unique-index' | 'none';
  /** Constraint or index name; absent for 'none'. */
  name?: string;
  columns: string[];
}

/** A foreign key of the table (or of one of its leaves), with the referenced table resolved to its root. */
export interface SourceForeignKey {
  name: string;
  columns: string[];
  referencedTable: { oid: number; schema: string; name: string };
  referencedColumns: string[];
  /** 'leaf' when only leaf partitions declare it (each leaf separately), 'table' when the table does. */
  declaredOn: 'table' | 'leaf';
}

/** An ordinary or declaratively partitioned table, as one unit of migration. */
export interface SourceTable {
  oid: number;
  schema: string;
  name: string;
  kind: 'table' | 'partitioned';
  /** Relations holding the rows: the table itself when ordinary, every leaf (recursively) when partitioned. */
  leaves: SourceLeaf[];
  columns: SourceColumn[];
  key: SourceKey;
  foreignKeys: SourceForeignKey[];
  /** Sums over `leaves`. */
  stats: RelationStats;
}

/** A table of a schema as `listTables` reports it. */
export interface SourceTableRef {
  oid: number;
  schema: string;
  name: string;
  kind: 'table' | 'partitioned';
}

/** The type a domain (or chain of domains) stands for. */
export function baseOf(type: SourceType): Exclude<SourceType, DomainSourceType> {
  let current = type;
  while (current.kind === 'domain') current = current.base;
  return current;
}
