/**
 * The buffer budget of a partitioned table writer: sixteen open partition writers together stay within the
 * budget (the largest ends its row group early), and every row comes back exactly, in its partition.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import { MemoryFileIO } from '../../../shared/iceberg/io/memory-file-io';
import { readDataFile, readParquetFooter } from '../../../shared/iceberg/parquet/parquet-reader';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import type { Row } from '../../../shared/iceberg/spec/values';
import { TableWriter } from '../../../shared/iceberg/writer/table-writer';

const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'payload', required: true, type: 'string' },
]);
const spec = { 'spec-id': 0, fields: [{ 'source-id': 1, 'field-id': 1000, name: 'id_bucket', transform: 'bucket[16]' }] };
const ROWS = 20_000;
const BUDGET = 1024 * 1024;

function row(i: number): Row {
  // Hex digests compress poorly, so buffered bytes track the rows written.
  const digest = createHash('sha256').update(String(i)).digest('hex');
  return [BigInt(i), `${digest}${digest}${digest}`];
}

async function writeAll(
  budget: number | undefined,
): Promise<{ writer: TableWriter; peak: number; io: MemoryFileIO; files: Awaited<ReturnType<TableWriter['close']>> }> {
  const io = new MemoryFileIO();
  const catalog = new HadoopCatalog(io, 'memory://warehouse');
  const table = await catalog.createTable({ namespace: ['t'], name: `orders_${budget ?? 'default'}` }, { schema, spec });
  const writer = new TableWriter({
    io,
    metadata: table.metadata,
    pageSizeInBytes: 16 * 1024,
    ...(budget === undefined ? {} : { bufferBudgetInBytes: budget }),
  });
  let peak = 0;
  for (let i = 0; i < ROWS; i++) {
    const pending = writer.write(row(i));
    if (pending) await pending;
    peak = Math.max(peak, writer.bufferedBytes);
  }
  return { writer, peak, io, files: await writer.close() };
}

describe('table writer buffer budget', () => {
  it('keeps sixteen open partition writers within the budget by ending the largest row group early, and loses no row', async () => {
    const { writer, peak, io, files } = await writeAll(BUDGET);
    // Between two checks the writers grow by at most 256 rows of ~200 bytes.
    expect(peak).toBeLessThanOrEqual(BUDGET + 64 * 1024);
    expect(writer.budgetFlushes).toBeGreaterThan(4);
    expect(new Set(files.map((f) => JSON.stringify(f.partition))).size).toBe(16);
    const seen: Row[] = [];
    let rowGroups = 0;
    for (const file of files) {
      rowGroups += (await readParquetFooter(io, file.filePath)).metadata.row_groups.length;
      for await (const batch of readDataFile(io, file.filePath, schema)) seen.push(...batch);
    }
    expect(rowGroups, 'the early flushes are smaller row groups in the same files').toBeGreaterThan(files.length);
    expect(seen.length).toBe(ROWS);
    seen.sort((a, b) => Number((a[0] as bigint) - (b[0] as bigint)));
    seen.forEach((r, i) => expect(r).toEqual(row(i)));
  });

  it('buffers past that size without a budget that small (the default fits sixteen row groups of this data)', async () => {
    const { writer, peak } = await writeAll(undefined);
    expect(peak).toBeGreaterThan(2 * BUDGET);
    expect(writer.budgetFlushes).toBe(0);
  });
});
