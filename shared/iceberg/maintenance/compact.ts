/**
 * Compaction: read the data files that have row-level deletes (and small files, where enough of them sit in one
 * partition) with their deletes applied, write their live rows again through the table writer, and commit the
 * new files in place of the old ones and their deletes in ONE `replace` snapshot. Readers then read fewer files
 * and no delete files; the table's rows do not change. A concurrent commit that would make them change fails the
 * commit (rewrite-files.ts), and the whole compaction is then planned again from the new snapshot.
 */
import { randomUUID } from 'node:crypto';
import { CommitStateUnknownError, ValidationError } from '../../errors';
import type { Catalog } from '../catalog/catalog';
import type { TableIdentifier } from '../catalog/table-identifier';
import { DeleteLoader } from '../scan/delete-filter';
import { type FileScanTask, type ScanPlan, countScanRows, planScan, readScan } from '../scan/table-scan';
import { POSITION_DELETE_SCHEMA } from '../spec/delete-files';
import { type DataFile, DataFileContent } from '../spec/manifest';
import { currentSnapshot } from '../spec/table-metadata';
import type { PrimitiveValue } from '../spec/values';
import { liveFiles } from '../transaction/manifest-files';
import { TableWriter } from '../writer/table-writer';
import { RewriteConflictError, rewriteFiles } from './rewrite-files';

/** Default size of the files compaction writes, as the copy's (128 MiB). */
export const DEFAULT_COMPACT_TARGET_FILE_SIZE_IN_BYTES = 128 * 1024 * 1024;

/** Options of compactTable. */
export interface CompactOptions {
  /** Size at which a new file is started (default 128 MiB). */
  targetFileSizeInBytes?: number;
  /** A data file smaller than this is small (default three quarters of the target size). */
  smallFileSizeInBytes?: number;
  /** Small files of one partition are merged only when there are at least this many (default 5). */
  minSmallFiles?: number;
  /** Summary properties a reader of the current snapshot relies on, carried over from the snapshot replaced. */
  carriedProperties?: readonly string[];
  /** Plans from scratch after a conflicting concurrent commit, this many times at most (default 3). */
  maxPlans?: number;
  /** Commit retry settings (tests pass a sleep that does not wait). */
  sleep?: (ms: number) => Promise<void>;
}

/** A table's files at a moment. */
export interface TableFileFigures {
  dataFiles: number;
  deleteFiles: number;
  /** Live rows (deletes applied). */
  rows: bigint;
  /** Bytes of data and delete files. */
  bytes: bigint;
}

/** What compactTable did. */
export interface CompactResult {
  /** False when nothing needed rewriting (no deletes, too few small files). */
  compacted: boolean;
  snapshotId?: bigint;
  before: TableFileFigures;
  after: TableFileFigures;
  rewrittenDataFiles: number;
  addedDataFiles: number;
  /** Times the compaction was planned (more than 1 after a conflicting concurrent commit). */
  plans: number;
  elapsedMs: number;
}

/** Rewrites the table's data files that have deletes, and merges its small files, in one `replace` snapshot. */
export async function compactTable(catalog: Catalog, id: TableIdentifier, options: CompactOptions = {}): Promise<CompactResult> {
  const started = Date.now();
  const maxPlans = options.maxPlans ?? 3;
  for (let plans = 1; ; plans++) {
    try {
      const result = await compactOnce(catalog, id, options);
      return { ...result, plans, elapsedMs: Date.now() - started };
    } catch (error) {
      if (!(error instanceof RewriteConflictError) || plans >= maxPlans) throw error;
    }
  }
}

type Attempt = Omit<CompactResult, 'plans' | 'elapsedMs'>;

