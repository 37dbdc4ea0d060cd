/**
 * Sync tables kept open in the process between syncBatch activities, so a batch does not rebuild every key index
 * (one scan of the key columns, about 1.6 s per million rows) that the previous batch in this process left
 * current. An entry is reused only while its table's current snapshot, schema and change shape are the ones its
 * index reflects; anything else (another process's batch, a compaction, a schema change) rebuilds it.
 */
import { CDC_LSN_PROPERTY } from '../../shared/cdc/lsn';
import type { TableName } from '../../shared/cdc/change-decoder';
import type { Catalog } from '../../shared/iceberg/catalog/catalog';
import type { TableIdentifier } from '../../shared/iceberg/catalog/table-identifier';
import { currentSnapshot } from '../../shared/iceberg/spec/table-metadata';
import { displayQualified } from '../../shared/postgres/identifiers';
import { type SyncEnvironment, type SyncTable, type SyncTableColumns, openSyncTable } from '../../shared/sync/apply-changes';

/** What a finished batch said about its tables, as far as the cache needs it. */
export interface BatchTables {
  tables: ReadonlyArray<{ table: string; appliedLsn: string | undefined; changesApplied: number }>;
  /** Tables that failed: their index may not follow their table. */
  failed: readonly string[];
}

interface Entry {
  table: SyncTable;
  /** The snapshot (and schema) the index reflects. */
  snapshotId: bigint | undefined;
  schemaId: number;
  shape: string;
}

interface Opened extends Entry {
  key: string;
  name: string;
  /** False when the table moved while it was being opened: which snapshot the index reflects is not known. */
  known: boolean;
}

/** The tables one batch opened, and how to give them back. */
export interface SyncTableSession {
  /** An `openTable` for runSync: a kept table when it is still current, else `openSyncTable`. */
  open: typeof openSyncTable;
  /** Tables the batch got from the cache instead of opening them. */
  readonly reused: number;
  /** After the batch ended normally: keeps the tables whose index is known to be their current snapshot's. */
  keep(catalog: Catalog, result: BatchTables): Promise<void>;
}

/** Open sync tables of this process, by table location; an entry is taken out while a batch uses it. */
export class SyncTableCache {
  readonly #entries = new Map<string, Entry>();

  /** Entries held (for tests and figures). */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops every entry. */
  clear(): void {
    this.#entries.clear();
  }

  /** A session for one batch. Tables taken out stay out unless `keep` puts them back, so a failed batch leaves none. */
  session(): SyncTableSession {
    const opened: Opened[] = [];
    let reused = 0;
    const entries = this.#entries;
    const open = async (env: SyncEnvironment, id: TableIdentifier, source: TableName, shape: SyncTableColumns): Promise<SyncTable> => {
      const key = env.catalog.tableLocation(id);
      const shapeKey = JSON.stringify([shape.keyColumns, shape.rowColumns]);
      const name = displayQualified(source.schema, source.name);
      // Taken out, so two batches of one process never share a mutable index.
      const cached = entries.get(key);
      entries.delete(key);
      const before = (await env.catalog.loadTable(id)).metadata;
      const snapshotId = before['current-snapshot-id'];
      const schemaId = before['current-schema-id'];
      if (cached && cached.snapshotId === snapshotId && cached.schemaId === schemaId && cached.shape === shapeKey) {
        reused++;
        opened.push({ ...cached, key, name, known: true });
        return cached.table;
      }
      const table = await openSyncTable(env, id, source, shape);
      const after = (await env.catalog.loadTable(id)).metadata;
      const known = after['current-snapshot-id'] === snapshotId && after['current-schema-id'] === schemaId;
      opened.push({ table, snapshotId, schemaId, shape: shapeKey, key, name, known });
      return table;
    };
    const keep = async (catalog: Catalog, result: BatchTables): Promise<void> => {
      for (const t of opened) {
        if (!t.known || result.failed.includes(t.name)) continue;
        const figures = result.tables.find((f) => f.table === t.name);
        if (figures === undefined) continue;
        const { metadata } = await catalog.loadTable(t.table.id);
        if (metadata['current-schema-id'] !== t.schemaId) continue;
        const now = currentSnapshot(metadata);
        const unchanged = metadata['current-snapshot-id'] === t.snapshotId;
        // A new snapshot is this batch's own last commit only when it records the position the batch reached for
        // the table, and the batch applied something: another writer's commit records none or another one.
        // A compaction (operation replace) carries the position over but moves every row: never this batch's.
        const ownCommit =
          now !== undefined && now.summary.operation !== 'replace' && figures.changesApplied > 0 && now.summary[CDC_LSN_PROPERTY] === figures.appliedLsn;
        if (!unchanged && !ownCommit) continue;
        entries.set(t.key, { table: t.table, snapshotId: metadata['current-snapshot-id'], schemaId: t.schemaId, shape: t.shape });
      }
    };
    return {
      open,
      get reused() {
        return reused;
      },
      keep,
    };
  }
}
