/**
 * Durable instance state: one append-only JSONL file per instance under `<stateDir>/instances/`, each line fsynced
 * before the work it enables starts. Lines: `start` (written as a temp file + rename, so a replaced instance never
 * mixes with its predecessor), `inbox` (an event that arrived: activity result, timer, raised event, ...) and
 * `episode` (the events one orchestrator episode appended, the status after it, and for continue-as-new the next
 * execution). An episode is one line, so it is durable entirely or not at all; a torn last line is cut off on load.
 * Beside each journal a small status record (instance-summary.ts) lets the host list instances without reading
 * journals; a journal is read, streamed, only when its instance must run, replay or show its history.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import type { HistoryEvent } from './history-events';
import { DEFAULT_MAX_JOURNAL_BYTES, loadJournal, type LoadedJournal } from './journal-reader';
import {
  deleteStoredFiles,
  journalFileName,
  listStoredInstances,
  removeSummary,
  summarize,
  writeSummary,
  type InstanceSummary,
  type StoredInstance,
} from './instance-summary';

export { parseJournal, restoreInstance } from './journal-reader';

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
  { k: 'start'; meta: InstanceMeta; entry: InboxEntry } | ({ k: 'inbox'; executionId: string } & InboxEntry) | ({ k: 'episode' } & EpisodeRecord);

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
  /** Appends an episode; `meta` is the instance's meta after it (a continue-as-new changes it). */
  appendEpisode(instanceId: string, episode: EpisodeRecord, meta: InstanceMeta): Promise<void>;
  remove(instanceId: string): Promise<void>;
  /** Every stored instance from its status record, without reading journals. */
  list(): Promise<StoredInstance[]>;
  /** Streams one instance's journal; throws JournalDamageError for a damaged or oversized one. */
  load(instanceId: string, minBytes?: number): Promise<LoadedJournal | undefined>;
  close(): Promise<void>;
}

/** A journal that persists nothing (no state directory). */
export class MemoryJournal implements InstanceJournal {
  async create(): Promise<void> {}
  async appendInbox(): Promise<void> {}
  async appendEpisode(): Promise<void> {}
  async remove(): Promise<void> {}
  list(): Promise<StoredInstance[]> {
    return Promise.resolve([]);
  }
  load(): Promise<LoadedJournal | undefined> {
    return Promise.resolve(undefined);
  }
  async close(): Promise<void> {}
}

/** The state-directory journal. */
export class FileJournal implements InstanceJournal {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #handles = new Map<string, FileHandle>();
  readonly #sizes = new Map<string, number>();
  readonly #chains = new Map<string, Promise<void>>();

  private constructor(dir: string, maxBytes: number) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
  }

  /** Opens (and creates) `<stateDir>/instances`; journals over `maxJournalBytes` are refused, not read. */
  static async open(stateDir: string, options: { maxJournalBytes?: number } = {}): Promise<FileJournal> {
    const dir = path.join(path.resolve(stateDir), 'instances');
    await mkdir(dir, { recursive: true });
    return new FileJournal(dir, options.maxJournalBytes ?? DEFAULT_MAX_JOURNAL_BYTES);
  }

  #file(instanceId: string): string {
    return path.join(this.#dir, journalFileName(instanceId));
  }

  /** Serialises writes per instance so lines land in call order. */
  #enqueue(instanceId: string, work: () => Promise<void>): Promise<void> {
    const next = (this.#chains.get(instanceId) ?? Promise.resolve()).then(work);
    this.#chains.set(
      instanceId,
      next.catch(() => undefined),
    );
    return next;
  }

  async #closeHandle(instanceId: string): Promise<void> {
    const handle = this.#handles.get(instanceId);
    this.#handles.delete(instanceId);
    await handle?.close();
  }

  async #append(instanceId: string, record: JournalRecord, after?: (size: number) => Promise<void>): Promise<void> {
    await this.#enqueue(instanceId, async () => {
      let handle = this.#handles.get(instanceId);
      if (!handle) {
        handle = await open(this.#file(instanceId), 'a');
        this.#handles.set(instanceId, handle);
        this.#sizes.set(instanceId, (await handle.stat()).size);
      }
      const line = Buffer.from(`${JSON.stringify(record)}\n`);
      await handle.write(line);
      await handle.datasync();
      const size = (this.#sizes.get(instanceId) ?? 0) + line.length;
      this.#sizes.set(instanceId, size);
      await after?.(size);
    });
  }

  async create(meta: InstanceMeta, entry: InboxEntry): Promise<void> {
    await this.#enqueue(meta.instanceId, async () => {
      await this.#closeHandle(meta.instanceId);
      const file = this.#file(meta.instanceId);
      const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const line = Buffer.from(`${JSON.stringify({ k: 'start', meta, entry } satisfies JournalRecord)}\n`);
      const handle = await open(temp, 'w');
      try {
        await handle.write(line);
        await handle.sync();
      } finally {
        await handle.close();
      }
      // The predecessor's record goes first: a record must never describe a journal it does not belong to.
      await removeSummary(file);
      await rename(temp, file);
      const dir = await open(this.#dir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.#sizes.set(meta.instanceId, line.length);
      await this.#writeSummary(
        meta.instanceId,
        summarize(meta, { runtimeStatus: 'Pending', customStatus: null, output: null, lastUpdatedTime: meta.createdTime }, line.length),
      );
    });
  }

  /**
   * The journal line is durable by now, so a failed record write must not fail the episode (it would run again and
   * be journaled twice): the stale record is removed instead, and the next start rebuilds it from the journal.
   */
  async #writeSummary(instanceId: string, summary: InstanceSummary): Promise<void> {
    const file = this.#file(instanceId);
    await writeSummary(file, summary).catch(() => removeSummary(file).catch(() => undefined));
  }

  appendInbox(instanceId: string, executionId: string, entry: InboxEntry): Promise<void> {
    return this.#append(instanceId, { k: 'inbox', executionId, ...entry });
  }

  appendEpisode(instanceId: string, episode: EpisodeRecord, meta: InstanceMeta): Promise<void> {
    return this.#append(instanceId, { k: 'episode', ...episode }, (size) => this.#writeSummary(instanceId, summarize(meta, episode.status, size)));
  }

  async remove(instanceId: string): Promise<void> {
    await this.#enqueue(instanceId, async () => {
      await this.#closeHandle(instanceId);
      this.#sizes.delete(instanceId);
      await deleteStoredFiles(this.#file(instanceId));
    });
  }

  list(): Promise<StoredInstance[]> {
    return listStoredInstances(this.#dir, { maxJournalBytes: this.#maxBytes, repair: true });
  }

  async load(instanceId: string, minBytes?: number): Promise<LoadedJournal | undefined> {
    let loaded: LoadedJournal | undefined;
    await this.#enqueue(instanceId, async () => {
      await this.#closeHandle(instanceId);
      loaded = await loadJournal(instanceId, this.#file(instanceId), { maxBytes: this.#maxBytes, minBytes });
      if (loaded) this.#sizes.set(instanceId, loaded.journalBytes);
    });
    return loaded;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#chains.values()]);
    await Promise.all([...this.#handles.keys()].map((id) => this.#closeHandle(id)));
  }
}
