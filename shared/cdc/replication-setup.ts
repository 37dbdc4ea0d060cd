/**
 * Publication and logical replication slot management: the source-side objects change data capture needs.
 * Table names are resolved against pg_catalog and quoted; slot names are checked against PostgreSQL's own rule
 * (they cannot be quoted in the replication grammar). A table whose updates and deletes could not be captured
 * is refused before anything is created.
 */
import type { Client, QueryResultRow } from 'pg';
import { TableNotFoundError, ValidationError } from '../errors';
import { clientTarget, connectClient } from '../postgres/connection';
import { displayQualified, quoteIdent, quoteQualified } from '../postgres/identifiers';
import { toPostgresError } from '../postgres/postgres-errors';
import type { TableName } from './change-decoder';
import { type Lsn, parseLsn } from './lsn';

/** Options of `connectReplication`. */
export interface ConnectReplicationOptions {
  /** Longest wait for the connection and login; defaults to 10 s. */
  connectTimeoutInMs?: number;
  /** Shown in pg_stat_replication; defaults to "icebridge". */
  applicationName?: string;
}

/** Opens a logical replication connection (`replication=database`): replication commands and plain SQL both work. */
export async function connectReplication(url: string, options: ConnectReplicationOptions = {}): Promise<Client> {
  return connectClient(url, (parsed) => ({
    connectionTimeoutMillis: options.connectTimeoutInMs ?? parsed.connectTimeoutInMs ?? 10_000,
    application_name: options.applicationName ?? parsed.applicationName ?? 'icebridge',
    // pg sends `replication` in the startup packet; its type definitions do not list the option.
    replication: 'database',
  }));
}

const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

/** Refuses a slot name PostgreSQL would refuse (lowercase letters, digits, underscore; at most 63). */
export function checkSlotName(name: string): string {
  if (!SLOT_NAME.test(name)) {
    throw new ValidationError(`invalid replication slot name ${JSON.stringify(name.slice(0, 80))}: use 1 to 63 lowercase letters, digits and underscores`);
  }
  return name;
}

/** One statement on an ordinary connection; driver and server errors become IcebridgeErrors naming the target. */
async function query<R extends QueryResultRow>(client: Client, operation: string, text: string, values: unknown[] = []): Promise<R[]> {
  try {
    return (await client.query<R>(text, values)).rows;
  } catch (error) {
    throw toPostgresError(error, { operation, target: clientTarget(client) });
  }
}

interface ResolvedTable extends TableName {
  oid: number;
  kind: string;
}

