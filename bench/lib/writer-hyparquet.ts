/**
 * Candidate: hyparquet-writer (pure JavaScript) with an explicit Parquet schema, which is how it takes field ids
 * and logical types; ZSTD comes from zstd-napi because hyparquet-writer only bundles snappy.
 */
import { compress } from 'zstd-napi';
import { stat } from 'node:fs/promises';
import type { ColumnSource, SchemaElement } from 'hyparquet-writer' with { 'resolution-mode': 'import' };
import type { Candidate, TimedWrite } from './candidate';
import { AMOUNT_PRECISION, AMOUNT_SCALE, fieldIdOf, type OrdersData } from './orders-data';

// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- the import type's resolution-mode attribute is not a value; the checker has no type for it
type HyparquetWriter = typeof import('hyparquet-writer', { with: { 'resolution-mode': 'import' } });

/** The Parquet schema Iceberg expects for the orders table, written out element by element. */
export function ordersParquetSchema(): SchemaElement[] {
  const id = fieldIdOf;
  return [
    { name: 'schema', num_children: 11 },
    { name: 'id', type: 'INT64', repetition_type: 'REQUIRED', field_id: id('id') },
    {
      name: 'order_uuid',
      type: 'FIXED_LEN_BYTE_ARRAY',
      type_length: 16,
      repetition_type: 'REQUIRED',
      logical_type: { type: 'UUID' },
      field_id: id('order_uuid'),
    },
    { name: 'customer_id', type: 'INT32', repetition_type: 'REQUIRED', field_id: id('customer_id') },
    // decimal(12,2): precision 10..18 is INT64 per the Iceberg spec's Parquet mapping.
    {
      name: 'amount',
      type: 'INT64',
      repetition_type: 'REQUIRED',
      converted_type: 'DECIMAL',
      scale: AMOUNT_SCALE,
      precision: AMOUNT_PRECISION,
      logical_type: { type: 'DECIMAL', scale: AMOUNT_SCALE, precision: AMOUNT_PRECISION },
      field_id: id('amount'),
    },
    { name: 'status', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8', logical_type: { type: 'STRING' }, field_id: id('status') },
    {
      name: 'created_at',
      type: 'INT64',
      repetition_type: 'REQUIRED',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
      field_id: id('created_at'),
    },
    { name: 'shipped_on', type: 'INT32', repetition_type: 'OPTIONAL', converted_type: 'DATE', logical_type: { type: 'DATE' }, field_id: id('shipped_on') },
    { name: 'is_gift', type: 'BOOLEAN', repetition_type: 'REQUIRED', field_id: id('is_gift') },
    { name: 'note', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL', converted_type: 'UTF8', logical_type: { type: 'STRING' }, field_id: id('note') },
    { name: 'tags', repetition_type: 'OPTIONAL', converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1, field_id: id('tags') },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    {
      name: 'element',
      type: 'BYTE_ARRAY',
      repetition_type: 'OPTIONAL',
      converted_type: 'UTF8',
      logical_type: { type: 'STRING' },
      field_id: id('tags.element'),
    },
    { name: 'attrs', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL', converted_type: 'UTF8', logical_type: { type: 'STRING' }, field_id: id('attrs') },
  ];
}

/** hyparquet-writer writing ZSTD pages straight to a file; column arrays are its natural input. */
export async function createHyparquetCandidate(): Promise<Candidate> {
  const hw: HyparquetWriter = await import('hyparquet-writer');
  return {
    note: 'zstd level 3 via zstd-napi; row groups of 100k rows (its default starts with a 1k-row preview group)',
    prepare(data: OrdersData): Promise<TimedWrite> {
      const uuids: Uint8Array[] = [];
      for (let i = 0; i < data.rows; i++) uuids.push(data.orderUuid.subarray(i * 16, i * 16 + 16));
      const columnData: ColumnSource[] = [
        { name: 'id', data: data.id, nullable: false },
        { name: 'order_uuid', data: uuids, nullable: false },
        { name: 'customer_id', data: data.customerId, nullable: false },
        { name: 'amount', data: data.amountUnscaled, nullable: false },
        { name: 'status', data: data.status, nullable: false },
        { name: 'created_at', data: data.createdAtMicros, nullable: false },
        { name: 'shipped_on', data: data.shippedOn },
        { name: 'is_gift', data: data.isGift, nullable: false },
        { name: 'note', data: data.note },
        { name: 'tags', data: data.tags },
        { name: 'attrs', data: data.attrs },
      ];
      const schema = ordersParquetSchema();
      return Promise.resolve<TimedWrite>(async (outputPath) => {
        hw.parquetWriteFile({
          filename: outputPath,
          columnData,
          schema,
          codec: 'ZSTD',
          compressors: { ZSTD: (input: Uint8Array) => compress(input) },
          rowGroupSize: 100_000,
        });
        return { paths: [outputPath], bytes: (await stat(outputPath)).size };
      });
    },
  };
}
