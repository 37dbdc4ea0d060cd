/**
 * Content checksums of the data files a partition copy writes, taken from the bytes as they stream to storage
 * (no second read). A partition's checksum combines its files' hashes in write order.
 */
import { createHash } from 'node:crypto';
import type { FileInfo, FileIO, ListOptions, OutputStream, WriteFileOptions } from '../iceberg/io/file-io';

type Signal = { abortSignal?: AbortSignal };

/** A FileIO that passes everything through and remembers the SHA-256 of every file written through `create`. */
export class HashingFileIO implements FileIO {
  private readonly hashes = new Map<string, string>();

  constructor(private readonly inner: FileIO) {}

  read(location: string, options?: Signal): Promise<Uint8Array> {
    return this.inner.read(location, options);
  }

  readRange(location: string, offset: number, length: number, options?: Signal): Promise<Uint8Array> {
    return this.inner.readRange(location, offset, length, options);
  }

  stat(location: string, options?: Signal): Promise<FileInfo | undefined> {
    return this.inner.stat(location, options);
  }

  write(location: string, data: Uint8Array, options?: WriteFileOptions): Promise<void> {
    return this.inner.write(location, data, options);
  }

  delete(location: string, options?: Signal): Promise<void> {
    return this.inner.delete(location, options);
  }

  list(prefix: string, options?: ListOptions): AsyncIterable<FileInfo> {
    return this.inner.list(prefix, options);
  }

  async create(location: string, options?: Signal): Promise<OutputStream> {
    const out = await this.inner.create(location, options);
    const hash = createHash('sha256');
    return {
      write: async (chunk: Uint8Array) => {
        hash.update(chunk);
        await out.write(chunk);
      },
      close: async () => {
        const size = await out.close();
        this.hashes.set(location, hash.digest('hex'));
        return size;
      },
      abort: () => out.abort(),
    };
  }

  /** One checksum over the given files' hashes, in the order given. */
  combined(locations: string[]): string {
    const hash = createHash('sha256');
    for (const location of locations) hash.update(`${location.slice(location.lastIndexOf('/') + 1)}:${this.hashes.get(location) ?? 'missing'}\n`);
    return hash.digest('hex');
  }
}
