/**
 * Reverse replay: the changes of Iceberg tables since a snapshot, applied back to their PostgreSQL tables, so
 * PostgreSQL stays current while Iceberg is the primary and holds everything when traffic is rolled back. All
 * tables in ONE transaction: writes in foreign-key order, then deletes in reverse foreign-key order (deferrable
 * constraints deferred), so PostgreSQL moves from one consistent state to the next or not at all. Every statement
 * is by key and idempotent: replaying the same span twice changes nothing the second time. After the commit, each
 * Iceberg table records the snapshot it was replayed up to (`icebridge.replay.snapshot-id`), where the next replay
 * starts by default.
 */
import { CDC_LSN_PROPERTY } from '../cdc/lsn';
import { ValidationError } from '../errors';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import { type TableMetadata, ancestorsOf, currentSnapshot } from '../iceberg/spec/table-metadata';
import { setProperties } from '../iceberg/transaction/table-evolution';
import { orderByForeignKeys } from '../migrate/table-order';
import { describeTable } from '../postgres/introspect';
import { displayQualified } from '../postgres/identifiers';
import type { RunEnvironment } from '../run/environment';
import { deleteWith, inTransaction, upsertWith } from '../router/postgres-side';
import { type TableShape, tableShape } from '../router/table-shape';
import { type SnapshotChanges, snapshotChanges } from './snapshot-changes';

/** The table property holding the snapshot a table was last replayed up to. */
export const REPLAY_SNAPSHOT_PROPERTY = 'icebridge.replay.snapshot-id';

/** What to replay. */
export interface ReplayOptions {
  schema: string;
  /** The tables (names in `schema`). */
  tables: readonly string[];
  /** Iceberg namespace (default: the schema). */
  namespace?: string;
  /**
   * The snapshot each table (`schema.table`) is replayed from; a table not named starts at its recorded replay
   * position, else at the newest snapshot change capture wrote.
   */
  fromSnapshotIds?: Readonly<Record<string, bigint>>;
  /** Compute and report, write nothing. */
  dryRun?: boolean;
}

/** One table's replay. */
export interface TableReplay {
  table: string;
  from: string | undefined;
  to: string | undefined;
  upserts: number;
  deletes: number;
}

/** Replays the tables' changes into PostgreSQL; see the module comment. */
export async function replayIntoPostgres(env: RunEnvironment, options: ReplayOptions): Promise<TableReplay[]> {
  const client = await env.connectSource();
  try {
    const shapes: TableShape[] = [];
    for (const name of options.tables) shapes.push(tableShape(await describeTable(client, options.schema, name)));
    const order = orderByForeignKeys(
      shapes.map((s) => s.name),
      shapes.flatMap((s) => s.table.foreignKeys.map((fk) => ({ from: s.name, to: displayQualified(fk.referencedTable.schema, fk.referencedTable.name) }))),
    ).order.map((name) => shapes.find((s) => s.name === name)!);
    const planned: Array<{ shape: TableShape; id: TableIdentifier; changes: SnapshotChanges }> = [];
    for (const shape of order) {
      const id = { namespace: [options.namespace ?? shape.table.schema], name: shape.table.name };
      const { metadata } = await env.catalog.loadTable(id);
      const from = options.fromSnapshotIds?.[shape.name] ?? startOf(metadata, shape.name);
      planned.push({ shape, id, changes: await snapshotChanges(env.catalog.io, metadata, shape, from) });
    }
    if (options.dryRun !== true) {
      await inTransaction(client, async (tx) => {
        await tx.query('SET CONSTRAINTS ALL DEFERRED');
        // Writes first, parents before children, then deletes, children before parents: a child moved to another
        // parent is written before its old parent goes (a key written again is never among the deletes).
        for (const { shape, changes } of planned) for (const row of changes.upserts) await upsertWith(tx, shape, row);
        for (const { shape, changes } of [...planned].reverse()) for (const key of changes.deletes) await deleteWith(tx, shape, key);
      });
      for (const { id, changes } of planned) {
        if (changes.to !== undefined) await setProperties(env.catalog, id, { [REPLAY_SNAPSHOT_PROPERTY]: String(changes.to) });
      }
    }
    return planned.map(({ shape, changes }) => ({
      table: shape.name,
      from: changes.from?.toString(),
      to: changes.to?.toString(),
      upserts: changes.upserts.length,
      deletes: changes.deletes.length,
    }));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Where a table's replay starts: its recorded position, else the newest snapshot change capture wrote. */
function startOf(metadata: TableMetadata, name: string): bigint {
  const recorded = metadata.properties[REPLAY_SNAPSHOT_PROPERTY];
  if (recorded !== undefined && /^-?\d+$/.test(recorded)) return BigInt(recorded);
  const current = currentSnapshot(metadata);
  // A compaction (replace) carries the position over without being change capture's own write.
  const synced = ancestorsOf(metadata, current?.['snapshot-id']).find((s) => s.summary[CDC_LSN_PROPERTY] !== undefined && s.summary.operation !== 'replace');
  if (synced === undefined) {
    throw new ValidationError(`table ${name} has no replay position and no snapshot written by change capture: give the snapshot to replay from`);
  }
  return synced['snapshot-id'];
}
