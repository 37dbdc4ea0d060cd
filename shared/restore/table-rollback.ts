/**
 * Rolling one Iceberg table back to an earlier snapshot of its own history, audited. A table kept in step by change
 * capture is guarded twice: the rollback is refused while the run's sync is writing it (its replication slot is
 * active) unless the caller stops that sync first; and the rollback commit itself marks the table stopped for that
 * slot (`icebridge.cdc.stopped.<slot>`), because the table's recorded position goes back while the slot has
 * moved on: the changes in between will not be sent again, so no later sync of that slot may apply to it.
 */
import type { Client } from 'pg';
import { IcebridgeError, ValidationError } from '../errors';
import { CDC_LSN_PROPERTY } from '../cdc/lsn';
import type { Catalog } from '../iceberg/catalog/catalog';
import { type TableIdentifier, formatIdentifier } from '../iceberg/catalog/table-identifier';
import type { Snapshot } from '../iceberg/spec/snapshot';
import { type TableMetadata, ancestorsOf } from '../iceberg/spec/table-metadata';
import { rollbackTo } from '../iceberg/transaction/snapshot-management';
import { handoverName } from '../migrate/handover-names';
import { requestSyncStop } from '../run/sync-stop';
import { syncInstanceId } from '../run/sync-run';
import { type AsOf, chooseSnapshot } from './snapshot-choice';
import { TableAuditTrail } from './table-audit';
import { changeCaptureRun } from '../sync/applied-lsn';
import { type TableStop, stoppedProperty } from '../sync/table-stop';
import { recordRollback } from '../telemetry/metrics';

/** A rollback refused because the run's sync is writing the table. */
export class SyncWritingError extends IcebridgeError {
  constructor(message: string) {
    super('SYNC_WRITING', message);
  }
}

/** What the rollback needs: the catalog, and the source when the table is under change capture. */
export interface RollbackEnvironment {
  catalog: Catalog;
  /** Opens a connection to the source (to see whether the run's slot is active); absent: a table under change capture is refused. */
  connectSource?: () => Promise<Client>;
}

/** One rollback. */
export interface RollbackTableRequest {
  table: TableIdentifier;
  to: AsOf;
  reason: string;
  actor: string;
  /** Stop the sync writing the table first (its stop marker), waiting this long at most for its slot to go inactive. */
  stopSync?: { waitInMs: number; pollInMs?: number };
  now?: () => Date;
}

/** What a rollback did. */
export interface RollbackTableResult {
  table: string;
  /** Current snapshot before and after (decimal ids). */
  before: string | null;
  after: string;
  /** False when the snapshot asked for was current already: nothing was committed or recorded. */
  changed: boolean;
  /** The change capture the table was under: the run, its slot, the stop mark written and the sync stopped. */
  changeCapture?: { runId: string; slot: string; stopMark: string; syncStopped?: string };
  /** Where the audit entry was written. */
  audit?: string;
}

