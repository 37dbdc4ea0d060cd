import * as path from 'node:path';
import { ValidationError } from '../../errors';
import type { AzureStorageSettings } from './azure-clients';
import { AzureFileIO } from './azure-file-io';
import { isAzureLocation } from './azure-location';
import type { FileInfo, FileIO, OutputStream, WriteFileOptions } from './file-io';
import { redactLocation } from './io-errors';
import { LocalFileIO } from './local-file-io';
import { MEMORY_SCHEME, MemoryFileIO } from './memory-file-io';

export type { AzureAccountSettings, AzureStorageSettings } from './azure-clients';
export type { FileInfo, FileIO, OutputStream, WriteFileOptions } from './file-io';
export { AzureDataLake } from './azure-datalake';
export type { DeleteDirectoryOptions, DeleteDirectoryResult, HasHierarchicalNamespaceOptions } from './azure-datalake';
export { AzureFileIO } from './azure-file-io';
export { formatAzureLocation, isAzureLocation, parseAzureLocation } from './azure-location';
export type { AzureLocation, AzureScheme } from './azure-location';
export { StorageErrorCode, redactLocation } from './io-errors';
export { LocalFileIO, localPath } from './local-file-io';
export { MemoryFileIO } from './memory-file-io';

/** What `createFileIO` and `ResolvingFileIO` need; only Azure locations need anything. */
export interface FileIOSettings {
  azure?: AzureStorageSettings;
}

/** Storage family a location belongs to. */
export type StorageKind = 'local' | 'memory' | 'azure';

/** Storage family of a location, by scheme; throws ValidationError for anything else. */
export function storageKindOf(location: string): StorageKind {
  if (location.startsWith('file:') || path.isAbsolute(location)) return 'local';
  if (location.startsWith(MEMORY_SCHEME)) return 'memory';
  if (isAzureLocation(location)) return 'azure';
  throw new ValidationError(`Unsupported location '${redactLocation(location)}': ` + 'expected file:///..., an absolute path, memory://... or abfss://...');
}

/**
 * The FileIO for a location's scheme. Each call returns a new instance; for memory:// that means a new, empty
 * store, so keep the instance when several calls must see the same files.
 */
export function createFileIO(location: string, settings: FileIOSettings = {}): FileIO {
  switch (storageKindOf(location)) {
    case 'local':
      return new LocalFileIO();
    case 'memory':
      return new MemoryFileIO();
    case 'azure':
      if (settings.azure === undefined) {
        throw new ValidationError(`Location '${redactLocation(location)}' is on Azure, but no Azure storage settings are configured`);
      }
      return new AzureFileIO(settings.azure);
  }
}

/** One FileIO for every scheme: each call goes to the implementation its location's scheme selects. */
export class ResolvingFileIO implements FileIO {
  private readonly byKind = new Map<StorageKind, FileIO>();

  constructor(private readonly settings: FileIOSettings = {}) {}

  async read(location: string, options?: { abortSignal?: AbortSignal }): Promise<Uint8Array> {
    return this.for(location).read(location, options);
  }

  async readRange(location: string, offset: number, length: number, options?: { abortSignal?: AbortSignal }): Promise<Uint8Array> {
    return this.for(location).readRange(location, offset, length, options);
  }

  async stat(location: string, options?: { abortSignal?: AbortSignal }): Promise<FileInfo | undefined> {
    return this.for(location).stat(location, options);
  }

  async write(location: string, data: Uint8Array, options?: WriteFileOptions): Promise<void> {
    return this.for(location).write(location, data, options);
  }

  async create(location: string, options?: { abortSignal?: AbortSignal }): Promise<OutputStream> {
    return this.for(location).create(location, options);
  }

  async delete(location: string, options?: { abortSignal?: AbortSignal }): Promise<void> {
    return this.for(location).delete(location, options);
  }

  async *list(prefix: string, options?: { abortSignal?: AbortSignal }): AsyncIterable<FileInfo> {
    yield* this.for(prefix).list(prefix, options);
  }

  /** Created on first use, so a process that never touches Azure needs no Azure settings. */
  private for(location: string): FileIO {
    const kind = storageKindOf(location);
    let io = this.byKind.get(kind);
    if (io === undefined) {
      io = createFileIO(location, this.settings);
      this.byKind.set(kind, io);
    }
    return io;
  }
}
