/**
 * Applying row-level deletes while reading: which delete files apply to a data file (an index over a snapshot's
 * delete files, by partition, then the sequence-number rules of spec/delete-files.ts), and for one data file the
 * test that drops deleted rows: its position is in a position delete file, or its equality columns equal a row of
 * an equality delete file. Each delete file is read once per scan, however many data files it applies to.
 */
import { ValidationError } from '../../errors';
import type { FileIO } from '../io/file-io';
import { readDataFile } from '../parquet/parquet-reader';
import { type DataFileRef, type DeleteFileEntry, POSITION_DELETE_SCHEMA, deleteApplies, equalityDeleteSchema } from '../spec/delete-files';
import { DataFileContent } from '../spec/manifest';
import type { Schema } from '../spec/schema';
import type { PrimitiveValue, Row, Value } from '../spec/values';

/** The delete files of a snapshot, found by the data file they may apply to. */
export class DeleteFileIndex {
  private readonly global: DeleteFileEntry[] = [];
  private readonly byPartition = new Map<string, DeleteFileEntry[]>();

  constructor(entries: readonly DeleteFileEntry[]) {
    for (const entry of entries) {
      if (entry.global) this.global.push(entry);
      else {
        const key = partitionKey(entry.specId, entry.file.partition);
        const list = this.byPartition.get(key);
        if (list) list.push(entry);
        else this.byPartition.set(key, [entry]);
      }
    }
  }

  /** Whether the snapshot has any delete file. */
  get isEmpty(): boolean {
    return this.global.length === 0 && this.byPartition.size === 0;
  }

  /** The delete files that apply to a data file. */
  forDataFile(data: DataFileRef): DeleteFileEntry[] {
    const local = this.byPartition.get(partitionKey(data.specId, data.file.partition)) ?? [];
    return [...this.global, ...local].filter((d) => deleteApplies(d, data));
  }
}

/** Decides whether a data file's row survives its deletes; called for every row in file order (positions from 0 up). */
export type RowKeeper = (row: Row, position: number) => boolean;

/** Reads delete files for one scan, each once, and builds the keeper of each data file. */
export class DeleteLoader {
  private readonly positions = new Map<string, Promise<Map<string, bigint[]>>>();
  private readonly equalities = new Map<string, Promise<Set<string>>>();

  /** `schema` holds every equality column of the deletes, at the positions rows are read with. */
  constructor(
    private readonly io: FileIO,
    private readonly schema: Schema,
  ) {}

  /** The distinct deleted positions of one data file. */
  async deletedPositions(dataFilePath: string, deletes: readonly DeleteFileEntry[]): Promise<Set<bigint>> {
    const out = new Set<bigint>();
    for (const d of deletes) {
      if (d.file.content !== DataFileContent.PositionDeletes) continue;
      for (const pos of (await this.positionFile(d.file.filePath)).get(dataFilePath) ?? []) out.add(pos);
    }
    return out;
  }

  /** The keeper of a data file, or undefined when no delete applies to it. */
  async keeper(dataFilePath: string, deletes: readonly DeleteFileEntry[]): Promise<RowKeeper | undefined> {
    if (deletes.length === 0) return undefined;
    const positions = await this.deletedPositions(dataFilePath, deletes);
    const equality: Array<{ key: (row: Row) => string; keys: Set<string> }> = [];
    for (const d of deletes) {
      if (d.file.content !== DataFileContent.EqualityDeletes) continue;
      const ids = d.file.equalityIds ?? [];
      equality.push({ key: this.rowKey(ids), keys: await this.equalityFile(d.file.filePath, ids) });
    }
    if (positions.size === 0 && equality.length === 0) return undefined;
    // Rows come in position order, so a cursor over the sorted positions replaces a look-up per row. Positions fit
    // a double exactly: no file holds 2^53 rows.
    const deleted = [...positions].map(Number).sort((a, b) => a - b);
    let next = 0;
    const byPosition = (position: number): boolean => {
      while (next < deleted.length && deleted[next]! < position) next++;
      return next < deleted.length && deleted[next] === position;
    };
    if (equality.length === 0) return (_row, position) => !byPosition(position);
    return (row, position) => !byPosition(position) && !equality.some((e) => e.keys.has(e.key(row)));
  }

  /** The key of a data row (read with this loader's schema) over some equality columns. */
  private rowKey(ids: readonly number[]): (row: Row) => string {
    const deleteSchema = equalityDeleteSchema(this.schema, ids);
    const columns = deleteSchema.fields.map((f) => this.schema.fields.indexOf(f));
    if (columns.some((index) => index < 0)) throw new ValidationError('an equality column is missing from the rows read');
    if (columns.length === 1) {
      const only = columns[0]!;
      return (row) => valueKey(row[only] ?? null);
    }
    return (row) => equalityKey(columns.map((index) => row[index] ?? null));
  }

  private positionFile(location: string): Promise<Map<string, bigint[]>> {
    let loaded = this.positions.get(location);
    if (!loaded) {
      loaded = (async () => {
        const byFile = new Map<string, bigint[]>();
        for await (const batch of readDataFile(this.io, location, POSITION_DELETE_SCHEMA)) {
          for (const [path, pos] of batch) {
            if (typeof path !== 'string' || typeof pos !== 'bigint') throw new ValidationError(`${location}: a position delete without file_path or pos`);
            const list = byFile.get(path);
            if (list) list.push(pos);
            else byFile.set(path, [pos]);
          }
        }
        return byFile;
      })();
      this.positions.set(location, loaded);
    }
    return loaded;
  }

  private equalityFile(location: string, ids: readonly number[]): Promise<Set<string>> {
    const cacheKey = `${ids.join(',')}\u0000${location}`;
    let loaded = this.equalities.get(cacheKey);
    if (!loaded) {
      loaded = (async () => {
        const schema = equalityDeleteSchema(this.schema, ids);
        const keys = new Set<string>();
        for await (const batch of readDataFile(this.io, location, schema)) {
          for (const row of batch) keys.add(schema.fields.length === 1 ? valueKey(row[0] ?? null) : equalityKey(row));
        }
        return keys;
      })();
      this.equalities.set(cacheKey, loaded);
    }
    return loaded;
  }
}

/**
 * A tuple of one equality delete's columns as a string two tuples share exactly when the spec calls them equal
 * (null equals null). Both sides are read with the same projection, so each column has one value representation.
 */
export function equalityKey(values: readonly Value[]): string {
  return values.map((v) => valueKey(v ?? null)).join(',');
}

/** One primitive value as a key: strings quoted (so no separator inside one is ambiguous), bytes as hex, -0 kept apart from 0. */
function valueKey(value: Value): string {
  if (value === null) return 'n';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Uint8Array) return `x${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  throw new ValidationError('an equality delete column must be primitive');
}

function partitionKey(specId: number, partition: readonly Value[]): string {
  const parts = partition.map((v) => (v === null ? 'n' : v instanceof Uint8Array ? `b${Buffer.from(v).toString('hex')}` : `v${String(v as PrimitiveValue)}`));
  return `${specId}:${parts.join('\u0000')}`;
}
