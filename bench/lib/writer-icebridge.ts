/**
 * Candidate: our own writer, shared/iceberg/parquet/data-file-writer.ts. It is loaded by a computed path and
 * probed by shape, so the benchmark still compiles and runs while that module is missing or its API moves; any
 * mismatch makes this candidate "not available" with the reason instead of failing the run.
 */
import { existsSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { CandidateUnavailableError, type Candidate, type TimedWrite } from './candidate';
import { ORDERS_SCHEMA, ordersAsRows, type OrdersData } from './orders-data';
import { localPath } from '../../shared/iceberg/io/local-file-io';

const SHARED = path.resolve(__dirname, '../../shared/iceberg');
const WRITER_MODULE = path.join(SHARED, 'parquet/data-file-writer');
const IO_MODULES = [
  { file: path.join(SHARED, 'io/local-file-io'), exportName: 'LocalFileIO', inMemory: false },
  { file: path.join(SHARED, 'io/memory-file-io'), exportName: 'MemoryFileIO', inMemory: true },
];
const CLOSE_METHODS = ['close', 'finish', 'complete'] as const;

type Method = (...args: unknown[]) => unknown;

/** The subset of FileIO this adapter uses: reading back a file written to memory. */
interface ReadableIO {
  read(location: string): Promise<Uint8Array>;
}

interface ProbedIO {
  io: ReadableIO;
  inMemory: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return isObject(value) && typeof value.then === 'function';
}

function methodOf(target: unknown, name: string): Method | undefined {
  if (!isObject(target)) return undefined;
  const fn = target[name];
  return typeof fn === 'function' ? (fn.bind(target) as Method) : undefined;
}

async function importIfPresent(file: string): Promise<Record<string, unknown> | undefined> {
  if (!['.ts', '.js'].some((ext) => existsSync(file + ext))) return undefined;
  const loaded: unknown = await import(file);
  return isObject(loaded) ? loaded : undefined;
}

/** A FileIO instance from shared/iceberg/io, preferring local disk so the write is timed like the others. */
async function probeFileIO(): Promise<ProbedIO> {
  for (const candidate of IO_MODULES) {
    const mod = await importIfPresent(candidate.file).catch(() => undefined);
    const ctor = mod?.[candidate.exportName];
    if (typeof ctor !== 'function') continue;
    const io: unknown = new (ctor as new () => unknown)();
    if (methodOf(io, 'create') && methodOf(io, 'write') && methodOf(io, 'read')) {
      return { io: io as ReadableIO, inMemory: candidate.inMemory };
    }
  }
  throw new CandidateUnavailableError('no usable FileIO (LocalFileIO or MemoryFileIO) in shared/iceberg/io');
}

/** The DataFileWriter constructor, or the reason it cannot be used. */
async function probeWriterClass(): Promise<new (options: unknown) => unknown> {
  let mod: Record<string, unknown> | undefined;
  try {
    mod = await importIfPresent(WRITER_MODULE);
  } catch (error) {
    throw new CandidateUnavailableError(`data-file-writer does not load: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!mod) throw new CandidateUnavailableError('shared/iceberg/parquet/data-file-writer.ts does not exist yet');
  const ctor = mod.DataFileWriter;
  if (typeof ctor !== 'function') throw new CandidateUnavailableError('data-file-writer has no DataFileWriter export');
  return ctor as new (options: unknown) => unknown;
}

/** Local paths of the data files a close() reported, accepting a DataFile, a list of them, or { dataFiles }. */
function reportedPaths(result: unknown): string[] {
  const files = Array.isArray(result) ? result : isObject(result) && Array.isArray(result.dataFiles) ? result.dataFiles : [result];
  const paths: string[] = [];
  for (const file of files) {
    if (isObject(file) && typeof file.filePath === 'string') paths.push(file.filePath);
  }
  return paths;
}

/** Our DataFileWriter on the shared value representation (rows as arrays in field order). */
export async function createIcebridgeCandidate(): Promise<Candidate> {
  const WriterClass = await probeWriterClass();
  const { io, inMemory } = await probeFileIO();
  return {
    note: inMemory
      ? 'MemoryFileIO (no local FileIO found); copying the file out to disk is in the time'
      : 'LocalFileIO; row-at-a-time write() of the shared value representation, awaiting its row-group flushes',
    prepare(data: OrdersData): Promise<TimedWrite> {
      const rows = ordersAsRows(data);
      return Promise.resolve<TimedWrite>(async (outputPath) => {
        const stem = outputPath.replace(/\.parquet$/, '');
        const issued: string[] = [];
        const newLocation = (): string => {
          const location = inMemory ? `memory://bench/${path.basename(stem)}-${issued.length}.parquet` : `${stem}-${issued.length}.parquet`;
          issued.push(location);
          return location;
        };
        let writer: unknown;
        try {
          writer = new WriterClass({ io, schema: ORDERS_SCHEMA, newLocation });
        } catch (error) {
          throw new CandidateUnavailableError(`DataFileWriter constructor refused our options: ${error instanceof Error ? error.message : String(error)}`);
        }
        const write = methodOf(writer, 'write');
        const closeName = CLOSE_METHODS.find((name) => methodOf(writer, name));
        if (!write || !closeName) throw new CandidateUnavailableError('DataFileWriter has no write(row) and close()/finish()');
        // write() returns a promise only when a row completes a row group; awaiting just those is the writer's
        // back-pressure, and awaiting every row would add a microtask per row that production would not pay.
        for (let i = 0; i < rows.length; i++) {
          const pending = write(rows[i]);
          if (isThenable(pending)) await pending;
        }
        const result: unknown = await methodOf(writer, closeName)!();
        const locations = reportedPaths(result);
        const written = locations.length > 0 ? locations : issued;
        const paths: string[] = [];
        let bytes = 0;
        for (const [k, location] of written.entries()) {
          let local = localPath(location);
          if (inMemory) {
            local = `${stem}-${k}.parquet`;
            await writeFile(local, await io.read(location));
          }
          const size = await stat(local).then(
            (s) => s.size,
            () => undefined,
          );
          if (size === undefined) continue; // a location that was issued but never used
          paths.push(local);
          bytes += size;
        }
        if (paths.length === 0) throw new Error('DataFileWriter reported no file that exists');
        return { paths, bytes };
      });
    },
  };
}
