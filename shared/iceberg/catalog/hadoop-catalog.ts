/**
 * The Hadoop-style catalog Spark's HadoopCatalog reads: `<table>/metadata/v<N>.metadata.json` plus
 * `metadata/version-hint.text`. The commit point is the exclusive create of the next version's file.
 */
import { randomUUID } from 'node:crypto';
import {
  AlreadyExistsError,
  CommitConflictError,
  CommitStateUnknownError,
  NotFoundError,
  TableNotFoundError,
  ValidationError,
  errorMessage,
} from '../../errors';
import type { FileIO } from '../io/file-io';
import { applyUpdates, checkRequirements, newTableMetadata } from '../spec/metadata-builder';
import { type TableMetadata, parseTableMetadata, serializeTableMetadata } from '../spec/table-metadata';
import type { TableRequirement, TableUpdate } from '../spec/updates';
import type { Catalog, CommitOptions, CreateTableOptions, DropTableOptions, Table } from './catalog';
import { type TableIdentifier, formatIdentifier, fromPathSegment, tableLocation } from './table-identifier';

/** A table loaded by the Hadoop catalog, with the version number its metadata file carries. */
export interface HadoopTable extends Table {
  /** Version number N of `v<N>.metadata.json`. */
  version: number;
}

/** Metadata files kept in the metadata log (Iceberg's write.metadata.previous-versions-max default). */
const PREVIOUS_VERSIONS_MAX = 100;

const VERSION_FILE = /^v(\d+)\.metadata\.json$/;

/** Hadoop-style catalog over any FileIO. */
export class HadoopCatalog implements Catalog {
  private readonly warehouse: string;

  /** `warehouse` is a location the FileIO understands (file path, file://, memory://, abfss://). */
  constructor(
    readonly io: FileIO,
    warehouse: string,
  ) {
    this.warehouse = warehouse.replace(/\/+$/, '');
  }

  /** Root location of a table. */
  tableLocation(id: TableIdentifier): string {
    return tableLocation(this.warehouse, id);
  }

  /** Loads the latest committed version; throws TableNotFoundError when there is none. */
  async loadTable(id: TableIdentifier): Promise<HadoopTable> {
    const table = await this.tryLoadTable(id);
    if (!table) throw new TableNotFoundError(`table ${formatIdentifier(id)} does not exist`);
    return table;
  }

