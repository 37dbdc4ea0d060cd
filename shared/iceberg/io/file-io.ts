/**
 * FileIO: the one seam between Iceberg code and storage. Locations are absolute URIs: `file:///abs/path` (or a
 * plain absolute path), `memory://<anything>`, `abfss://<filesystem>@<account>.dfs.core.windows.net/<path>`.
 */

/** Size and identity of a stored file. */
export interface FileInfo {
  location: string;
  size: number;
  /** When the file was last written (ms since 1970), where the store says; orphan removal never deletes a file without it. */
  lastModifiedMs?: number;
}

/** Options for a whole-file write. */
export interface WriteFileOptions {
  /**
   * Create only if nothing exists at the location; otherwise throw AlreadyExistsError. This is the catalog's
   * commit point, so implementations must make it atomic (If-None-Match: * on Azure, O_EXCL-like on disk).
   */
  exclusive?: boolean;
  abortSignal?: AbortSignal;
}

/** A file being written in pieces; nothing is visible at the location until `close` resolves. */
export interface OutputStream {
  /** Appends bytes; resolves when the caller may reuse `chunk`. */
  write(chunk: Uint8Array): Promise<void>;
  /** Publishes the file and returns its final size. */
  close(): Promise<number>;
  /** Discards everything written; the location is left as it was. */
  abort(): Promise<void>;
}

/** Options of `FileIO.list`. */
export interface ListOptions {
  abortSignal?: AbortSignal;
  /**
   * Also list what writes that never finished left behind (local disk keeps them as hidden temp files next to
   * their target, named `.<name>.<random>.icebridge-tmp`), so a cleanup can remove them. Stores that leave
   * nothing visible (Azure discards uncommitted blocks) ignore it.
   */
  includeIncomplete?: boolean;
}

/** Storage operations Iceberg code needs; implemented for local disk, memory and Azure. */
export interface FileIO {
  /** Reads a whole file; throws NotFoundError when it does not exist. */
  read(location: string, options?: { abortSignal?: AbortSignal }): Promise<Uint8Array>;
  /** Reads `length` bytes from `offset`; throws NotFoundError when the file does not exist. */
  readRange(location: string, offset: number, length: number, options?: { abortSignal?: AbortSignal }): Promise<Uint8Array>;
  /** Size of the file, or undefined when it does not exist. */
  stat(location: string, options?: { abortSignal?: AbortSignal }): Promise<FileInfo | undefined>;
  /** Writes a whole file, replacing any existing one unless `exclusive` is set. */
  write(location: string, data: Uint8Array, options?: WriteFileOptions): Promise<void>;
  /** Opens a streamed write with bounded memory (large data files). */
  create(location: string, options?: { abortSignal?: AbortSignal }): Promise<OutputStream>;
  /** Deletes a file; deleting a missing file is not an error. */
  delete(location: string, options?: { abortSignal?: AbortSignal }): Promise<void>;
  /** Lists files whose location starts with `prefix` (a directory location ending in `/` lists recursively). */
  list(prefix: string, options?: ListOptions): AsyncIterable<FileInfo>;
}
