/**
 * verifyTable: proves one migrated table exact against its live PostgreSQL source. Every PostgreSQL figure is
 * read inside one REPEATABLE READ READ ONLY transaction (one snapshot for schema, counts, aggregates, samples
 * and row hashes); the Iceberg side is one snapshot (the current one, or the one a migration committed),
 * streamed once by our reader for rows read, aggregates, samples and row hashes together. A large table's
 * rows can instead be compared per key range (planKeyRanges, verifyRowRange, then mergeRowRanges of
 * table-status.ts), each range in a snapshot of its own, so an orchestration can fan them out: then the ranges
 * read the Iceberg side, each for its own rows, and the table's checks read only PostgreSQL and the manifests.
 */
import type { Client } from 'pg';
import { ValidationError, errorMessage } from '../../errors';
import { formatIdentifier, type TableIdentifier } from '../../iceberg/catalog/table-identifier';
import type { FileIO } from '../../iceberg/io/file-io';
import { selectSnapshot } from '../../iceberg/scan/table-scan';
import { type Expression, and, bindByName } from '../../iceberg/spec/expressions';
import type { Snapshot } from '../../iceberg/spec/snapshot';
import { type TableMetadata, currentSchema } from '../../iceberg/spec/table-metadata';
import { type RunEnvironment, withSource } from '../../run/environment';
import { displayQualified, quoteIdent } from '../../postgres/identifiers';
import { describeTable } from '../../postgres/introspect';
import { TEXT_OUTPUT_SETTINGS } from '../../postgres/session-settings';
import { withSnapshotTransaction } from '../../postgres/snapshot-transaction';
import type { SourceTable } from '../../postgres/source-table';
import { type TableMapping, mapTable } from '../../postgres/type-mapping';
import { groupedCandidates, sourceFigures } from '../checks/aggregate-check';
import { CanonicalRows } from '../canonical/canonical-text';
import { type ComparedColumn, comparedColumns } from '../checks/compared-columns';
import type { KeyRange, RowRangeResult, TableVerification, VerificationReport, VerifyLevel } from '../contracts';
import { fromSql, manifestRowCount, sourceRowCount } from '../checks/count-check';
import { type KeyFileBounds, keyFileBounds, rangesFromFiles } from '../ranges/key-ranges';
import {
  type RowExamination,
  type RowFigures,
  type RowLayout,
  type RowSource,
  TargetBuckets,
  bucketCount,
  bucketOfRow,
  differingBuckets,
  examineBuckets,
  keyTextOf,
  sameRowFigures,
  sourceBuckets,
  targetRowFigures,
} from '../checks/row-check';
import { HashSum, RowHasher } from '../canonical/row-hasher';
import { SampleSet } from '../checks/samples';
import { compareSchemas, typeToString } from '../checks/schema-check';
import { DEFAULT_MAX_DIFFERENCES, DEFAULT_SAMPLES, countCheck, statusOf } from '../status/table-status';
import { TargetAggregates, compareAggregates, groupedColumns, sourceFiguresOf } from '../checks/target-aggregates';
import { scanTarget, scanTargetBatches } from '../checks/target-scan';

/** One table to verify. */
export interface VerifyTableRequest {
  source: { schema: string; name: string };
  target: TableIdentifier;
  /** Columns identifying a row; defaults to the primary key (or unique index); none: compared as a multiset. */
  key?: string[];
  /** Columns the migration left out. */
  excludeColumns?: string[];
  /** The snapshot to verify (decimal id), e.g. the one a migration committed; the current snapshot when absent. */
  snapshotId?: string;
}

/** Options of verifyTable and verifyTables. */
export interface VerifyTableOptions {
  level: VerifyLevel;
  /** Differing rows listed per table (all are counted); default 20. */
  maxDifferences?: number;
  /** Random rows shown side by side; default 5 (a table split into ranges: shared among its ranges). */
  samples?: number;
  /** full level: leave every-row comparison to verifyRowRange, one call per key range (planKeyRanges). */
  rowsByRange?: boolean;
  /**
   * Leave counts, aggregates and rows to verifyScanRange, one call per scan range (scan-ranges.ts): here only
   * the schema, the manifests' count and the samples picked (their Iceberg side is found by the ranges).
   */
  scanRanges?: boolean;
}

/** Several tables of one source and one warehouse. */
export interface VerifyTablesRequest {
  /** The source as shown in the report (a redacted URL: never a password). */
  source: string;
  /** The warehouse as shown in the report. */
  warehouse: string;
  tables: VerifyTableRequest[];
}

