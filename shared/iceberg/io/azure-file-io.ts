import { randomBytes } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { AlreadyExistsError, IcebridgeError, NotFoundError, ValidationError } from '../../errors';
import { AzureClients, type AzureStorageSettings } from './azure-clients';
import { azureErrorFacts, callAzure, type AzureCallContext } from './azure-call';
import { parseAzureLocation, formatAzureLocation, type AzureLocation } from './azure-location';
import type { FileInfo, FileIO, OutputStream, WriteFileOptions } from './file-io';
import { StorageErrorCode, rangeOutsideFileError, redactLocation, validateRangeArguments } from './io-errors';

interface SignalOptions {
  abortSignal?: AbortSignal;
}

/** One blob, resolved to the clients that reach it. */
interface BlobTarget {
  location: string;
  parsed: AzureLocation;
  container: ContainerClient;
  /** Same container through the client that never retries, for conditional commits. */
  containerOnce: ContainerClient;
}

const MAX_BLOCKS_PER_BLOB = 50_000;

/**
 * FileIO on Azure Blob Storage through the Blob endpoint, which both plain and ADLS Gen2 (hierarchical namespace)
 * accounts serve and Azurite emulates. Locations use the abfss/abfs/wasbs forms; the location's account picks the
 * credentials and its filesystem is the container, created on first write.
 */
export class AzureFileIO implements FileIO {
  private readonly clients: AzureClients;
  private readonly requests: BlobRequests;

  constructor(settings: AzureStorageSettings | AzureClients) {
    this.clients = settings instanceof AzureClients ? settings : new AzureClients(settings);
    this.requests = new BlobRequests(this.clients.tuning.operationTimeoutInMs);
  }

  async read(location: string, options: SignalOptions = {}): Promise<Uint8Array> {
    const target = this.fileTarget(location, 'read');
    return this.requests.call('read', target, options, async ({ signal, touch }) => {
      const response = await blobClient(target).download(0, undefined, { abortSignal: signal });
      return readBody(response.readableStreamBody, response.contentLength, touch);
    });
  }

  async readRange(location: string, offset: number, length: number, options: SignalOptions = {}): Promise<Uint8Array> {
    validateRangeArguments(location, offset, length);
    const target = this.fileTarget(location, 'readRange');
    const outside = async (): Promise<never> => {
      const info = await this.stat(location, options);
      if (info === undefined) throw new NotFoundError(`Azure readRange: ${redactLocation(location)} does not exist`);
      throw rangeOutsideFileError(location, offset, length, info.size);
    };
    // The SDK reads a count of 0 as "to the end", so an empty range only needs the size check.
    if (length === 0) {
      const info = await this.stat(location, options);
      if (info === undefined) throw new NotFoundError(`Azure readRange: ${redactLocation(location)} does not exist`);
      if (offset > info.size) throw rangeOutsideFileError(location, offset, length, info.size);
      return new Uint8Array(0);
    }
    const bytes = await this.requests.call('readRange', target, options, async ({ signal, touch }) => {
      try {
        const response = await blobClient(target).download(offset, length, { abortSignal: signal });
        return await readBody(response.readableStreamBody, response.contentLength, touch);
      } catch (error) {
        if (azureErrorFacts(error).statusCode === 416) return undefined;
        throw error;
      }
    });
    // The service answers a range running past the end with the bytes it has; a short read is a caller bug.
    if (bytes === undefined || bytes.byteLength !== length) return outside();
    return bytes;
  }

  async stat(location: string, options: SignalOptions = {}): Promise<FileInfo | undefined> {
    const target = this.target(location);
    // A directory location is not a file, as on local disk.
    if (target.parsed.path === '' || target.parsed.path.endsWith('/')) return undefined;
    return this.requests.call('stat', target, options, async ({ signal }) => {
      try {
        const properties = await blobClient(target).getProperties({ abortSignal: signal });
        if (isDirectoryMarker(properties.metadata)) return undefined;
        return { location, size: properties.contentLength ?? 0, ...(properties.lastModified ? { lastModifiedMs: properties.lastModified.getTime() } : {}) };
      } catch (error) {
        if (azureErrorFacts(error).statusCode === 404) return undefined;
        throw error;
      }
    });
  }

