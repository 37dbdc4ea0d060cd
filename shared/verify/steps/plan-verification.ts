/**
 * planVerification: resolve the requested tables against pg_catalog and decide how each is verified: in one
 * pass, or (full level, a large table with a single integer key) per key range so the ranges can run in parallel,
 * or (any other table past BYTES_PER_SCAN_RANGE) per scan range, so no activity reads a whole large table.
 */
import { availableParallelism } from 'node:os';
import { selectSnapshot } from '../../iceberg/scan/table-scan';
import { planPartitions, TID_RANGE_SCAN_VERSION } from '../../postgres/partition-planner';
import { describeTables, serverVersionNum } from '../../postgres/introspect';
import type { SourceTable } from '../../postgres/source-table';
import { type RunEnvironment, withSource } from '../../run/environment';
import type { KeyRange, VerificationPlan, VerifyDatabaseInput, VerifyTablePlan } from '../contracts';
import { BYTES_PER_SCAN_RANGE, type ScanRange, relationBytes } from '../ranges/scan-ranges';
import { type ScanRangePlan } from '../contracts';
import type { VerifyScanRangeOptions } from './verify-scan-range';
import { type VerifyTableOptions, type VerifyTableRequest, planKeyRanges } from './verify-table';

/**
 * Rows per key range: one range's two sides take a few seconds, far inside an activity's time limit. A range
 * decodes the row groups its keys reach (row groups whose statistics rule its keys out are skipped), and pays a
 * description of the table, a sample and its grouped columns' statistics of its own, so fewer, larger ranges cost
 * less: measured at 2,000,000 rows, 4 ranges one at a time cost 0.37 s more than 2 (3.95 s against 3.58 s; 2.5 s
 * more when each range decoded every file its keys reached in full).
 */
export const ROWS_PER_RANGE = 1_000_000;

/**
 * Key ranges of a table verified at once. With worker threads (`workerThreads`, the copy's, which verify ranges
 * too: copy-worker-pool.ts), one per thread and at most one per core, one core fewer when PostgreSQL is on this
 * machine (`sourceOnThisMachine`): each range's Iceberg side has a thread of its own, and a local server's backends
 * need the remaining core (measured at 2,000,000 rows on 2 cores with a local server: 5.1 s with both ranges at
 * once, 4.9-5.0 s one after the other; with a remote server each range's side runs on a core of its own). Without
 * workers one core less than the machine has, at least one: every range's Iceberg side is then decoded by this
 * process's one JavaScript thread, so more ranges at once only add PostgreSQL backends, which starve that thread
 * when they share the machine (measured at 2,000,000 rows on 2 cores: 9.4 s with both ranges at once, 8.7 s one
 * after the other).
 */
export function defaultRangesAtOnce(workerThreads = 0, sourceOnThisMachine = true): number {
  const cores = availableParallelism();
  if (workerThreads > 0) return Math.max(1, Math.min(workerThreads, sourceOnThisMachine ? cores - 1 : cores));
  return Math.max(1, cores - 1);
}