/** Verifies one table; a failure to verify is reported as status 'error', not thrown. */
export async function verifyTable(env: RunEnvironment, request: VerifyTableRequest, options: VerifyTableOptions): Promise<TableVerification> {
  const startedMs = Date.now();
  const base: TableVerification = {
    table: displayQualified(request.source.schema, request.source.name),
    target: formatIdentifier(request.target),
    level: options.level,
    status: 'ok',
    schema: [],
    aggregates: [],
    samples: [],
    durationMs: 0,
  };
  try {
    const result = await inSourceSnapshot(env, request, (client, metadata) => verifyInSnapshot(client, env.catalog.io, metadata, request, options, base));
    return { ...result, durationMs: Date.now() - startedMs };
  } catch (error) {
    return { ...base, status: 'error', error: errorMessage(error), durationMs: Date.now() - startedMs };
  }
}

/** Verifies tables one after the other (each table's rows in one pass, without key ranges). */
export async function verifyTables(env: RunEnvironment, request: VerifyTablesRequest, options: VerifyTableOptions): Promise<VerificationReport> {
  const startedAt = new Date().toISOString();
  const tables: TableVerification[] = [];
  for (const table of request.tables) tables.push(await verifyTable(env, table, options));
  return { level: options.level, source: request.source, warehouse: request.warehouse, startedAt, tables, ok: tables.every((t) => t.status === 'ok') };
}

/**
 * Key ranges for comparing a table's rows in parallel: only for a key of one NOT NULL int or long column and
 * more rows than one range holds; otherwise none (the table's rows are compared in one pass by verifyTable).
 * Boundaries are placed at data files' key bounds where the files allow it (key-ranges.ts), so each file is
 * read by one range; else the key span is split evenly.
 */
export async function planKeyRanges(env: RunEnvironment, request: VerifyTableRequest, rowsPerRange: number): Promise<KeyRange[]> {
  return withSource(env, async (client) => {
    const source = await describeTable(client, request.source.schema, request.source.name);
    const keyNames = request.key ?? (source.key.kind === 'none' ? [] : source.key.columns);
    if (keyNames.length !== 1) return [];
    const column = source.columns.find((c) => c.name === keyNames[0]);
    const mapping = mapTable(source, request.excludeColumns ? { excludedColumns: request.excludeColumns } : {});
    const field = mapping.schema.fields.find((f) => f.name === keyNames[0]);
    if (!column?.notNull || (field?.type !== 'int' && field?.type !== 'long')) return [];
    const files = await targetKeyBounds(env, request, column.name);
    if (files !== undefined) {
      const aligned = rangesFromFiles(files, rowsPerRange);
      if (aligned.length > 0) return aligned;
    }
    let rows = Math.max(0, Math.round(source.stats.reltuples ?? 0));
    if (rows === 0) rows = Number(await sourceRowCount(client, source));
    // The nearest whole number of ranges (a planner estimate a little over a multiple must not add one).
    if (rows <= rowsPerRange) return [];
    const count = Math.max(2, Math.round(rows / rowsPerRange));
    const key = quoteIdent(column.name);
    const {
      rows: [span],
    } = await client.query<{ lo: string | null; hi: string | null }>(`SELECT min(${key})::text AS lo, max(${key})::text AS hi FROM ${fromSql(source)}`);
    if (!span?.lo || !span.hi) return [];
    return splitKeySpan(BigInt(span.lo), BigInt(span.hi), count, rows);
  });
}

/** The key column's bounds per data file of the snapshot verified; undefined when they cannot be read. */
async function targetKeyBounds(env: RunEnvironment, request: VerifyTableRequest, key: string): Promise<KeyFileBounds[] | undefined> {
  try {
    const table = await env.catalog.loadTable(request.target);
    return await keyFileBounds(env.catalog.io, table.metadata, request.snapshotId === undefined ? undefined : BigInt(request.snapshotId), key);
  } catch {
    // A table that cannot be loaded fails the table's checks with the reason; its ranges just split evenly.
    return undefined;
  }
}

/** Splits lo..hi (inclusive) into `count` ranges of equal width; the outer ranges are open-ended. */
export function splitKeySpan(lo: bigint, hi: bigint, count: number, rows: number): KeyRange[] {
  const width = (hi - lo + 1n + BigInt(count) - 1n) / BigInt(count);
  const parts = Math.max(1, Math.min(count, Number((hi - lo + width) / width)));
  const estimatedRows = Math.ceil(rows / parts);
  return Array.from({ length: parts }, (_v, i) => ({
    index: i,
    lo: i === 0 ? null : (lo + BigInt(i) * width).toString(),
    hi: i === parts - 1 ? null : (lo + BigInt(i + 1) * width).toString(),
    estimatedRows,
  }));
}

