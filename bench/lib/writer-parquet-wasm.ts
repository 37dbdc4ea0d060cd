/**
 * Candidate: parquet-wasm (arrow-rs compiled to WebAssembly) fed an Arrow table built with apache-arrow.
 * Field ids travel as Arrow field metadata "PARQUET:field_id", which arrow-rs copies into the Parquet schema.
 */
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import * as arrow from 'apache-arrow';
import type { Candidate, TimedWrite } from './candidate';
import { AMOUNT_PRECISION, AMOUNT_SCALE, fieldIdOf, type OrdersData } from './orders-data';

type ParquetWasm = typeof import('parquet-wasm');

function meta(path: string, extra: Record<string, string> = {}): Map<string, string> {
  return new Map([['PARQUET:field_id', String(fieldIdOf(path))], ...Object.entries(extra)]);
}

/** Builds one column with an apache-arrow builder (nulls written as JS null). */
function build<T extends arrow.DataType>(type: T, values: Iterable<unknown>): arrow.Data<T> {
  const builder = arrow.makeBuilder({ type, nullValues: [null] });
  for (const value of values) builder.append(value as T['TValue'] | null);
  return builder.finish().flush() as arrow.Data<T>;
}

/** The orders data as one Arrow record batch whose fields carry the Iceberg ids. */
export function ordersToArrow(data: OrdersData): arrow.Table {
  const n = data.rows;
  const element = new arrow.Field('element', new arrow.Utf8(), true, meta('tags.element'));
  const fields = [
    new arrow.Field('id', new arrow.Int64(), false, meta('id')),
    // arrow-rs maps the canonical arrow.uuid extension to the UUID logical type when built with extension support.
    new arrow.Field(
      'order_uuid',
      new arrow.FixedSizeBinary(16),
      false,
      meta('order_uuid', { 'ARROW:extension:name': 'arrow.uuid', 'ARROW:extension:metadata': '' }),
    ),
    new arrow.Field('customer_id', new arrow.Int32(), false, meta('customer_id')),
    new arrow.Field('amount', new arrow.Decimal(AMOUNT_SCALE, AMOUNT_PRECISION, 128), false, meta('amount')),
    new arrow.Field('status', new arrow.Utf8(), false, meta('status')),
    new arrow.Field('created_at', new arrow.TimestampMicrosecond('UTC'), false, meta('created_at')),
    new arrow.Field('shipped_on', new arrow.DateDay(), true, meta('shipped_on')),
    new arrow.Field('is_gift', new arrow.Bool(), false, meta('is_gift')),
    new arrow.Field('note', new arrow.Utf8(), true, meta('note')),
    new arrow.Field('tags', new arrow.List(element), true, meta('tags')),
    new arrow.Field('attrs', new arrow.Utf8(), true, meta('attrs')),
  ];
  // Decimal128 is two little-endian 64-bit words per value: the value and its sign extension.
  const decimalWords = new BigInt64Array(n * 2);
  for (let i = 0; i < n; i++) {
    const v = data.amountUnscaled[i]!;
    decimalWords[2 * i] = v;
    decimalWords[2 * i + 1] = v < 0n ? -1n : 0n;
  }
  const type = <T extends arrow.DataType>(i: number): T => fields[i]!.type as T;
  const children: arrow.Data[] = [
    arrow.makeData({ type: type<arrow.Int64>(0), length: n, data: data.id }),
    arrow.makeData({ type: type<arrow.FixedSizeBinary>(1), length: n, data: data.orderUuid }),
    arrow.makeData({ type: type<arrow.Int32>(2), length: n, data: data.customerId }),
    arrow.makeData({ type: type<arrow.Decimal>(3), length: n, data: new Uint32Array(decimalWords.buffer) }),
    build(type<arrow.Utf8>(4), data.status),
    arrow.makeData({ type: type<arrow.TimestampMicrosecond>(5), length: n, data: data.createdAtMicros }),
    build(
      type<arrow.DateDay>(6),
      data.shippedOn.map((d) => (d === null ? null : d * 86_400_000)),
    ),
    build(type<arrow.Bool>(7), data.isGift),
    build(type<arrow.Utf8>(8), data.note),
    build(type<arrow.List<arrow.Utf8>>(9), data.tags),
    build(type<arrow.Utf8>(10), data.attrs),
  ];
  const schema = new arrow.Schema(fields);
  const struct = arrow.makeData({ type: new arrow.Struct(fields), length: n, nullCount: 0, children });
  return new arrow.Table(schema, [new arrow.RecordBatch(schema, struct)]);
}

/** parquet-wasm with ZSTD; the Arrow table is the natural input, IPC hand-off into wasm memory is timed. */
export async function createParquetWasmCandidate(): Promise<Candidate> {
  const pw: ParquetWasm = await import('parquet-wasm');
  return {
    note: 'zstd at arrow-rs default level (1); IPC copy into wasm memory included in the time',
    prepare(data: OrdersData): Promise<TimedWrite> {
      const table = ordersToArrow(data);
      return Promise.resolve<TimedWrite>(async (outputPath) => {
        const t0 = performance.now();
        const wasmTable = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
        const t1 = performance.now();
        const properties = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).build();
        const bytes = pw.writeParquet(wasmTable, properties); // consumes wasmTable and properties
        const t2 = performance.now();
        await writeFile(outputPath, bytes);
        const phasesMs = { 'ipc to wasm': t1 - t0, encode: t2 - t1, 'file write': performance.now() - t2 };
        return { paths: [outputPath], bytes: bytes.byteLength, phasesMs };
      });
    },
  };
}
