/**
 * A filtered scan skips the row groups of a file whose column statistics rule the filter out, and returns exactly
 * the rows it returned before. Rows are mostly in key order with a few strays, as a copied heap has them: the
 * file's key bounds overlap every range, but most row groups' do not. With deletes on the file nothing is skipped
 * (their positions count every row).
 */
import { describe, expect, it } from 'vitest';
import { MemoryFileIO } from '../../../shared/iceberg/io/memory-file-io';
import { DataFileWriter } from '../../../shared/iceberg/parquet/data-file-writer';
import { readParquetFooter } from '../../../shared/iceberg/parquet/parquet-reader';
import { parseFileSchema } from '../../../shared/iceberg/parquet/file-schema';
import { ConvertedType, ParquetType, Repetition, type RowGroup } from '../../../shared/iceberg/parquet/parquet-thrift';
import { RowGroupMetrics } from '../../../shared/iceberg/parquet/row-group-metrics';
import { planScan, readScan } from '../../../shared/iceberg/scan/table-scan';
import { InclusiveMetricsEvaluator } from '../../../shared/iceberg/spec/evaluators';
import { type Expression, and, bindByName } from '../../../shared/iceberg/spec/expressions';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import { currentSchema } from '../../../shared/iceberg/spec/table-metadata';
import type { DataFile } from '../../../shared/iceberg/spec/manifest';
import type { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import { rowDelta } from '../../../shared/iceberg/transaction/row-delta';
import { fastAppend } from '../../../shared/iceberg/transaction/table-operations';
import { writePositionDeletes } from '../../../shared/iceberg/writer/delete-writer';
import { SCHEMA, TABLE, newTable, row } from './delete-fixtures';

/** A MemoryFileIO that records every range read: where and from which offset. */
class RecordingIO extends MemoryFileIO {
  readonly reads: Array<{ location: string; offset: number }> = [];
  override async readRange(location: string, offset: number, length: number, options: { abortSignal?: AbortSignal } = {}): Promise<Uint8Array> {
    this.reads.push({ location, offset });
    return super.readRange(location, offset, length, options);
  }
}

const ROWS = 1_000;
const GROUP = 100;
/** Row i holds key i, except that positions 95-99 and 900-904 swap keys: row group 0 reaches 904, row group 9 down to 95. */
const keyAt = (i: number): number => (i >= 95 && i < 100 ? i + 805 : i >= 900 && i < 905 ? i - 805 : i);

async function table(): Promise<{ catalog: HadoopCatalog; io: RecordingIO; file: DataFile; groups: RowGroup[] }> {
  const io = new RecordingIO();
  const catalog = await newTable(false, io);
  const metadata = (await catalog.loadTable(TABLE)).metadata;
  const writer = new DataFileWriter({ io, schema: currentSchema(metadata), newLocation: () => `${metadata.location}/data/d.parquet`, rowGroupRows: GROUP });
  await writer.writeRows(Array.from({ length: ROWS }, (_, i) => row(keyAt(i))));
  const [file] = await writer.close();
  await fastAppend(catalog, TABLE, { dataFiles: [file!] });
  const { metadata: footer } = await readParquetFooter(io, file!.filePath);
  return { catalog, io, file: file!, groups: footer.row_groups };
}

const between = (lo: number, hi: number): Expression => and(bindByName(SCHEMA, 'id', 'gtEq', BigInt(lo)), bindByName(SCHEMA, 'id', 'lt', BigInt(hi)));

/** The keys the scan returns (sorted) and how many row groups of the file it read (its id chunks fetched). */
async function scan(t: Awaited<ReturnType<typeof table>>, filter: Expression): Promise<{ keys: number[]; groupsRead: number }> {
  const metadata = (await t.catalog.loadTable(TABLE)).metadata;
  const plan = await planScan(t.io, metadata, { columns: ['id'], filter });
  const starts = new Set(t.groups.map((g) => g.columns[0]!.meta_data!.dictionary_page_offset ?? g.columns[0]!.meta_data!.data_page_offset));
  t.io.reads.length = 0;
  const keys: number[] = [];
  for await (const batch of readScan(t.io, plan)) for (const r of batch) keys.push(Number(r[0] as bigint));
  return { keys: keys.sort((a, b) => a - b), groupsRead: t.io.reads.filter((r) => r.location === t.file.filePath && starts.has(r.offset)).length };
}

const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo }, (_, i) => lo + i);

