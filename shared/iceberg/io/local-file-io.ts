import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { AlreadyExistsError, IcebridgeError, NotFoundError, ValidationError } from '../../errors';
import type { FileInfo, FileIO, ListOptions, OutputStream, WriteFileOptions } from './file-io';
import { StorageErrorCode, abortedError, rangeOutsideFileError, throwIfAborted, validateRangeArguments } from './io-errors';

/**
 * Suffix of in-progress files. They live beside their target (a rename or link across directories could cross
 * file systems and stop being atomic) and `list` hides them so nobody mistakes a half-written file for data.
 */
export const LOCAL_TEMP_SUFFIX = '.icebridge-tmp';

interface SignalOptions {
  abortSignal?: AbortSignal;
}

const RETRYABLE_FS_CODES = new Set(['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'EINTR', 'ETIMEDOUT']);

/**
 * Absolute path a local location names: a `file:` location or a plain absolute path. A `file:` location's path is
 * taken literally, as Hadoop's Path (and so Iceberg's Java readers) takes it: no percent-decoding, and '#' and '?'
 * are characters of a name, not a fragment or a query. Table locations are joined from names as strings, so a
 * table named `a#b` must not lose everything after its '#', and `file:///w` and `/w` must name the same files.
 */
export function localPath(location: string): string {
  if (location.startsWith('file:')) {
    const rest = location.slice('file:'.length);
    // file:/abs (Hadoop's form), file:///abs, or file://localhost/abs; any other host is not this machine.
    const local = rest.startsWith('//')
      ? rest.startsWith('///')
        ? rest.slice(2)
        : rest.startsWith('//localhost/')
          ? rest.slice('//localhost'.length)
          : undefined
      : rest;
    if (local === undefined || !local.startsWith('/')) {
      throw new ValidationError(`'${location}' is not a local file URI (expected file:///absolute/path)`);
    }
    return local;
  }
  if (!path.isAbsolute(location)) {
    throw new ValidationError(`'${location}' is not a local location (expected file:///absolute/path or an absolute path)`);
  }
  return location;
}

/** FileIO on the local file system; the exclusive write is a hard link, atomic in both existence and content. */
export class LocalFileIO implements FileIO {
  async read(location: string, options: SignalOptions = {}): Promise<Uint8Array> {
    const file = localPath(location);
    throwIfAborted(options.abortSignal, 'read', location);
    try {
      return plainBytes(await fs.readFile(file, { signal: options.abortSignal }));
    } catch (error) {
      throw fsError(error, 'read', location, options.abortSignal);
    }
  }

  async readRange(location: string, offset: number, length: number, options: SignalOptions = {}): Promise<Uint8Array> {
    validateRangeArguments(location, offset, length);
    const file = localPath(location);
    throwIfAborted(options.abortSignal, 'readRange', location);
    let handle: FileHandle | undefined;
    try {
      handle = await fs.open(file, 'r');
      const { size } = await handle.stat();
      if (offset + length > size) throw rangeOutsideFileError(location, offset, length, size);
      const result = new Uint8Array(length);
      let filled = 0;
      // A single read may return fewer bytes than asked even inside the file.
      while (filled < length) {
        throwIfAborted(options.abortSignal, 'readRange', location);
        const { bytesRead } = await handle.read(result, filled, length - filled, offset + filled);
        if (bytesRead === 0) throw rangeOutsideFileError(location, offset, length, offset + filled);
        filled += bytesRead;
      }
      return result;
    } catch (error) {
      throw fsError(error, 'readRange', location, options.abortSignal);
    } finally {
      await handle?.close();
    }
  }

  async stat(location: string, options: SignalOptions = {}): Promise<FileInfo | undefined> {
    const file = localPath(location);
    throwIfAborted(options.abortSignal, 'stat', location);
    try {
      const stats = await fs.stat(file);
      return stats.isFile() ? { location, size: stats.size, lastModifiedMs: stats.mtimeMs } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw fsError(error, 'stat', location, options.abortSignal);
    }
  }

  async write(location: string, data: Uint8Array, options: WriteFileOptions = {}): Promise<void> {
    const file = localPath(location);
    const operation = 'write';
    throwIfAborted(options.abortSignal, operation, location);
    let temp: string | undefined;
    try {
      const opened = await openTempFile(file);
      temp = opened.temp;
      const handle = opened.handle;
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      throwIfAborted(options.abortSignal, operation, location);
      if (options.exclusive) {
        // link() fails with EEXIST if the target exists and otherwise publishes the complete, synced file in one
        // step; an O_EXCL create would let readers see a partly written file.
        await fs.link(temp, file).catch((error: unknown) => {
          if (errorCode(error) === 'EEXIST') throw new AlreadyExistsError(`write: ${location} already exists`);
          throw error;
        });
        await syncDirectory(path.dirname(file));
      } else {
        await fs.rename(temp, file);
        temp = undefined;
      }
    } catch (error) {
      throw fsError(error, operation, location, options.abortSignal);
    } finally {
      if (temp !== undefined) await fs.rm(temp, { force: true });
    }
  }

  async create(location: string, options: SignalOptions = {}): Promise<OutputStream> {
    const file = localPath(location);
    throwIfAborted(options.abortSignal, 'create', location);
    try {
      const { temp, handle } = await openTempFile(file);
      return new LocalOutputStream(location, file, temp, handle, options.abortSignal);
    } catch (error) {
      throw fsError(error, 'create', location, options.abortSignal);
    }
  }

  async delete(location: string, options: SignalOptions = {}): Promise<void> {
    const file = localPath(location);
    throwIfAborted(options.abortSignal, 'delete', location);
    try {
      await fs.unlink(file);
    } catch (error) {
      if (isMissing(error)) return;
      throw fsError(error, 'delete', location, options.abortSignal);
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<FileInfo> {
    const prefixPath = localPath(prefix);
    const root = prefixPath.endsWith(path.sep) || prefixPath.endsWith('/') ? prefixPath : path.dirname(prefixPath);
    const isUri = prefix.startsWith('file:');
    for await (const file of walk(root, prefixPath, options.abortSignal, prefix, options.includeIncomplete === true)) {
      const rest = file.path.slice(prefixPath.length);
      const location = isUri ? prefix + rest.split(path.sep).join('/') : file.path;
      yield { location, size: file.size, lastModifiedMs: file.lastModifiedMs };
    }
  }
}

class LocalOutputStream implements OutputStream {
  private size = 0;
  private open = true;

  constructor(
    private readonly location: string,
    private readonly file: string,
    private readonly temp: string,
    private readonly handle: FileHandle,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    await this.ensureOpen();
    try {
      let written = 0;
      while (written < chunk.byteLength) {
        const result = await this.handle.write(chunk, written, chunk.byteLength - written);
        written += result.bytesWritten;
      }
      this.size += chunk.byteLength;
    } catch (error) {
      throw fsError(error, 'write', this.location, undefined);
    }
  }

  async close(): Promise<number> {
    await this.ensureOpen();
    this.open = false;
    try {
      await this.handle.sync();
      await this.handle.close();
      await fs.rename(this.temp, this.file);
      return this.size;
    } catch (error) {
      await this.handle.close().catch(() => undefined);
      await fs.rm(this.temp, { force: true });
      throw fsError(error, 'close', this.location, undefined);
    }
  }

  async abort(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.handle.close().catch(() => undefined);
    await fs.rm(this.temp, { force: true });
  }

  /** A stream whose create() signal fired discards itself, so an abandoned copy leaves no temp file behind. */
  private async ensureOpen(): Promise<void> {
    if (!this.open) throw new ValidationError(`output stream for ${this.location} is already closed`);
    if (this.signal?.aborted) {
      await this.abort();
      throw abortedError('write', this.location);
    }
  }
}

async function* walk(
  directory: string,
  prefixPath: string,
  signal: AbortSignal | undefined,
  prefix: string,
  includeIncomplete: boolean,
): AsyncGenerator<{ path: string; size: number; lastModifiedMs: number }> {
  throwIfAborted(signal, 'list', prefix);
  let entries;
  try {
    entries = await fs.readdir(directory, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return;
    throw fsError(error, 'list', prefix, signal);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      // Descend only where files can still match, so listing one table does not walk the whole warehouse.
      const asDirectory = full + path.sep;
      if (asDirectory.startsWith(prefixPath) || prefixPath.startsWith(asDirectory)) {
        yield* walk(full, prefixPath, signal, prefix, includeIncomplete);
      }
    } else if (entry.isFile() && (includeIncomplete || !entry.name.endsWith(LOCAL_TEMP_SUFFIX)) && startsWithIgnoringDot(full, prefixPath, includeIncomplete)) {
      try {
        const stats = await fs.stat(full);
        yield { path: full, size: stats.size, lastModifiedMs: stats.mtimeMs };
      } catch (error) {
        // Deleted between readdir and stat: it is simply no longer there.
        if (!isMissing(error)) throw fsError(error, 'list', prefix, signal);
      }
    }
  }
}

/** Creates the parent directories and opens a new, exclusively created temp file beside `file`. */
async function openTempFile(file: string): Promise<{ temp: string; handle: FileHandle }> {
  const directory = path.dirname(file);
  await fs.mkdir(directory, { recursive: true });
  const temp = path.join(directory, `.${path.basename(file)}.${randomBytes(8).toString('hex')}${LOCAL_TEMP_SUFFIX}`);
  return { temp, handle: await fs.open(temp, 'wx') };
}

/** Makes a new directory entry durable; not every platform can open a directory, and that is not an error. */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(directory, 'r');
    await handle.sync();
  } catch {
    // Best effort only: the file content itself is already synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** A Buffer may be a view into a shared pool; hand out bytes whose `.buffer` is exactly the file. */
function plainBytes(buffer: Buffer): Uint8Array {
  if (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength) {
    return new Uint8Array(buffer.buffer, 0, buffer.byteLength);
  }
  return new Uint8Array(buffer);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

const READ_OPERATIONS = new Set(['read', 'readRange', 'stat', 'list']);

function fsError(error: unknown, operation: string, location: string, signal: AbortSignal | undefined): Error {
  if (error instanceof IcebridgeError) return error;
  const aborted = signal?.aborted === true || (error instanceof Error && error.name === 'AbortError');
  if (aborted) return abortedError(operation, location);
  const code = errorCode(error);
  // On a write, ENOENT/ENOTDIR mean a parent path is a file or vanished: a failure, not a missing target.
  if (isMissing(error) && READ_OPERATIONS.has(operation)) {
    return new NotFoundError(`${operation}: ${location} does not exist`);
  }
  if (code === 'EISDIR') return new ValidationError(`${operation}: ${location} is a directory, not a file`);
  const retryable = code !== undefined && RETRYABLE_FS_CODES.has(code);
  return new IcebridgeError(
    retryable ? StorageErrorCode.unavailable : StorageErrorCode.failed,
    `${operation} of ${location} failed: ${code ?? 'unknown error'}`,
    { retryable, cause: error },
  );
}

/**
 * Temp files carry a leading dot before the target's name, so with `includeIncomplete` a prefix naming files
 * (`…/data/run-1-p`) also matches their temp files (`…/data/.run-1-p…`).
 */
function startsWithIgnoringDot(full: string, prefixPath: string, includeIncomplete: boolean): boolean {
  if (full.startsWith(prefixPath)) return true;
  if (!includeIncomplete) return false;
  const dir = path.dirname(full);
  const base = path.basename(full);
  return base.startsWith('.') && path.join(dir, base.slice(1)).startsWith(prefixPath);
}