/**
 * Verifies one key range (see planKeyRanges): its rows compared, and the Iceberg side's rows read, aggregate
 * figures and `samples` sampled rows gathered in the same read, for mergeRowRanges.
 */
export async function verifyRowRange(
  env: RunEnvironment,
  request: VerifyTableRequest,
  range: KeyRange,
  options: Pick<VerifyTableOptions, 'maxDifferences' | 'samples'>,
): Promise<RowRangeResult> {
  return inSourceSnapshot(env, request, async (client, metadata) => {
    const { source, columns, layout, snapshot } = await prepareComparison(client, metadata, request);
    if (layout.keyIndexes.length !== 1)
      throw new ValidationError(`${displayQualified(request.source.schema, request.source.name)} has no single-column key to split into ranges`);
    const key = layout.columns[layout.keyIndexes[0]!]!;
    const params: string[] = [];
    const conditions: string[] = [];
    const bounds: Expression[] = [];
    const literal = (text: string) => (key.type === 'int' ? Number(text) : BigInt(text));
    if (range.lo !== null) {
      params.push(range.lo);
      conditions.push(`${quoteIdent(key.name)} >= $${params.length}::int8`);
      bounds.push(bindByName(currentSchema(metadata), key.name, 'gtEq', literal(range.lo)));
    }
    if (range.hi !== null) {
      params.push(range.hi);
      conditions.push(`${quoteIdent(key.name)} < $${params.length}::int8`);
      bounds.push(bindByName(currentSchema(metadata), key.name, 'lt', literal(range.hi)));
    }
    const rows: RowSource = {
      relation: fromSql(source),
      params,
      ...(conditions.length > 0 ? { where: conditions.join(' AND '), estimatedRows: range.estimatedRows } : {}),
    };
    const target: TargetRead = { io: env.catalog.io, metadata, snapshot, columns, ...(bounds.length > 0 ? { filter: and(...bounds) } : {}) };
    const { figures, hashed, aggregates, samples } = await scanBothSides(client, source, target, layout, rows, { hash: true, samples: options.samples ?? 0 });
    const examined = await explainDifference(
      client,
      target,
      layout,
      rows,
      figures.rows,
      targetRowFigures(hashed),
      Math.max(1, range.estimatedRows),
      options.maxDifferences ?? DEFAULT_MAX_DIFFERENCES,
    );
    return {
      range: range.index,
      compared: figures.rows.rows.toString(),
      differing: String(examined.differing),
      differences: examined.differences,
      rangesNotExamined: String(examined.bucketsNotExamined),
      targetRows: String(hashed.rows),
      aggregates: aggregates.partial(),
      sourceAggregates: figures.aggregates,
      samples: samples.rows(),
    };
  });
}

/** Loads the Iceberg table, then runs `fn` in one REPEATABLE READ snapshot of the source under canonical settings. */
export async function inSourceSnapshot<T>(
  env: RunEnvironment,
  request: VerifyTableRequest,
  fn: (client: Client, metadata: TableMetadata) => Promise<T>,
): Promise<T> {
  const table = await env.catalog.loadTable(request.target);
  return withSource(env, async (client) => {
    await applyCanonicalSession(client);
    return withSnapshotTransaction(client, () => fn(client, table.metadata));
  });
}

async function applyCanonicalSession(client: Client): Promise<void> {
  // Session-wide: the settings under which PostgreSQL's text output is what the copy stored, a search path that
  // no user schema can shadow the functions of the canonical SQL through, and no parallel workers: tables and
  // key ranges already run side by side, and extra workers per query only added CPU (measured: 1 s of 18 at
  // 2,000,000 rows on 2 cores).
  const settings = [...TEXT_OUTPUT_SETTINGS, ['search_path', 'pg_catalog'] as const, ['max_parallel_workers_per_gather', '0'] as const];
  await client.query('SELECT count(pg_catalog.set_config(s.name, s.value, false)) FROM unnest($1::text[], $2::text[]) AS s(name, value)', [
    settings.map((s) => s[0]),
    settings.map((s) => s[1]),
  ]);
}

/** What both the table checks and a range's row comparison work from. */
export interface Comparison {
  source: SourceTable;
  mapping: TableMapping;
  columns: ComparedColumn[];
  layout: RowLayout;
  snapshot: Snapshot | undefined;
}

