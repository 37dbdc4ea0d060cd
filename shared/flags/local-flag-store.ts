/**
 * Flags in a local JSON file, in App Configuration's key-value shape (`{"items": [{key, label, content_type,
 * value, etag, last_modified}]}`, the records `az appconfig kv export` writes plus their etags), so a file can be
 * moved to App Configuration as it is. Writers take an exclusive lock file, compare etags, and replace the file by
 * rename: a reader never sees half a file and two writers never both win.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ValidationError, errorMessage } from '../errors';
import { FEATURE_FLAG_CONTENT_TYPE, type FeatureFlag, flagKey, flagNameOfKey, parseFeatureFlag } from './feature-flag';
import { FlagConflictError, type FlagStore, type StoredFlag, type WriteCondition, flagDisplayName } from './flag-store';

/** One record of the file. */
interface FileRecord {
  key: string;
  label: string | null;
  content_type: string;
  value: string;
  etag: string;
  last_modified: string;
}

/** How long a writer waits for another writer's lock before giving up. */
const LOCK_WAIT_MS = 10_000;
/** A lock older than this was left by a writer that died; it is broken. */
const STALE_LOCK_MS = 30_000;

/** The file-backed store. */
export class LocalFlagStore implements FlagStore {
  readonly description: string;

  constructor(private readonly file: string) {
    this.description = `local flags file ${file}`;
  }

  async list(): Promise<StoredFlag[]> {
    // Other keys (a sentinel, settings) may share the file; only feature flags are listed.
    return (await this.read()).filter((r) => flagNameOfKey(r.key) !== undefined).map((r) => toStored(r, this.file));
  }

  async get(name: string, label?: string): Promise<StoredFlag | undefined> {
    const key = flagKey(name);
    const record = (await this.read()).find((r) => r.key === key && r.label === (label ?? null));
    return record === undefined ? undefined : toStored(record, this.file);
  }

  async put(flag: FeatureFlag, label: string | undefined, condition: WriteCondition): Promise<StoredFlag> {
    const key = flagKey(flag.id);
    parseFeatureFlag(flag.id, flag);
    return this.locked(async () => {
      const records = await this.read();
      const at = records.findIndex((r) => r.key === key && r.label === (label ?? null));
      const current = at < 0 ? undefined : records[at]!;
      const expected = condition === 'absent' ? undefined : condition.etag;
      if (current?.etag !== expected) {
        const found = current === undefined ? 'it does not exist' : `it is at etag ${current.etag}`;
        throw new FlagConflictError(
          `flag ${flagDisplayName(flag.id, label)} changed since it was read (expected ${expected === undefined ? 'no flag' : `etag ${expected}`}, ${found}): read it again and retry`,
        );
      }
      const record: FileRecord = {
        key,
        label: label ?? null,
        content_type: FEATURE_FLAG_CONTENT_TYPE,
        value: JSON.stringify(flag),
        etag: randomBytes(16).toString('hex'), // hex: an etag never starts with "-", so --if-match <etag> parses
        last_modified: new Date().toISOString(),
      };
      if (at < 0) records.push(record);
      else records[at] = record;
      await this.write(records);
      return toStored(record, this.file);
    });
  }

  async version(): Promise<string | undefined> {
    const stat = await fs.stat(this.file).catch(() => undefined);
    return stat === undefined ? undefined : `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
  }

  private async read(): Promise<FileRecord[]> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      throw new ValidationError(`${this.description} is not JSON: ${errorMessage(error)}`);
    }
    const items = (doc as { items?: unknown } | null)?.items;
    if (!Array.isArray(items)) throw new ValidationError(`${this.description} must hold {"items": [...]}`);
    return items.map((item: unknown, i) => checkRecord(item, `${this.description}: items[${i}]`));
  }

  private async write(records: FileRecord[]): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(temporary, `${JSON.stringify({ items: records }, null, 2)}\n`, { mode: 0o600 });
    await fs.rename(temporary, this.file);
  }

  private async locked<T>(work: () => Promise<T>): Promise<T> {
    const lock = `${this.file}.lock`;
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await fs.open(lock, 'wx');
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const stat = await fs.stat(lock).catch(() => undefined);
        if (stat !== undefined && Date.now() - stat.mtimeMs > STALE_LOCK_MS) await fs.rm(lock, { force: true });
        else if (Date.now() > deadline) throw new FlagConflictError(`${this.description} is locked by another writer (${lock}); retry`);
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    try {
      return await work();
    } finally {
      await fs.rm(lock, { force: true });
    }
  }
}

function checkRecord(item: unknown, where: string): FileRecord {
  const r = (item ?? {}) as Record<string, unknown>;
  for (const field of ['key', 'value', 'etag', 'last_modified'] as const) {
    if (typeof r[field] !== 'string') throw new ValidationError(`${where}: "${field}" must be text`);
  }
  if (r['label'] !== null && r['label'] !== undefined && typeof r['label'] !== 'string') throw new ValidationError(`${where}: "label" must be text or null`);
  return {
    key: r['key'] as string,
    label: (r['label'] as string | null | undefined) ?? null,
    content_type: typeof r['content_type'] === 'string' ? r['content_type'] : FEATURE_FLAG_CONTENT_TYPE,
    value: r['value'] as string,
    etag: r['etag'] as string,
    last_modified: r['last_modified'] as string,
  };
}

function toStored(record: FileRecord, file: string): StoredFlag {
  const name = flagNameOfKey(record.key);
  if (name === undefined) throw new ValidationError(`local flags file ${file}: key ${record.key} is not a feature flag's`);
  let value: unknown;
  try {
    value = JSON.parse(record.value);
  } catch (error) {
    throw new ValidationError(`local flags file ${file}: flag ${name} holds a value that is not JSON: ${errorMessage(error)}`);
  }
  return { name, label: record.label ?? undefined, flag: parseFeatureFlag(name, value), etag: record.etag, lastModified: record.last_modified };
}
