/**
 * The key index of a table under change capture: a row's key → where the row lives (data
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
import { IntegerLocations } from './integer-locations';

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

/**
 * A key as the index holds it: the value itself for a one-column integer or text key (no text to build, and a map
 * lookup by number hashes no string), the canonical text of the key columns otherwise (composite keys, keyless rows).
 * Integers within ±2^53 are held as numbers, larger ones as bigints, so one value always gives one key.
 */
export type IndexKey = string | number | bigint | null;

/** Turns the key columns of a row (in the table's column order) into the key the index holds. */
export type KeyText = (row: readonly Value[]) => IndexKey;

const INTEGER_TYPES: ReadonlySet<unknown> = new Set(['int', 'long', 'date', 'time', 'timestamp', 'timestamptz']);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The key over `columns` (indexes into the table's columns) of a table of `schema`. */
export function keyTextOf(schema: Schema, columns: readonly number[]): KeyText {
  const formatters: CanonicalFormatter[] = columns.map((c) => {
    const field = schema.fields[c];
    if (!field) throw new ValidationError(`key column ${c} is outside the table's ${schema.fields.length} columns`);
    return canonicalFormatter(field.type);
  });
  if (columns.length === 1) {
    const c = columns[0]!;
    const type = schema.fields[c]!.type;
    if (INTEGER_TYPES.has(type)) return (row) => integerKey(row[c] ?? null);
    if (type === 'string') return (row) => textKey(row[c] ?? null);
  }
  // JSON of the canonical texts: no separator inside a value can make two keys equal, and null stays apart from 'null'.
  return (row) => JSON.stringify(columns.map((c, i) => formatters[i]!(row[c] ?? null)));
}

function integerKey(value: Value): IndexKey {
  if (typeof value === 'number' || value === null) return value;
  if (typeof value === 'bigint') return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value;
  throw new ValidationError(`an integer key column holds a ${typeof value}`);
}

function textKey(value: Value): IndexKey {
  if (typeof value === 'string' || value === null) return value;
  throw new ValidationError(`a text key column holds a ${typeof value}`);
}

/** A key for messages, bounded by the caller. */
export function keyDisplay(key: IndexKey): string {
  return key === null ? 'null' : String(key);
}

const INITIAL_SLOTS = 1024;

/**
 * Key → locations, all in memory. An integer key's one location is in an open-addressing table of typed arrays;
 * another key's one location is a slot of two typed arrays (file number, position), the map holding only the
 * slot's number: no object per row for the collector to trace. A key living at several places (a keyless table's
 * repeated rows) holds its locations in an array in the map instead, oldest first.
 */
export class KeyIndex {
  private readonly entries = new Map<IndexKey, number | RowLocation[]>();
  /** Number keys with one location; a number key is here or in `entries`, never in both. */
  private integers = new IntegerLocations();
  private readonly files: IndexedFile[] = [];
  private readonly fileNumbers = new Map<string, number>();
  private slotFile = new Int32Array(INITIAL_SLOTS);
  private slotPos = new Float64Array(INITIAL_SLOTS);
  private slotsUsed = 0;
  private readonly freeSlots: number[] = [];
  private rowCount = 0;

  constructor(
    /** Indexes of the key columns in the table's column order (every column for a keyless table). */
    readonly keyColumns: readonly number[],
    /** The key of a full row. */
    readonly keyText: KeyText,
  ) {}

  /** Keys held (a multiset's repeated keys counted once). */
  get size(): number {
    return this.entries.size + this.integers.size;
  }

  /** Rows held, repeats of a key counted. */
  get rows(): number {
    return this.rowCount;
  }

  /** The places a key lives, oldest first; empty when the table does not hold it. */
  locations(key: IndexKey): readonly RowLocation[] {
    if (typeof key === 'number') {
      const cell = this.integers.find(key);
      if (cell >= 0) return [{ file: this.integers.fileAt(cell), pos: this.integers.positionAt(cell) }];
    }
    const entry = this.entries.get(key);
    if (entry === undefined) return [];
    return typeof entry === 'number' ? [this.slotLocation(entry)] : entry.slice();
  }

  /** The `nth` place (0 the oldest) a key lives, undefined when it lives at fewer places. */
  location(key: IndexKey, nth: number): RowLocation | undefined {
    if (typeof key === 'number') {
      const cell = this.integers.find(key);
      if (cell >= 0) return nth === 0 ? { file: this.integers.fileAt(cell), pos: this.integers.positionAt(cell) } : undefined;
    }
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (typeof entry === 'number') return nth === 0 ? this.slotLocation(entry) : undefined;
    return entry[nth];
  }

  /** The data file a location points into. */
  file(location: RowLocation): IndexedFile {
    const file = this.files[location.file];
    if (!file) throw new ValidationError(`the key index has no data file ${location.file}`);
    return file;
  }

  /** Records that the row with `key` lives at `pos` in `file`. */
  add(key: IndexKey, file: IndexedFile, pos: number): void {
    this.addAt(key, this.fileNumber(file), pos);
  }

  /** Forgets the first `count` locations of `key` (the ones the applier deleted, oldest first). */
  remove(key: IndexKey, count: number): void {
    if (typeof key === 'number') {
      const cell = this.integers.find(key);
      if (cell >= 0) {
        if (count > 1) throw new ValidationError(`the key index holds 1 row(s) of key ${keyDisplay(key)}, not ${count}`);
        this.integers.delete(cell);
        this.rowCount -= count;
        return;
      }
    }
    const entry = this.entries.get(key);
    const held = entry === undefined ? 0 : typeof entry === 'number' ? 1 : entry.length;
    if (held < count) throw new ValidationError(`the key index holds ${held} row(s) of key ${keyDisplay(key)}, not ${count}`);
    this.rowCount -= count;
    if (typeof entry === 'number') {
      this.entries.delete(key);
      this.freeSlots.push(entry);
    } else if (held === count) this.entries.delete(key);
    else entry!.splice(0, count);
  }

  /** Forgets everything (the table was truncated). */
  clear(): void {
    this.entries.clear();
    this.integers = new IntegerLocations();
    this.files.length = 0;
    this.fileNumbers.clear();
    this.slotFile = new Int32Array(INITIAL_SLOTS);
    this.slotPos = new Float64Array(INITIAL_SLOTS);
    this.slotsUsed = 0;
    this.freeSlots.length = 0;
    this.rowCount = 0;
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

  /**
   * Indexes files just written by one writer that fills its files in turn (an unpartitioned table's): `keys` are
   * the rows' keys in the order written, `dataFiles` the files in the order filled, so row i lives in the file
   * its count falls in, at its offset there. Returns false, indexing nothing, when the files' record counts do
   * not add up to the keys (the caller then reads the files back).
   */
  addWritten(keys: readonly IndexKey[], dataFiles: readonly DataFile[], specId: number): boolean {
    let total = 0;
    for (const dataFile of dataFiles) total += Number(dataFile.recordCount);
    if (total !== keys.length) return false;
    let i = 0;
    for (const dataFile of dataFiles) {
      const number = this.fileNumber({ path: dataFile.filePath, specId, partition: dataFile.partition });
      const count = Number(dataFile.recordCount);
      for (let pos = 0; pos < count; pos++) this.addAt(keys[i++]!, number, pos);
    }
    return true;
  }

  private fileNumber(file: IndexedFile): number {
    let number = this.fileNumbers.get(file.path);
    if (number === undefined) {
      number = this.files.length;
      this.files.push(file);
      this.fileNumbers.set(file.path, number);
    }
    return number;
  }

  private addAt(key: IndexKey, file: number, pos: number): void {
    this.rowCount++;
    if (typeof key === 'number' && !this.entries.has(key)) {
      const cell = this.integers.find(key);
      if (cell < 0) {
        this.integers.insert(key, file, pos);
        return;
      }
      // A second place for the key (a keyless table's repeated row): its locations move to the map, as an array.
      this.entries.set(key, [
        { file: this.integers.fileAt(cell), pos: this.integers.positionAt(cell) },
        { file, pos },
      ]);
      this.integers.delete(cell);
      return;
    }
    const entry = this.entries.get(key);
    if (entry === undefined) {
      const slot = this.freeSlots.pop() ?? this.newSlot();
      this.slotFile[slot] = file;
      this.slotPos[slot] = pos;
      this.entries.set(key, slot);
    } else if (typeof entry === 'number') {
      // A second place for the key: its locations move to an array, the slot is freed.
      this.entries.set(key, [this.slotLocation(entry), { file, pos }]);
      this.freeSlots.push(entry);
    } else entry.push({ file, pos });
  }

  private newSlot(): number {
    if (this.slotsUsed === this.slotFile.length) {
      const files = new Int32Array(this.slotFile.length * 2);
      files.set(this.slotFile);
      this.slotFile = files;
      const positions = new Float64Array(this.slotPos.length * 2);
      positions.set(this.slotPos);
      this.slotPos = positions;
    }
    return this.slotsUsed++;
  }

  private slotLocation(slot: number): RowLocation {
    return { file: this.slotFile[slot]!, pos: this.slotPos[slot]! };
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