/** The source described, the columns both sides compare and the snapshot verified. */
export async function prepareComparison(client: Client, metadata: TableMetadata, request: VerifyTableRequest): Promise<Comparison> {
  const source = await describeTable(client, request.source.schema, request.source.name);
  const mapping = mapTable(source, request.excludeColumns ? { excludedColumns: request.excludeColumns } : {});
  const columns = comparedColumns(mapping, currentSchema(metadata));
  const layout: RowLayout = { columns, keyIndexes: keyIndexes(request, source.key.kind === 'none' ? [] : source.key.columns, columns) };
  const snapshot = selectSnapshot(metadata, request.snapshotId === undefined ? {} : { snapshotId: BigInt(request.snapshotId) });
  return { source, mapping, columns, layout, snapshot };
}

/** The Iceberg rows a check reads: the snapshot's rows matching `filter` (in `files` only, when given). */
export interface TargetRead {
  io: FileIO;
  metadata: TableMetadata;
  snapshot: Snapshot | undefined;
  columns: readonly ComparedColumn[];
  filter?: Expression;
  files?: { group: number; groups: number };
}

/** Both promises settled, the first failure thrown: neither is left running unobserved. */
export async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
  return [first.value, second.value];
}

/**
 * One scan of each side: PostgreSQL computes its figures of `rows` (count, aggregates and, with `hash`, the row
 * hash sum) while this process streams the matching Iceberg rows once for the rows read, aggregates, samples
 * picked first by PostgreSQL, and row hashes.
 */
async function scanBothSides(
  client: Client,
  table: SourceTable,
  target: TargetRead,
  layout: RowLayout,
  rows: RowSource,
  options: { hash: boolean; samples: number },
) {
  const samples = await SampleSet.pick(client, layout, rows, options.samples);
  const grouped = await groupedCandidates(client, table, layout.columns);
  const aggregates = new TargetAggregates(layout.columns);
  const [figures, hashed] = await both(
    sourceFigures(client, layout.columns, rows, { hash: options.hash, grouped }),
    readTarget(target, layout, { aggregates, samples, hash: options.hash }),
  );
  return { figures, hashed, aggregates, samples };
}

/**
 * One read of the Iceberg side: every row is counted and fed to `aggregates` and `samples`, and hashed too
 * when `hash` is on (the full level); returns the row count and hash sum.
 */
export async function readTarget(
  target: TargetRead,
  layout: RowLayout,
  feed: { aggregates: TargetAggregates; samples: SampleSet; hash: boolean },
): Promise<HashSum> {
  const sum = new HashSum();
  const hasher = feed.hash ? RowHasher.forColumns(layout.columns) : undefined;
  const { aggregates, samples } = feed;
  const scan = {
    snapshotId: target.snapshot?.['snapshot-id'],
    ...(target.filter ? { filter: target.filter } : {}),
    ...(target.files ? { files: target.files } : {}),
  };
  await scanTargetBatches(target.io, target.metadata, target.columns, scan, (rows) => {
    if (hasher) hasher.addRows(rows, sum);
    else sum.rows += rows.length;
    aggregates.addRows(rows);
    for (const row of rows) samples.offer(row);
  });
  return sum;
}

/**
 * When both sides' row figures differ, finds which rows do: both sides bucketed (sized by `rows`, the larger
 * side's count or a range's estimate), then the differing buckets examined row by row.
 */
async function explainDifference(
  client: Client,
  target: TargetRead,
  layout: RowLayout,
  rows: RowSource,
  source: RowFigures,
  read: RowFigures,
  estimatedRows: number,
  maxDifferences: number,
): Promise<RowExamination> {
  if (sameRowFigures(source, read)) return { differing: 0, differences: [], bucketsNotExamined: 0 };
  const buckets = bucketCount(BigInt(estimatedRows));
  const canonical = new CanonicalRows(layout.columns.map((c) => c.type));
  const hasher = RowHasher.forColumns(layout.columns);
  const scan = { snapshotId: target.snapshot?.['snapshot-id'], ...(target.filter ? { filter: target.filter } : {}) };
  const readCanonical = (visit: (values: Array<string | null>, rowText: string) => void) =>
    scanTarget(target.io, target.metadata, target.columns, scan, (row) => {
      const values = canonical.values(row);
      visit(values, canonical.text(values));
    });
  const targetBuckets = new TargetBuckets(buckets);
  const [sourceFigures] = await both(
    sourceBuckets(client, layout, rows, buckets),
    readCanonical((values, rowText) => {
      hasher.hashCanonical(values);
      targetBuckets.addHashed(bucketOfRow(layout, keyTextOf(layout, values, rowText), values, buckets));
    }),
  );
  const differing = differingBuckets(sourceFigures, targetBuckets.figures);
  // The figures differed but no bucket does: not expected within one snapshot, so reported, never hidden.
  if (differing.length === 0) return { differing: 0, differences: [], bucketsNotExamined: 1 };
  const examined = await examineBuckets(client, layout, rows, buckets, differing, sourceFigures, targetBuckets.figures, readCanonical, maxDifferences);
  const unexplained = examined.differing === 0 && examined.bucketsNotExamined === 0 ? differing.length : examined.bucketsNotExamined;
  return { ...examined, bucketsNotExamined: unexplained };
}

