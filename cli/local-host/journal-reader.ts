/**
 * Reads one instance journal as a stream of lines, never as one string: a journal can be far larger than the longest
 * string V8 can hold, and one damaged or oversized journal must fail only its own instance.
 */
import { createReadStream } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import { isHistoryEvent } from './history-events';
import type { JournalRecord, RestoredInstance } from './journal';

/** Default largest journal the host loads: 256 MiB. */
export const DEFAULT_MAX_JOURNAL_BYTES = 256 * 1024 * 1024;

/** A journal that cannot be loaded; the message names the file and what to do about it. */
export class JournalDamageError extends Error {
  override readonly name = 'JournalDamageError';
  /** Creates the error for `instanceId` stored in `file`. */
  constructor(
    readonly instanceId: string,
    readonly file: string,
    problem: string,
  ) {
    super(
      `the state of instance '${instanceId}' cannot be loaded: ${file} ${problem}. Only this instance is affected; remove it with \`icebridge state prune --damaged\` or delete that file (and its .status.json).`,
    );
  }
}

/** Formats a byte count for messages (B, KiB, MiB, GiB). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Whether a parsed line has the shape of a journal record. */
export function isJournalRecord(value: unknown): value is JournalRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  if (record.k === 'start') return typeof record.meta === 'object' && record.meta !== null && typeof record.entry === 'object';
  if (record.k === 'inbox') return typeof record.seq === 'number' && isHistoryEvent(record.event);
  if (record.k === 'episode') return Array.isArray(record.events) && record.events.every(isHistoryEvent) && typeof record.status === 'object';
  return false;
}

/** Folds journal records one at a time into the instance's current state (so a journal never sits in memory twice). */
export class JournalFold {
  #restored?: RestoredInstance;
  /** Bytes of the current execution's episode lines: the history's size as stored. */
  historyBytes = 0;

  /** Applies the next record; `lineBytes` is its size on disk. */
  add(record: JournalRecord, lineBytes = 0): void {
    const restored = this.#restored;
    if (!restored) {
      if (record.k !== 'start') throw new Error('journal does not begin with a start record');
      this.#restored = {
        meta: { ...record.meta },
        history: [],
        inbox: [record.entry],
        status: { runtimeStatus: 'Pending', customStatus: null, output: null, lastUpdatedTime: record.meta.createdTime },
        nextSeq: record.entry.seq + 1,
      };
      return;
    }
    if (record.k === 'inbox') {
      if (record.executionId === restored.meta.executionId) restored.inbox.push({ seq: record.seq, event: record.event });
      restored.nextSeq = Math.max(restored.nextSeq, record.seq + 1);
    } else if (record.k === 'episode') {
      for (const event of record.events) restored.history.push(event);
      restored.inbox = restored.inbox.filter((entry) => entry.seq > record.inboxUpTo);
      restored.status = record.status;
      this.historyBytes += lineBytes;
      if (record.next) {
        restored.meta = { ...restored.meta, executionId: record.next.executionId, input: record.next.input };
        restored.history = [];
        restored.inbox = [record.next.entry];
        restored.nextSeq = Math.max(restored.nextSeq, record.next.entry.seq + 1);
        this.historyBytes = 0;
      }
    } else throw new Error('a second start record');
  }

  /** The state so far, or undefined when no record was added. */
  result(): RestoredInstance | undefined {
    return this.#restored;
  }
}

/** Folds journal records into the instance's current state. */
export function restoreInstance(records: readonly JournalRecord[]): RestoredInstance {
  const fold = new JournalFold();
  for (const record of records) fold.add(record);
  const restored = fold.result();
  if (!restored) throw new Error('journal does not begin with a start record');
  return restored;
}

/** Parses journal text already in memory (small journals, tests); returns the records and where a torn tail starts. */
export function parseJournal(text: string, file: string): { records: JournalRecord[]; keepBytes?: number } {
  const records: JournalRecord[] = [];
  let offset = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const isLast = i === lines.length - 1;
    if (line !== '') {
      const parsed = parseLine(line);
      if (!parsed) {
        // Only the final line can be cut short by a crash; anything else is damage we must not paper over.
        if (isLast || (i === lines.length - 2 && lines[lines.length - 1] === '')) return { records, keepBytes: offset };
        throw new Error(`${file}: line ${i + 1} is not a journal record`);
      }
      records.push(parsed);
    }
    offset += Buffer.byteLength(line) + 1;
  }
  return { records };
}