/** Plans a verification; unknown tables or schema are an error naming what exists. */
export async function planVerification(
  env: RunEnvironment,
  input: VerifyDatabaseInput,
  shownAs: { source: string; warehouse: string },
  /** Worker threads that verify key ranges (none: this thread does) and where the source runs: how many ranges run at once (defaultRangesAtOnce). */
  ranges: { workerThreads: number; sourceOnThisMachine: boolean } = { workerThreads: 0, sourceOnThisMachine: true },
): Promise<VerificationPlan> {
  const described = await withSource(env, (client) => describeTables(client, input.sourceSchema, input.tables));
  const tables: VerifyTablePlan[] = [];
  for (const source of described) {
    const config = input.tableConfig?.[source.name] ?? {};
    const snapshotId = input.snapshots?.[source.name];
    const request: VerifyTableRequest = {
      source: { schema: source.schema, name: source.name },
      target: { namespace: [input.namespace], name: config.targetName ?? source.name },
      ...(config.key ? { key: config.key } : {}),
      ...(config.excludeColumns ? { excludeColumns: config.excludeColumns } : {}),
      ...(snapshotId !== undefined ? { snapshotId } : {}),
    };
    let ranges: KeyRange[] = [];
    if (input.level === 'full') {
      // A table that cannot be split is compared in one pass; if it cannot be verified at all, its checks say why.
      ranges = await planKeyRanges(env, request, input.rowsPerRange ?? ROWS_PER_RANGE).catch(() => []);
    }
    // A large table whose rows are not compared per key range is still read in pieces of bounded work.
    let scanRanges: ScanRangePlan | undefined;
    if (ranges.length === 0) {
      // A table that cannot be planned so is verified in one pass, whose checks say what is wrong with it.
      scanRanges = await planTableScanRanges(env, request, source, input.bytesPerScanRange ?? BYTES_PER_SCAN_RANGE).catch(() => undefined);
    }
    if (scanRanges === undefined) {
      tables.push({ table: source.name, ...request, ranges });
    } else {
      // Every range and the checks read the snapshot the ranges were planned on.
      const { snapshotId, ...pages } = scanRanges;
      tables.push({ table: source.name, ...request, ...(snapshotId !== undefined ? { snapshotId } : {}), ranges, scanRanges: pages });
    }
  }
  return { ...shownAs, tables, rangesAtOnce: defaultRangesAtOnce(ranges.workerThreads, ranges.sourceOnThisMachine) };
}

/**
 * Plans the scan ranges of a table whose heap and TOAST exceed `bytesPerRange` (undefined otherwise: it is
 * verified in one activity): its pages cut as the copy would cut them at that partition size, and the snapshot
 * verified (the one asked for, else the current one) pinned.
 */
export async function planTableScanRanges(
  env: RunEnvironment,
  request: { target: { namespace: string[]; name: string }; snapshotId?: string },
  table: SourceTable,
  bytesPerRange: number,
): Promise<ScanRangePlan | undefined> {
  // A small table (the common case) costs no read of the table's metadata and no connection here.
  if (!(bytesPerRange > 0) || relationBytes(table) <= bytesPerRange) return undefined;
  const loaded = await env.catalog.loadTable(request.target);
  const snapshot = selectSnapshot(loaded.metadata, request.snapshotId === undefined ? {} : { snapshotId: BigInt(request.snapshotId) });
  const version = await withSource(env, (client) => serverVersionNum(client));
  // Before PostgreSQL 14 a page range is read by scanning the whole relation: ranges would multiply that scan.
  if (version < TID_RANGE_SCAN_VERSION) return undefined;
  const { partitions } = planPartitions(table, { partitionSizeInBytes: bytesPerRange, serverVersionNum: version });
  if (partitions.length < 2) return undefined;
  return { pages: partitions, ...(snapshot !== undefined ? { snapshotId: String(snapshot['snapshot-id']) } : {}) };
}

/** Input of the verifyTableChecks activity: the table's request, without the plan's ranges. */
export interface VerifyTableChecksInput {
  request: VerifyTableRequest;
  options: VerifyTableOptions;
}

/** Input of the verifyRowRange activity: its own range only, never the table's other ranges. */
export interface VerifyRowRangeInput {
  request: VerifyTableRequest;
  range: KeyRange;
  options: Pick<VerifyTableOptions, 'maxDifferences' | 'samples'>;
}

/** Input of the verifyScanRange activity: its own scan range only, and the samples the table's checks picked. */
export interface VerifyScanRangeInput {
  request: VerifyTableRequest;
  range: ScanRange;
  options: VerifyScanRangeOptions;
}

/** Input of the searchTableRows activity: the table whose scan ranges differ, and how many rows to list. */
export interface SearchTableRowsInput {
  request: VerifyTableRequest;
  options: { maxDifferences?: number };
}
