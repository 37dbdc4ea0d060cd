/**
 * Results of verification, shared by the checks, the reports (terminal, JSON, HTML), the CLI and the
 * orchestration. JSON-safe: 64-bit figures travel as decimal strings.
 */

import type { IcebergType } from '../iceberg/spec/types';
import type { PartitionRanges } from '../postgres/partition-ranges';

/** How much is checked: quick = schema + counts + aggregates; full adds every row. */
export type VerifyLevel = 'quick' | 'full';

/** Kinds of schema difference. */
export type SchemaDifferenceKind = 'MISSING_FIELD' | 'EXTRA_FIELD' | 'TYPE_MISMATCH' | 'NULLABILITY_MISMATCH';

/** One schema difference, with both sides shown (absent side undefined). */
export interface SchemaDifference {
  kind: SchemaDifferenceKind;
  /** Dotted field path. */
  field: string;
  expected?: { type: string; required: boolean };
  actual?: { type: string; required: boolean };
  /** SQL that would bring PostgreSQL in line with the other side, when one exists. */
  fixSql?: string;
}

/** Row counts on both sides. */
export interface CountCheck {
  source: string;
  /** From the snapshot's manifests. */
  targetManifest: string;
  /** Rows actually read from the data files (full level, or when cheap). */
  targetRead?: string;
  ok: boolean;
}

/** One aggregate of one column on both sides. */
export interface AggregateCheck {
  column: string;
  /** count, nulls, min, max, sum, or group:<value> for low-cardinality text group counts. */
  aggregate: string;
  source: string | null;
  target: string | null;
  ok: boolean;
}

/** A row that differs, with both sides' values per differing column (canonical text). */
export interface RowDifference {
  /** Key column -> canonical value; for keyless tables the row's canonical text. */
  key: Record<string, string | null>;
  kind: 'MISSING_IN_TARGET' | 'EXTRA_IN_TARGET' | 'VALUE_MISMATCH';
  columns: Array<{ column: string; source: string | null; target: string | null }>;
}

/** A sample row shown side by side. */
export interface SampleRow {
  key: Record<string, string | null>;
  source: Record<string, string | null> | null;
  target: Record<string, string | null> | null;
}

/** Verification of one table. */
export interface TableVerification {
  table: string;
  target: string;
  level: VerifyLevel;
  status: 'ok' | 'differs' | 'error';
  error?: string;
  schema: SchemaDifference[];
  counts?: CountCheck;
  aggregates: AggregateCheck[];
  /** full level: differing rows (first N) and how many in all. */
  rows?: {
    compared: string;
    differing: string;
    differences: RowDifference[];
    /** Key ranges that differ but were not examined row by row (a limit was reached); `differing` then counts only the examined ones. */
    rangesNotExamined?: string;
  };
  samples: SampleRow[];
  /** The compared columns and their Iceberg types, so reports can show canonical texts readably (readable-values.ts). */
  columns?: Array<{ name: string; type: string }>;
  durationMs: number;
}

/** Verification of a run of tables. */
export interface VerificationReport {
  level: VerifyLevel;
  source: string;
  warehouse: string;
  startedAt: string;
  tables: TableVerification[];
  ok: boolean;
}

/** What verifyTable returns: one table's verification in figures; the whole of it is in its report file. */
export interface TableVerificationSummary {
  table: string;
  target: string;
  level: VerifyLevel;
  status: TableVerification['status'];
  /** The reason, shortened. */
  error?: string;
  /** Whether the row counts agree, once counted. */
  countsOk?: boolean;
  /** Rows that differ (full level). */
  differingRows?: string;
  durationMs: number;
}

/** A table of a verification's outcome: its summary and its place, which names its report file. */
export interface VerifiedTableSummary extends TableVerificationSummary {
  /** Its place in the run (instance `<id>:table:<index>`, report `<reports>/tables/<index>.json`). */
  index: number;
}

/**
 * Output of verifyDatabase: figures and where the report is, small whatever the table count. The whole
 * VerificationReport is assembled from it by reading each table's report file (report-store.ts).
 */
export interface VerificationOutcome {
  verificationId: string;
  level: VerifyLevel;
  source: string;
  warehouse: string;
  startedAt: string;
  ok: boolean;
  /** The folder of the table reports (`<warehouse>/.icebridge/verifications/<encoded id>`). */
  reports: string;
  tables: VerifiedTableSummary[];
}

/**
 * One key range of a table, verified by one verifyRowRange activity: its rows compared, and what the same read
 * of the Iceberg side gathers for the table's other checks (rows read, aggregate figures, its share of samples).
 */
export interface RowRangeResult {
  range: number;
  /** Source rows in the range. */
  compared: string;
  differing: string;
  differences: RowDifference[];
  /** Differing buckets of the range not examined row by row. */
  rangesNotExamined: string;
  /** Rows read from the Iceberg side in the range. */
  targetRows: string;
  /** The Iceberg side's aggregate figures over the range, merged across ranges. */
  aggregates: AggregatePartial;
  /** PostgreSQL's aggregate figures over the range, from the same scan as its row hashes; merged across ranges. */
  sourceAggregates: AggregatePartial;
  /** The range's share of the table's samples. */
  samples: SampleRow[];
}

