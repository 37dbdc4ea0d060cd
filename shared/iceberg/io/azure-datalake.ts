import { ValidationError } from '../../errors';
import { AzureClients, type AzureStorageSettings } from './azure-clients';
import { azureErrorFacts, callAzure } from './azure-call';
import { AzureFileIO } from './azure-file-io';
import { formatAzureLocation, parseAzureLocation } from './azure-location';
import { redactLocation, throwIfAborted } from './io-errors';

/** Options of `AzureDataLake.hasHierarchicalNamespace`. */
export interface HasHierarchicalNamespaceOptions {
  abortSignal?: AbortSignal;
}

/** Options of `AzureDataLake.deleteDirectory`. */
export interface DeleteDirectoryOptions {
  abortSignal?: AbortSignal;
  /** Deadline of the single server-side recursive delete on hierarchical accounts (it can take long on big trees). */
  timeoutInMs?: number;
  /** Parallel blob deletes when falling back to listing; defaults to 16. */
  concurrency?: number;
}

/** How a directory delete was carried out. */
export interface DeleteDirectoryResult {
  /** True when the account's hierarchical namespace deleted the tree in one server-side operation. */
  usedHierarchicalNamespace: boolean;
  /** Files deleted one by one by the fallback; undefined when the server did it. */
  deletedFiles?: number;
}

const DEFAULT_DIRECTORY_TIMEOUT_IN_MS = 5 * 60_000;
const DEFAULT_DELETE_CONCURRENCY = 16;

/**
 * Directory operations where an ADLS Gen2 account's hierarchical namespace adds something beyond FileIO. Every
 * operation checks the capability first and falls back to plain blob calls, which is what Azurite (no Data Lake
 * endpoint, no hierarchical namespace) and flat accounts get.
 */
export class AzureDataLake {
  private readonly clients: AzureClients;
  private readonly files: AzureFileIO;
  private readonly capability = new Map<string, Promise<boolean>>();

  constructor(settings: AzureStorageSettings | AzureClients) {
    this.clients = settings instanceof AzureClients ? settings : new AzureClients(settings);
    this.files = new AzureFileIO(this.clients);
  }

  /** True when the location's account has hierarchical namespace enabled; asked once per account. */
  async hasHierarchicalNamespace(location: string, options: HasHierarchicalNamespaceOptions = {}): Promise<boolean> {
    const parsed = parseAzureLocation(location);
    const key = `${parsed.accountName}|${parsed.endpointSuffix}`;
    let known = this.capability.get(key);
    if (known === undefined) {
      known = this.askHierarchicalNamespace(location, options);
      this.capability.set(key, known);
      // A failed probe is not an answer; the next call asks again.
      known.catch(() => this.capability.delete(key));
    }
    return known;
  }

  /** Deletes every file under a directory location; a missing directory is not an error. */
  async deleteDirectory(location: string, options: DeleteDirectoryOptions = {}): Promise<DeleteDirectoryResult> {
    const parsed = parseAzureLocation(location);
    const directory = parsed.path.replace(/\/+$/, '');
    if (directory === '') {
      throw new ValidationError(`Refusing to delete the whole container of '${redactLocation(location)}'; name a directory`);
    }
    if (await this.hasHierarchicalNamespace(location, options)) {
      const service = this.clients.dataLakeForAccount(parsed.accountName, parsed.endpointSuffix);
      const fileSystem = service.getFileSystemClient(parsed.container);
      await callAzure(
        'deleteDirectory',
        location,
        { abortSignal: options.abortSignal, timeoutInMs: options.timeoutInMs ?? DEFAULT_DIRECTORY_TIMEOUT_IN_MS },
        ({ signal }) => fileSystem.getDirectoryClient(directory).deleteIfExists(true, { abortSignal: signal }),
      );
      return { usedHierarchicalNamespace: true };
    }
    const deletedFiles = await this.deleteByListing(formatAzureLocation({ ...parsed, path: `${directory}/` }), options);
    return { usedHierarchicalNamespace: false, deletedFiles };
  }

  private async askHierarchicalNamespace(location: string, options: HasHierarchicalNamespaceOptions): Promise<boolean> {
    const parsed = parseAzureLocation(location);
    const service = this.clients.forAccount(parsed.accountName, parsed.endpointSuffix).blob;
    const call = { abortSignal: options.abortSignal, timeoutInMs: this.clients.tuning.operationTimeoutInMs };
    return callAzure('getAccountInfo', location, call, async ({ signal }) => {
      try {
        return (await service.getAccountInfo({ abortSignal: signal })).isHierarchicalNamespaceEnabled === true;
      } catch (error) {
        // Credentials scoped to one container may not read account info; the container-level call still answers.
        if (azureErrorFacts(error).statusCode !== 403) throw error;
        const info = await service.getContainerClient(parsed.container).getAccountInfo({ abortSignal: signal });
        return info.isHierarchicalNamespaceEnabled === true;
      }
    });
  }

  /** Flat namespaces have no directories to delete, only blobs sharing a name prefix. */
  private async deleteByListing(prefix: string, options: DeleteDirectoryOptions): Promise<number> {
    const concurrency = options.concurrency ?? DEFAULT_DELETE_CONCURRENCY;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new ValidationError(`deleteDirectory concurrency must be a positive integer (got ${concurrency})`);
    }
    const pending = new Set<Promise<void>>();
    let deleted = 0;
    let failure: unknown;
    for await (const file of this.files.list(prefix, options)) {
      throwIfAborted(options.abortSignal, 'deleteDirectory', prefix);
      // Each deletion settles itself, so a failure stops new work without leaving rejections unobserved.
      const deletion: Promise<void> = this.files
        .delete(file.location, options)
        .then(
          () => {
            deleted += 1;
          },
          (error: unknown) => {
            failure ??= error;
          },
        )
        .finally(() => pending.delete(deletion));
      pending.add(deletion);
      if (pending.size >= concurrency) await Promise.race(pending);
      if (failure !== undefined) break;
    }
    await Promise.all(pending);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the first failure, rethrown exactly as it was caught
    if (failure !== undefined) throw failure;
    return deleted;
  }
}
