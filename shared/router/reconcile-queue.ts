/**
 * The durable reconciliation queue of a table: one JSON entry per secondary write the router could not make, under
 * `<warehouse>/.icebridge/reconcile/<namespace>.<table>/`. An entry is written once with an exclusive create (never
 * overwritten, so two writers never lose each other's entries) and removed only after `icebridge reconcile` applied
 * it. An entry names the key, not the values: draining copies the key's CURRENT row from the side that was written
 * (or deletes the key where that side no longer holds it), so entries replay idempotently and in any order, and a
 * later write to the key is never undone by an older entry.
 */
import { randomBytes } from 'node:crypto';
import { ValidationError, errorMessage } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import { type TableIdentifier, formatIdentifier } from '../iceberg/catalog/table-identifier';
import type { Value } from '../iceberg/spec/values';

/** One secondary write to make again. */
export interface ReconcileEntry {
  /** When the write failed (ISO 8601). */
  at: string;
  /** The PostgreSQL table, `schema.name`, and its Iceberg table. */
  table: string;
  iceberg: TableIdentifier;
  /** The side that holds the write (the primary when it was made) and the side that missed it. */
  source: 'postgres' | 'iceberg';
  target: 'postgres' | 'iceberg';
  /** What the application did: the target must end up as the source is for this key. */
  operation: 'save' | 'delete';
  /** Key values in key order. */
  key: Value[];
  /** Why the secondary write failed (no values). */
  error: string;
}

/** An entry as stored: its location and content. */
export interface StoredEntry {
  location: string;
  entry: ReconcileEntry;
}

/** Where a table's queue lives in the warehouse. */
export function reconcileLocation(catalog: Catalog, table: TableIdentifier): string {
  // Hidden from namespace listings by its leading dot, like the other product files in the warehouse.
  return catalog.tableLocation({ namespace: ['.icebridge', 'reconcile'], name: formatIdentifier(table) });
}

/** The root of every table's queue. */
export function reconcileRoot(catalog: Catalog): string {
  return catalog.tableLocation({ namespace: ['.icebridge'], name: 'reconcile' });
}

/** A table's queue. */
export class ReconcileQueue {
  constructor(
    private readonly catalog: Catalog,
    /** The queue's directory. */
    readonly location: string,
  ) {}

  /** The queue of an Iceberg table. */
  static of(catalog: Catalog, table: TableIdentifier): ReconcileQueue {
    return new ReconcileQueue(catalog, reconcileLocation(catalog, table));
  }

  /** Writes one entry; names sort by time, so a listing is oldest first. Returns where it was written. */
  async add(entry: ReconcileEntry): Promise<string> {
    const stamp = entry.at.replace(/[-:.]/g, '');
    const name = `${this.location}/${stamp}-${randomBytes(8).toString('hex')}.json`;
    await this.catalog.io.write(name, new TextEncoder().encode(`${encodeEntry(entry)}\n`), { exclusive: true });
    return name;
  }

  /** The entries, oldest first. */
  async entries(): Promise<StoredEntry[]> {
    const stored: StoredEntry[] = [];
    for (const location of await this.locations()) {
      let entry: ReconcileEntry;
      try {
        entry = decodeEntry(new TextDecoder().decode(await this.catalog.io.read(location)));
      } catch (error) {
        throw new ValidationError(`reconciliation entry ${location} cannot be read: ${errorMessage(error)}`);
      }
      stored.push({ location, entry });
    }
    return stored;
  }

  /** How many entries wait. */
  async depth(): Promise<number> {
    return (await this.locations()).length;
  }

  /** Removes an applied entry. */
  async remove(location: string): Promise<void> {
    await this.catalog.io.delete(location);
  }

  private async locations(): Promise<string[]> {
    const names: string[] = [];
    for await (const file of this.catalog.io.list(`${this.location}/`)) if (file.location.endsWith('.json')) names.push(file.location);
    return names.sort();
  }
}

/** An entry as JSON: bigints, bytes, maps and non-finite numbers tagged, so every value comes back as it was. */
export function encodeEntry(entry: ReconcileEntry): string {
  return JSON.stringify(entry, (_, value: unknown) => {
    if (typeof value === 'bigint') return { $bigint: value.toString() };
    if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
    if (value instanceof Map) return { $map: [...(value as Map<unknown, unknown>).entries()] };
    if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
    return value;
  });
}

/** The entry `encodeEntry` wrote. */
export function decodeEntry(text: string): ReconcileEntry {
  const parsed = JSON.parse(text, (_, value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const tagged = value as Record<string, unknown>;
    if (typeof tagged['$bigint'] === 'string') return BigInt(tagged['$bigint']);
    if (typeof tagged['$bytes'] === 'string') return new Uint8Array(Buffer.from(tagged['$bytes'], 'base64'));
    if (Array.isArray(tagged['$map'])) return new Map(tagged['$map'] as Array<[unknown, unknown]>);
    if (typeof tagged['$number'] === 'string') return Number(tagged['$number']);
    return value;
  }) as Partial<ReconcileEntry>;
  const sides = ['postgres', 'iceberg'];
  if (
    typeof parsed.table !== 'string' ||
    !Array.isArray(parsed.iceberg?.namespace) ||
    typeof parsed.iceberg?.name !== 'string' ||
    !sides.includes(String(parsed.source)) ||
    !sides.includes(String(parsed.target)) ||
    parsed.source === parsed.target ||
    (parsed.operation !== 'save' && parsed.operation !== 'delete') ||
    !Array.isArray(parsed.key)
  ) {
    throw new ValidationError('not a reconciliation entry (table, iceberg, source, target, operation and key are required)');
  }
  return parsed as ReconcileEntry;
}