  async write(location: string, data: Uint8Array, options: WriteFileOptions = {}): Promise<void> {
    const target = this.fileTarget(location, 'write');
    const exclusive = options.exclusive === true;
    const writer = new BlockWriter(this.requests, target, options.abortSignal);
    if (data.byteLength <= this.clients.tuning.blockSizeInBytes) {
      await writer.putWhole(data, exclusive);
      return;
    }
    // Larger payloads go as blocks so each request stays within the per-request deadline; the commit carries the
    // exclusive condition, so nothing is visible until the complete file is.
    const ids: string[] = [];
    for (let position = 0; position < data.byteLength; position += this.clients.tuning.blockSizeInBytes) {
      const end = Math.min(position + this.clients.tuning.blockSizeInBytes, data.byteLength);
      ids.push(await writer.stage(ids.length, data.subarray(position, end)));
    }
    await writer.commit(ids, exclusive);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async makes a refused location a rejection, as FileIO callers expect
  async create(location: string, options: SignalOptions = {}): Promise<OutputStream> {
    const target = this.fileTarget(location, 'create');
    const writer = new BlockWriter(this.requests, target, options.abortSignal);
    return new AzureOutputStream(writer, this.clients.tuning.blockSizeInBytes);
  }

  async delete(location: string, options: SignalOptions = {}): Promise<void> {
    const target = this.fileTarget(location, 'delete');
    await this.requests.call('delete', target, options, async ({ signal }) => {
      try {
        await blobClient(target).delete({ abortSignal: signal, deleteSnapshots: 'include' });
      } catch (error) {
        if (azureErrorFacts(error).statusCode !== 404) throw error;
      }
    });
  }

  async *list(prefix: string, options: SignalOptions = {}): AsyncIterable<FileInfo> {
    const target = this.target(prefix);
    let continuationToken: string | undefined;
    do {
      // One deadline per page: a long listing is fine as long as every page arrives in time.
      const page = await this.requests.call('list', target, options, async ({ signal }) => {
        try {
          const pages = target.container
            .listBlobsFlat({ prefix: target.parsed.path || undefined, includeMetadata: true, abortSignal: signal })
            .byPage({ continuationToken, maxPageSize: this.clients.tuning.listPageSize });
          const next = await pages.next();
          return next.done ? undefined : next.value;
        } catch (error) {
          if (azureErrorFacts(error).statusCode === 404) return undefined;
          throw error;
        }
      });
      if (page === undefined) return;
      for (const item of page.segment.blobItems) {
        if (isDirectoryMarker(item.metadata)) continue;
        const location = formatAzureLocation({ ...target.parsed, path: item.name });
        yield { location, size: item.properties.contentLength ?? 0, lastModifiedMs: item.properties.lastModified.getTime() };
      }
      continuationToken = page.continuationToken || undefined;
    } while (continuationToken !== undefined);
  }

  private target(location: string): BlobTarget {
    const parsed = parseAzureLocation(location);
    const clients = this.clients.forAccount(parsed.accountName, parsed.endpointSuffix);
    return {
      location,
      parsed,
      container: clients.blob.getContainerClient(parsed.container),
      containerOnce: clients.blobOnce.getContainerClient(parsed.container),
    };
  }

  private fileTarget(location: string, operation: string): BlobTarget {
    const target = this.target(location);
    if (target.parsed.path === '' || target.parsed.path.endsWith('/')) {
      throw new ValidationError(`Azure ${operation}: '${redactLocation(location)}' names a directory, not a file`);
    }
    return target;
  }
}

/** Runs SDK calls under the deadline and error mapping, and creates missing containers once. */
class BlobRequests {
  private readonly creatingContainers = new Map<string, Promise<unknown>>();

