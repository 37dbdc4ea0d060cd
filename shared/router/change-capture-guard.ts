/**
 * One writer per table. A table under change capture is written by its sync; the router may write it only once the
 * sync is no longer in charge of it. Before the router's first write to such a table, the guard refuses while the
 * run's replication slot is active (a sync is streaming it), and otherwise marks the table stopped for that slot
 * (`icebridge.cdc.stopped.<slot>`, the mark a sync records for a table it had to stop): from then on the table
 * holds writes PostgreSQL never made, and no later sync of that slot may apply changes to it.
 */
import type { Pool } from 'pg';
import type { Catalog } from '../iceberg/catalog/catalog';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import type { TableMetadata } from '../iceberg/spec/table-metadata';
import { formatLsn } from '../cdc/lsn';
import { handoverName } from '../migrate/handover-names';
import { SyncWritingError } from '../restore/table-rollback';
import { appliedLsn, changeCaptureRun } from '../sync/applied-lsn';
import { readTableStop, recordTableStop } from '../sync/table-stop';

/** The change capture in charge of the table (its run and slot), or undefined when none is. */
export function changeCaptureInCharge(metadata: TableMetadata): { runId: string; slot: string } | undefined {
  const run = changeCaptureRun(metadata);
  if (run === undefined) return undefined;
  const slot = handoverName(run.runId);
  return readTableStop(metadata, slot) === undefined ? { runId: run.runId, slot } : undefined;
}

/**
 * Makes the router the table's only writer: refuses while the slot of the change capture in charge is active,
 * else records the stop mark. Returns true when it committed the mark (the table's metadata moved).
 */
export async function takeOverFromChangeCapture(pool: Pool, catalog: Catalog, id: TableIdentifier, name: string, metadata: TableMetadata): Promise<boolean> {
  const capture = changeCaptureInCharge(metadata);
  if (capture === undefined) return false;
  const { rows } = await pool.query<{ active: boolean }>('SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1', [capture.slot]);
  if (rows[0]?.active === true) {
    throw new SyncWritingError(
      `table ${name} is being written by change capture (replication slot ${capture.slot} is active): stop the sync before writing to Iceberg through the router, since two writers of one table drift apart; nothing was written`,
    );
  }
  const lsn = appliedLsn(metadata);
  await recordTableStop(catalog, id, capture.slot, {
    reason: 'the router writes this table (Iceberg is the primary, or dual writes): changes of the source after this position are not applied to it',
    lsn: lsn === undefined ? '0/0' : formatLsn(lsn),
    at: new Date().toISOString(),
  });
  return true;
}
