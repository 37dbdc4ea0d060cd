/**
 * The gap-free hand-over from the copy to the change stream (migrate --cdc): planning creates a publication of the
 * migrated tables and a logical slot exporting its snapshot, and the run's snapshot holder adopts that snapshot,
 * so every partition reads exactly the slot's consistent point. The copy holds every transaction committed before
 * it, the slot streams every one committed after it: no gap, no overlap.
 */
import type { Client } from 'pg';
import { IcebridgeError, ValidationError } from '../errors';
import { createPublication, createReplicationSlot, dropPublication, dropReplicationSlot, inspectReplicationSlot } from '../cdc/replication-setup';
import { formatLsn } from '../cdc/lsn';
import { describeTables } from '../postgres/introspect';
import { releaseSnapshots } from '../postgres/snapshot-holder';
import { type RunEnvironment, withSource } from '../run/environment';
import type { CdcHandover, MigrateDatabaseInput } from './contracts';
import { handoverName } from './handover-names';
import { type RunSnapshot, takeRunSnapshot } from './run-snapshot';

/**
 * Switches for tests only: `adoptSlotSnapshot: false` lets the holder take a snapshot of its own (a broken
 * hand-over, to show the check that catches it), `afterSlotCreated` runs between the slot's creation and the
 * holder's start (a barrier to write in that window).
 */
export const handoverTestSwitches: { adoptSlotSnapshot: boolean; afterSlotCreated?: () => Promise<void> } = { adoptSlotSnapshot: true };

/** The hand-over of the holder currently held in this process, by run id (set when its slot was created). */
const started = new Map<string, CdcHandover>();

/**
 * The run's snapshot under --cdc: the publication (tables whose changes cannot be captured refuse the whole run,
 * with the SQL that fixes each), then the slot, whose exported snapshot the holder adopts before the slot's
 * connection is released. A repeated planning whose holder is still here shares it and its slot; a slot whose
 * exported snapshot is gone (the process restarted) cannot prove its hand-over, so it is dropped and made again.
 */
export async function takeHandoverSnapshot(env: RunEnvironment, input: MigrateDatabaseInput): Promise<Extract<RunSnapshot, { holder: unknown }>> {
  const name = handoverName(input.runId);
  const sourceUrl = env.sourceUrl;
  if (sourceUrl === undefined) throw new ValidationError('change capture needs the source URL for a replication connection; none is configured');
  // The publication must exist before the slot's consistent point: pgoutput judges each change by the catalog as
  // it was then, so a publication created later would leave out the changes in between.
  await withSource(env, async (client) => {
    const tables = (await describeTables(client, input.sourceSchema, input.tables)).map((t) => ({ schema: t.schema, name: t.name }));
    await createPublication(client, name, tables);
  });
  const taken = await takeRunSnapshot(env, input.runId, 0, {
    adopt: async () => {
      started.delete(input.runId);
      await withSource(env, (client) => dropReplicationSlot(client, name));
      const slot = await createReplicationSlot(sourceUrl, name, { applicationName: 'icebridge-handover' });
      started.set(input.runId, { slot: slot.slotName, publication: name, lsn: formatLsn(slot.consistentPoint) });
      try {
        await handoverTestSwitches.afterSlotCreated?.();
      } catch (error) {
        await slot.release();
        throw error;
      }
      return { snapshotId: handoverTestSwitches.adoptSlotSnapshot ? slot.snapshotName : undefined, release: () => slot.release() };
    },
  });
  if ('refused' in taken) {
    await withSource(env, (client) => dropHandover(client, input.runId));
    throw new IcebridgeError('CDC_SNAPSHOT_REFUSED', `change capture needs the copy to read the slot's snapshot, and the source refuses: ${taken.refused}`);
  }
  const handover = started.get(input.runId);
  const slot = await withSource(env, (client) => inspectReplicationSlot(client, name));
  // The slot must be the one this holder's snapshot came from: a planning attempt in another process may have dropped
  // it and made another (a later consistent point) while this process still held the first one's snapshot, and
  // copying at the first point while the stream starts at the second would lose every change in between.
  if (handover === undefined || !slot.exists || formatLsn(slot.confirmedFlushLsn) !== handover.lsn) {
    // The holder outlived its slot (dropped by hand, or made again elsewhere): its snapshot proves nothing any more;
    // plan again from a new slot.
    started.delete(input.runId);
    await releaseSnapshots(input.runId);
    throw new IcebridgeError('CDC_SLOT_GONE', `replication slot ${name} vanished while the run's snapshot was held; planning again`, { retryable: true });
  }
  return { holder: taken.holder, snapshot: { ...taken.snapshot, cdc: handover } };
}

/** What `dropHandover` found and removed. */
export interface DroppedHandover {
  slot: string;
  publication: string;
  slotDropped: boolean;
  publicationDropped: boolean;
}

/** Drops the run's slot and publication, whichever exist; an active slot (a consumer streaming) is an error. */
export async function dropHandover(client: Client, runId: string): Promise<DroppedHandover> {
  const name = handoverName(runId);
  started.delete(runId);
  const slot = await inspectReplicationSlot(client, name);
  if (slot.exists) await dropReplicationSlot(client, name);
  const { rows } = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM pg_catalog.pg_publication WHERE pubname = $1', [name]);
  const publicationExists = rows[0]?.n !== '0';
  if (publicationExists) await dropPublication(client, name);
  return { slot: name, publication: name, slotDropped: slot.exists, publicationDropped: publicationExists };
}
