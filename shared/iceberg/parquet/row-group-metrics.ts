/**
 * A row group's column metrics in a data file's shape (ColumnMetrics of evaluators.ts), from its column chunks'
 * statistics, so that the metrics evaluators rule out a row group as they rule out a file. Only what reads exactly
 * is given: value and null counts of top-level columns that are not repeated, and bounds of top-level int, long
 * and date columns whose values the reader takes as they are stored (chooseValueKind: signed INT32 or INT64), so
 * that their min_value/max_value bytes are Iceberg's single-value bytes (a long stored as INT32, promoted from int,
 * has 4-byte bounds, which Iceberg reads too). The deprecated min/max fields, whose order is undefined, are never
 * read. Metrics left out read as "might match".
 */
import type { ColumnMetrics } from '../spec/evaluators';
import type { Schema } from '../spec/schema';
import { type PrimitiveType, isPrimitive, primitiveKind } from '../spec/types';
import { type FileSchemaNode, childrenById, chooseValueKind } from './file-schema';
import { ConvertedType, Repetition, type RowGroup } from './parquet-thrift';

/** A projected top-level column the metrics cover: its field id, leaf column and whether its bounds are read. */
interface MeasuredColumn {
  fieldId: number;
  leafIndex: number;
  /** Byte length of its bounds (4 or 8) when they are read, else 0. */
  boundBytes: number;
}

/** The projection's columns whose row-group metrics can be read (see the module comment), once per file. */
export class RowGroupMetrics {
  private readonly measured: MeasuredColumn[] = [];

  constructor(projection: Schema, root: FileSchemaNode) {
    const byId = childrenById(root);
    for (const field of projection.fields) {
      const node = byId.get(field.id);
      if (!node || node.leafIndex < 0 || node.repetition === Repetition.REPEATED || !isPrimitive(field.type)) continue;
      this.measured.push({ fieldId: field.id, leafIndex: node.leafIndex, boundBytes: boundBytes(field.type, node) });
    }
  }

  /** The row group's metrics; undefined counts and bounds where a chunk's statistics lack them. */
  of(group: RowGroup): ColumnMetrics {
    const valueCounts = new Map<number, bigint>();
    const nullValueCounts = new Map<number, bigint>();
    const lowerBounds = new Map<number, Uint8Array>();
    const upperBounds = new Map<number, Uint8Array>();
    for (const { fieldId, leafIndex, boundBytes } of this.measured) {
      const meta = group.columns[leafIndex]?.meta_data;
      if (!meta) continue;
      valueCounts.set(fieldId, BigInt(meta.num_values));
      const stats = meta.statistics;
      if (stats?.null_count !== undefined) nullValueCounts.set(fieldId, BigInt(stats.null_count));
      if (boundBytes > 0 && stats?.min_value?.length === boundBytes && stats.max_value?.length === boundBytes) {
        lowerBounds.set(fieldId, stats.min_value);
        upperBounds.set(fieldId, stats.max_value);
      }
    }
    return { recordCount: BigInt(group.num_rows), valueCounts, nullValueCounts, lowerBounds, upperBounds };
  }
}

/** 4 or 8 when a column of this type stored so has Iceberg's bound bytes as its statistics; 0 otherwise. */
function boundBytes(type: PrimitiveType, node: FileSchemaNode): number {
  const kind = primitiveKind(type);
  if (kind !== 'int' && kind !== 'long' && kind !== 'date') return 0;
  const { converted_type: converted, logicalType } = node.element;
  const unsigned =
    logicalType?.INTEGER?.isSigned === false ||
    converted === ConvertedType.UINT_8 ||
    converted === ConvertedType.UINT_16 ||
    converted === ConvertedType.UINT_32 ||
    converted === ConvertedType.UINT_64;
  if (unsigned) return 0;
  // The projection was matched to the file before (ProjectionPlan), so the column reads as this type.
  const stored = chooseValueKind(node, type);
  return stored === 'int32' || stored === 'int32-bigint' ? 4 : stored === 'int64' ? 8 : 0;
}