function parseLine(line: string): JournalRecord | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    return isJournalRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** One line of a file with its byte offset; `terminated` is false for a last line without its newline. */
export interface JournalLine {
  text: string;
  offset: number;
  bytes: number;
  terminated: boolean;
}

/** Streams the lines of `file`; only one line at a time is held in memory. */
export async function* readLines(file: string): AsyncGenerator<JournalLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let offset = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(10, start); end !== -1; end = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, end);
      const line = pendingBytes === 0 ? piece : Buffer.concat([...pending, piece]);
      yield { text: line.toString('utf8'), offset, bytes: line.length + 1, terminated: true };
      offset += line.length + 1;
      pending = [];
      pendingBytes = 0;
      start = end + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
    }
  }
  if (pendingBytes > 0) {
    const line = Buffer.concat(pending);
    yield { text: line.toString('utf8'), offset, bytes: line.length, terminated: false };
  }
}

/** An instance loaded from its journal, with the stored size of its current execution's history. */
export interface LoadedJournal {
  restored: RestoredInstance;
  historyBytes: number;
  journalBytes: number;
}

/**
 * Loads one journal by streaming it. A torn or unterminated last line (a crash during an append) is cut off; any
 * other bad line, a journal over `maxBytes` or one shorter than its status record says is a JournalDamageError.
 * `readOnly` leaves a torn tail in place (listings run beside a live host).
 */
export async function loadJournal(
  instanceId: string,
  file: string,
  options: { maxBytes: number; minBytes?: number; readOnly?: boolean },
): Promise<LoadedJournal | undefined> {
  const size = (await stat(file)).size;
  if (size > options.maxBytes) {
    throw new JournalDamageError(
      instanceId,
      file,
      `is ${formatBytes(size)}, over the ${formatBytes(options.maxBytes)} a journal may have (maxJournalInBytes); it was not read`,
    );
  }
  if (options.minBytes !== undefined && size < options.minBytes) {
    throw new JournalDamageError(
      instanceId,
      file,
      `is ${size} bytes, shorter than the ${options.minBytes} bytes its last recorded episode ended at: it was cut short`,
    );
  }
  const fold = new JournalFold();
  let keepBytes: number | undefined;
  let lineNumber = 0;
  for await (const line of readLines(file)) {
    lineNumber++;
    if (line.text === '') continue;
    const record = parseLine(line.text);
    // Only an append in progress at a crash can leave a bad line, and it is the last one: its work never started.
    if (!line.terminated) {
      keepBytes = line.offset;
      break;
    }
    if (!record) {
      if (line.offset + line.bytes >= size) {
        keepBytes = line.offset;
        break;
      }
      throw new JournalDamageError(instanceId, file, `has a damaged line ${lineNumber} (at byte ${line.offset}) that is not a journal record`);
    }
    try {
      fold.add(record, line.bytes);
    } catch (error) {
      throw new JournalDamageError(instanceId, file, `is inconsistent at line ${lineNumber}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (keepBytes !== undefined) {
    // Create writes the first line whole (temp file + rename), and a recorded episode was durable before its status
    // record was written: cutting either would silently drop state, so the tail is damage, not a torn append.
    if (keepBytes === 0) throw new JournalDamageError(instanceId, file, `does not begin with a journal record (line 1 is damaged)`);
    if (options.minBytes !== undefined && keepBytes < options.minBytes) {
      throw new JournalDamageError(
        instanceId,
        file,
        `has a damaged line ${lineNumber} (at byte ${keepBytes}) before the end of its last recorded episode (byte ${options.minBytes})`,
      );
    }
  }
  // A reader beside a running host must not cut a line that is being appended right now.
  if (keepBytes !== undefined && !options.readOnly) await truncate(file, keepBytes);
  const restored = fold.result();
  return restored && { restored, historyBytes: fold.historyBytes, journalBytes: keepBytes ?? size };
}
