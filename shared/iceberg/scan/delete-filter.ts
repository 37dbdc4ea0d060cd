/**
 * Applying row-level deletes while reading: which delete files apply to a data file (an index over a snapshot's
 * delete files, by partition, then the sequence-number rules of spec/delete-files.ts), and for one data file the
 * test that drops deleted rows: its position is in a position delete file, or its equality columns equal a row of
 * an equality delete file. Each delete file is read once per scan, however many data files it applies to.
 */
import { ValidationError } from '../../errors';
import type { FileIO } from '../io/file-io';
import { readDataFile } from '../parquet/parquet-reader';
import { serializeValue } from '../spec/conversions';
import { type DataFileRef, type DeleteFileEntry, POSITION_DELETE_SCHEMA, deleteApplies, equalityDeleteSchema } from '../spec/delete-files';
import { DataFileContent } from '../spec/manifest';
import type { Schema } from '../spec/schema';
import type { PrimitiveType } from '../spec/types';
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

/** Decides, row by row in file order, whether a data file's row survives its deletes. */
export type RowKeeper = (row: Row, position: bigint) => boolean;

/** Reads delete files for one scan, each once, and builds the keeper of each data file. */
export class DeleteLoader {
  private readonly positions = new Map<string, Promise<Map<string, bigint[]>>>();
  private readonly equalities = new Map<string, Promise<Set<string>>>();

  /** `schema` holds every equality column of the deletes, at the positions rows are read with. */
  constructor(
    private readonly io: FileIO,
    private readonly schema: Schema,
  ) {}

  /** The deleted positions of one data file (sorted, distinct). */
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
    return (row, position) => !positions.has(position) && !equality.some((e) => e.keys.has(e.key(row)));
  }

  /** The key of a data row (read with this loader's schema) over some equality columns. */
  private rowKey(ids: readonly number[]): (row: Row) => string {
    const deleteSchema = equalityDeleteSchema(this.schema, ids);
    const columns = deleteSchema.fields.map((f) => ({ index: this.schema.fields.indexOf(f), type: f.type as PrimitiveType }));
    for (const c of columns) if (c.index < 0) throw new ValidationError('an equality column is missing from the rows read');
    return (row) => equalityKey(columns.map((c) => ({ type: c.type, value: row[c.index] ?? null })));
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
        const types = schema.fields.map((f) => f.type as PrimitiveType);
        const keys = new Set<string>();
        for await (const batch of readDataFile(this.io, location, schema)) {
          for (const row of batch) keys.add(equalityKey(types.map((type, i) => ({ type, value: row[i] ?? null }))));
        }
        return keys;
      })();
      this.equalities.set(cacheKey, loaded);
    }
    return loaded;
  }
}

/** A value tuple as a string that two tuples share exactly when the spec calls them equal (null equals null). */
export function equalityKey(values: ReadonlyArray<{ type: PrimitiveType; value: Value }>): string {
  return values.map(({ type, value }) => (value === null ? 'n' : `v${Buffer.from(serializeValue(type, value)).toString('hex')}`)).join(',');
}

function partitionKey(specId: number, partition: readonly Value[]): string {
  const parts = partition.map((v) => (v === null ? 'n' : v instanceof Uint8Array ? `b${Buffer.from(v).toString('hex')}` : `v${String(v as PrimitiveValue)}`));
  return `${specId}:${parts.join('\u0000')}`;
}
