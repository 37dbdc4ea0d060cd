import { AlreadyExistsError, NotFoundError, ValidationError } from '../../errors';
import type { FileInfo, FileIO, OutputStream, WriteFileOptions } from './file-io';
import { rangeOutsideFileError, redactLocation, throwIfAborted, validateRangeArguments } from './io-errors';

/** Scheme prefix of every location MemoryFileIO accepts. */
export const MEMORY_SCHEME = 'memory://';

interface SignalOptions {
  abortSignal?: AbortSignal;
}

/**
 * FileIO kept in a Map, for unit tests. Bytes are copied on the way in and out so a caller mutating its buffer
 * can never change what another reader sees, as with real storage.
 */
export class MemoryFileIO implements FileIO {
  private readonly files = new Map<string, Uint8Array>();

  async read(location: string, options: SignalOptions = {}): Promise<Uint8Array> {
    await this.enter('read', location, options);
    return this.get(location).slice();
  }

  async readRange(location: string, offset: number, length: number, options: SignalOptions = {}): Promise<Uint8Array> {
    validateRangeArguments(location, offset, length);
    await this.enter('readRange', location, options);
    const data = this.get(location);
    if (offset + length > data.byteLength) throw rangeOutsideFileError(location, offset, length, data.byteLength);
    return data.slice(offset, offset + length);
  }

  async stat(location: string, options: SignalOptions = {}): Promise<FileInfo | undefined> {
    await this.enter('stat', location, options);
    const data = this.files.get(location);
    return data === undefined ? undefined : { location, size: data.byteLength };
  }

  async write(location: string, data: Uint8Array, options: WriteFileOptions = {}): Promise<void> {
    const copy = data.slice();
    await this.enter('write', location, options);
    // Check and set run in one synchronous step, which is what makes concurrent exclusive writes have one winner.
    if (options.exclusive && this.files.has(location)) {
      throw new AlreadyExistsError(`write: ${redactLocation(location)} already exists`);
    }
    this.files.set(location, copy);
  }

  async create(location: string, options: SignalOptions = {}): Promise<OutputStream> {
    await this.enter('create', location, options);
    const chunks: Uint8Array[] = [];
    let open = true;
    const ensureOpen = (): void => {
      if (!open) throw new ValidationError(`output stream for ${redactLocation(location)} is already closed`);
    };
    return {
      // eslint-disable-next-line @typescript-eslint/require-await -- async makes a write after close a rejection, as FileIO callers expect
      write: async (chunk) => {
        ensureOpen();
        chunks.push(chunk.slice());
      },
      // eslint-disable-next-line @typescript-eslint/require-await -- async makes a second close a rejection, as FileIO callers expect
      close: async () => {
        ensureOpen();
        open = false;
        const size = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
        const data = new Uint8Array(size);
        let position = 0;
        for (const chunk of chunks) {
          data.set(chunk, position);
          position += chunk.byteLength;
        }
        this.files.set(location, data);
        return size;
      },
      abort: () => {
        open = false;
        chunks.length = 0;
        return Promise.resolve();
      },
    };
  }

  async delete(location: string, options: SignalOptions = {}): Promise<void> {
    await this.enter('delete', location, options);
    this.files.delete(location);
  }

  async *list(prefix: string, options: SignalOptions = {}): AsyncIterable<FileInfo> {
    await this.enter('list', prefix, options);
    const matches = [...this.files.entries()].filter(([location]) => location.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [location, data] of matches) {
      throwIfAborted(options.abortSignal, 'list', prefix);
      yield { location, size: data.byteLength };
    }
  }

  private get(location: string): Uint8Array {
    const data = this.files.get(location);
    if (data === undefined) throw new NotFoundError(`${redactLocation(location)} does not exist`);
    return data;
  }

  /** Yields once, like real storage, so callers cannot come to depend on synchronous completion. */
  private async enter(operation: string, location: string, options: SignalOptions): Promise<void> {
    if (!location.startsWith(MEMORY_SCHEME)) {
      throw new ValidationError(`${operation}: '${redactLocation(location)}' is not a ${MEMORY_SCHEME} location`);
    }
    throwIfAborted(options.abortSignal, operation, location);
    await Promise.resolve();
    throwIfAborted(options.abortSignal, operation, location);
  }
}