/**
 * A slice of a table's rows by a single integer key column: lo <= key < hi, either bound open when null. The
 * first range has no lower bound and the last no upper bound, so rows added outside the planned span still
 * belong to one range.
 */
export interface KeyRange {
  index: number;
  lo: string | null;
  hi: string | null;
  /** Planner estimate of the rows in the range; sizes its buckets (both sides use the same number). */
  estimatedRows: number;
}

/** Per-table choices a verification honours (those of the migration's config file that matter here). */
export interface VerifyTableConfig {
  targetName?: string;
  key?: string[];
  excludeColumns?: string[];
}

/** Input of the verifyDatabase orchestration. The source connection comes from settings, never from here. */
export interface VerifyDatabaseInput {
  verificationId: string;
  sourceSchema: string;
  namespace: string;
  /** Tables to verify (PostgreSQL names); every table of the schema when absent. */
  tables?: string[];
  level: VerifyLevel;
  /** Tables verified at once. */
  concurrency: number;
  tableConfig?: Record<string, VerifyTableConfig>;
  /** Snapshot to verify per PostgreSQL table name (a migration verifies what it committed); else the current one. */
  snapshots?: Record<string, string>;
  maxDifferences?: number;
  samples?: number;
  /** Rows per key range at the full level (default ROWS_PER_RANGE of plan-verification). */
  rowsPerRange?: number;
  /** Heap and TOAST bytes from which, and per which, a table is verified in scan ranges (default BYTES_PER_SCAN_RANGE). */
  bytesPerScanRange?: number;
}

/** One table of a verification plan: what to verify, and its key ranges when its rows are compared per range. */
export interface VerifyTablePlan {
  table: string;
  source: { schema: string; name: string };
  target: { namespace: string[]; name: string };
  key?: string[];
  excludeColumns?: string[];
  snapshotId?: string;
  ranges: KeyRange[];
  /** A large table not split into key ranges: its scan ranges (scan-ranges.ts); absent: one activity. */
  scanRanges?: ScanRangePlan;
}

/** Result of the planVerification activity. */
export interface VerificationPlan {
  /** Shown in the report: the source URL without its password, and the warehouse. */
  source: string;
  warehouse: string;
  tables: VerifyTablePlan[];
  /** Key ranges of one table verified at once (absent in plans made before it existed: 8). */
  rangesAtOnce?: number;
  /** The folder the table reports go to (absent in plans made before it existed: verifyTable then returns the whole verification). */
  reports?: string;
}

/** Input of the verifyTable sub-orchestration. */
export interface VerifyTableInput {
  plan: VerifyTablePlan;
  level: VerifyLevel;
  /** Key ranges verified at once (VerificationPlan.rangesAtOnce). */
  rangesAtOnce?: number;
  maxDifferences?: number;
  samples?: number;
  /** Where the table's whole verification is written; verifyTable then returns only its summary. */
  reportLocation?: string;
}

/**
 * Custom status of verifyDatabase, read by the HTTP status endpoint, the CLI and a migration's status. Figures
 * only, bounded whatever the table count: table n's instance id is `<id>:table:<n>` for n < tables.started.
 */
export interface VerificationProgress {
  phase: 'planning' | 'verifying' | 'done';
  level: VerifyLevel;
  tables: { total: number; started: number; done: number; differing: number; errors: number };
  /** The last error, shortened. */
  lastError?: string;
}

/** Custom status of the verifyTable sub-orchestration. */
export interface VerifyTableProgress {
  table: string;
  phase: 'checking' | 'done';
  ranges: { total: number; done: number };
}

/**
 * A table's scan ranges as planned: its page ranges, compact (a few numbers per relation, see PartitionRanges),
 * and the snapshot every range reads, pinned so that all of them group the same data files.
 */
export interface ScanRangePlan {
  pages: PartitionRanges;
  /** The snapshot verified (decimal id); absent when the table has none. */
  snapshotId?: string;
}

/** A column the aggregates are kept for. */
export interface AggregatedColumn {
  name: string;
  type: IcebergType;
}

/** One column's figures in JSON form (min and max encoded per category, see encodeExtreme). */
export interface ColumnPartial extends AggregatedColumn {
  count: number;
  nulls: number;
  min: string | null;
  max: string | null;
  sum: string;
  nan: number;
  /** Group counts of a string column; absent for other columns. */
  groups?: Array<[string, number]>;
  /** More distinct values than GROUP_TRACKING_LIMIT were seen: groups are incomplete. */
  groupsOverflow?: boolean;
}

/** A key range's aggregate figures, merged with the other ranges' into the table's. */
export interface AggregatePartial {
  columns: ColumnPartial[];
}

/** Input of the saveTableVerification activity: a table's whole verification and the file it is kept in. */
export interface SaveTableVerificationInput {
  location: string;
  verification: TableVerification;
}
