/**
 * Names scoped to one run's execution, and partition receipts. Every file a copy writes is named
 * `<runId>.<execution>.p<index>-<attempt>…`: run ids cannot contain a dot, so one run's prefix never matches
 * another run's files (`x.` is not a prefix of `x-p1.`), and the execution token (fresh for each start of a
 * table's migration) keeps a run id reused after a history purge apart from its predecessor. Each copy leaves
 * its result as a receipt `metadata/receipts/<runId>.<execution>.p<index>.json`; commitTable reads them, so the
 * orchestration's history carries counts only, whatever the number of partitions.
 */
import { AlreadyExistsError, IcebridgeError, ValidationError } from '../errors';
import type { FileIO } from '../iceberg/io/file-io';
import { redactLocation } from '../iceberg/io/io-errors';
import type { CopyPartitionResult } from './contracts';
import { IDEMPOTENCY_KEY_PATTERN } from '../run/request-fields';
import { mapBounded } from '../concurrency';

/** An execution token: hex, from the orchestration's replay-safe GUID. */
export const EXECUTION_PATTERN = /^[0-9a-f]{16}$/;

/** Receipts read at once by commitTable. */
const READ_CONCURRENCY = 32;

/** `<runId>.<execution>.`: the start of every file name of one execution; refuses ids that would break scoping. */
export function executionPrefix(runId: string, execution: string): string {
  if (!IDEMPOTENCY_KEY_PATTERN.test(runId)) throw new ValidationError(`run id ${JSON.stringify(runId)} must match ${IDEMPOTENCY_KEY_PATTERN.source}`);
  if (!EXECUTION_PATTERN.test(execution)) throw new ValidationError(`execution token ${JSON.stringify(execution)} must match ${EXECUTION_PATTERN.source}`);
  return `${runId}.${execution}.`;
}

/** File-name prefix of everything one copy attempt of a partition writes. */
export function partitionFilePrefix(runId: string, execution: string, partition: number, attempt: string): string {
  return `${executionPrefix(runId, execution)}${partitionLabel(partition)}-${attempt}`;
}

/** Where a partition's receipt lives. */
export function receiptLocation(tableLocation: string, runId: string, execution: string, partition: number): string {
  return `${receiptsPrefix(tableLocation, runId, execution)}${partitionLabel(partition)}.json`;
}

/**
 * Writes the receipt unless one is there already, and returns the one that stands: the first attempt to finish
 * a partition wins, so a duplicated or retried copy reports the same files the commit will reference (its own
 * files are then unreferenced and removed by the commit's cleanup).
 */
export async function writeReceipt(io: FileIO, location: string, result: CopyPartitionResult): Promise<CopyPartitionResult> {
  try {
    await io.write(location, new TextEncoder().encode(JSON.stringify(result)), { exclusive: true });
    return result;
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    return readReceipt(io, location, result.partition);
  }
}

/**
 * Every receipt of one execution, ordered by partition. A missing receipt is a retryable error: a copy that
 * finished may still be publishing it (or be re-run), and committing without it would lose its rows.
 */
export async function readReceipts(io: FileIO, tableLocation: string, runId: string, execution: string, partitions: number): Promise<CopyPartitionResult[]> {
  const prefix = receiptsPrefix(tableLocation, runId, execution);
  const present = new Set<number>();
  for await (const file of io.list(prefix)) {
    const match = /^p(\d+)\.json$/.exec(file.location.slice(prefix.length));
    if (match) present.add(Number(match[1]));
  }
  const missing = Array.from({ length: partitions }, (_, i) => i).filter((i) => !present.has(i));
  if (missing.length > 0) {
    throw new IcebridgeError(
      'PARTITION_RECEIPT_MISSING',
      `${missing.length} of ${partitions} partition receipts of run ${runId} are missing (first: partition ${missing[0]})`,
      { retryable: true },
    );
  }
  const indexes = Array.from({ length: partitions }, (_, i) => i);
  return mapBounded(indexes, READ_CONCURRENCY, (i) => readReceipt(io, receiptLocation(tableLocation, runId, execution, i), i));
}

function receiptsPrefix(tableLocation: string, runId: string, execution: string): string {
  return `${tableLocation}/metadata/receipts/${executionPrefix(runId, execution)}`;
}

function partitionLabel(partition: number): string {
  return `p${String(partition).padStart(5, '0')}`;
}

async function readReceipt(io: FileIO, location: string, partition: number): Promise<CopyPartitionResult> {
  const receipt = JSON.parse(new TextDecoder().decode(await io.read(location))) as CopyPartitionResult;
  if (receipt.partition !== partition || typeof receipt.rows !== 'number' || typeof receipt.checksum !== 'string') {
    throw new IcebridgeError('PARTITION_RECEIPT_INVALID', `the receipt of partition ${partition} at ${redactLocation(location)} is not a copy result`);
  }
  return receipt;
}
