/**
 * One location per integer key, in an open-addressing table of typed arrays (linear probing): no map entry, no
 * object per key. The key index holds a one-column integer key's single location here; a map lookup by number was
 * still most of the index's cost.
 */

const EMPTY = 0;
const DELETED = -1;
const INITIAL_CAPACITY = 1024;

/** Integer key (a safe integer) → (file number, position). */
export class IntegerLocations {
  private keys = new Float64Array(INITIAL_CAPACITY);
  /** File number + 1 of each cell; EMPTY and DELETED mark cells without a key. */
  private files = new Int32Array(INITIAL_CAPACITY);
  private positions = new Float64Array(INITIAL_CAPACITY);
  private mask = INITIAL_CAPACITY - 1;
  /** Cells holding a key or a deletion mark: probing stops only at an empty cell. */
  private occupied = 0;
  private held = 0;

  /** Keys held. */
  get size(): number {
    return this.held;
  }

  /** The cell of `key`, or -1 when it is not held. */
  find(key: number): number {
    let i = hash(key) & this.mask;
    for (;;) {
      const file = this.files[i]!;
      if (file === EMPTY) return -1;
      if (file !== DELETED && this.keys[i] === key) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** The file number in a cell `find` returned. */
  fileAt(cell: number): number {
    return this.files[cell]! - 1;
  }

  /** The position in a cell `find` returned. */
  positionAt(cell: number): number {
    return this.positions[cell]!;
  }

  /** Adds `key`, which must not be held. */
  insert(key: number, file: number, pos: number): void {
    if ((this.occupied + 1) * 2 > this.files.length) this.resize();
    let i = hash(key) & this.mask;
    while (this.files[i]! > EMPTY) i = (i + 1) & this.mask;
    if (this.files[i] === EMPTY) this.occupied++;
    this.keys[i] = key;
    this.files[i] = file + 1;
    this.positions[i] = pos;
    this.held++;
  }

  /** Forgets the key in a cell `find` returned. */
  delete(cell: number): void {
    this.files[cell] = DELETED;
    this.held--;
  }

  /** Rebuilds the table, twice as large when more than a quarter full, dropping deletion marks. */
  private resize(): void {
    const { keys, files, positions } = this;
    const capacity = this.held * 4 > files.length ? files.length * 2 : files.length;
    this.keys = new Float64Array(capacity);
    this.files = new Int32Array(capacity);
    this.positions = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.occupied = 0;
    this.held = 0;
    for (let i = 0; i < files.length; i++) if (files[i]! > EMPTY) this.insert(keys[i]!, files[i]! - 1, positions[i]!);
  }
}

/** Mixes both halves of a safe integer (murmur3's finaliser): keys that differ only in high bits land apart too. */
function hash(key: number): number {
  let h = (key | 0) ^ Math.imul(Math.floor(key / 4294967296) | 0, 0x85ebca6b);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
