/**
 * The contract itself under test: catalogs broken in one way each, run through every check, must fail exactly
 * the checks that guard that behaviour; and a catalog that commits the way a REST server does (requirements
 * checked against the latest metadata, not the caller's base) must pass, so the contract does not demand the
 * Hadoop layout's stricter conflicts.
 */
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../shared/errors';
import type { Catalog, CommitOptions, CreateTableOptions, DropTableOptions, Table } from '../../../shared/iceberg/catalog/catalog';
import { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import { type TableIdentifier, formatIdentifier } from '../../../shared/iceberg/catalog/table-identifier';
import type { FileIO } from '../../../shared/iceberg/io/file-io';
import { MemoryFileIO } from '../../../shared/iceberg/io/memory-file-io';
import { checkRequirements } from '../../../shared/iceberg/spec/metadata-builder';
import type { TableRequirement, TableUpdate } from '../../../shared/iceberg/spec/updates';
import { CATALOG_CONTRACT, type CatalogContractTarget, describeCatalogContract, failingChecks } from './catalog-contract';

/** Forwards every call to another catalog; each subclass changes one behaviour. */
class ForwardingCatalog implements Catalog {
  constructor(protected readonly inner: Catalog) {}
  get io(): FileIO {
    return this.inner.io;
  }
  tableLocation(id: TableIdentifier): string {
    return this.inner.tableLocation(id);
  }
  loadTable(id: TableIdentifier): Promise<Table> {
    return this.inner.loadTable(id);
  }
  tryLoadTable(id: TableIdentifier): Promise<Table | undefined> {
    return this.inner.tryLoadTable(id);
  }
  tableExists(id: TableIdentifier): Promise<boolean> {
    return this.inner.tableExists(id);
  }
  createTable(id: TableIdentifier, options: CreateTableOptions, commitOptions?: CommitOptions): Promise<Table> {
    return this.inner.createTable(id, options, commitOptions);
  }
  commit(base: Table, requirements: TableRequirement[], updates: TableUpdate[], options?: CommitOptions): Promise<Table> {
    return this.inner.commit(base, requirements, updates, options);
  }
  listTables(namespace: string[]): Promise<TableIdentifier[]> {
    return this.inner.listTables(namespace);
  }
  dropTable(id: TableIdentifier, options?: DropTableOptions): Promise<void> {
    return this.inner.dropTable(id, options);
  }
}

/** Commits without checking any requirement. */
class IgnoresRequirements extends ForwardingCatalog {
  override commit(base: Table, _requirements: TableRequirement[], updates: TableUpdate[], options?: CommitOptions): Promise<Table> {
    return this.inner.commit(base, [], updates, options);
  }
}

/** Applies every commit to the latest metadata, requirements unchecked: the last writer wins. */
class LastWriterWins extends ForwardingCatalog {
  override async commit(base: Table, _requirements: TableRequirement[], updates: TableUpdate[], options?: CommitOptions): Promise<Table> {
    return this.inner.commit(await this.inner.loadTable(base.identifier), [], updates, options);
  }
}

/** Reports a missing table with the storage's file-level NotFoundError instead of TableNotFoundError. */
class MissingAsFileNotFound extends ForwardingCatalog {
  override async loadTable(id: TableIdentifier): Promise<Table> {
    const table = await this.inner.tryLoadTable(id);
    if (!table) throw new NotFoundError(`${formatIdentifier(id)}: no metadata`);
    return table;
  }
}

/** Remembers what it loaded until it writes that table itself, so other writers' commits go unseen. */
class CachesLoads extends ForwardingCatalog {
  private readonly cache = new Map<string, Table | undefined>();
  override async tryLoadTable(id: TableIdentifier): Promise<Table | undefined> {
    const key = formatIdentifier(id);
    if (!this.cache.has(key)) this.cache.set(key, await this.inner.tryLoadTable(id));
    return this.cache.get(key);
  }
  override async loadTable(id: TableIdentifier): Promise<Table> {
    return (await this.tryLoadTable(id)) ?? this.inner.loadTable(id);
  }
  override async tableExists(id: TableIdentifier): Promise<boolean> {
    return (await this.tryLoadTable(id)) !== undefined;
  }
  override async createTable(id: TableIdentifier, options: CreateTableOptions, commitOptions?: CommitOptions): Promise<Table> {
    this.cache.delete(formatIdentifier(id));
    return this.inner.createTable(id, options, commitOptions);
  }
  override async commit(base: Table, requirements: TableRequirement[], updates: TableUpdate[], options?: CommitOptions): Promise<Table> {
    this.cache.delete(formatIdentifier(base.identifier));
    return this.inner.commit(base, requirements, updates, options);
  }
  override async dropTable(id: TableIdentifier, options?: DropTableOptions): Promise<void> {
    this.cache.delete(formatIdentifier(id));
    return this.inner.dropTable(id, options);
  }
}

/** Normalises table names to NFC, so names PostgreSQL keeps apart collapse into one. */
class NormalisesNames extends ForwardingCatalog {
  private static nfc(id: TableIdentifier): TableIdentifier {
    return { namespace: id.namespace.map((n) => n.normalize('NFC')), name: id.name.normalize('NFC') };
  }
  override loadTable(id: TableIdentifier): Promise<Table> {
    return this.inner.loadTable(NormalisesNames.nfc(id));
  }
  override tryLoadTable(id: TableIdentifier): Promise<Table | undefined> {
    return this.inner.tryLoadTable(NormalisesNames.nfc(id));
  }
  override tableExists(id: TableIdentifier): Promise<boolean> {
    return this.inner.tableExists(NormalisesNames.nfc(id));
  }
  override createTable(id: TableIdentifier, options: CreateTableOptions, commitOptions?: CommitOptions): Promise<Table> {
    return this.inner.createTable(NormalisesNames.nfc(id), options, commitOptions);
  }
}

/** Checks requirements against the latest metadata and commits on top of it, as the REST catalog's server does. */
class CommitsToLatest extends ForwardingCatalog {
  override async commit(base: Table, requirements: TableRequirement[], updates: TableUpdate[], options?: CommitOptions): Promise<Table> {
    const latest = await this.inner.loadTable(base.identifier);
    checkRequirements(latest.metadata, requirements);
    return this.inner.commit(latest, [], updates, options);
  }
}

/** A Hadoop catalog over fresh memory storage, wrapped in `wrap` for both the instance and its reopened twin. */
function wrapped(wrap: (inner: Catalog) => Catalog): () => CatalogContractTarget {
  return () => {
    const io = new MemoryFileIO();
    const open = (): Catalog => wrap(new HadoopCatalog(io, 'memory://warehouse'));
    return { catalog: open(), reopen: open };
  };
}

/** The name of the contract check whose name contains `fragment`, so the expectations below read as prose. */
function check(fragment: string): string {
  const found = CATALOG_CONTRACT.filter((c) => c.name.includes(fragment));
  expect(found, fragment).toHaveLength(1);
  return found[0]!.name;
}

describe('the catalog contract catches broken catalogs', () => {
  it('the unbroken wrapper passes every check, so each failure below is the breakage alone', async () => {
    expect(await failingChecks(wrapped((inner) => new ForwardingCatalog(inner)))).toEqual([]);
  });

  it('a catalog that ignores requirements fails the requirement check', async () => {
    expect(await failingChecks(wrapped((inner) => new IgnoresRequirements(inner)))).toEqual([check('requirement fails')]);
  });

  it('a catalog where the last writer wins fails the requirement and the race checks', async () => {
    expect(await failingChecks(wrapped((inner) => new LastWriterWins(inner)))).toEqual([check('requirement fails'), check('two commits from the same base')]);
  });

  it('a catalog that reports a missing table with the wrong error fails the missing-table and drop checks', async () => {
    expect(await failingChecks(wrapped((inner) => new MissingAsFileNotFound(inner)))).toEqual([check('reports a missing table'), check('drops a table')]);
  });

  it("a catalog that does not see another instance's commits fails the visibility check", async () => {
    expect(await failingChecks(wrapped((inner) => new CachesLoads(inner)))).toEqual([check('visible to a fresh instance')]);
  });

  it('a catalog that normalises names fails the non-ASCII names check', async () => {
    expect(await failingChecks(wrapped((inner) => new NormalisesNames(inner)))).toEqual([check('non-ASCII')]);
  });
});

describeCatalogContract(
  'a catalog that checks requirements against the latest metadata, as a REST server does',
  wrapped((inner) => new CommitsToLatest(inner)),
);
