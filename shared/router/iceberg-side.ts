/**
 * The Iceberg side of a routed table: reads by key or simple equality filters through the scan, so files that
 * cannot hold the key are skipped by their partition values and column bounds, and delete files are applied. The
 * table's metadata is kept for a short time (default 1 s) rather than read per call: a read on Iceberg sees
 * commits at most that much later.
 */
import { ValidationError } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import { type Expression, ALWAYS_TRUE, and, bindByName } from '../iceberg/spec/expressions';
import type { TableMetadata } from '../iceberg/spec/table-metadata';
import { currentSchema } from '../iceberg/spec/table-metadata';
import type { Row, Value } from '../iceberg/spec/values';
import { planScan, readScan } from '../iceberg/scan/table-scan';
import type { Conditions } from './postgres-side';
import { type RecordRow, type TableShape, toRecord } from './table-shape';

/** An Iceberg table the router reads. */
export class IcebergSide {
  private cached: { metadata: TableMetadata; at: number } | undefined;

  constructor(
    private readonly catalog: Catalog,
    readonly id: TableIdentifier,
    private readonly shape: TableShape,
    private readonly metadataTtlMs = 1000,
  ) {}

  /** Rows matching every condition, at most `limit`, in key order. */
  async select(conditions: Conditions, limit: number): Promise<RecordRow[]> {
    const metadata = await this.metadata();
    const schema = currentSchema(metadata);
    const names = this.shape.mapping.columns.map((c) => c.name);
    const filters: Expression[] = conditions.map(({ index, value }) =>
      value === null ? bindByName(schema, names[index]!, 'isNull') : bindByName(schema, names[index]!, 'eq', value),
    );
    const plan = await planScan(this.catalog.io, metadata, { columns: names, filter: filters.length === 0 ? ALWAYS_TRUE : and(...filters) });
    const rows: Row[] = [];
    for await (const batch of readScan(this.catalog.io, plan)) for (const row of batch) rows.push(row);
    rows.sort((a, b) =>
      compareKeys(
        this.shape.key.map((i) => a[i] ?? null),
        this.shape.key.map((i) => b[i] ?? null),
      ),
    );
    return rows.slice(0, limit).map((row) => toRecord(this.shape, row));
  }

  /** Forgets the cached metadata: the next read loads the table. */
  refresh(): void {
    this.cached = undefined;
  }

  private async metadata(): Promise<TableMetadata> {
    const now = Date.now();
    if (this.cached === undefined || now - this.cached.at >= this.metadataTtlMs) {
      this.cached = { metadata: (await this.catalog.loadTable(this.id)).metadata, at: now };
    }
    return this.cached.metadata;
  }
}

/** Key order: numbers by value, text by code point (as PostgreSQL's "C" collation orders UTF-8), nulls last. */
export function compareKeys(a: readonly Value[], b: readonly Value[]): number {
  for (let i = 0; i < a.length; i++) {
    const order = compareValues(a[i] ?? null, b[i] ?? null);
    if (order !== 0) return order;
  }
  return 0;
}

function compareValues(a: Value, b: Value): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  throw new ValidationError('a key of a nested type cannot be ordered: the router serves tables keyed by scalar columns');
}
