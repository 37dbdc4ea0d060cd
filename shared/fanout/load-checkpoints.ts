/**
 * Where each table's historical load stands, in the state database's `migration_checkpoints` (consumer
 * `fanout-load`): the snapshot being loaded and the rows handed to the sinks so far, then `done` with the
 * snapshot's source position. The fan-out's stream starts each table after that position.
 */
import type { ClientBase } from 'pg';
import { type Lsn, formatLsn, parseLsn } from '../cdc/lsn';
import { quotedStateSchema } from '../state-db/state-schema';

/** The consumer name of the historical load's checkpoints. */
export const LOAD_CONSUMER = 'fanout-load';

/** One table's load. */
export interface LoadCheckpoint {
  /** `schema.name`. */
  table: string;
  status: 'running' | 'done';
  /** The Iceberg snapshot read. */
  snapshotId: string;
  /** The snapshot's source position: the table holds every change up to it. */
  position: Lsn;
  /** Rows handed to every sink. */
  rows: number;
}

/** Every table's load checkpoint. */
export async function readLoadCheckpoints(client: ClientBase, schema: string): Promise<Map<string, LoadCheckpoint>> {
  const result = await client.query<{ subject: string; status: string; lsn: string; rows: string; snapshot: string | null }>(
    `SELECT subject, status, lsn::text AS lsn, rows::text AS rows, detail ->> 'snapshotId' AS snapshot
       FROM ${quotedStateSchema(schema)}.migration_checkpoints WHERE consumer = $1`,
    [LOAD_CONSUMER],
  );
  return new Map(
    result.rows.map((r) => [
      r.subject,
      { table: r.subject, status: r.status === 'done' ? 'done' : 'running', snapshotId: r.snapshot ?? '', position: parseLsn(r.lsn), rows: Number(r.rows) },
    ]),
  );
}

/** Records a table's load progress (insert or replace). */
export async function writeLoadCheckpoint(client: ClientBase, schema: string, checkpoint: LoadCheckpoint): Promise<void> {
  await client.query(
    `INSERT INTO ${quotedStateSchema(schema)}.migration_checkpoints (consumer, subject, lsn, rows, status, detail, updated_at)
     VALUES ($1, $2, $3::pg_lsn, $4, $5, $6::jsonb, now())
     ON CONFLICT (consumer, subject) DO UPDATE
       SET lsn = EXCLUDED.lsn, rows = EXCLUDED.rows, status = EXCLUDED.status, detail = EXCLUDED.detail, updated_at = now()`,
    [
      LOAD_CONSUMER,
      checkpoint.table,
      formatLsn(checkpoint.position),
      checkpoint.rows,
      checkpoint.status,
      JSON.stringify({ snapshotId: checkpoint.snapshotId }),
    ],
  );
}

/** Forgets every table's load, so the next load starts again from the tables' current snapshots. */
export async function clearLoadCheckpoints(client: ClientBase, schema: string): Promise<void> {
  await client.query(`DELETE FROM ${quotedStateSchema(schema)}.migration_checkpoints WHERE consumer = $1`, [LOAD_CONSUMER]);
}

/** The done tables' positions, by `schema.name`: what the fan-out's stream starts after. */
export function loadedPositions(checkpoints: ReadonlyMap<string, LoadCheckpoint>): Map<string, Lsn> {
  return new Map([...checkpoints.values()].filter((c) => c.status === 'done').map((c) => [c.table, c.position]));
}
