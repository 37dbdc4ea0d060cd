/**
 * The Iceberg side of verification: streams a snapshot's live rows (the compared columns, in their order) through
 * our reader, which drops the rows the snapshot's delete files delete. This is the verifier's JS hot loop; what each row feeds (row hashes, aggregates, samples, buckets)
 * is the caller's.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FileIO } from '../../iceberg/io/file-io';
import { type FileScanTask, planScan, readScan } from '../../iceberg/scan/table-scan';
import type { Expression } from '../../iceberg/spec/expressions';
import type { TableMetadata } from '../../iceberg/spec/table-metadata';
import type { Row } from '../../iceberg/spec/values';
import type { ComparedColumn } from './compared-columns';

/** Which rows of the table to stream. */
export interface TargetScanOptions {
  /** The snapshot read; undefined: the table has none and nothing is streamed. */
  snapshotId: bigint | undefined;
  /** Only rows matching this (files that cannot match are skipped). */
  filter?: Expression;
  /** Only the data files of group `group` of `groups` (groupFiles over filesInOrder): a scan range's share. */
  files?: { group: number; groups: number };
}

/** A snapshot's data files in path order: the order scan ranges number them in, whatever the manifests' order. */
export function filesInOrder(tasks: readonly FileScanTask[]): FileScanTask[] {
  return [...tasks].sort((a, b) => (a.dataFile.filePath < b.dataFile.filePath ? -1 : a.dataFile.filePath > b.dataFile.filePath ? 1 : 0));
}

/** Streams the snapshot's rows as our reader returns them; a row is valid until `visit` returns (scanTargetBatches). */
export async function scanTarget(
  io: FileIO,
  metadata: TableMetadata,
  columns: readonly ComparedColumn[],
  options: TargetScanOptions,
  visit: (row: Row) => void,
): Promise<void> {
  await scanTargetBatches(io, metadata, columns, options, (rows) => {
    for (const row of rows) visit(row);
  });
}

/**
 * Streams the snapshot's rows as our reader returns them, in the reader's batches. A batch's rows are valid until
 * `visit` returns: the next batch reuses their arrays, so `visit` keeps values, never a row.
 */
export async function scanTargetBatches(
  io: FileIO,
  metadata: TableMetadata,
  columns: readonly ComparedColumn[],
  options: TargetScanOptions,
  visit: (rows: readonly Row[]) => void,
): Promise<void> {
  if (options.snapshotId === undefined || columns.length === 0) return;
  const plan = await planScan(io, metadata, {
    snapshotId: options.snapshotId,
    columns: columns.map((c) => c.name),
    ...(options.filter ? { filter: options.filter } : {}),
  });
  if (options.files !== undefined) {
    // Without a filter every live file is planned, so each range of a pinned snapshot groups the same list. Each
    // task carries its delete files, so a range drops its files' deleted rows itself; groups are sized by record
    // counts, deleted rows included, which only skews their balance.
    const ordered = filesInOrder(plan.tasks);
    const group = groupFiles(
      ordered.map((t) => Number(t.dataFile.recordCount)),
      options.files.groups,
    )[options.files.group];
    plan.tasks = group === undefined ? [] : ordered.slice(group.fromFile, group.toFile);
  }
  let turn = performance.now();
  // Every consumer of these rows (hashes, canonical texts, aggregates, samples) takes a safe integer as a number
  // or a bigint alike; numbers spare a BigInt per 64-bit value. Each is done with a batch when `visit` returns and
  // keeps values, never a row, so the reader hands out the same row arrays for every batch.
  for await (const batch of readScan(io, plan, { safeIntegers: true, reuseRows: true })) {
    visit(batch);
    // Batches follow each other without a turn of the event loop while a file's bytes are in memory: without
    // one every few milliseconds, the other ranges' PostgreSQL queries would wait to be sent, and their
    // results to be read, until this scan reached its next file.
    if (performance.now() - turn > YIELD_EVERY_MS) {
      await nextTurn();
      turn = performance.now();
    }
  }
}

/**
 * Splits files (their record counts, in order) into at most `count` consecutive groups of about equal records:
 * each group closes once it holds its share of the records not yet grouped. Never empty groups.
 */
export function groupFiles(records: readonly number[], count: number): Array<{ fromFile: number; toFile: number }> {
  const out: Array<{ fromFile: number; toFile: number }> = [];
  let left = records.reduce((n, r) => n + r, 0);
  let from = 0;
  let rows = 0;
  for (let i = 0; i < records.length; i++) {
    rows += records[i]!;
    const groupsLeft = count - out.length;
    if (groupsLeft > 1 && rows >= left / groupsLeft && i < records.length - 1) {
      out.push({ fromFile: from, toFile: i + 1 });
      left -= rows;
      rows = 0;
      from = i + 1;
    }
  }
  if (from < records.length) out.push({ fromFile: from, toFile: records.length });
  return out;
}

/** How long a scan runs at most before it lets the event loop take a turn. */
const YIELD_EVERY_MS = 10;
