/**
 * The drift registry: a versioned record of the source schema of every migrated table, kept in the warehouse as
 * `<warehouse>/.icebridge/schema-registry/v000001.json`, `v000002.json`, … Each version is created exclusively, so
 * no version is ever overwritten; a new one is written only when the schema differs from the latest, so the
 * versions are the history of schema changes.
 */
import { AlreadyExistsError, ValidationError, errorMessage } from '../errors';
import type { FileIO } from '../iceberg/io/file-io';
import type { DriftTable } from './drift-model';
import { compareNames } from './describe-live';

/** The `format` of every registry version. */
export const DRIFT_REGISTRY_FORMAT = 'icebridge-drift-registry';

/** One version of the registry. */
export interface RegistrySnapshot {
  format: typeof DRIFT_REGISTRY_FORMAT;
  /** 1, 2, …: the number in the file name. */
  version: number;
  /** ISO 8601 time the version was recorded. */
  capturedAt: string;
  /** Redacted URL of the database the tables were described from (never a password). */
  source: string;
  /** Every recorded table of every schema, sorted by schema then name. */
  tables: DriftTable[];
}

const ATTEMPTS = 5;

/** `<warehouse>/.icebridge/schema-registry`, the folder of the versions. */
export function registryLocation(warehouse: string): string {
  return `${warehouse.replace(/\/+$/, '')}/.icebridge/schema-registry`;
}

/** The file of version `version`: `v000042.json`. */
export function registryVersionLocation(warehouse: string, version: number): string {
  if (!Number.isSafeInteger(version) || version < 1 || version > 999_999)
    throw new ValidationError(`registry version ${version} is not valid: expected 1 to 999999`);
  return `${registryLocation(warehouse)}/v${String(version).padStart(6, '0')}.json`;
}

/** The registry's versions, oldest first. */
export async function listRegistryVersions(io: FileIO, warehouse: string): Promise<number[]> {
  const versions: number[] = [];
  for await (const file of io.list(`${registryLocation(warehouse)}/`)) {
    const match = /\/v(\d{6})\.json$/.exec(file.location);
    if (match !== null) versions.push(Number(match[1]));
  }
  return versions.sort((a, b) => a - b);
}

/** One version; a missing version is a ValidationError naming the versions there are. */
export async function readRegistryVersion(io: FileIO, warehouse: string, version: number): Promise<RegistrySnapshot> {
  const location = registryVersionLocation(warehouse, version);
  if ((await io.stat(location)) === undefined) {
    const there = await listRegistryVersions(io, warehouse);
    throw new ValidationError(`schema registry version ${version} does not exist; versions: ${there.length === 0 ? '(none)' : there.join(', ')}`);
  }
  return parseSnapshot(location, await io.read(location));
}

/** The newest version, or undefined when none was recorded. */
export async function readLatestRegistry(io: FileIO, warehouse: string): Promise<RegistrySnapshot | undefined> {
  const versions = await listRegistryVersions(io, warehouse);
  const latest = versions.at(-1);
  return latest === undefined ? undefined : readRegistryVersion(io, warehouse, latest);
}

/** What `recordRegistry` did: wrote a new version, or found the latest one equal. */
export interface RecordResult {
  version: number;
  written: boolean;
}

/**
 * Records `tables` (the tables described now of `schema`; `scope` names the tables looked at, all of the schema's
 * when absent) as a new version when they differ from the latest; the latest's other tables are carried over.
 * A version another writer created first is read back and the comparison made again, never overwritten.
 */
export async function recordRegistry(
  io: FileIO,
  warehouse: string,
  input: { schema: string; tables: readonly DriftTable[]; source: string; scope?: readonly string[]; now?: () => Date },
): Promise<RecordResult> {
  const scope = input.scope === undefined ? undefined : new Set(input.scope);
  for (let attempt = 1; ; attempt++) {
    const latest = await readLatestRegistry(io, warehouse);
    const kept = (latest?.tables ?? []).filter((t) => t.schema !== input.schema || (scope !== undefined && !scope.has(t.name)));
    const tables = sortTables([...kept, ...input.tables]);
    if (latest !== undefined && sameTables(latest.tables, tables)) return { version: latest.version, written: false };
    const version = (latest?.version ?? 0) + 1;
    const snapshot: RegistrySnapshot = {
      format: DRIFT_REGISTRY_FORMAT,
      version,
      capturedAt: (input.now ?? (() => new Date()))().toISOString(),
      source: input.source,
      tables,
    };
    try {
      await io.write(registryVersionLocation(warehouse, version), new TextEncoder().encode(`${JSON.stringify(snapshot, null, 2)}\n`), { exclusive: true });
      return { version, written: true };
    } catch (error) {
      if (!(error instanceof AlreadyExistsError) || attempt >= ATTEMPTS) throw error;
    }
  }
}

/** True when two table lists record the same schema (order of the lists aside). */
export function sameTables(a: readonly DriftTable[], b: readonly DriftTable[]): boolean {
  return JSON.stringify(sortTables(a)) === JSON.stringify(sortTables(b));
}

function sortTables(tables: readonly DriftTable[]): DriftTable[] {
  return [...tables].sort((x, y) => compareNames(x.schema, y.schema) || compareNames(x.name, y.name));
}

function parseSnapshot(location: string, bytes: Uint8Array): RegistrySnapshot {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ValidationError(`schema registry ${location} cannot be read: ${errorMessage(error)}`);
  }
  const snapshot = doc as Partial<RegistrySnapshot> | null;
  if (snapshot === null || typeof snapshot !== 'object' || snapshot.format !== DRIFT_REGISTRY_FORMAT || !Array.isArray(snapshot.tables)) {
    throw new ValidationError(`${location} is not a schema registry version (format is not "${DRIFT_REGISTRY_FORMAT}")`);
  }
  return snapshot as RegistrySnapshot;
}