async function compactOnce(catalog: Catalog, id: TableIdentifier, options: CompactOptions): Promise<Attempt> {
  const target = options.targetFileSizeInBytes ?? DEFAULT_COMPACT_TARGET_FILE_SIZE_IN_BYTES;
  if (!Number.isInteger(target) || target <= 0) throw new ValidationError(`the target file size must be a positive number of bytes, not ${target}`);
  const { metadata } = await catalog.loadTable(id);
  const snapshot = currentSnapshot(metadata);
  const plan = await planScan(catalog.io, metadata);
  const { deletes } = await liveFiles(catalog.io, snapshot);
  const loader = new DeleteLoader(catalog.io, POSITION_DELETE_SCHEMA);
  const chosen = await choose(plan.tasks, loader, {
    small: options.smallFileSizeInBytes ?? Math.floor((target * 3) / 4),
    minSmall: Math.max(2, options.minSmallFiles ?? 5),
  });
  const before = await figures(
    catalog,
    plan,
    deletes.map((d) => d.entry.dataFile),
  );
  if (snapshot === undefined || chosen.length === 0) return { compacted: false, before, after: before, rewrittenDataFiles: 0, addedDataFiles: 0 };

  const writer = new TableWriter({ io: catalog.io, metadata, filePrefix: `compact-${randomUUID()}`, targetFileSizeInBytes: target });
  let written: DataFile[] = [];
  let rows = 0n;
  try {
    for await (const batch of readScan(catalog.io, { ...plan, tasks: chosen })) {
      rows += BigInt(batch.length);
      await writer.writeRows(batch);
    }
    written = await writer.close();
  } catch (error) {
    await writer.abort();
    await removeFiles(catalog, written);
    throw error;
  }
  const expected = await countScanRows(catalog.io, { ...plan, tasks: chosen });
  const out = written.reduce((n, f) => n + f.recordCount, 0n);
  if (rows !== expected || out !== expected) {
    await removeFiles(catalog, written);
    throw new ValidationError(`compaction read ${rows} and wrote ${out} rows where the rewritten files hold ${expected} live rows; nothing was committed`);
  }
  try {
    const result = await rewriteFiles(catalog, id, {
      startingSnapshotId: snapshot['snapshot-id'],
      rewrittenDataFiles: new Set(chosen.map((t) => t.dataFile.filePath)),
      startingDeleteFiles: new Set(deletes.map((d) => d.entry.dataFile.filePath)),
      dataFiles: written,
      operationId: `icebridge-compact-${randomUUID()}`,
      ...(options.carriedProperties ? { carriedProperties: options.carriedProperties } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
    const committed = result.table.metadata;
    const afterPlan = await planScan(catalog.io, committed);
    const afterDeletes = (await liveFiles(catalog.io, currentSnapshot(committed))).deletes.map((d) => d.entry.dataFile);
    return {
      compacted: true,
      snapshotId: result.snapshotId,
      before,
      after: await figures(catalog, afterPlan, afterDeletes),
      rewrittenDataFiles: chosen.length,
      addedDataFiles: written.length,
    };
  } catch (error) {
    // Known not committed: the new files are nobody's. Unknown: they may be the table's now, so they stay.
    if (!(error instanceof CommitStateUnknownError)) await removeFiles(catalog, written);
    throw error;
  }
}

/**
 * The files to rewrite: every file some delete removes rows from, and the small files of a partition that has at
 * least `minSmall` of them (a lone small file gains nothing from being written again).
 */
async function choose(tasks: readonly FileScanTask[], loader: DeleteLoader, limits: { small: number; minSmall: number }): Promise<FileScanTask[]> {
  const chosen = new Set<FileScanTask>();
  const small = new Map<string, FileScanTask[]>();
  for (const task of tasks) {
    if ((await deletedRows(task, loader)) !== 0n) chosen.add(task);
    else if (task.dataFile.fileSizeInBytes < BigInt(limits.small)) {
      const key = `${task.specId}:${task.dataFile.partition.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v as PrimitiveValue))).join('\u0000')}`;
      const list = small.get(key);
      if (list) list.push(task);
      else small.set(key, [task]);
    }
  }
  for (const list of small.values()) if (list.length >= limits.minSmall) for (const task of list) chosen.add(task);
  return tasks.filter((t) => chosen.has(t));
}

/** Rows a file's deletes remove: the distinct positions deleted, or -1 when an equality delete applies (unknown without reading). */
async function deletedRows(task: FileScanTask, loader: DeleteLoader): Promise<bigint> {
  if (task.deletes.some((d) => d.file.content === DataFileContent.EqualityDeletes)) return -1n;
  let n = 0n;
  for (const pos of await loader.deletedPositions(task.dataFile.filePath, task.deletes)) if (pos < task.dataFile.recordCount) n++;
  return n;
}

/** The table's figures from a planned scan: files, live rows (the scan's own count), bytes of data and delete files. */
async function figures(catalog: Catalog, plan: ScanPlan, deletes: readonly DataFile[]): Promise<TableFileFigures> {
  let bytes = 0n;
  for (const task of plan.tasks) bytes += task.dataFile.fileSizeInBytes;
  for (const file of deletes) bytes += file.fileSizeInBytes;
  return { dataFiles: plan.tasks.length, deleteFiles: deletes.length, rows: await countScanRows(catalog.io, plan), bytes };
}

async function removeFiles(catalog: Catalog, files: readonly DataFile[]): Promise<void> {
  await Promise.all(files.map((f) => catalog.io.delete(f.filePath).catch(() => undefined)));
}
