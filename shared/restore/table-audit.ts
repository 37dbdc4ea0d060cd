/**
 * The audit trail of changes to a table's history (a rollback of its current snapshot): one JSON object per change
 * (who, when, why, the snapshot before and after), written once with an exclusive create and never rewritten, under
 * `<warehouse>/.icebridge/audit/tables/<namespace>.<table>/`. Entries are named by time, so the history is a
 * listing. Kept to the shape of the flags' audit trail, so both can become one trail.
 */
import { randomBytes } from 'node:crypto';
import { ValidationError, errorMessage } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import { type TableIdentifier, formatIdentifier } from '../iceberg/catalog/table-identifier';
import { recordTableChange } from '../state-db/transaction-log';

/** One recorded change of a table. */
export interface TableAuditEntry {
  /** When the change landed (ISO 8601). */
  at: string;
  /** Who made it: the operating-system user or `--actor` locally, the caller's principal over HTTP. */
  actor: string;
  action: 'rollback';
  reason: string;
  /** The Iceberg table, `namespace.name`. */
  table: string;
  /** Current snapshot before and after (decimal ids; null: none). */
  before: string | null;
  after: string;
  /** The change-capture slot the table was marked stopped for, when it had one. */
  stoppedSlot?: string;
  /** The sync asked to stop first, when the request asked for it. */
  stoppedSync?: string;
}

/** Appends and lists a table's audit entries. */
export class TableAuditTrail {
  private readonly root: string;

  constructor(
    private readonly catalog: Catalog,
    table: TableIdentifier,
  ) {
    // Hidden from namespace listings by its leading dot, like the other product files in the warehouse.
    this.root = catalog.tableLocation({ namespace: ['.icebridge', 'audit', 'tables'], name: formatIdentifier(table) });
  }

  /** Where the entries are, for messages. */
  get location(): string {
    return this.root;
  }

  /** Records one change; an entry is never overwritten. */
  async append(entry: TableAuditEntry): Promise<void> {
    const stamp = entry.at.replace(/[-:.]/g, '');
    const name = `${this.root}/${stamp}-${randomBytes(6).toString('hex')}.json`;
    await this.catalog.io.write(name, new TextEncoder().encode(`${JSON.stringify(entry)}\n`), { exclusive: true });
    await recordTableChange(entry);
  }

  /** The entries, oldest first. */
  async history(): Promise<TableAuditEntry[]> {
    const names: string[] = [];
    for await (const file of this.catalog.io.list(`${this.root}/`)) if (file.location.endsWith('.json')) names.push(file.location);
    names.sort();
    const entries: TableAuditEntry[] = [];
    for (const name of names) {
      try {
        entries.push(JSON.parse(new TextDecoder().decode(await this.catalog.io.read(name))) as TableAuditEntry);
      } catch (error) {
        throw new ValidationError(`audit entry ${name} cannot be read: ${errorMessage(error)}`);
      }
    }
    return entries;
  }
}
