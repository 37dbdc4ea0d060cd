/**
 * Reading a table: pick the snapshot (current, by id, or as of a time), prune manifests by their partition
 * summaries, prune files by partition values and column metrics, attach to each surviving data file the delete
 * files that apply to it, then read the data files by field id, drop deleted rows and apply the filter to each row.
 */
import { ValidationError } from '../../errors';
import type { FileIO } from '../io/file-io';
import { type ReadDataFileOptions, readDataFile } from '../parquet/parquet-reader';
import {
  type ColumnMetrics,
  InclusiveMetricsEvaluator,
  StrictMetricsEvaluator,
  compilePartitionFilter,
  compileRowFilter,
  manifestMightMatch,
  projectInclusive,
} from '../spec/evaluators';
import { ALWAYS_TRUE, type Expression } from '../spec/expressions';
import { type DeleteFileEntry, isUnpartitioned } from '../spec/delete-files';
import { type DataFile, DataFileContent, type FieldSummary, ManifestContent, ManifestEntryStatus, type ManifestFile } from '../spec/manifest';
import { partitionType } from '../spec/partition-type';
import { type Schema, indexFields } from '../spec/schema';
import type { Snapshot } from '../spec/snapshot';
import { type TableMetadata, currentSchema, currentSnapshot, schemaById, snapshotAsOf, snapshotById, specById } from '../spec/table-metadata';
import type { Row } from '../spec/values';
import { manifestEntries, snapshotManifests } from '../transaction/manifest-files';
import { DeleteFileIndex, DeleteLoader } from './delete-filter';

/** What to read. */
export interface ScanOptions {
  /** Read this snapshot instead of the current one. */
  snapshotId?: bigint;
  /** Read the snapshot that was current at this time (time travel). */
  asOfTimestampMs?: number;
  /** Rows must match this (bound by field id); files and manifests that cannot match are skipped. */
  filter?: Expression;
  /** Top-level column names to return, in this order; all columns when absent. */
  columns?: string[];
}

/** One data file to read. */
export interface FileScanTask {
  dataFile: DataFile;
  specId: number;
  /** Data sequence number of the file. */
  sequenceNumber: bigint;
  /** The delete files that apply to this data file (empty when none does). */
  deletes: DeleteFileEntry[];
}

/** The planned scan: the snapshot, the schema rows come back in, and the files to read. */
export interface ScanPlan {
  snapshot: Snapshot | undefined;
  /** Schema of the snapshot (time travel reads with the schema of its time), projected to `columns`. */
  schema: Schema;
  tasks: FileScanTask[];
  /** The output schema plus columns only the filter or the equality deletes need. */
  readSchema: Schema;
  /** The row filter, applied exactly to every row read. */
  filter: Expression;
  /** Manifests and files skipped by pruning, for diagnostics and tests. */
  skipped: { manifests: number; files: number };
}

/** Chooses the snapshot a scan reads. */
export function selectSnapshot(metadata: TableMetadata, options: Pick<ScanOptions, 'snapshotId' | 'asOfTimestampMs'>): Snapshot | undefined {
  if (options.snapshotId !== undefined && options.asOfTimestampMs !== undefined) {
    throw new ValidationError('choose a snapshot id or a timestamp, not both');
  }
  if (options.snapshotId !== undefined) {
    const snapshot = snapshotById(metadata, options.snapshotId);
    if (!snapshot) throw new ValidationError(`snapshot ${options.snapshotId} does not exist`);
    return snapshot;
  }
  if (options.asOfTimestampMs !== undefined) {
    const snapshot = snapshotAsOf(metadata, options.asOfTimestampMs);
    if (!snapshot) throw new ValidationError(`the table has no snapshot as of ${new Date(options.asOfTimestampMs).toISOString()}`);
    return snapshot;
  }
  return currentSnapshot(metadata);
}

