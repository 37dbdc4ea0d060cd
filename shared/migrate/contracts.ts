/**
 * Payloads between the migration's orchestrations and activities. They are stored in orchestration history as
 * JSON, so they hold references and figures only (never rows, never credentials) and no bigint: 64-bit values
 * travel as decimal strings.
 */
import type { PartitionFieldRequest } from '../iceberg/transaction/table-evolution';
import type { VerifyLevel } from '../verify/contracts';

/** Per-table choices from the config file. */
export interface TableConfig {
  /** Iceberg table name (default: the PostgreSQL name, unchanged). */
  targetName?: string;
  /** Partition spec of the Iceberg table, e.g. [{ source: 'created_at', transform: 'day' }]. */
  partitionSpec?: PartitionFieldRequest[];
  /** Key columns to use instead of the primary key (for row identity in errors and verification). */
  key?: string[];
  /** Columns not to migrate. */
  excludeColumns?: string[];
}

/** Input of the migrateDatabase orchestration. The source connection comes from settings, not from here. */
export interface MigrateDatabaseInput {
  /** Identifies this run everywhere: snapshot summaries, file names, instance ids. */
  runId: string;
  /** PostgreSQL schema to read. */
  sourceSchema: string;
  /** Iceberg namespace to write (defaults to the schema name at the edges). */
  namespace: string;
  /** Tables to migrate (names as in PostgreSQL); every table of the schema when absent. */
  tables?: string[];
  /** Tables migrated at once. */
  concurrency: number;
  /** Per-table configuration, keyed by PostgreSQL table name. */
  tableConfig?: Record<string, TableConfig>;
  /** Approximate heap bytes per copy partition (drives the number of partitions). */
  partitionSizeInBytes?: number;
  /** Verification of the committed tables after the copy (the edges default to quick); none when absent. */
  verify?: VerifyLevel | 'none';
}

/** A relation rows are read from: the table itself, or one leaf of a partitioned table. */
export interface SourceRelation {
  schema: string;
  name: string;
}

/** The slice of the source one copyPartition reads: a page range (ctid) of one relation. */
export interface PartitionPlan {
  index: number;
  relation: SourceRelation;
  /** First heap page, inclusive. */
  fromPage: number;
  /** End heap page, exclusive; null for "to the end" (pages added after planning are included). */
  toPage: number | null;
  estimatedRows: number;
}

/** Everything the activities need to know about one table. */
export interface TablePlan {
  source: SourceRelation;
  target: { namespace: string[]; name: string };
  /** Source columns copied, in Iceberg field order. */
  columns: string[];
  /** Key columns (primary key, configured key, or none: the table is a multiset). */
  key: string[];
  estimatedRows: number;
  partitions: PartitionPlan[];
}

/** Result of planMigration: tables in foreign-key order, with the cycles found. */
export interface MigrationPlan {
  runId: string;
  tables: TablePlan[];
  /** Groups of tables whose foreign keys form a cycle (strongly connected components of size > 1). */
  cycles: string[][];
  /** Tables that could not be planned, with the reason; they are reported as failed. */
  failures: TableFailure[];
}

/** Why a table failed. */
export interface TableFailure {
  table: string;
  reason: string;
}

/** A manifest-list record of a manifest written by copyPartition, JSON-safe (64-bit values as strings). */
export interface ManifestRef {
  path: string;
  length: string;
  partitionSpecId: number;
  addedFilesCount: number;
  addedRowsCount: string;
  /** Partition field summaries, bounds base64-encoded. */
  partitions: Array<{ containsNull: boolean; containsNan?: boolean; lowerBound?: string; upperBound?: string }>;
}

/** Input of copyPartition. */
export interface CopyPartitionInput {
  runId: string;
  table: Omit<TablePlan, 'partitions'>;
  partition: PartitionPlan;
}

/** Result of copyPartition: references and figures only. */
export interface CopyPartitionResult {
  partition: number;
  manifest: ManifestRef | null;
  files: number;
  rows: number;
  bytes: number;
  /** Order-independent checksum of the partition's rows (hex), recorded in the snapshot summary. */
  checksum: string;
}

/** Input of commitTable. */
export interface CommitTableInput {
  runId: string;
  table: Omit<TablePlan, 'partitions'>;
  results: CopyPartitionResult[];
}

/** Result of commitTable. */
export interface CommitTableResult {
  snapshotId: string;
  rows: number;
  files: number;
  /** False when the snapshot already existed (the commit ran before). */
  created: boolean;
}

/** Input and result of countRows: the committed table against the source, after the copy. */
export interface CountRowsInput {
  table: Omit<TablePlan, 'partitions'>;
  snapshotId: string;
}

/** Row counts of the committed snapshot (manifest figures) and of the source now. */
export interface CountRowsResult {
  targetRows: number;
  sourceRows: number;
}

/** An activity's answer: a value, or a permanent failure as a result (retryable failures are thrown). */
export type ActivityOutcome<T> = { ok: true; value: T } | { ok: false; code: string; reason: string };

/** What migrateTable returns to migrateDatabase. */
export interface TableOutcome {
  table: string;
  target: string;
  status: 'committed' | 'failed';
  rows: number;
  files: number;
  partitions: number;
  snapshotId?: string;
  sourceRows?: number;
  reason?: string;
}

/**
 * Custom status of migrateDatabase, read by the HTTP status endpoint and the CLI. Figures only, bounded whatever
 * the table count (Durable limits custom status to 16 KB): table n's instance id is derived, `<id>:table:<n>`
 * for n < tables.started, and its own status tells its progress.
 */
export interface MigrationProgress {
  phase: 'planning' | 'copying' | 'verifying' | 'done';
  tables: { total: number; started: number; done: number; failed: number };
  partitions: { total: number; done: number };
  rows: number;
  /** The most recent failures (a few at most, reasons shortened); tables.failed counts them all. */
  recentFailures: TableFailure[];
  /** The last error, shortened. */
  lastError?: string;
  /** Instance id of the verifyDatabase run that checks the committed tables (also its verification id). */
  verificationId?: string;
}

/** Custom status of migrateTable. */
export interface TableProgress {
  table: string;
  phase: 'copying' | 'committing' | 'counting' | 'done';
  partitions: { total: number; done: number };
  rows: number;
  estimatedRows: number;
}
