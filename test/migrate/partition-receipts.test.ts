/**
 * Partition receipts and the names scoped to a run's execution, on the in-memory FileIO: the first receipt of a
 * partition stands, a missing one is a retryable error, and no prefix of one run or execution reaches another's.
 */
import { describe, expect, it } from 'vitest';
import { IcebridgeError } from '../../shared/errors';
import { MemoryFileIO } from '../../shared/iceberg/io/memory-file-io';
import type { CopyPartitionResult } from '../../shared/migrate/contracts';
import { executionPrefix, partitionFilePrefix, readReceipts, receiptLocation, writeReceipt } from '../../shared/migrate/partition-receipts';

const TABLE = 'memory://warehouse/ns/orders';
const EXECUTION = '0123456789abcdef';

function result(partition: number, attempt: string, rows = 10): CopyPartitionResult {
  return { partition, attempt, manifest: null, files: 0, rows, bytes: 0, checksum: `${attempt}${partition}` };
}

describe('partition receipts', () => {
  it('keeps the first receipt of a partition and hands it to a later attempt', async () => {
    const io = new MemoryFileIO();
    const location = receiptLocation(TABLE, 'x', EXECUTION, 3);
    expect(await writeReceipt(io, location, result(3, 'aaaa0001', 10))).toEqual(result(3, 'aaaa0001', 10));
    expect(await writeReceipt(io, location, result(3, 'bbbb0002', 11)), 'the duplicate reports the standing receipt').toEqual(result(3, 'aaaa0001', 10));
    expect(await readReceipts(io, TABLE, 'x', EXECUTION, 4).catch((e: unknown) => e)).toBeInstanceOf(IcebridgeError);
  });

  it('reads every receipt in partition order, and a missing one is a retryable error naming it', async () => {
    const io = new MemoryFileIO();
    for (const p of [2, 0, 1]) await writeReceipt(io, receiptLocation(TABLE, 'x', EXECUTION, p), result(p, 'aaaa0001'));
    // Another run and another execution of the same run leave receipts beside them; they are not read.
    await writeReceipt(io, receiptLocation(TABLE, 'x-p1', EXECUTION, 3), result(3, 'cccc0003'));
    await writeReceipt(io, receiptLocation(TABLE, 'x', 'fedcba9876543210', 3), result(3, 'dddd0004'));
    expect((await readReceipts(io, TABLE, 'x', EXECUTION, 3)).map((r) => r.partition)).toEqual([0, 1, 2]);
    const missing = await readReceipts(io, TABLE, 'x', EXECUTION, 5).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(IcebridgeError);
    expect(missing).toMatchObject({ code: 'PARTITION_RECEIPT_MISSING', retryable: true });
    expect((missing as Error).message).toContain('2 of 5 partition receipts of run x are missing (first: partition 3)');
  });

  it('scopes names so that no run or execution is a prefix of another', () => {
    expect(partitionFilePrefix('x', EXECUTION, 7, 'aaaa0001')).toBe(`x.${EXECUTION}.p00007-aaaa0001`);
    expect(partitionFilePrefix('x-p1', EXECUTION, 7, 'aaaa0001').startsWith(executionPrefix('x', EXECUTION))).toBe(false);
    expect(partitionFilePrefix('x', 'fedcba9876543210', 7, 'aaaa0001').startsWith(executionPrefix('x', EXECUTION))).toBe(false);
    // Ids that could carry the delimiter (or reach another folder) are refused, not scoped loosely.
    for (const runId of ['x.y', 'a/b', '', 'x'.repeat(65)]) expect(() => executionPrefix(runId, EXECUTION), runId).toThrow(/must match/);
    expect(() => executionPrefix('x', 'ABC')).toThrow(/must match/);
  });
});