/** Plans which data files a scan must read. */
export async function planScan(io: FileIO, metadata: TableMetadata, options: ScanOptions = {}): Promise<ScanPlan> {
  const snapshot = selectSnapshot(metadata, options);
  const isCurrent = snapshot === undefined || snapshot['snapshot-id'] === metadata['current-snapshot-id'];
  const fullSchema = !isCurrent && snapshot['schema-id'] !== undefined ? schemaById(metadata, snapshot['schema-id']) : currentSchema(metadata);
  const schema = project(fullSchema, options.columns);
  const filter = options.filter ?? ALWAYS_TRUE;
  const tasks: FileScanTask[] = [];
  const skipped = { manifests: 0, files: 0 };
  const metricsEvaluator = new InclusiveMetricsEvaluator(filter, fullSchema);
  const bySpec = new Map<number, { manifest: (m: FieldSummary[]) => boolean; partition: (p: Row) => boolean }>();
  const pruner = (specId: number) => {
    let p = bySpec.get(specId);
    if (!p) {
      const spec = specById(metadata, specId);
      const type = partitionType(spec, fullSchema);
      const projected = projectInclusive(filter, spec, fullSchema);
      const partition = compilePartitionFilter(projected, type);
      p = { manifest: (summaries) => manifestMightMatch(projected, type, summaries), partition };
      bySpec.set(specId, p);
    }
    return p;
  };
  const manifests = await snapshotManifests(io, snapshot);
  const deletes = new DeleteFileIndex(await deleteEntries(io, metadata, manifests));
  for (const manifest of manifests) {
    if (manifest.content !== ManifestContent.Data) continue;
    const p = pruner(manifest.partitionSpecId);
    if (manifest.partitions && !p.manifest(manifest.partitions)) {
      skipped.manifests++;
      continue;
    }
    for (const entry of await manifestEntries(io, manifest)) {
      if (entry.status === ManifestEntryStatus.Deleted) continue;
      if (!p.partition(entry.dataFile.partition) || !metricsEvaluator.mightMatch(entry.dataFile)) {
        skipped.files++;
        continue;
      }
      const ref = { file: entry.dataFile, specId: manifest.partitionSpecId, sequenceNumber: entry.sequenceNumber ?? 0n };
      tasks.push({ dataFile: entry.dataFile, specId: ref.specId, sequenceNumber: ref.sequenceNumber, deletes: deletes.forDataFile(ref) });
    }
  }
  const equalityIds = tasks.flatMap((t) => t.deletes.flatMap((d) => d.file.equalityIds ?? []));
  return { snapshot, schema, readSchema: withExtraColumns(schema, fullSchema, filter, equalityIds), filter, tasks, skipped };
}

/** The live delete files of a snapshot's delete manifests. */
async function deleteEntries(io: FileIO, metadata: TableMetadata, manifests: readonly ManifestFile[]): Promise<DeleteFileEntry[]> {
  const out: DeleteFileEntry[] = [];
  for (const manifest of manifests) {
    if (manifest.content !== ManifestContent.Deletes) continue;
    const global = isUnpartitioned(specById(metadata, manifest.partitionSpecId));
    for (const entry of await manifestEntries(io, manifest)) {
      if (entry.status === ManifestEntryStatus.Deleted) continue;
      const content = entry.dataFile.content;
      if (content !== DataFileContent.PositionDeletes && content !== DataFileContent.EqualityDeletes) {
        throw new ValidationError(`delete manifest ${manifest.manifestPath} lists ${entry.dataFile.filePath} with content ${String(content)}`);
      }
      out.push({ file: entry.dataFile, sequenceNumber: entry.sequenceNumber ?? 0n, specId: manifest.partitionSpecId, global });
    }
  }
  return out;
}

/** Options of readScan: how the data files' values are read (ReadDataFileOptions). */
export type ReadScanOptions = Pick<ReadDataFileOptions, 'safeIntegers' | 'reuseRows'>;

/** Reads the rows of a planned scan in batches, deleted rows dropped, filtered exactly, with columns in the plan's schema order. */
export async function* readScan(io: FileIO, plan: ScanPlan, options: ReadScanOptions = {}): AsyncIterable<Row[]> {
  const rowFilter = plan.filter.op === 'true' ? undefined : compileRowFilter(plan.filter, plan.readSchema);
  // A file whose metrics prove that every row matches (a key range's files, cut at their key bounds) is not filtered row by row.
  const strict = rowFilter && new StrictMetricsEvaluator(plan.filter, plan.readSchema);
  const inclusive = rowFilter && new InclusiveMetricsEvaluator(plan.filter, plan.readSchema);
  const keepRowGroup = inclusive && ((metrics: ColumnMetrics) => inclusive.mightMatch(metrics));
  const extra = plan.readSchema.fields.length - plan.schema.fields.length;
  const loader = new DeleteLoader(io, plan.readSchema);
  for (const task of plan.tasks) {
    const filter = strict?.mustMatch(task.dataFile) ? undefined : rowFilter;
    // A file the filter cuts through skips the row groups whose statistics rule the filter out: a key range reads
    // only its end of a file whose keys reach past the range.
    for await (const batch of readTask(io, task, plan.readSchema, loader, options, filter && keepRowGroup)) {
      const rows = filter ? batch.filter(filter) : batch;
      if (rows.length > 0) yield extra === 0 ? rows : rows.map((r) => r.slice(0, r.length - extra));
    }
  }
}

/**
 * One data file's rows as `schema` (which holds its equality-delete columns), deleted rows dropped. Row groups
 * `keepRowGroup` rules out are skipped, unless deletes apply to the file: they name rows by position in it.
 */
