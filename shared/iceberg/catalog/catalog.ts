/**
 * What the rest of icebridge needs from an Iceberg catalog: find a table's current metadata, create and drop
 * tables, list a namespace, and commit a change as requirements plus updates. Everything outside `catalog/`
 * depends on this interface only; just the places that pick an implementation construct one
 * (shared/run/environment.ts, the CLI's `schema` command, tests).
 *
 * The operations mirror the Iceberg REST catalog (apache/iceberg `open-api/rest-catalog-open-api.yaml`):
 * loadTable, createTable, updateTable (a commit: `requirements` and `updates`, the very TableRequirement and
 * TableUpdate types of `spec/updates.ts`), listTables, dropTable and tableExists. `HadoopCatalog` implements it
 * over a FileIO with version files and an exclusive create as the commit point. A REST catalog slots in as a
 * second class: loadTable is `GET .../tables/{table}` (a 404 becomes TableNotFoundError), commit is
 * `POST .../tables/{table}` with the base's requirements and the updates (409 becomes CommitConflictError; a 5xx
 * or a lost answer, CommitStateUnknownError), and `io` is a FileIO built from the storage settings the catalog's
 * config or the table's load result hands out. Every implementation runs the contract suite in
 * test/iceberg/catalog/catalog-contract.ts.
 */
import type { FileIO } from '../io/file-io';
import type { PartitionSpec, SortOrder } from '../spec/partition-spec';
import type { Schema } from '../spec/schema';
import type { TableMetadata } from '../spec/table-metadata';
import type { TableRequirement, TableUpdate } from '../spec/updates';
import type { TableIdentifier } from './table-identifier';

/** A loaded table: its current metadata and the metadata file that holds it. */
export interface Table {
  identifier: TableIdentifier;
  /** The metadata file this metadata was read from or written to (the REST load result's `metadata-location`). */
  metadataLocation: string;
  metadata: TableMetadata;
}

/** Options of createTable. */
export interface CreateTableOptions {
  schema: Schema;
  spec?: PartitionSpec;
  sortOrder?: SortOrder;
  properties?: Record<string, string>;
  /** Where the table's files go; defaults to the catalog's `tableLocation(id)`. A catalog may refuse others. */
  location?: string;
}

/** Options of createTable and commit. */
export interface CommitOptions {
  /** Clock reading for last-updated-ms; defaults to Date.now(). A catalog whose server stamps its own time ignores it. */
  nowMs?: number;
}

/** Options of dropTable. */
export interface DropTableOptions {
  /** Also delete the table's data and metadata files (the REST catalog's `purgeRequested`). */
  purge?: boolean;
}

/** An Iceberg catalog: the commit point of every table in one warehouse. */
export interface Catalog {
  /** Reads and writes the tables' files (data, manifests, manifest lists) and icebridge's own files beside them. */
  readonly io: FileIO;

  /** Where the table with this identifier lives or would be created; icebridge also roots its per-run files here. */
  tableLocation(id: TableIdentifier): string;

  /** The table's current metadata; throws TableNotFoundError when the table does not exist. */
  loadTable(id: TableIdentifier): Promise<Table>;

  /** The table's current metadata, or undefined when the table does not exist. */
  tryLoadTable(id: TableIdentifier): Promise<Table | undefined>;

  /** True when the table exists. */
  tableExists(id: TableIdentifier): Promise<boolean>;

  /** Creates a table with a fresh uuid and no snapshot; throws AlreadyExistsError when it exists. */
  createTable(id: TableIdentifier, options: CreateTableOptions, commitOptions?: CommitOptions): Promise<Table>;

  /**
   * Commits `updates` on top of `base` when every requirement holds, atomically, and returns the table as
   * committed. Throws CommitConflictError, having changed nothing, when a requirement fails or another writer
   * got there first (reload and retry), and CommitStateUnknownError when the commit may or may not have landed
   * (look for it in a fresh load before anything else; delete nothing).
   */
  commit(base: Table, requirements: TableRequirement[], updates: TableUpdate[], options?: CommitOptions): Promise<Table>;

  /** The tables directly in a namespace, sorted by name; empty when the namespace has none or does not exist. */
  listTables(namespace: string[]): Promise<TableIdentifier[]>;

  /** Removes the table from the catalog (with `purge`, its files too); dropping a missing table does nothing. */
  dropTable(id: TableIdentifier, options?: DropTableOptions): Promise<void>;
}
