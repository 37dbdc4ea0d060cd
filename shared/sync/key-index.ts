/**
 * The key index of a table under change capture: the canonical text of a row's key → where the row lives (data
 * file and position), which is what a position delete names. Built once by scanning the key columns with
 * positions, then kept in step with the table by the applier after each commit. A keyless table (REPLICA
 * IDENTITY FULL) is keyed by the whole row, and one key may then live at several places (a multiset).
 */
import { ValidationError } from '../errors';
import type { FileIO } from '../iceberg/io/file-io';
import { readDataFile } from '../iceberg/parquet/parquet-reader';
import { planScan, readScanPositions } from '../iceberg/scan/table-scan';
import type { DataFile } from '../iceberg/spec/manifest';
import { type Schema } from '../iceberg/spec/schema';
import { type TableMetadata, currentSchema } from '../iceberg/spec/table-metadata';
import type { Row, Value } from '../iceberg/spec/values';
import { type CanonicalFormatter, canonicalFormatter } from '../verify/canonical/canonical-text';

/** Where one row lives: a data file (by its number in the index's file list) and the row's position in it. */
export interface RowLocation {
  file: number;
  pos: number;
}

/** A data file the index points into, with what a delete file for it must carry. */
export interface IndexedFile {
  path: string;
  specId: number;
  partition: Value[];
}

/** Turns the key columns of a row (in the table's column order) into the key's canonical text. */
export type KeyText = (row: readonly Value[]) => string;

/** The canonical key text over `columns` (indexes into the table's columns) of a table of `schema`. */
export function keyTextOf(schema: Schema, columns: readonly number[]): KeyText {
  const formatters: CanonicalFormatter[] = columns.map((c) => {
    const field = schema.fields[c];
    if (!field) throw new ValidationError(`key column ${c} is outside the table's ${schema.fields.length} columns`);
    return canonicalFormatter(field.type);
  });
  // JSON of the canonical texts: no separator inside a value can make two keys equal, and null stays apart from 'null'.
  return (row) => JSON.stringify(columns.map((c, i) => formatters[i]!(row[c] ?? null)));
}

/**
 * Key → locations, all in memory: measured about 160 MB of heap per million bigint keys and 230 MB per million
 * 36-character text keys (the key text, a map entry and a one-element array of locations each; file paths held once).
 */
export class KeyIndex {
  private readonly entries = new Map<string, RowLocation[]>();
  private readonly files: IndexedFile[] = [];
  private readonly fileNumbers = new Map<string, number>();

  constructor(
    /** Indexes of the key columns in the table's column order (every column for a keyless table). */
    readonly keyColumns: readonly number[],
    /** The canonical key text of a full row. */
    readonly keyText: KeyText,
  ) {}

  /** Keys held (a multiset's repeated keys counted once). */
  get size(): number {
    return this.entries.size;
  }

  /** Rows held, repeats of a key counted. */
  get rows(): number {
    let n = 0;
    for (const locations of this.entries.values()) n += locations.length;
    return n;
  }

  /** The places a key lives, oldest first; empty when the table does not hold it. */
  locations(key: string): readonly RowLocation[] {
    return this.entries.get(key) ?? [];
  }

  /** The data file a location points into. */
  file(location: RowLocation): IndexedFile {
    const file = this.files[location.file];
    if (!file) throw new ValidationError(`the key index has no data file ${location.file}`);
    return file;
  }

  /** Records that the row with `key` lives at `pos` in `file`. */
  add(key: string, file: IndexedFile, pos: number): void {
    let number = this.fileNumbers.get(file.path);
    if (number === undefined) {
      number = this.files.length;
      this.files.push(file);
      this.fileNumbers.set(file.path, number);
    }
    const location = { file: number, pos };
    const known = this.entries.get(key);
    if (known) known.push(location);
    else this.entries.set(key, [location]);
  }

  /** Forgets the first `count` locations of `key` (the ones the applier deleted, oldest first). */
  remove(key: string, count: number): void {
    const known = this.entries.get(key);
    if (!known || known.length < count) throw new ValidationError(`the key index holds ${known?.length ?? 0} row(s) of key ${key}, not ${count}`);
    if (known.length === count) this.entries.delete(key);
    else known.splice(0, count);
  }

  /** Forgets everything (the table was truncated). */
  clear(): void {
    this.entries.clear();
    this.files.length = 0;
    this.fileNumbers.clear();
  }

  /**
   * Indexes files just added to the table (of spec `specId`): no delete applies to them yet, so every row is
   * live and its position is its order in the file. Only the key columns are read.
   */
  async addFiles(io: FileIO, metadata: TableMetadata, dataFiles: readonly DataFile[], specId: number): Promise<void> {
    const schema = currentSchema(metadata);
    const projection: Schema = { ...schema, fields: this.keyColumns.map((c) => schema.fields[c]!) };
    const wide: Value[] = new Array<Value>(schema.fields.length).fill(null);
    for (const dataFile of dataFiles) {
      const file: IndexedFile = { path: dataFile.filePath, specId, partition: dataFile.partition };
      let pos = 0;
      for await (const batch of readDataFile(io, dataFile.filePath, projection)) {
        for (const row of batch) {
          this.keyColumns.forEach((c, k) => (wide[c] = row[k] ?? null));
          this.add(this.keyText(wide), file, pos++);
        }
      }
    }
  }
}

/**
 * Builds the index of a table's current snapshot by scanning its key columns with positions. `keyColumns` are
 * indexes into the table's columns; every column for a keyless table.
 */
export async function buildKeyIndex(io: FileIO, metadata: TableMetadata, keyColumns: readonly number[]): Promise<KeyIndex> {
  const index = new KeyIndex(keyColumns, keyTextOf(currentSchema(metadata), keyColumns));
  await indexRows(index, io, metadata);
  return index;
}

/** Adds the live rows of the current snapshot's data files. */
async function indexRows(index: KeyIndex, io: FileIO, metadata: TableMetadata): Promise<void> {
  const schema = currentSchema(metadata);
  const names = index.keyColumns.map((c) => schema.fields[c]!.name);
  const plan = await planScan(io, metadata, { columns: names });
  // The scan returns the key columns only, in key order: spread them back to their table positions for keyText.
  const wide: Value[] = new Array<Value>(schema.fields.length).fill(null);
  for await (const { task, rows, positions } of readScanPositions(io, plan)) {
    const file: IndexedFile = { path: task.dataFile.filePath, specId: task.specId, partition: task.dataFile.partition };
    rows.forEach((row: Row, i) => {
      index.keyColumns.forEach((c, k) => (wide[c] = row[k] ?? null));
      index.add(index.keyText(wide), file, positions[i]!);
    });
  }
}