  constructor(private readonly timeoutInMs: number) {}

  call<T>(operation: string, target: BlobTarget, options: SignalOptions & { exclusive?: boolean }, run: (context: AzureCallContext) => Promise<T>): Promise<T> {
    return callAzure(operation, target.location, { abortSignal: options.abortSignal, timeoutInMs: this.timeoutInMs, exclusive: options.exclusive }, run);
  }

  /**
   * Runs a write; if the container is missing, creates it once and runs the write again. Writing first instead of
   * checking first costs nothing in the common case and needs no container-level permission when it exists;
   * concurrent writers share one creation.
   */
  async withContainer<T>(target: BlobTarget, signal: AbortSignal, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (azureErrorFacts(error).errorCode !== 'ContainerNotFound') throw error;
    }
    const key = `${target.parsed.accountName}|${target.parsed.endpointSuffix}|${target.parsed.container}`;
    let creating = this.creatingContainers.get(key);
    if (creating === undefined) {
      creating = target.container.createIfNotExists({ abortSignal: signal }).finally(() => this.creatingContainers.delete(key));
      this.creatingContainers.set(key, creating);
    }
    await creating;
    return write();
  }
}

/** Block-blob requests for one target: whole uploads, staged blocks and their commit. */
class BlockWriter {
  // Block ids only have to be unique per blob, but two streams writing one blob at once would otherwise overwrite
  // each other's uncommitted blocks; a random prefix keeps them apart.
  private readonly streamId = randomBytes(8).toString('hex');

  constructor(
    private readonly io: BlobRequests,
    private readonly target: BlobTarget,
    readonly abortSignal: AbortSignal | undefined,
  ) {}

  async putWhole(data: Uint8Array, exclusive: boolean): Promise<void> {
    const options = { abortSignal: this.abortSignal, exclusive };
    await this.io.call('write', this.target, options, ({ signal }) =>
      this.io.withContainer(this.target, signal, () =>
        (exclusive ? this.target.containerOnce : this.target.container).getBlockBlobClient(this.target.parsed.path).upload(asBuffer(data), data.byteLength, {
          abortSignal: signal,
          conditions: exclusive ? { ifNoneMatch: '*' } : undefined,
        }),
      ),
    );
  }

  async stage(index: number, data: Uint8Array): Promise<string> {
    if (index >= MAX_BLOCKS_PER_BLOB) {
      throw new ValidationError(`Azure write of ${redactLocation(this.target.location)}: more than ${MAX_BLOCKS_PER_BLOB} blocks; ` + 'raise blockSizeInBytes');
    }
    const blockId = Buffer.from(`${this.streamId}-${index.toString().padStart(6, '0')}`).toString('base64');
    await this.io.call('write', this.target, { abortSignal: this.abortSignal }, ({ signal }) =>
      this.io.withContainer(this.target, signal, () =>
        this.target.container.getBlockBlobClient(this.target.parsed.path).stageBlock(blockId, asBuffer(data), data.byteLength, { abortSignal: signal }),
      ),
    );
    return blockId;
  }

  async commit(blockIds: string[], exclusive: boolean): Promise<void> {
    const options = { abortSignal: this.abortSignal, exclusive };
    await this.io.call('write', this.target, options, async ({ signal }) => {
      const container = exclusive ? this.target.containerOnce : this.target.container;
      const blob = container.getBlockBlobClient(this.target.parsed.path);
      try {
        const conditions = exclusive ? { ifNoneMatch: '*' } : undefined;
        await blob.commitBlockList(blockIds, { abortSignal: signal, conditions });
      } catch (error) {
        // A competing writer's commit discards our uncommitted blocks, so a loser can be told "invalid block list"
        // instead of the condition failure. That answer means our commit did not land; if the blob exists now,
        // another writer won. Errors that leave the outcome open are passed on untouched.
        const facts = azureErrorFacts(error);
        const lostBlocks = facts.statusCode === 400 && facts.errorCode === 'InvalidBlockList';
        if (exclusive && lostBlocks && (await blob.exists({ abortSignal: signal }))) {
          throw new AlreadyExistsError(`Azure write: ${redactLocation(this.target.location)} already exists`);
        }
        throw error;
      }
    });
  }
}