describe('row-group pruning', () => {
  it('writes the file as ten row groups whose key bounds overlap only where the strays are', async () => {
    const t = await table();
    expect(t.groups.map((g) => g.num_rows)).toEqual(Array(10).fill(GROUP));
    expect(t.file.splitOffsets).toHaveLength(10);
  });

  it('reads only the row groups a key range can match, and returns exactly its rows', async () => {
    const t = await table();
    // Row group 5 holds the range; row groups 0 (up to 904) and 9 (down to 95) might, by their bounds.
    expect(await scan(t, between(500, 600))).toEqual({ keys: range(500, 600), groupsRead: 3 });
    expect(await scan(t, between(900, 905))).toEqual({ keys: range(900, 905), groupsRead: 2 });
    expect(await scan(t, between(120, 180))).toEqual({ keys: range(120, 180), groupsRead: 3 });
    // Past every key: the file's bounds rule it out before any row group is looked at.
    expect(await scan(t, between(5_000, 6_000))).toEqual({ keys: [], groupsRead: 0 });
    // Without a filter every row group is read.
    const whole = await scan(t, bindByName(SCHEMA, 'id', 'gtEq', 0n));
    expect(whole.keys).toEqual(range(0, ROWS));
    expect(whole.groupsRead).toBe(10);
  });

  it('skips nothing in a file with deletes, whose positions count every row', async () => {
    const t = await table();
    const metadata = (await t.catalog.loadTable(TABLE)).metadata;
    // Position 95 holds key 900 (a stray in row group 0); position 950 holds key 950.
    const deletes = await writePositionDeletes(t.io, metadata, [
      { filePath: t.file.filePath, pos: 95n },
      { filePath: t.file.filePath, pos: 950n },
    ]);
    await rowDelta(t.catalog, TABLE, { deleteFiles: [deletes] });
    const { keys, groupsRead } = await scan(t, between(900, 960));
    expect(keys).toEqual(range(901, 960).filter((k) => k !== 950));
    expect(groupsRead).toBe(10);
  });
});

describe('RowGroupMetrics', () => {
  const group = (stats: { min: Buffer; max: Buffer; nulls?: number }): RowGroup => ({
    num_rows: 10,
    total_byte_size: 0,
    columns: [
      {
        file_offset: 0,
        meta_data: {
          type: ParquetType.INT32,
          encodings: [],
          path_in_schema: ['k'],
          codec: 0,
          num_values: 10,
          total_uncompressed_size: 0,
          total_compressed_size: 0,
          data_page_offset: 4,
          statistics: { min_value: stats.min, max_value: stats.max, null_count: stats.nulls ?? 0 },
        },
      },
    ],
  });
  const int32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return b;
  };
  const fileSchema = (extra: object) =>
    parseFileSchema([
      { name: 'schema', num_children: 1 },
      { name: 'k', type: ParquetType.INT32, repetition_type: Repetition.REQUIRED, field_id: 1, ...extra },
    ]);

  it('gives a long column stored as INT32 (promoted from int) 4-byte bounds the evaluator reads', () => {
    const projection = createSchema([{ id: 1, name: 'k', required: true, type: 'long' }]);
    const metrics = new RowGroupMetrics(projection, fileSchema({})).of(group({ min: int32(-5), max: int32(7) }));
    expect(metrics.recordCount).toBe(10n);
    expect(metrics.valueCounts?.get(1)).toBe(10n);
    expect(metrics.nullValueCounts?.get(1)).toBe(0n);
    const evaluator = (op: 'gt' | 'lt', v: bigint) => new InclusiveMetricsEvaluator(bindByName(projection, 'k', op, v), projection);
    expect(evaluator('gt', 7n).mightMatch(metrics)).toBe(false);
    expect(evaluator('gt', 6n).mightMatch(metrics)).toBe(true);
    expect(evaluator('lt', -5n).mightMatch(metrics)).toBe(false);
  });

  it('gives no bounds for unsigned integers or for columns whose statistics are not Iceberg bounds', () => {
    const projection = createSchema([{ id: 1, name: 'k', required: true, type: 'long' }]);
    const unsignedLogical = new RowGroupMetrics(projection, fileSchema({ logicalType: { INTEGER: { bitWidth: 32, isSigned: false } } }));
    const unsignedConverted = new RowGroupMetrics(projection, fileSchema({ converted_type: ConvertedType.UINT_32 }));
    for (const metrics of [unsignedLogical, unsignedConverted]) {
      const m = metrics.of(group({ min: int32(1), max: int32(-1) }));
      expect(m.lowerBounds?.size).toBe(0);
      expect(m.valueCounts?.get(1)).toBe(10n);
    }
    const text = createSchema([{ id: 1, name: 'k', required: true, type: 'string' }]);
    expect(new RowGroupMetrics(text, fileSchema({})).of(group({ min: int32(1), max: int32(2) })).lowerBounds?.size).toBe(0);
    // A truncated or malformed bound (not 4 bytes for INT32) is not used.
    expect(new RowGroupMetrics(projection, fileSchema({})).of(group({ min: Buffer.alloc(3), max: int32(2) })).lowerBounds?.size).toBe(0);
  });
});
