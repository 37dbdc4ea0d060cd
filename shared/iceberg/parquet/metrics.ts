/**
 * Column statistics in the two forms readers prune with: Parquet column-chunk Statistics (engines reading the file
 * directly) and Iceberg data-file metrics (column sizes, value/null/NaN counts, truncated lower/upper bounds).
 */
import { DEFAULT_BOUND_LENGTH, compareValues, truncateBinaryLower, truncateBinaryUpper, truncateStringLower, truncateStringUpper } from '../spec/compare';
import { serializeValue, toTwosComplement } from '../spec/conversions';
import type { DataFile } from '../spec/manifest';
import { decimalParams, primitiveKind } from '../spec/types';
import type { Value } from '../spec/values';
import type { ColumnChunkResult } from './column-writer';
import type { LeafColumn } from './parquet-schema';
import type { Statistics } from './parquet-thrift';

/**
 * Longest string (code points) or binary (bytes) min/max kept in Parquet statistics; longer ones are truncated
 * and flagged inexact, so a footer never carries whole large values.
 */
export const PARQUET_STATS_TRUNCATE_LENGTH = 64;

/**
 * PLAIN bytes of one value without a length prefix, as Statistics.min_value/max_value hold them. They equal the
 * Iceberg single-value form for every type but decimal, which Parquet stores in its physical type's width.
 */
export function encodeStatisticsValue(leaf: LeafColumn, value: Value): Uint8Array {
  if (primitiveKind(leaf.type) !== 'decimal') return serializeValue(leaf.type, value);
  const { precision } = decimalParams(leaf.type)!;
  const unscaled = BigInt(value as number | bigint);
  if (precision <= 9) {
    const out = Buffer.alloc(4);
    out.writeInt32LE(Number(unscaled));
    return out;
  }
  if (precision <= 18) {
    const out = Buffer.alloc(8);
    out.writeBigInt64LE(unscaled);
    return out;
  }
  return toTwosComplement(unscaled, leaf.typeLength!);
}

/** Parquet statistics of a finished column chunk. */
export function chunkStatistics(leaf: LeafColumn, chunk: ColumnChunkResult): Statistics {
  const stats: Statistics = { null_count: chunk.nullCount };
  const kind = primitiveKind(leaf.type);
  if (kind === 'float' || kind === 'double') stats.nan_count = chunk.nanCount;
  if (chunk.min === undefined || chunk.max === undefined) return stats;
  let min: Value = chunk.min;
  let max: Value = chunk.max;
  let minExact = true;
  let maxExact = true;
  if (kind === 'float' || kind === 'double') {
    // parquet-format: a zero min is written as -0.0 and a zero max as +0.0, whichever zero was seen.
    if (min === 0 && !Object.is(min, -0)) [min, minExact] = [-0, false];
    if (max === 0 && Object.is(max, -0)) [max, maxExact] = [0, false];
  } else if (kind === 'string') {
    const lower = truncateStringLower(min as string, PARQUET_STATS_TRUNCATE_LENGTH);
    const upper = truncateStringUpper(max as string, PARQUET_STATS_TRUNCATE_LENGTH);
    if (upper === undefined) return stats;
    [minExact, maxExact] = [lower === min, upper === max];
    [min, max] = [lower, upper];
  } else if (kind === 'binary') {
    const lower = truncateBinaryLower(min as Uint8Array, PARQUET_STATS_TRUNCATE_LENGTH);
    const upper = truncateBinaryUpper(max as Uint8Array, PARQUET_STATS_TRUNCATE_LENGTH);
    if (upper === undefined) return stats;
    [minExact, maxExact] = [lower.length === (min as Uint8Array).length, upper === max];
    [min, max] = [lower, upper];
  }
  stats.min_value = encodeStatisticsValue(leaf, min);
  stats.max_value = encodeStatisticsValue(leaf, max);
  stats.is_min_value_exact = minExact;
  stats.is_max_value_exact = maxExact;
  return stats;
}

interface ColumnTotals {
  size: number;
  values: number;
  nulls: number;
  nans: number;
  min: Value | undefined;
  max: Value | undefined;
}

