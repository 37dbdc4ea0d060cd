/**
 * verifyScanRange: one scan range of a large table (scan-ranges.ts). PostgreSQL's figures of the range's heap
 * pages (row count, aggregates and, at the full level, the row hash sum) are computed in one scan, in a snapshot
 * of their own, while this process streams the range's data files once for the same figures and for the
 * Iceberg side of the samples the table's checks picked. Nothing is compared here: the ranges' figures are
 * additive and mergeScanRanges (table-status.ts) compares the table's sums.
 */
import { type RunEnvironment, withSource } from '../../run/environment';
import { describeTable } from '../../postgres/introspect';
import { groupedCandidates, sourceFigures } from '../checks/aggregate-check';
import type { SampleRow, TableVerification } from '../contracts';
import type { RowSource } from '../checks/row-check';
import { BYTES_PER_SCAN_RANGE, type ScanRange, type ScanRangeResult, pageRangeSource, relationBytes } from '../ranges/scan-ranges';
import { SampleSet } from '../checks/samples';
import { TargetAggregates } from '../checks/target-aggregates';
import {
  type TargetRead,
  type VerifyTableOptions,
  type VerifyTableRequest,
  both,
  inSourceSnapshot,
  prepareComparison,
  readTarget,
  verifyTable,
} from './verify-table';

/** Options of verifyScanRange: the level, and the samples whose Iceberg rows the range looks for. */
export interface VerifyScanRangeOptions {
  level: VerifyTableOptions['level'];
  samples: readonly SampleRow[];
}

/** Gathers one scan range's figures on both sides (see the module comment). */
export async function verifyScanRange(
  env: RunEnvironment,
  request: VerifyTableRequest,
  range: ScanRange,
  options: VerifyScanRangeOptions,
): Promise<ScanRangeResult> {
  return inSourceSnapshot(env, request, async (client, metadata) => {
    const { source, columns, layout, snapshot } = await prepareComparison(client, metadata, request);
    const hash = options.level === 'full';
    const samples = SampleSet.of(layout, options.samples);
    const aggregates = new TargetAggregates(columns);
    const rows: RowSource = pageRangeSource(range.source);
    // The table's statistics decide which columns get group counts: the same columns in every range.
    const grouped = await groupedCandidates(client, source, columns);
    // A range without data files (a table with fewer files than ranges) reads none and counts zero rows.
    const target: TargetRead = { io: env.catalog.io, metadata, snapshot, columns, files: { group: range.index, groups: range.count } };
    const [figures, hashed] = await both(sourceFigures(client, columns, rows, { hash, grouped }), readTarget(target, layout, { aggregates, samples, hash }));
    return {
      range: range.index,
      sourceRows: figures.rows.rows.toString(),
      sourceHash: figures.rows.sum.toString(),
      sourceAggregates: figures.aggregates,
      targetRows: String(hashed.rows),
      targetHash: hash ? hashed.sum.toString() : '0',
      aggregates: aggregates.partial(),
      sampleTargets: samples.targetRows(),
    };
  });
}

/**
 * Heap and TOAST bytes up to which the rows of a table split into scan ranges are searched for differences in
 * one pass (one activity, like a table never split) once its ranges' merged figures differ. Scan ranges do not
 * line up with rows, so a larger table's difference is reported by its counts and figures only.
 */
export const ROW_SEARCH_MAX_BYTES = BYTES_PER_SCAN_RANGE;

/**
 * The differing rows of a table whose scan ranges' figures differ: the single-pass full verification's, when
 * the table is at most `maxBytes` (ROW_SEARCH_MAX_BYTES) large; undefined otherwise, and when it fails.
 */
export async function searchTableRows(
  env: RunEnvironment,
  request: VerifyTableRequest,
  options: Pick<VerifyTableOptions, 'maxDifferences'> & { maxBytes?: number },
): Promise<TableVerification['rows'] | undefined> {
  const table = await withSource(env, (client) => describeTable(client, request.source.schema, request.source.name));
  if (relationBytes(table) > (options.maxBytes ?? ROW_SEARCH_MAX_BYTES)) return undefined;
  const whole = await verifyTable(env, request, {
    level: 'full',
    samples: 0,
    ...(options.maxDifferences !== undefined ? { maxDifferences: options.maxDifferences } : {}),
  });
  return whole.status === 'error' ? undefined : whole.rows;
}
