/**
 * The rows a batch adds to a table, by key. A keyed table holds one new row per key, kept as the row itself (an
 * array per row around it was garbage made for every insert and update); a keyless table may add several equal
 * rows, kept in order. Keys come out in the order they were first added since they were last emptied.
 */
import { ValidationError } from '../errors';
import type { Row } from '../iceberg/spec/values';
import type { IndexKey } from './key-index';

/** Rows new in a batch, by key. */
export class NewRows {
  private readonly one = new Map<IndexKey, Row>();
  private readonly many = new Map<IndexKey, Row[]>();
  private rows = 0;

  constructor(
    /** True when a key has at most one row (a table with a key). */
    private readonly keyed: boolean,
  ) {}

  /** Rows held, all keys together. */
  get size(): number {
    return this.rows;
  }

  /** Whether `key` has a new row. */
  has(key: IndexKey): boolean {
    return this.keyed ? this.one.has(key) : this.many.has(key);
  }

  /** Adds a row of `key` after any it has; a keyed table's key must have none. */
  push(key: IndexKey, row: Row): void {
    if (this.keyed) {
      if (this.one.has(key)) throw new ValidationError('a second new row for one key of a keyed table');
      this.one.set(key, row);
    } else {
      const rows = this.many.get(key);
      if (rows) rows.push(row);
      else this.many.set(key, [row]);
    }
    this.rows++;
  }

  /** Takes the oldest new row of `key` away and returns it; undefined when it has none. */
  shift(key: IndexKey): Row | undefined {
    let row: Row | undefined;
    if (this.keyed) {
      row = this.one.get(key);
      if (row !== undefined) this.one.delete(key);
    } else {
      const rows = this.many.get(key);
      row = rows?.shift();
      if (rows?.length === 0) this.many.delete(key);
    }
    if (row !== undefined) this.rows--;
    return row;
  }

  /** Forgets every row. */
  clear(): void {
    this.one.clear();
    this.many.clear();
    this.rows = 0;
  }

  /** Every row and its key, in the same order, appended to `rows` and `keys`. */
  collect(rows: Row[], keys: IndexKey[]): void {
    if (this.keyed) {
      for (const [key, row] of this.one) {
        rows.push(row);
        keys.push(key);
      }
      return;
    }
    for (const [key, held] of this.many) {
      for (const row of held) {
        rows.push(row);
        keys.push(key);
      }
    }
  }
}
