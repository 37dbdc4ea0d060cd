/**
 * Durable instance state: one append-only JSONL file per instance under `<stateDir>/instances/`, each line fsynced
 * before the work it enables starts. Lines: `start` (written as a temp file + rename, so a replaced instance never
 * mixes with its predecessor), `inbox` (an event that arrived: activity result, timer, raised event, ...) and
 * `episode` (the events one orchestrator episode appended, the status after it, and for continue-as-new the next
 * execution). An episode is one line, so it is durable entirely or not at all; a torn last line is cut off on load.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, truncate, unlink, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { isHistoryEvent, type HistoryEvent } from './history-events';

/** Instance runtime statuses, as the durable client reports them. */
export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated' | 'ContinuedAsNew';

/** Where a sub-orchestration reports back to. */
export interface ParentRef {
  instanceId: string;
  executionId: string;
  taskScheduledId: number;
}

/** What an instance was started with. */
export interface InstanceMeta {
  instanceId: string;
  name: string;
  executionId: string;
  input: unknown;
  createdTime: string;
  parent?: ParentRef;
}

/** Status fields after an episode. */
export interface StatusSnapshot {
  runtimeStatus: RuntimeStatus;
  customStatus: unknown;
  output: unknown;
  lastUpdatedTime: string;
}

/** An event waiting for the next episode; `seq` orders the inbox across restarts. */
export interface InboxEntry {
  seq: number;
  event: HistoryEvent;
}

/** One episode as persisted. */
export interface EpisodeRecord {
  executionId: string;
  inboxUpTo: number;
  events: HistoryEvent[];
  status: StatusSnapshot;
  next?: { executionId: string; input: unknown; entry: InboxEntry };
}

/** A journal line. */
export type JournalRecord =
  | { k: 'start'; meta: InstanceMeta; entry: InboxEntry }
  | ({ k: 'inbox'; executionId: string } & InboxEntry)
  | ({ k: 'episode' } & EpisodeRecord);

/** An instance rebuilt from its journal. */
export interface RestoredInstance {
  meta: InstanceMeta;
  history: HistoryEvent[];
  inbox: InboxEntry[];
  status: StatusSnapshot;
  nextSeq: number;
}

/** Persistence used by the engine; `MemoryJournal` keeps nothing, `FileJournal` writes the state directory. */
export interface InstanceJournal {
  create(meta: InstanceMeta, entry: InboxEntry): Promise<void>;
  appendInbox(instanceId: string, executionId: string, entry: InboxEntry): Promise<void>;
  appendEpisode(instanceId: string, episode: EpisodeRecord): Promise<void>;
  remove(instanceId: string): Promise<void>;
  loadAll(): Promise<RestoredInstance[]>;
  close(): Promise<void>;
}

/** A journal that persists nothing (no state directory). */
export class MemoryJournal implements InstanceJournal {
  async create(): Promise<void> {}
  async appendInbox(): Promise<void> {}
  async appendEpisode(): Promise<void> {}
  async remove(): Promise<void> {}
  async loadAll(): Promise<RestoredInstance[]> {
    return [];
  }
  async close(): Promise<void> {}
}

/** Folds journal records into the instance's current state. */
export function restoreInstance(records: readonly JournalRecord[]): RestoredInstance {
  const first = records[0];
  if (!first || first.k !== 'start') throw new Error('journal does not begin with a start record');
  const restored: RestoredInstance = {
    meta: { ...first.meta },
    history: [],
    inbox: [first.entry],
    status: { runtimeStatus: 'Pending', customStatus: null, output: null, lastUpdatedTime: first.meta.createdTime },
    nextSeq: first.entry.seq + 1,
  };
  for (const record of records.slice(1)) {
    if (record.k === 'inbox') {
      if (record.executionId === restored.meta.executionId) restored.inbox.push({ seq: record.seq, event: record.event });
      restored.nextSeq = Math.max(restored.nextSeq, record.seq + 1);
    } else if (record.k === 'episode') {
      restored.history.push(...record.events);
      restored.inbox = restored.inbox.filter((entry) => entry.seq > record.inboxUpTo);
      restored.status = record.status;
      if (record.next) {
        restored.meta = { ...restored.meta, executionId: record.next.executionId, input: record.next.input };
        restored.history = [];
        restored.inbox = [record.next.entry];
        restored.nextSeq = Math.max(restored.nextSeq, record.next.entry.seq + 1);
      }
    }
  }
  return restored;
}

