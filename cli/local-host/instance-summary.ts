/**
 * The small status record kept beside each journal (`<journal>.status.json`, written atomically after each episode):
 * what a listing needs (name, status, times, parent) without reading the journal. The journal stays the truth; the
 * record is written after the journal line it describes, so after a crash it can only lag behind (say an instance is
 * still running when it finished), never run ahead of it.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { JournalDamageError, formatBytes, loadJournal } from './journal-reader';
import type { InstanceMeta, StatusSnapshot } from './journal';

/** Suffix of an instance's journal. */
export const JOURNAL_SUFFIX = '.jsonl';
/** Suffix of the status record beside a journal. */
export const SUMMARY_SUFFIX = '.status.json';
/** A field larger than this is left out of the status record (and read from the journal when asked for). */
const MAX_FIELD_BYTES = 1024 * 1024 + 64 * 1024;
/** A status record larger than this is not read (it cannot have been written by this host). */
const MAX_SUMMARY_BYTES = 4 * 1024 * 1024;

/** Fields a status record may leave out because they were too large. */
export type OmittedField = 'input' | 'output' | 'customStatus';

/** The status record of one instance. */
export interface InstanceSummary {
  meta: InstanceMeta;
  status: StatusSnapshot;
  omitted: OmittedField[];
  /** The journal's length right after the episode this record describes; a shorter journal was cut. */
  journalBytes: number;
}

/** An instance as the state directory lists it, without its history. */
export interface StoredInstance {
  instanceId: string;
  journalFile: string;
  /** Bytes on disk: journal plus status record. */
  sizeInBytes: number;
  /** When the journal was last written (ISO 8601); the age of a damaged instance without a status record. */
  modifiedTime: string;
  summary?: InstanceSummary;
  /** Why the instance cannot be loaded, when that is known without reading its journal. */
  problem?: string;
}

/** Maps an instance id to its journal's file name; '.' is escaped so "." and ".." stay ordinary names. */
export function journalFileName(instanceId: string): string {
  return `${encodeURIComponent(instanceId).replace(/\./g, '%2E').replace(/\*/g, '%2A')}${JOURNAL_SUFFIX}`;
}

/** The instance id a journal file name stands for. */
export function instanceIdOf(fileName: string): string {
  return decodeURIComponent(fileName.slice(0, -JOURNAL_SUFFIX.length));
}

function bounded<T>(value: T, field: OmittedField, omitted: OmittedField[]): T | null {
  const text = JSON.stringify(value ?? null);
  if (Buffer.byteLength(text) <= MAX_FIELD_BYTES) return value;
  omitted.push(field);
  return null;
}

/** Builds a bounded status record. */
export function summarize(meta: InstanceMeta, status: StatusSnapshot, journalBytes: number): InstanceSummary {
  const omitted: OmittedField[] = [];
  return {
    meta: { ...meta, input: bounded(meta.input, 'input', omitted) },
    status: { ...status, output: bounded(status.output, 'output', omitted), customStatus: bounded(status.customStatus, 'customStatus', omitted) },
    omitted,
    journalBytes,
  };
}

/** Writes a status record atomically (temp file + rename): a reader sees the old record or the new one. */
export async function writeSummary(journalFile: string, summary: InstanceSummary): Promise<void> {
  const file = `${journalFile}${SUMMARY_SUFFIX}`;
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(summary));
  await rename(temp, file);
}