async function verifyInSnapshot(
  client: Client,
  io: FileIO,
  metadata: TableMetadata,
  request: VerifyTableRequest,
  options: VerifyTableOptions,
  base: TableVerification,
): Promise<TableVerification> {
  const full = options.level === 'full';
  const byRange = full && options.rowsByRange === true;
  const { source, mapping, columns, layout, snapshot } = await prepareComparison(client, metadata, request);
  const schema = compareSchemas(mapping.schema, currentSchema(metadata), source);
  const described: TableVerification = { ...base, columns: columns.map((c) => ({ name: c.name, type: typeToString(c.type) })) };
  const rows: RowSource = { relation: fromSql(source), params: [] };
  const manifestCount = await manifestRowCount(io, metadata, snapshot);

  if (options.scanRanges === true) {
    // The scan ranges count, aggregate and (full) hash both sides, and find the samples' Iceberg rows;
    // mergeScanRanges puts their sums in place of this source count, which no scan of the whole table reads.
    const samples = await SampleSet.pick(client, layout, rows, options.samples ?? DEFAULT_SAMPLES);
    const result: TableVerification = {
      ...described,
      schema,
      counts: countCheck(manifestCount, manifestCount, undefined),
      aggregates: [],
      samples: samples.rows(),
    };
    result.status = statusOf(result);
    return result;
  }

  if (byRange) {
    // The ranges scan both sides (rows, aggregates, samples) and mergeRowRanges compares: here only the
    // schema and the manifests' count. The source count is the ranges' sum (mergeRowRanges puts it in place of
    // this one), so no activity counts a whole large table.
    const result: TableVerification = { ...described, schema, counts: countCheck(manifestCount, manifestCount, undefined), aggregates: [] };
    result.status = statusOf(result);
    return result;
  }

  const target: TargetRead = { io, metadata, snapshot, columns };
  const { figures, hashed, aggregates, samples } = await scanBothSides(client, source, target, layout, rows, {
    hash: full,
    samples: options.samples ?? DEFAULT_SAMPLES,
  });
  const sourceCount = figures.rows.rows.toString();
  const sourceAggregates = sourceFiguresOf([figures.aggregates]);
  const result: TableVerification = {
    ...described,
    schema,
    counts: countCheck(sourceCount, manifestCount, String(hashed.rows)),
    aggregates: compareAggregates(sourceAggregates, aggregates.figures(groupedColumns(sourceAggregates))),
  };
  if (full) {
    // Buckets are sized by the larger side, so no bucket fetched whole is big.
    const larger = Number(BigInt(manifestCount) > BigInt(sourceCount) ? BigInt(manifestCount) : BigInt(sourceCount));
    const examined = await explainDifference(
      client,
      target,
      layout,
      rows,
      figures.rows,
      targetRowFigures(hashed),
      Math.max(1, larger),
      options.maxDifferences ?? DEFAULT_MAX_DIFFERENCES,
    );
    result.rows = { compared: sourceCount, differing: String(examined.differing), differences: examined.differences };
    if (examined.bucketsNotExamined > 0) result.rows.rangesNotExamined = String(examined.bucketsNotExamined);
  }
  result.samples = samples.rows();
  result.status = statusOf(result);
  return result;
}

/** Positions of the key columns among the compared columns; an empty list makes the table a multiset. */
function keyIndexes(request: VerifyTableRequest, tableKey: readonly string[], columns: readonly ComparedColumn[]): number[] {
  const names = request.key ?? tableKey;
  const indexes = names.map((name) => columns.findIndex((c) => c.name === name));
  if (indexes.every((i) => i >= 0)) return indexes;
  if (request.key !== undefined) {
    const missing = names.filter((_n, i) => indexes[i]! < 0);
    throw new ValidationError(`key column(s) ${missing.join(', ')} are not columns both sides hold with the same type`);
  }
  // The table's own key has a column the Iceberg side lacks: compare as a multiset rather than not at all.
  return [];
}