/** Streams into staged blocks, holding at most one block in memory; nothing is visible before `close`. */
class AzureOutputStream implements OutputStream {
  private buffer: Uint8Array | undefined;
  private filled = 0;
  private size = 0;
  private readonly blockIds: string[] = [];
  private state: 'open' | 'closed' | 'failed' = 'open';

  constructor(
    private readonly writer: BlockWriter,
    private readonly blockSize: number,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.ensureOpen();
    try {
      let position = 0;
      while (position < chunk.byteLength) {
        this.buffer ??= new Uint8Array(this.blockSize);
        const count = Math.min(this.blockSize - this.filled, chunk.byteLength - position);
        this.buffer.set(chunk.subarray(position, position + count), this.filled);
        this.filled += count;
        position += count;
        if (this.filled === this.blockSize) await this.flushBlock();
      }
      this.size += chunk.byteLength;
    } catch (error) {
      this.state = 'failed';
      this.buffer = undefined;
      throw error;
    }
  }

  async close(): Promise<number> {
    this.ensureOpen();
    this.state = 'closed';
    try {
      if (this.blockIds.length === 0) {
        // Small files go up in one request, as a plain write would.
        await this.writer.putWhole(this.buffer?.subarray(0, this.filled) ?? new Uint8Array(0), false);
      } else {
        if (this.filled > 0) await this.flushBlock();
        await this.writer.commit(this.blockIds, false);
      }
      return this.size;
    } finally {
      this.buffer = undefined;
    }
  }

  /** Staged blocks that are never committed are discarded by the service, so there is nothing to delete. */
  abort(): Promise<void> {
    this.state = 'closed';
    this.buffer = undefined;
    return Promise.resolve();
  }

  private async flushBlock(): Promise<void> {
    if (this.buffer === undefined) return;
    // The buffer is reused only after the stage resolves, when the SDK is done sending (and retrying) it.
    this.blockIds.push(await this.writer.stage(this.blockIds.length, this.buffer.subarray(0, this.filled)));
    this.filled = 0;
  }

  private ensureOpen(): void {
    if (this.state === 'failed') throw new ValidationError('output stream failed earlier; abort it and start again');
    if (this.state === 'closed') throw new ValidationError('output stream is already closed');
  }
}

function blobClient(target: BlobTarget) {
  return target.container.getBlobClient(target.parsed.path);
}

/** ADLS Gen2 lists directories as empty blobs marked `hdi_isfolder`; they are not files. */
function isDirectoryMarker(metadata: Record<string, string> | undefined): boolean {
  if (metadata === undefined) return false;
  return Object.entries(metadata).some(([key, value]) => key.toLowerCase() === 'hdi_isfolder' && value.toLowerCase() === 'true');
}

/** A Buffer view of the caller's bytes, without copying. */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

async function readBody(body: NodeJS.ReadableStream | undefined, contentLength: number | undefined, touch: () => void): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  if (body !== undefined) {
    for await (const chunk of body) {
      touch();
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(bytes);
      total += bytes.byteLength;
    }
  }
  if (contentLength !== undefined && total !== contentLength) {
    const message = `Azure download ended after ${total} of ${contentLength} bytes`;
    throw new IcebridgeError(StorageErrorCode.unavailable, message, { retryable: true });
  }
  const result = new Uint8Array(total);
  let position = 0;
  for (const chunk of chunks) {
    result.set(chunk, position);
    position += chunk.byteLength;
  }
  return result;
}