/** The tables as the catalog names them; a missing one is a TableNotFoundError. */
async function resolveTables(client: Client, tables: readonly TableName[]): Promise<ResolvedTable[]> {
  const rows = await query<{ oid: number; schema: string; name: string; kind: string }>(
    client,
    'resolving the tables to publish',
    `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
       FROM unnest($1::text[], $2::text[]) AS t(schema, name)
       JOIN pg_catalog.pg_namespace n ON n.nspname = t.schema
       JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.name AND c.relkind IN ('r', 'p')`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  return tables.map((t) => {
    const row = rows.find((r) => r.schema === t.schema && r.name === t.name);
    if (row === undefined) throw new TableNotFoundError(`table ${displayQualified(t.schema, t.name)} does not exist`);
    return { schema: row.schema, name: row.name, oid: Number(row.oid), kind: row.kind };
  });
}

/**
 * Refuses tables whose updates and deletes cannot be captured: no primary key and REPLICA IDENTITY DEFAULT, or
 * REPLICA IDENTITY NOTHING (the old row would be unknown). Partitioned tables are judged by every leaf.
 */
export async function checkReplicaIdentity(client: Client, tables: readonly TableName[]): Promise<void> {
  const resolved = await resolveTables(client, tables);
  const rows = await query<{ schema: string; name: string; identity: string; has_key: boolean }>(
    client,
    'reading replica identities',
    `SELECT n.nspname AS schema, c.relname AS name, c.relreplident::text AS identity,
            EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_key
       FROM unnest($1::oid[]) AS t(oid)
       -- An ordinary table is in no partition tree: it is judged itself; a partitioned table by its leaves.
       CROSS JOIN LATERAL (SELECT t.oid AS relid UNION SELECT relid FROM pg_catalog.pg_partition_tree(t.oid) WHERE isleaf) AS p
       JOIN pg_catalog.pg_class c ON c.oid = p.relid AND c.relkind = 'r'
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace`,
    [resolved.map((t) => t.oid)],
  );
  const refused = rows.filter((r) => r.identity === 'n' || (r.identity === 'd' && !r.has_key));
  if (refused.length === 0) return;
  const lines = refused.map((r) => {
    const why = r.identity === 'n' ? 'has REPLICA IDENTITY NOTHING' : 'has no primary key and no REPLICA IDENTITY FULL or USING INDEX';
    return `table ${displayQualified(r.schema, r.name)} ${why}, so its updates and deletes cannot be captured; fix: ALTER TABLE ${quoteQualified(r.schema, r.name)} REPLICA IDENTITY FULL;`;
  });
  throw new ValidationError(lines.join('\n'));
}

/**
 * Creates the publication for exactly these tables (after `checkReplicaIdentity`), publishing partitioned tables
 * under their root's name. Idempotent: an existing publication with the same tables is kept; one with other
 * tables is an error, never silently changed.
 */
export async function createPublication(client: Client, publication: string, tables: readonly TableName[]): Promise<void> {
  await checkReplicaIdentity(client, tables);
  const resolved = await resolveTables(client, tables);
  const existing = await query<{ schema: string; name: string }>(
    client,
    `reading publication ${quoteIdent(publication)}`,
    `SELECT t.schemaname AS schema, t.tablename AS name FROM pg_catalog.pg_publication p
       LEFT JOIN pg_catalog.pg_publication_tables t ON t.pubname = p.pubname WHERE p.pubname = $1`,
    [publication],
  );
  if (existing.length > 0) {
    const want = new Set(resolved.map((t) => displayQualified(t.schema, t.name)));
    const have = new Set(existing.filter((r) => r.name !== null).map((r) => displayQualified(r.schema, r.name)));
    if (want.size === have.size && [...want].every((t) => have.has(t))) return;
    throw new ValidationError(
      `publication ${quoteIdent(publication)} already exists with other tables (${[...have].sort().join(', ') || 'none'}); drop it or choose another name`,
    );
  }
  const list = resolved.map((t) => quoteQualified(t.schema, t.name)).join(', ');
  await query(
    client,
    `creating publication ${quoteIdent(publication)}`,
    `CREATE PUBLICATION ${quoteIdent(publication)} FOR TABLE ${list} WITH (publish_via_partition_root = true)`,
  );
}

/** Drops the publication if it exists. */
export async function dropPublication(client: Client, publication: string): Promise<void> {
  await query(client, `dropping publication ${quoteIdent(publication)}`, `DROP PUBLICATION IF EXISTS ${quoteIdent(publication)}`);
}

/** A slot just created and the snapshot it exported; the snapshot stays valid until `release`. */
export interface CreatedSlot {
  slotName: string;
  /** The first position the slot will stream: every transaction committed after the snapshot. */
  consistentPoint: Lsn;
  /** For `SET TRANSACTION SNAPSHOT` (withSnapshotTransaction's snapshotId) on other connections. */
  snapshotName: string;
  /** Closes the replication connection, which ends the exported snapshot. */
  release(): Promise<void>;
}

/**
 * Creates a `pgoutput` logical slot on its own replication connection and keeps that connection open, idle, so
 * the exported snapshot stays usable: the copy reads in it, then releases the slot's handle.
 */
export async function createReplicationSlot(url: string, slotName: string, options: ConnectReplicationOptions = {}): Promise<CreatedSlot> {
  checkSlotName(slotName);
  const client = await connectReplication(url, options);
  const target = { host: client.host, port: client.port, database: client.database ?? '', user: client.user ?? '' };
  try {
    const version = Number((await client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num);
    // PostgreSQL 15 introduced the option list; the bare keyword form is the only one older servers know.
    const sql =
      version >= 150000
        ? `CREATE_REPLICATION_SLOT ${slotName} LOGICAL pgoutput (SNAPSHOT 'export')`
        : `CREATE_REPLICATION_SLOT ${slotName} LOGICAL pgoutput EXPORT_SNAPSHOT`;
    const { rows } = await client.query<{ slot_name: string; consistent_point: string; snapshot_name: string }>(sql);
    const row = rows[0]!;
    let released = false;
    return {
      slotName: row.slot_name,
      consistentPoint: parseLsn(row.consistent_point),
      snapshotName: row.snapshot_name,
      release: async () => {
        if (released) return;
        released = true;
        await client.end();
      },
    };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw toPostgresError(error, { operation: `creating replication slot ${slotName}`, target });
  }
}

/** Drops the slot if it exists (on an ordinary connection); an active slot is an error from the server. */
export async function dropReplicationSlot(client: Client, slotName: string): Promise<void> {
  await query(
    client,
    `dropping replication slot ${slotName}`,
    'SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE slot_name = $1',
    [checkSlotName(slotName)],
  );
}

/** What the server keeps for a slot. */
export type SlotState =
  | { exists: false }
  | {
      exists: true;
      active: boolean;
      /** Everything before it is confirmed applied: the server will not send it again. */
      confirmedFlushLsn: Lsn;
      /** The oldest WAL the slot still needs. */
      restartLsn: Lsn;
      /** WAL bytes kept for the slot: pg_current_wal_lsn() - restart_lsn. */
      retainedWalBytes: bigint;
    };

/** Inspects a slot on an ordinary connection. */
export async function inspectReplicationSlot(client: Client, slotName: string): Promise<SlotState> {
  const rows = await query<{ active: boolean; confirmed: string; restart: string; retained: string }>(
    client,
    `inspecting replication slot ${slotName}`,
    `SELECT active, confirmed_flush_lsn::text AS confirmed, restart_lsn::text AS restart,
            pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), restart_lsn)::text AS retained
       FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`,
    [slotName],
  );
  const row = rows[0];
  if (row === undefined) return { exists: false };
  return {
    exists: true,
    active: row.active,
    confirmedFlushLsn: parseLsn(row.confirmed),
    restartLsn: parseLsn(row.restart),
    retainedWalBytes: BigInt(row.retained),
  };
}