/** Rolls the table back to an ancestor of its current snapshot (by id or as of a time), audited. */
export async function rollbackTable(env: RollbackEnvironment, request: RollbackTableRequest): Promise<RollbackTableResult> {
  if (request.reason.trim().length === 0) throw new ValidationError('a rollback needs a reason');
  const name = formatIdentifier(request.table);
  const table = await env.catalog.loadTable(request.table);
  const current = table.metadata['current-snapshot-id'];
  const target = chooseSnapshot(table.metadata, request.to, name);
  const ancestors = ancestorsOf(table.metadata, current);
  if (!ancestors.some((s) => s['snapshot-id'] === target['snapshot-id'])) {
    throw new ValidationError(
      `snapshot ${target['snapshot-id']} of ${name} is not an ancestor of its current snapshot ${String(current)}: a rollback only goes back`,
    );
  }
  const before = current === undefined ? null : current.toString();
  const after = target['snapshot-id'].toString();
  if (target['snapshot-id'] === current) return { table: name, before, after, changed: false };

  const now = request.now ?? (() => new Date());
  const capture = changeCaptureRun(table.metadata);
  let changeCapture: RollbackTableResult['changeCapture'];
  const properties: Record<string, string> = {};
  if (capture !== undefined) {
    const slot = handoverName(capture.runId);
    const syncStopped = await ensureSyncStopped(env, request, capture.runId, slot, name, now);
    // The same mark a sync records for a table it had to stop (shared/sync/table-stop.ts): the table holds every
    // change up to the target's position and none after, while the slot has moved on.
    const stopMark = stoppedProperty(slot);
    const stop: TableStop = {
      reason: `rolled back from snapshot ${before} to ${after} by ${request.actor}: ${request.reason}`,
      lsn: positionOf(table.metadata, target) ?? '0/0',
      at: now().toISOString(),
    };
    properties[stopMark] = JSON.stringify(stop);
    changeCapture = { runId: capture.runId, slot, stopMark, ...(syncStopped ? { syncStopped } : {}) };
  }
  await rollbackTo(env.catalog, request.table, target['snapshot-id'], { tableProperties: properties });
  recordRollback('table', name);
  const audit = new TableAuditTrail(env.catalog, request.table);
  await audit.append({
    at: now().toISOString(),
    actor: request.actor,
    action: 'rollback',
    reason: request.reason,
    table: name,
    before,
    after,
    ...(changeCapture ? { stoppedSlot: changeCapture.slot } : {}),
    ...(changeCapture?.syncStopped ? { stoppedSync: changeCapture.syncStopped } : {}),
  });
  return { table: name, before, after, changed: true, ...(changeCapture ? { changeCapture } : {}), audit: audit.location };
}

/** The change-capture position the snapshot holds everything up to: its own, or its nearest ancestor's. */
function positionOf(metadata: TableMetadata, snapshot: Snapshot): string | undefined {
  return ancestorsOf(metadata, snapshot['snapshot-id']).find((s) => s.summary[CDC_LSN_PROPERTY] !== undefined)?.summary[CDC_LSN_PROPERTY];
}

/** Refuses while the run's slot is active; with `stopSync`, asks the sync to stop and waits for the slot. Returns the sync stopped. */
async function ensureSyncStopped(
  env: RollbackEnvironment,
  request: RollbackTableRequest,
  runId: string,
  slot: string,
  name: string,
  now: () => Date,
): Promise<string | undefined> {
  if (env.connectSource === undefined) {
    throw new ValidationError(`${name} is kept in step by change capture (slot ${slot}): the source database is needed to see whether its sync is writing`);
  }
  const client = await env.connectSource();
  try {
    // Between two batches a sync's slot is inactive, so a stop asked for is asked whatever the slot shows now.
    if (request.stopSync === undefined && !(await slotActive(client, slot))) return undefined;
    if (request.stopSync === undefined) {
      throw new SyncWritingError(
        `${name} is being written by a sync: replication slot ${slot} is active. Stop the sync first (stop the icebridge sync process, or POST /api/syncs/${syncInstanceId(runId)}/stop), or ask the rollback to stop it (stopSync)`,
      );
    }
    const syncId = syncInstanceId(runId);
    await requestSyncStop(env.catalog, syncId, now());
    const deadline = Date.now() + request.stopSync.waitInMs;
    const poll = request.stopSync.pollInMs ?? 500;
    while (await slotActive(client, slot)) {
      if (Date.now() >= deadline) {
        throw new SyncWritingError(
          `asked sync ${syncId} to stop, but replication slot ${slot} is still active after ${request.stopSync.waitInMs} ms (an icebridge sync process is stopped with Ctrl-C or SIGTERM, not by this request): nothing was rolled back; try again once it has stopped`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, poll));
    }
    return syncId;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function slotActive(client: Client, slot: string): Promise<boolean> {
  const { rows } = await client.query<{ active: boolean }>('SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1', [slot]);
  return rows[0]?.active === true;
}