async function* readTask(
  io: FileIO,
  task: FileScanTask,
  schema: Schema,
  loader: DeleteLoader,
  options: ReadScanOptions,
  keepRowGroup?: ReadDataFileOptions['keepRowGroup'],
): AsyncIterable<Row[]> {
  const keep = await loader.keeper(task.dataFile.filePath, task.deletes);
  let position = 0;
  const read = keep === undefined && keepRowGroup !== undefined ? { ...options, keepRowGroup } : options;
  // Equality deletes match rows by keys in which a safe integer reads the same as a number or a bigint (delete-filter.ts).
  for await (const batch of readDataFile(io, task.dataFile.filePath, schema, read)) {
    if (!keep) {
      yield batch;
      continue;
    }
    const kept: Row[] = [];
    for (const row of batch) if (keep(row, position++)) kept.push(row);
    if (kept.length > 0) yield kept;
  }
}

/** Live rows of one data file with their positions in it (what a position delete names). */
export interface PositionedRows {
  task: FileScanTask;
  rows: Row[];
  /** Position of each row of `rows` within the data file, counting deleted rows too. */
  positions: number[];
}

/** Reads an unfiltered plan like readScan, keeping each live row's position in its data file. */
export async function* readScanPositions(io: FileIO, plan: ScanPlan): AsyncIterable<PositionedRows> {
  if (plan.filter.op !== 'true') throw new ValidationError('readScanPositions reads an unfiltered scan');
  const extra = plan.readSchema.fields.length - plan.schema.fields.length;
  const loader = new DeleteLoader(io, plan.readSchema);
  for (const task of plan.tasks) {
    const keep = await loader.keeper(task.dataFile.filePath, task.deletes);
    let position = 0;
    for await (const batch of readDataFile(io, task.dataFile.filePath, plan.readSchema)) {
      const rows: Row[] = [];
      const positions: number[] = [];
      for (const row of batch) {
        const at = position++;
        if (keep && !keep(row, at)) continue;
        rows.push(extra === 0 ? row : row.slice(0, row.length - extra));
        positions.push(at);
      }
      if (rows.length > 0) yield { task, rows, positions };
    }
  }
}

/**
 * The rows a planned scan would return, without the filter: record counts where no delete applies, record count
 * minus the distinct deleted positions where only position deletes do, and the rows read where equality deletes do.
 * The plan must be unfiltered (a filter's rows can only be counted by reading them).
 */
export async function countScanRows(io: FileIO, plan: ScanPlan): Promise<bigint> {
  if (plan.filter.op !== 'true') throw new ValidationError('countScanRows counts an unfiltered scan');
  const loader = new DeleteLoader(io, plan.readSchema);
  let total = 0n;
  for (const task of plan.tasks) {
    const records = task.dataFile.recordCount;
    if (task.deletes.length === 0) total += records;
    else if (task.deletes.every((d) => d.file.content === DataFileContent.PositionDeletes)) {
      const positions = await loader.deletedPositions(task.dataFile.filePath, task.deletes);
      let deleted = 0n;
      for (const pos of positions) if (pos < records) deleted++;
      total += records - deleted;
    } else {
      for await (const batch of readTask(io, task, plan.readSchema, loader, {})) total += BigInt(batch.length);
    }
  }
  return total;
}

/** Plans and reads a table in one call; collects every row (for tests and small tables). */
export async function scanToArray(io: FileIO, metadata: TableMetadata, options: ScanOptions = {}): Promise<Row[]> {
  const plan = await planScan(io, metadata, options);
  const out: Row[] = [];
  for await (const batch of readScan(io, plan)) out.push(...batch);
  return out;
}

function project(schema: Schema, columns: string[] | undefined): Schema {
  if (!columns) return schema;
  const fields = columns.map((name) => {
    const field = schema.fields.find((f) => f.name === name);
    if (!field) throw new ValidationError(`column ${name} does not exist; columns are ${schema.fields.map((f) => f.name).join(', ')}`);
    return field;
  });
  return { ...schema, fields };
}

/** The projection plus any top-level columns the filter or the equality deletes need (read, tested, then sliced off). */
function withExtraColumns(projected: Schema, full: Schema, filter: Expression, equalityIds: readonly number[]): Schema {
  const wanted = new Set<number>(equalityIds);
  const visit = (e: Expression): void => {
    if ('fieldId' in e) wanted.add(e.fieldId);
    else if ('left' in e) {
      visit(e.left);
      visit(e.right);
    } else if ('child' in e) visit(e.child);
  };
  visit(filter);
  if (wanted.size === 0) return projected;
  const present = new Set(projected.fields.map((f) => f.id));
  const extra = full.fields.filter((f) => !present.has(f.id) && [...indexFields({ type: 'struct', fields: [f] }).keys()].some((id) => wanted.has(id)));
  return extra.length === 0 ? projected : { ...projected, fields: [...projected.fields, ...extra] };
}
