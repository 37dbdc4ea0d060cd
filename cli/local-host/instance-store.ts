/**
 * The engine's instances: those loaded into memory (history and all) and those only listed from their status records.
 * An instance is loaded when it must run, replay or show its history; a journal that cannot be loaded fails that
 * instance alone.
 */
import { Instance, isTerminal, type GetStatusOptions, type InstanceStatus } from './instance';
import type { StoredInstance } from './instance-summary';
import { inTree, rootOf } from './instance-tree';
import type { InstanceJournal, ParentRef, RuntimeStatus } from './journal';
import { JournalDamageError } from './journal-reader';

/** An engine refusal with the HTTP status the durable API answers with. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  /** Creates an error carrying `httpStatus`. */
  constructor(
    message: string,
    readonly httpStatus: number,
  ) {
    super(message);
  }
}

/** Loaded and listed instances, by id. */
export class InstanceStore {
  readonly #journal: InstanceJournal;
  readonly #loaded = new Map<string, Instance>();
  readonly #stored = new Map<string, StoredInstance>();
  readonly #loading = new Map<string, Promise<Instance | undefined>>();

  /** Creates an empty store over `journal`. */
  constructor(journal: InstanceJournal) {
    this.#journal = journal;
  }

  /** Lists the journal's instances from their status records; no journal is read. */
  async restore(): Promise<void> {
    for (const stored of await this.#journal.list()) if (!this.#loaded.has(stored.instanceId)) this.#stored.set(stored.instanceId, stored);
  }

  /** The loaded instance, if it is loaded. */
  loaded(instanceId: string): Instance | undefined {
    return this.#loaded.get(instanceId);
  }

  /** Every loaded instance. */
  loadedInstances(): Instance[] {
    return [...this.#loaded.values()];
  }

  /** Every known instance id, loaded or listed. */
  ids(): string[] {
    return [...new Set([...this.#loaded.keys(), ...this.#stored.keys()])];
  }

  /** Makes `instance` the one under its id (a start or a replacement). */
  put(instance: Instance): void {
    this.#stored.delete(instance.id);
    this.#loaded.set(instance.id, instance);
  }

  /** Forgets an instance. */
  delete(instanceId: string): void {
    this.#stored.delete(instanceId);
    this.#loaded.delete(instanceId);
  }

  /** Whether the id is known at all. */
  has(instanceId: string): boolean {
    return this.#loaded.has(instanceId) || this.#stored.has(instanceId);
  }

  /** Why a listed instance cannot be loaded, if known. */
  problem(instanceId: string): string | undefined {
    if (this.#loaded.has(instanceId)) return undefined;
    const stored = this.#stored.get(instanceId);
    if (!stored) return undefined;
    return stored.problem ?? (stored.summary ? undefined : `the state of instance '${instanceId}' has no status record: ${stored.journalFile}`);
  }

  /** The runtime status, from memory or the status record (undefined for unknown or damaged instances). */
  runtimeStatus(instanceId: string): RuntimeStatus | undefined {
    return (
      this.#loaded.get(instanceId)?.status.runtimeStatus ?? (this.problem(instanceId) ? undefined : this.#stored.get(instanceId)?.summary?.status.runtimeStatus)
    );
  }

  /** Whether the instance will run no further episode; unknown or damaged instances are not finished. */
  isFinished(instanceId: string): boolean {
    const status = this.runtimeStatus(instanceId);
    return status !== undefined && isTerminal(status);
  }

  #parent(instanceId: string): ParentRef | undefined {
    return this.#loaded.get(instanceId)?.meta.parent ?? this.#stored.get(instanceId)?.summary?.meta.parent;
  }

  /** The root of an instance's tree: followed through parent references. */
  rootOf(instanceId: string): string {
    return rootOf(
      instanceId,
      (id) => this.#parent(id)?.instanceId,
      (id) => this.has(id),
    );
  }

  /** `rootId` and every instance of its tree: ids starting with `rootId:` and instances whose parents lead to it. */
  treeIds(rootId: string): string[] {
    return this.ids().filter((id) => inTree(id, rootId, (other) => this.rootOf(other)));
  }

  /** Whether answering a status request needs the journal (history asked for, or a field too large for the record). */
  needsLoad(instanceId: string, options: GetStatusOptions = {}): boolean {
    if (this.#loaded.has(instanceId) || !this.#stored.has(instanceId)) return false;
    const omitted = this.#stored.get(instanceId)?.summary?.omitted ?? [];
    return options.showHistory === true || omitted.some((field) => field !== 'input' || options.showInput !== false);
  }

  /** The status view without loading; throws for damaged instances and for ones that need loading (see `needsLoad`). */
  view(instanceId: string, options: GetStatusOptions = {}): InstanceStatus | undefined {
    const loaded = this.#loaded.get(instanceId);
    if (loaded) return loaded.view(options);
    const stored = this.#stored.get(instanceId);
    if (!stored) return undefined;
    const problem = this.problem(instanceId);
    if (problem) throw new EngineError(problem, 500);
    if (this.needsLoad(instanceId, options))
      throw new EngineError(`instance '${instanceId}' is not loaded; load it first (its history or a large field is only in its journal)`, 500);
    const { meta, status } = stored.summary!;
    return {
      name: meta.name,
      instanceId,
      runtimeStatus: status.runtimeStatus,
      input: options.showInput === false ? null : structuredClone(meta.input ?? null),
      output: structuredClone(status.output ?? null),
      customStatus: structuredClone(status.customStatus ?? null),
      createdTime: meta.createdTime,
      lastUpdatedTime: status.lastUpdatedTime,
    };
  }

  /** Loads an instance from its journal (once, however many ask); a damaged journal is an EngineError naming it. */
  load(instanceId: string): Promise<Instance | undefined> {
    const loaded = this.#loaded.get(instanceId);
    if (loaded) return Promise.resolve(loaded);
    const stored = this.#stored.get(instanceId);
    if (!stored) return Promise.resolve(undefined);
    const problem = this.problem(instanceId);
    if (problem) return Promise.reject(new EngineError(problem, 500));
    let loading = this.#loading.get(instanceId);
    if (!loading) {
      loading = this.#loadStored(stored).finally(() => this.#loading.delete(instanceId));
      this.#loading.set(instanceId, loading);
    }
    return loading;
  }

  async #loadStored(stored: StoredInstance): Promise<Instance | undefined> {
    const id = stored.instanceId;
    try {
      const result = await this.#journal.load(id, stored.summary?.journalBytes);
      // A start may have replaced the instance while its old journal was read.
      const current = this.#loaded.get(id);
      if (current || this.#stored.get(id) !== stored) return current;
      this.#stored.delete(id);
      if (!result) return undefined;
      const instance = new Instance(result.restored);
      instance.historyBytes = result.historyBytes;
      this.#loaded.set(id, instance);
      return instance;
    } catch (error) {
      if (!(error instanceof JournalDamageError)) throw error;
      stored.problem = error.message;
      throw new EngineError(error.message, 500);
    }
  }
}