  /** Loads the latest committed version, or undefined when the table does not exist. */
  async tryLoadTable(id: TableIdentifier): Promise<HadoopTable | undefined> {
    const metadataDir = `${this.tableLocation(id)}/metadata`;
    let version = await this.readVersionHint(metadataDir);
    // A hint naming a missing file is stale or damaged; the listing is the truth.
    if (version !== undefined && !(await this.io.stat(versionLocation(metadataDir, version)))) version = undefined;
    if (version === undefined) version = await this.highestListedVersion(metadataDir);
    if (version === undefined) return undefined;
    // The hint is a cache written after the commit point: newer versions may exist beyond it.
    while (await this.io.stat(versionLocation(metadataDir, version + 1))) version++;
    const metadataLocation = versionLocation(metadataDir, version);
    let text: Uint8Array;
    try {
      text = await this.io.read(metadataLocation);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
    return { identifier: id, version, metadataLocation, metadata: parseTableMetadata(Buffer.from(text).toString('utf8')) };
  }

  /** True when the table has at least one committed version. */
  async tableExists(id: TableIdentifier): Promise<boolean> {
    return (await this.tryLoadTable(id)) !== undefined;
  }

  /** Creates a table (v1.metadata.json); throws AlreadyExistsError when it exists. */
  async createTable(id: TableIdentifier, options: CreateTableOptions, commitOptions: CommitOptions = {}): Promise<HadoopTable> {
    const location = options.location ?? this.tableLocation(id);
    if (location.replace(/\/+$/, '') !== this.tableLocation(id)) {
      throw new ValidationError(`a Hadoop-style table must live at ${this.tableLocation(id)}`);
    }
    if (await this.tableExists(id)) throw new AlreadyExistsError(`table ${formatIdentifier(id)} already exists`);
    const metadata = newTableMetadata({
      uuid: randomUUID(),
      location,
      schema: options.schema,
      nowMs: commitOptions.nowMs ?? Date.now(),
      ...(options.spec ? { spec: options.spec } : {}),
      ...(options.sortOrder ? { sortOrder: options.sortOrder } : {}),
      ...(options.properties ? { properties: options.properties } : {}),
    });
    try {
      return await this.writeVersion(id, 1, metadata);
    } catch (error) {
      if (error instanceof CommitConflictError) throw new AlreadyExistsError(`table ${formatIdentifier(id)} already exists`);
      throw error;
    }
  }

  /**
   * Checks `requirements` against `base`, applies `updates` and writes the next version exclusively.
   * Throws CommitConflictError when another writer got there first (reload and retry), and
   * CommitStateUnknownError when the write failed in a way that may have landed.
   */
  async commit(base: Table, requirements: TableRequirement[], updates: TableUpdate[], options: CommitOptions = {}): Promise<HadoopTable> {
    const version = this.versionOf(base);
    checkRequirements(base.metadata, requirements);
    const nowMs = options.nowMs ?? Date.now();
    const next = applyUpdates(base.metadata, updates, { nowMs });
    next['metadata-log'] = [...next['metadata-log'], { 'timestamp-ms': base.metadata['last-updated-ms'], 'metadata-file': base.metadataLocation }].slice(
      -PREVIOUS_VERSIONS_MAX,
    );
    return this.writeVersion(base.identifier, version + 1, next);
  }

  /** Lists the tables of a namespace (directories holding a metadata/ folder with a version file). */
  async listTables(namespace: string[]): Promise<TableIdentifier[]> {
    const prefix = `${tableLocation(this.warehouse, { namespace, name: '_' }).replace(/\/_$/, '')}/`;
    const names = new Set<string>();
    for await (const file of this.io.list(prefix)) {
      const rest = file.location.slice(prefix.length).split('/');
      if (rest.length === 3 && rest[1] === 'metadata' && VERSION_FILE.test(rest[2]!)) names.add(fromPathSegment(rest[0]!));
    }
    return [...names].sort().map((name) => ({ namespace, name }));
  }

  /** Removes a table's metadata (and, with `purge`, everything under its location). */
  async dropTable(id: TableIdentifier, options: DropTableOptions = {}): Promise<void> {
    const root = `${this.tableLocation(id)}/${options.purge ? '' : 'metadata/'}`;
    const files: string[] = [];
    for await (const file of this.io.list(root)) files.push(file.location);
    for (const file of files) await this.io.delete(file);
  }

  /**
   * The version a base was loaded at, read from its metadata file's name (as Spark's Hadoop tables do): every
   * Table this catalog hands out names `v<N>.metadata.json`, so the number needs no member on the interface.
   */
  private versionOf(base: Table): number {
    const match = VERSION_FILE.exec(base.metadataLocation.slice(base.metadataLocation.lastIndexOf('/') + 1));
    if (!match) throw new ValidationError(`cannot commit to ${formatIdentifier(base.identifier)}: ${base.metadataLocation} is not a Hadoop-style version file`);
    return Number(match[1]);
  }

  private async writeVersion(id: TableIdentifier, version: number, metadata: TableMetadata): Promise<HadoopTable> {
    const metadataDir = `${this.tableLocation(id)}/metadata`;
    const metadataLocation = versionLocation(metadataDir, version);
    const bytes = Buffer.from(serializeTableMetadata(metadata), 'utf8');
    try {
      await this.io.write(metadataLocation, bytes, { exclusive: true });
    } catch (error) {
      if (error instanceof AlreadyExistsError) {
        throw new CommitConflictError(`version ${version} of ${formatIdentifier(id)} was committed by another writer`);
      }
      throw new CommitStateUnknownError(`commit of ${formatIdentifier(id)} version ${version} may or may not have landed: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    // The hint only speeds up loading; readers probe past it, so failing to update it is harmless.
    await this.io.write(`${metadataDir}/version-hint.text`, Buffer.from(String(version), 'utf8')).catch(() => undefined);
    return { identifier: id, version, metadataLocation, metadata };
  }

  private async readVersionHint(metadataDir: string): Promise<number | undefined> {
    try {
      const text = Buffer.from(await this.io.read(`${metadataDir}/version-hint.text`))
        .toString('utf8')
        .trim();
      const version = Number(text);
      return Number.isSafeInteger(version) && version > 0 ? version : undefined;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  private async highestListedVersion(metadataDir: string): Promise<number | undefined> {
    let highest: number | undefined;
    for await (const file of this.io.list(`${metadataDir}/`)) {
      const m = VERSION_FILE.exec(file.location.slice(file.location.lastIndexOf('/') + 1));
      if (m) highest = Math.max(highest ?? 0, Number(m[1]));
    }
    return highest;
  }
}

function versionLocation(metadataDir: string, version: number): string {
  return `${metadataDir}/v${version}.metadata.json`;
}