function isJournalRecord(value: unknown): value is JournalRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  if (record.k === 'start') return typeof record.meta === 'object' && record.meta !== null && typeof record.entry === 'object';
  if (record.k === 'inbox') return typeof record.seq === 'number' && isHistoryEvent(record.event);
  if (record.k === 'episode') return Array.isArray(record.events) && record.events.every(isHistoryEvent) && typeof record.status === 'object';
  return false;
}

/** Parses journal text; returns the records and, if the last line is torn, the byte length to keep. */
export function parseJournal(text: string, file: string): { records: JournalRecord[]; keepBytes?: number } {
  const records: JournalRecord[] = [];
  let offset = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const isLast = i === lines.length - 1;
    if (line !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (!isJournalRecord(parsed)) {
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

function fileName(instanceId: string): string {
  // Every instance id maps to one safe file name; '.' is escaped so "." and ".." stay ordinary names.
  return `${encodeURIComponent(instanceId).replace(/\./g, '%2E').replace(/\*/g, '%2A')}.jsonl`;
}

/** The state-directory journal. */
export class FileJournal implements InstanceJournal {
  readonly #dir: string;
  readonly #handles = new Map<string, FileHandle>();
  readonly #chains = new Map<string, Promise<void>>();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** Opens (and creates) `<stateDir>/instances`. */
  static async open(stateDir: string): Promise<FileJournal> {
    const dir = path.join(path.resolve(stateDir), 'instances');
    await mkdir(dir, { recursive: true });
    return new FileJournal(dir);
  }

  #file(instanceId: string): string {
    return path.join(this.#dir, fileName(instanceId));
  }

  /** Serialises writes per instance so lines land in call order. */
  #enqueue(instanceId: string, work: () => Promise<void>): Promise<void> {
    const next = (this.#chains.get(instanceId) ?? Promise.resolve()).then(work);
    this.#chains.set(instanceId, next.catch(() => undefined));
    return next;
  }

  async #closeHandle(instanceId: string): Promise<void> {
    const handle = this.#handles.get(instanceId);
    this.#handles.delete(instanceId);
    await handle?.close();
  }

  async #append(instanceId: string, record: JournalRecord): Promise<void> {
    await this.#enqueue(instanceId, async () => {
      let handle = this.#handles.get(instanceId);
      if (!handle) {
        handle = await open(this.#file(instanceId), 'a');
        this.#handles.set(instanceId, handle);
      }
      await handle.write(`${JSON.stringify(record)}\n`);
      await handle.datasync();
    });
  }

  async create(meta: InstanceMeta, entry: InboxEntry): Promise<void> {
    await this.#enqueue(meta.instanceId, async () => {
      await this.#closeHandle(meta.instanceId);
      const file = this.#file(meta.instanceId);
      const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const handle = await open(temp, 'w');
      try {
        await handle.write(`${JSON.stringify({ k: 'start', meta, entry } satisfies JournalRecord)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
      const dir = await open(this.#dir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    });
  }

  appendInbox(instanceId: string, executionId: string, entry: InboxEntry): Promise<void> {
    return this.#append(instanceId, { k: 'inbox', executionId, ...entry });
  }

  appendEpisode(instanceId: string, episode: EpisodeRecord): Promise<void> {
    return this.#append(instanceId, { k: 'episode', ...episode });
  }

  async remove(instanceId: string): Promise<void> {
    await this.#enqueue(instanceId, async () => {
      await this.#closeHandle(instanceId);
      await unlink(this.#file(instanceId)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    });
  }

  async loadAll(): Promise<RestoredInstance[]> {
    const restored: RestoredInstance[] = [];
    for (const name of (await readdir(this.#dir)).sort()) {
      const file = path.join(this.#dir, name);
      if (!name.endsWith('.jsonl')) {
        // A temp file left by a crash during create: its rename never happened, so it never existed.
        if (name.endsWith('.tmp')) await unlink(file).catch(() => undefined);
        continue;
      }
      const { records, keepBytes } = parseJournal(await readFile(file, 'utf8'), file);
      if (keepBytes !== undefined) await truncate(file, keepBytes);
      if (records.length > 0) restored.push(restoreInstance(records));
    }
    return restored;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#chains.values()]);
    await Promise.all([...this.#handles.keys()].map((id) => this.#closeHandle(id)));
  }
}
