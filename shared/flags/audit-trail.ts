/**
 * The audit trail of flag changes: one JSON object per change (who, when, why, before, after), written once with
 * an exclusive create and never rewritten, under a prefix of any location the product can write (a directory,
 * file://, abfss://). Names sort by time, so the history is a listing.
 */
import { randomBytes } from 'node:crypto';
import { ValidationError, errorMessage } from '../errors';
import type { FileIO } from '../iceberg/io/file-io';
import type { FeatureFlag } from './feature-flag';

/** One recorded change. */
export interface FlagAuditEntry {
  /** When the change landed (ISO 8601). */
  at: string;
  /** Who made it: the signed-in principal on Azure, the operating-system user or `--actor` locally. */
  actor: string;
  /** `set` for one flag; `rollback` for each flag an emergency rollback changed. */
  action: 'set' | 'rollback';
  reason: string;
  flag: string;
  /** The table the override is for; absent for the default. */
  label?: string;
  /** The flag before (null: it did not exist) and after. */
  before: FeatureFlag | null;
  after: FeatureFlag;
  etagBefore?: string;
  etagAfter: string;
}

/** Appends and lists audit entries under `root`. */
export class FlagAuditTrail {
  constructor(
    private readonly io: FileIO,
    private readonly root: string,
  ) {}

  /** Where the entries are, for messages. */
  get location(): string {
    return this.root;
  }

  /** Records one change; the entry is never overwritten. */
  async append(entry: FlagAuditEntry): Promise<void> {
    const stamp = entry.at.replace(/[-:.]/g, '');
    const name = `${this.root.replace(/\/+$/, '')}/${stamp}-${randomBytes(6).toString('hex')}.json`;
    await this.io.write(name, new TextEncoder().encode(`${JSON.stringify(entry)}\n`), { exclusive: true });
  }

  /** The entries, oldest first, optionally of one flag (and label); the newest `limit` when given. */
  async history(filter: { flag?: string; label?: string; limit?: number } = {}): Promise<FlagAuditEntry[]> {
    const names: string[] = [];
    for await (const file of this.io.list(`${this.root.replace(/\/+$/, '')}/`)) if (file.location.endsWith('.json')) names.push(file.location);
    names.sort();
    const entries: FlagAuditEntry[] = [];
    for (const name of names) {
      let entry: FlagAuditEntry;
      try {
        entry = JSON.parse(new TextDecoder().decode(await this.io.read(name))) as FlagAuditEntry;
      } catch (error) {
        throw new ValidationError(`audit entry ${name} cannot be read: ${errorMessage(error)}`);
      }
      if (filter.flag !== undefined && entry.flag !== filter.flag) continue;
      if (filter.label !== undefined && entry.label !== filter.label) continue;
      entries.push(entry);
    }
    return filter.limit === undefined ? entries : entries.slice(-filter.limit);
  }
}