/** The metric fields of a DataFile. */
export type DataFileMetrics = Pick<DataFile, 'columnSizes' | 'valueCounts' | 'nullValueCounts' | 'nanValueCounts' | 'lowerBounds' | 'upperBounds'>;

/** Accumulates one data file's Iceberg metrics over its row groups. */
export class FileMetricsCollector {
  private readonly totals: ColumnTotals[];

  constructor(
    private readonly leaves: readonly LeafColumn[],
    private readonly boundLength = DEFAULT_BOUND_LENGTH,
  ) {
    this.totals = leaves.map(() => ({ size: 0, values: 0, nulls: 0, nans: 0, min: undefined, max: undefined }));
  }

  /** Adds the chunk column `index` contributed to a row group. */
  add(index: number, chunk: ColumnChunkResult): void {
    const total = this.totals[index]!;
    const type = this.leaves[index]!.type;
    total.size += chunk.compressedSize;
    total.values += chunk.numValues;
    total.nulls += chunk.nullCount;
    total.nans += chunk.nanCount;
    if (chunk.min !== undefined && (total.min === undefined || compareValues(type, chunk.min, total.min) < 0)) total.min = chunk.min;
    if (chunk.max !== undefined && (total.max === undefined || compareValues(type, chunk.max, total.max) > 0)) total.max = chunk.max;
  }

  /** The DataFile metric maps, keyed by leaf field id. */
  metrics(): DataFileMetrics {
    const columnSizes = new Map<number, bigint>();
    const valueCounts = new Map<number, bigint>();
    const nullValueCounts = new Map<number, bigint>();
    const nanValueCounts = new Map<number, bigint>();
    const lowerBounds = new Map<number, Uint8Array>();
    const upperBounds = new Map<number, Uint8Array>();
    this.leaves.forEach((leaf, i) => {
      const total = this.totals[i]!;
      const id = leaf.fieldId;
      const kind = primitiveKind(leaf.type);
      columnSizes.set(id, BigInt(total.size));
      valueCounts.set(id, BigInt(total.values));
      nullValueCounts.set(id, BigInt(total.nulls));
      if (kind === 'float' || kind === 'double') nanValueCounts.set(id, BigInt(total.nans));
      // Iceberg keeps no bounds for values inside lists and maps.
      if (leaf.repeated || total.min === undefined || total.max === undefined) return;
      const lower = this.lowerBound(leaf, total.min);
      const upper = this.upperBound(leaf, total.max);
      lowerBounds.set(id, lower);
      if (upper !== undefined) upperBounds.set(id, upper);
    });
    return { columnSizes, valueCounts, nullValueCounts, nanValueCounts, lowerBounds, upperBounds };
  }

  private lowerBound(leaf: LeafColumn, min: Value): Uint8Array {
    const kind = primitiveKind(leaf.type);
    if (kind === 'decimal') return serializeValue(leaf.type, BigInt(min as number | bigint));
    if (kind === 'string') return serializeValue(leaf.type, truncateStringLower(min as string, this.boundLength));
    if (kind === 'binary') return serializeValue(leaf.type, truncateBinaryLower(min as Uint8Array, this.boundLength));
    return serializeValue(leaf.type, min);
  }

  private upperBound(leaf: LeafColumn, max: Value): Uint8Array | undefined {
    const kind = primitiveKind(leaf.type);
    // Writers accept safe-integer numbers for decimals; bounds are always computed from the exact bigint.
    if (kind === 'decimal') return serializeValue(leaf.type, BigInt(max as number | bigint));
    if (kind === 'string') {
      const upper = truncateStringUpper(max as string, this.boundLength);
      return upper === undefined ? undefined : serializeValue(leaf.type, upper);
    }
    if (kind === 'binary') {
      const upper = truncateBinaryUpper(max as Uint8Array, this.boundLength);
      return upper === undefined ? undefined : serializeValue(leaf.type, upper);
    }
    return serializeValue(leaf.type, max);
  }
}
