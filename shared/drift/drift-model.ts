/**
 * The one shape every schema-drift comparison works on and reports in: tables as their columns, key and replica
 * identity (whatever a side knows of them), and findings that say what changed, how risky it is for the Iceberg
 * copy and its change capture, and what brings the two sides back in line.
 */
import type { IcebergType } from '../iceberg/spec/types';

/** One column as a side of a comparison knows it. */
export interface DriftColumn {
  name: string;
  /** The PostgreSQL type as format_type prints it (typmod included, `numeric(10,2)`), or null when unknown (an Iceberg side). */
  pgType: string | null;
  /** pg_attribute.atttypmod, or -1 when none or unknown. */
  typmod: number;
  /** The Iceberg type: the one the project's type mapping gives a PostgreSQL column, or the one the Iceberg table holds. */
  icebergType: IcebergType;
  /** The Iceberg field id, on an Iceberg side only. */
  fieldId?: number;
  /** On an Iceberg side: the PostgreSQL type the column was mapped from, as the field's doc records it. */
  mappedFrom?: string;
  notNull: boolean;
  /** The default expression (pg_get_expr), null when none; undefined when the side cannot know (an Iceberg side). */
  default?: string | null;
  /** 'always' or 'by-default' for an identity column, null otherwise; undefined when unknown. */
  identity?: 'always' | 'by-default' | null;
}

/** Which columns the replication stream sends as a row's key (pg_class.relreplident). */
export interface ReplicaIdentity {
  mode: 'default' | 'index' | 'full' | 'nothing';
  /** The columns sent as the key: the primary key's (default), the index's (index), none for full and nothing. */
  columns: string[];
}

/** One table as a side of a comparison knows it. */
export interface DriftTable {
  /** The PostgreSQL schema of the table (for an Iceberg side: the schema of the source table it was migrated from). */
  schema: string;
  name: string;
  columns: DriftColumn[];
  /** Primary key columns in key order, null when the table has none; undefined when the side cannot know. */
  primaryKey?: string[] | null;
  /** Undefined when the side cannot know. */
  replicaIdentity?: ReplicaIdentity;
  /** For an Iceberg side: the Iceberg table's identifier, when its name differs from the source table's. */
  icebergTable?: { namespace: string[]; name: string };
}

/** What a side of a comparison is. */
export type DriftSideKind = 'postgres' | 'iceberg' | 'registry';

/** One side of a comparison: what it is, where (redacted, never a password) and its tables. */
export interface DriftSide {
  kind: DriftSideKind;
  /** Redacted URL, warehouse location, or `registry v<N>`. */
  label: string;
  tables: DriftTable[];
}

/** Every kind of difference a comparison reports. */
export type DriftKind =
  | 'table-added'
  | 'table-dropped'
  | 'table-renamed'
  | 'column-added'
  | 'column-dropped'
  | 'column-renamed'
  | 'type-widened'
  | 'type-changed'
  | 'nullability-changed'
  | 'default-changed'
  | 'primary-key-changed'
  | 'replica-identity-changed';

/** What brings the two sides back in line, and what change capture does meanwhile. */
export interface DriftFix {
  /** SQL for people to review and run (identifiers quoted); never run by icebridge. */
  sql?: string;
  /** Which side the SQL runs on: `after` (the checked side, brought back to the reference) or `before`. */
  sqlSide?: 'before' | 'after';
  /** The Iceberg schema update that takes the change on, as the update operation (`add-column id=7 weight decimal(6, 2)`). */
  iceberg?: string;
  /** True when `icebridge sync` stops the table on this change (drop, rename, retype, another replica identity). */
  syncStops: boolean;
  /** One sentence for people: what to do when neither statement fits, or what the statements do. */
  note: string;
}

/** One difference between the reference side (`before`) and the checked side (`after`). */
export interface DriftFinding {
  /** `schema.table` as people read it. */
  table: string;
  column?: string;
  kind: DriftKind;
  /** `safe`: the Iceberg table can take the change on without rewriting data; `unsafe`: it cannot, or data would be lost. */
  severity: 'safe' | 'unsafe';
  /** The reference side's state, null when absent there. */
  before: string | null;
  /** The checked side's state, null when absent there. */
  after: string | null;
  fix: DriftFix;
}
