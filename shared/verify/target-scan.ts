/**
 * The Iceberg side of verification: streams a snapshot's rows through our reader with each compared column's
 * canonical text (canonical.ts) and, when asked, the row text. This is the verifier's JS hot loop.
 */
import type { FileIO } from '../iceberg/io/file-io';
import { planScan, readScan } from '../iceberg/scan/table-scan';
import type { Expression } from '../iceberg/spec/expressions';
import type { TableMetadata } from '../iceberg/spec/table-metadata';
import type { Row } from '../iceberg/spec/values';
import { CanonicalRows } from './canonical';
import type { ComparedColumn } from './compared-columns';

/** Which rows of the table to stream. */
export interface TargetScanOptions {
  /** The snapshot read; undefined: the table has none and nothing is streamed. */
  snapshotId: bigint | undefined;
  /** Only rows matching this (files that cannot match are skipped). */
  filter?: Expression;
  /** Whether `visit` needs the row text (it gets '' otherwise). */
  withRowText: boolean;
}

/** Streams the snapshot's rows with their canonical values (and row text when asked for). */
export async function scanTarget(
  io: FileIO,
  metadata: TableMetadata,
  columns: readonly ComparedColumn[],
  options: TargetScanOptions,
  visit: (values: Row, canonical: Array<string | null>, rowText: string) => void,
): Promise<void> {
  if (options.snapshotId === undefined || columns.length === 0) return;
  const plan = await planScan(io, metadata, {
    snapshotId: options.snapshotId,
    columns: columns.map((c) => c.name),
    ...(options.filter ? { filter: options.filter } : {}),
  });
  const rows = new CanonicalRows(columns.map((c) => c.type));
  const withRowText = options.withRowText;
  for await (const batch of readScan(io, plan)) {
    for (const row of batch) {
      const canonical = rows.values(row);
      visit(row, canonical, withRowText ? rows.text(canonical) : '');
    }
  }
}
