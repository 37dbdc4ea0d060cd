/**
 * Payloads between the migration's orchestrations and activities. They are stored in orchestration history as
 * JSON, so they hold references and figures only (never rows, never credentials) and no bigint: 64-bit values
 * travel as decimal strings.
 */
import type { PartitionPlan, PartitionRanges, SourceRelation } from '../postgres/partition-ranges';
import type { TableConfig } from '../run/request-fields';
import type { VerifyLevel } from '../verify/contracts';

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
  /** Hand over to change capture: a publication and a logical slot whose exported snapshot the copy reads. */
  cdc?: boolean;
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
  partitions: PartitionRanges;
  /** Source columns the configuration leaves out on purpose: a copy finding them is not surprised. */
  excludedColumns?: string[];
  /** The snapshot every copy and the count of this table import; absent when the source could not share one. */
  sourceSnapshot?: SourceSnapshot;
}

/** A snapshot exported by the run's holder (shared/postgres/snapshot-holder.ts), and which one of the run's it is. */
export interface SourceSnapshot {
  /** As pg_export_snapshot() returned it. */
  id: string;
  /** 0 for the planning's snapshot; each replacement of a lost snapshot takes the next. */
  generation: number;
  /** Present when the snapshot is a replication slot's (migrate --cdc): the stream starts where it ends. */
  cdc?: CdcHandover;
}

/** Where a run's copy hands over to its change stream: the slot, its publication and the slot's consistent point. */
export interface CdcHandover {
  /** The logical replication slot (pgoutput). */
  slot: string;
  /** The publication of the migrated tables. */
  publication: string;
  /** The slot's consistent_point ('X/Y'): the copy holds every transaction committed before it, none after. */
  lsn: string;
}

/** Result of planMigration: tables in foreign-key order, with the cycles found. */
export interface MigrationPlan {
  runId: string;
  tables: TablePlan[];
  /** Groups of tables whose foreign keys form a cycle (strongly connected components of size > 1). */
  cycles: string[][];
  /** Tables that could not be planned, with the reason; they are reported as failed. */
  failures: TableFailure[];
  /** The one snapshot every table is read in; absent when the source refused to share one (a plan warning says so). */
  snapshot?: SourceSnapshot;
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

/** Input of copyPartition: its own partition only, never the table's whole plan. */
export interface CopyPartitionInput {
  runId: string;
  /** Token of the run's execution for this table: scopes file names and receipts (see partition-receipts.ts). */
  execution: string;
  table: Omit<TablePlan, 'partitions'>;
  partition: PartitionPlan;
}

/**
 * What a partition copy produced: references and figures only. Written as the partition's receipt next to the
 * table, where commitTable reads it; the orchestration only sees its counts (CopyPartitionSummary).
 */
export interface CopyPartitionResult {
  partition: number;
  /** The copy attempt whose files these are (part of their names). */
  attempt: string;
  manifest: ManifestRef | null;
  files: number;
  rows: number;
  bytes: number;
  /** Order-independent checksum of the partition's rows (hex), recorded in the snapshot summary. */
  checksum: string;
}

/** What the copyPartition activity returns to the orchestration: the receipt's counts, not its references. */
export type CopyPartitionSummary = Pick<CopyPartitionResult, 'partition' | 'attempt' | 'files' | 'rows' | 'bytes'>;

/** Input of commitTable: the partitions' results are read from their receipts, so only their number travels. */
export interface CommitTableInput {
  runId: string;
  execution: string;
  table: Omit<TablePlan, 'partitions'>;
  /** Partitions in the plan; a receipt is expected for each of 0 .. partitions - 1. */
  partitions: number;
  /** Earlier executions of the table given up (its snapshot was lost): their files are removed too. */
  abandoned?: string[];
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

/** Row counts of the committed snapshot (manifest figures) and of the source, in the copy's snapshot when it had one. */
export interface CountRowsResult {
  targetRows: number;
  sourceRows: number;
  /** True when sourceRows was counted in the table's shared snapshot; false when it is the source now (none, or it was lost after the commit). */
  inSnapshot?: boolean;
}

/** Input of releaseSnapshot: every snapshot holder of the run in the process it runs in ends. */
export interface ReleaseSnapshotInput {
  runId: string;
  /** Also drop the run's replication slot and publication: a --cdc run whose planning failed for good. */
  dropHandover?: boolean;
}

/** Input of renewSnapshot: a new snapshot for a table whose snapshot was lost, locking that table. */
export interface RenewSnapshotInput {
  runId: string;
  /** The generation to take (the lost one's + 1); tables asking for the same generation share it. */
  generation: number;
  table: SourceRelation;
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
  /** What a person must know about a committed table: it was not read in the run's one snapshot, or its count differs. */
  warning?: string;
  /** True when the committed row count differs from the source's and nothing stronger judged it (a fallback copy). */
  countDiffers?: boolean;
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
  /** What the plan decided that a person should know (a clamped size, a slower old source): the first few, shortened. */
  warnings?: string[];
  /** How many warnings the plan made in all. */
  warningsTotal?: number;
  /** Committed tables whose row count differs from the source's count after the copy (see TableOutcome.countDiffers). */
  countsDiffering?: number;
  /** The run's hand-over to change capture (migrate --cdc). */
  cdc?: CdcHandover;
}

/** Custom status of migrateTable. */
export interface TableProgress {
  table: string;
  phase: 'copying' | 'committing' | 'counting' | 'done';
  partitions: { total: number; done: number };
  rows: number;
  estimatedRows: number;
}
