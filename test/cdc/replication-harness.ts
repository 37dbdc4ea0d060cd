/**
 * What the logical replication suites share: an embedded PostgreSQL with logical decoding, publications and slots
 * made in one call, streams whose replication connections are closed with them (the server has few WAL senders),
 * and readers of the events a stream delivers.
 */
import * as path from 'node:path';
import type { Client } from 'pg';
import type { ChangeEvent, RowChange, TableBinding } from '../../shared/cdc/change-decoder';
import type { Lsn } from '../../shared/cdc/lsn';
import { connectReplication, createPublication, createReplicationSlot } from '../../shared/cdc/replication-setup';
import { type ReplicationStream, type StartReplicationOptions, startReplication } from '../../shared/cdc/replication-stream';
import { connectPostgres } from '../../shared/postgres/connection';
import { describeTable } from '../../shared/postgres/introspect';
import { type MapTableOptions, mapTable } from '../../shared/postgres/type-mapping';
import { type PostgresInstance, startPostgres } from '../integration/support/postgres';

/** The edge-case fixture of the copy tests: the type matrix, hostile names, partitioned tables. */
export const EDGE_SQL = path.resolve(__dirname, '../postgres/fixtures/edge-cases.sql');
/** The schema the edge-case fixture creates. */
export const EDGE = 'edge "cases"';

/** A logical-decoding source and the helpers bound to it. */
export interface ReplicationSource {
  server: PostgresInstance;
  url: string;
  /** An ordinary connection to the database. */
  admin: Client;
  /** A table's description and default mapping (or with the options). */
  binding(schema: string, name: string, options?: MapTableOptions): Promise<TableBinding>;
  /** A publication and a slot for the tables; returns the slot's consistent point. */
  setUp(slot: string, publication: string, tables: Array<{ schema: string; name: string }>): Promise<Lsn>;
  /** A stream of the slot on a new replication connection (bigint values); the connection is closed if start fails. */
  open(slot: string, publication: string, bindings: TableBinding[], startLsn: Lsn, options?: Partial<StartReplicationOptions>): Promise<ReplicationStream>;
  /** Closes the stream, then its connection. */
  shut(stream: ReplicationStream): Promise<void>;
  /** Closes every connection and stops the server. */
  stop(): Promise<void>;
}

/** Starts PostgreSQL with `wal_level=logical` and a database `cdc`, with the edge-case fixture loaded when asked. */
export async function startReplicationSource(options: { edgeCases?: boolean } = {}): Promise<ReplicationSource> {
  const server = await startPostgres({ logical: true });
  const url = await server.createDatabase('cdc');
  const admin = await connectPostgres(url);
  if (options.edgeCases === true) {
    // The edge-case fixture uses Pagila's domain; it is all this database needs of Pagila.
    await admin.query(`CREATE DOMAIN public."bıgınt" AS bigint`);
    await server.loadSqlFile('cdc', EDGE_SQL);
  }
  const clients = new Map<ReplicationStream, Client>();
  return {
    server,
    url,
    admin,
    binding: async (schema, name, mapOptions = {}) => {
      const table = await describeTable(admin, schema, name);
      return { table, mapping: mapTable(table, mapOptions) };
    },
    setUp: async (slot, publication, tables) => {
      await createPublication(admin, publication, tables);
      const created = await createReplicationSlot(url, slot);
      await created.release();
      return created.consistentPoint;
    },
    open: async (slot, publication, bindings, startLsn, streamOptions = {}) => {
      const client = await connectReplication(url);
      const stream = await startReplication(client, {
        slotName: slot,
        publications: [publication],
        startLsn,
        bindings,
        exactBigInt: true,
        ...streamOptions,
      }).catch(async (error: unknown) => {
        await client.end();
        throw error;
      });
      clients.set(stream, client);
      return stream;
    },
    shut: async (stream) => {
      await stream.close();
      await clients.get(stream)?.end();
      clients.delete(stream);
    },
    stop: async () => {
      await Promise.all([...clients.values()].map((c) => c.end().catch(() => undefined)));
      await admin.end().catch(() => undefined);
      await server.stop();
    },
  };
}

/** Events until `commits` transactions have been delivered whole. */
export async function transactions(batches: AsyncGenerator<ChangeEvent[]>, commits: number): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = [];
  let seen = 0;
  while (seen < commits) {
    const next = await batches.next();
    if (next.done === true) throw new Error(`the stream ended after ${seen} of ${commits} transactions`);
    for (const event of next.value) {
      events.push(event);
      if (event.kind === 'commit') seen++;
    }
  }
  return events;
}

/** The row changes among events. */
export function changes(events: ChangeEvent[]): RowChange[] {
  return events.flatMap((e) => (e.kind === 'change' ? [e.change] : []));
}

/** The commits among events. */
export function commitsOf(events: ChangeEvent[]): Array<Extract<ChangeEvent, { kind: 'commit' }>> {
  return events.flatMap((e) => (e.kind === 'commit' ? [e] : []));
}