/** Removes a status record; a missing one is fine. */
export async function removeSummary(journalFile: string): Promise<void> {
  await unlink(`${journalFile}${SUMMARY_SUFFIX}`).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/** Deletes an instance's journal and status record; missing files are fine. */
export async function deleteStoredFiles(journalFile: string): Promise<void> {
  await unlink(journalFile).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await removeSummary(journalFile);
}

function isSummary(value: unknown): value is InstanceSummary {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<InstanceSummary>;
  return (
    typeof record.meta?.instanceId === 'string' &&
    typeof record.meta.name === 'string' &&
    typeof record.status?.runtimeStatus === 'string' &&
    typeof record.journalBytes === 'number' &&
    Array.isArray(record.omitted)
  );
}

async function readSummary(file: string): Promise<{ summary?: InstanceSummary; bytes: number }> {
  try {
    const { size } = await stat(file);
    if (size > MAX_SUMMARY_BYTES) return { bytes: size };
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    return { summary: isSummary(parsed) ? parsed : undefined, bytes: size };
  } catch {
    return { bytes: 0 };
  }
}

/** A leftover is stale once nobody could still be about to rename it. */
const STALE_AFTER_MS = 10 * 60 * 1000;

async function isStale(file: string): Promise<boolean> {
  try {
    return Date.now() - (await stat(file)).mtimeMs > STALE_AFTER_MS;
  } catch {
    return false;
  }
}

/** Options of `listStoredInstances`. */
export interface ListStoredOptions {
  maxJournalBytes: number;
  /** Rebuild missing status records from their journals and clean up leftovers of a crash (the host does; listings do not). */
  repair: boolean;
}

/**
 * Lists the instances of `<stateDir>/instances` from their status records. A journal without one (written by an
 * older version, or a crash between journal and record) is streamed once to rebuild it, within the size bound.
 */
export async function listStoredInstances(dir: string, options: ListStoredOptions): Promise<StoredInstance[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const journals = new Set(names.filter((name) => name.endsWith(JOURNAL_SUFFIX)));
  const stored: StoredInstance[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (!journals.has(name)) {
      // Temp files and records whose journal is gone are leftovers of a crash: their rename never happened. Recent
      // ones may belong to another process writing this directory right now, so only stale ones are removed.
      const orphanRecord = name.endsWith(SUMMARY_SUFFIX) && !journals.has(name.slice(0, -SUMMARY_SUFFIX.length));
      if (options.repair && (name.endsWith('.tmp') || orphanRecord) && (await isStale(file))) await unlink(file).catch(() => undefined);
      continue;
    }
    const instanceId = instanceIdOf(name);
    let size: number;
    let modifiedTime: string;
    try {
      const info = await stat(file);
      size = info.size;
      modifiedTime = info.mtime.toISOString();
    } catch {
      continue;
    }
    const record = await readSummary(`${file}${SUMMARY_SUFFIX}`);
    const entry: StoredInstance = { instanceId, journalFile: file, sizeInBytes: size + record.bytes, modifiedTime, summary: record.summary };
    if (size > options.maxJournalBytes) {
      entry.problem = new JournalDamageError(
        instanceId,
        file,
        `is ${formatBytes(size)}, over the ${formatBytes(options.maxJournalBytes)} a journal may have (maxJournalInBytes); it was not read`,
      ).message;
    } else if (record.summary && size < record.summary.journalBytes) {
      entry.problem = new JournalDamageError(
        instanceId,
        file,
        `is ${size} bytes, shorter than the ${record.summary.journalBytes} bytes its last recorded episode ended at: it was cut short`,
      ).message;
    } else if (!record.summary) {
      try {
        const loaded = await loadJournal(instanceId, file, { maxBytes: options.maxJournalBytes, readOnly: !options.repair });
        if (loaded) {
          entry.summary = summarize(loaded.restored.meta, loaded.restored.status, loaded.journalBytes);
          if (options.repair) await writeSummary(file, entry.summary);
        } else if (options.repair) {
          // An empty journal: a crash between creating and writing its first line.
          await unlink(file).catch(() => undefined);
          continue;
        }
      } catch (error) {
        entry.problem = error instanceof Error ? error.message : String(error);
      }
    }
    if (entry.summary && entry.summary.meta.instanceId !== instanceId)
      entry.problem ??= new JournalDamageError(instanceId, file, `has the status record of '${entry.summary.meta.instanceId}'`).message;
    stored.push(entry);
  }
  return stored;
}
