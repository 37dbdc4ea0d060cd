/**
 * The one snapshot of a migration run: taken by planning (before any table is described), imported by every
 * copy and count, replaced for a table whose snapshot was lost, and released by the releaseSnapshot activity.
 * The holder lives in the process that took it (shared/postgres/snapshot-holder.ts); other processes import the
 * snapshot through the server.
 */
import type { Client } from 'pg';
import { IcebridgeError, errorMessage } from '../errors';
import { displayQualified } from '../postgres/identifiers';
import { type OpenSnapshotHolderOptions, SnapshotHolder, SnapshotRefusedError, holdSnapshot, releaseSnapshots } from '../postgres/snapshot-holder';
import { withSnapshotTransaction } from '../postgres/snapshot-transaction';
import { type RunEnvironment, withSource } from '../run/environment';
import { cancellationMarker } from './cancellation';
import type { RenewSnapshotInput, SourceSnapshot } from './contracts';

/** A run's holder, or why the source could not share a snapshot. */
export type RunSnapshot = { holder: SnapshotHolder; snapshot: SourceSnapshot } | { refused: string };

/** A snapshot exported elsewhere (a replication slot's) for a new holder to adopt; released once it has. */
export interface AdoptableSnapshot {
  /** The exported snapshot's name; undefined lets the holder take a snapshot of its own. */
  snapshotId: string | undefined;
  /** Ends what keeps the exported snapshot alive (the slot's replication connection). */
  release(): Promise<void>;
}

/** Options of `takeRunSnapshot`. */
export interface TakeRunSnapshotOptions extends Pick<OpenSnapshotHolderOptions, 'keepaliveInMs'> {
  /** Called only when a new holder is opened: the snapshot it adopts instead of taking one. */
  adopt?: () => Promise<AdoptableSnapshot>;
}

/**
 * Takes (or finds, on a repeated call) the run's holder of `generation` and proves another connection can import
 * its snapshot (a pooler in transaction mode or a standby may export and still refuse the import). A refusal is
 * an answer, not an error: the run then copies each partition in a snapshot of its own and says so.
 */
export async function takeRunSnapshot(env: RunEnvironment, runId: string, generation: number, options: TakeRunSnapshotOptions = {}): Promise<RunSnapshot> {
  const { adopt, ...holderOptions } = options;
  let holder: SnapshotHolder;
  try {
    holder = await holdSnapshot(runId, generation, async () => {
      const exported = adopt ? await adopt() : undefined;
      try {
        const client = await (env.connectSnapshotHolder ?? env.connectSource)();
        const openedAt = Date.now();
        return await SnapshotHolder.open(client, {
          ...holderOptions,
          ...(exported?.snapshotId === undefined ? {} : { adoptSnapshotId: exported.snapshotId }),
          shouldRelease: async () => (await cancelled(env, runId)) || (await releasedSince(env, runId, openedAt)),
        });
      } finally {
        // The holder exported the snapshot again (or failed to): the original's keeper is no longer needed.
        // A failed close must not orphan the holder just opened (it would never be registered, so never released).
        await exported?.release().catch(() => undefined);
      }
    });
  } catch (error) {
    if (error instanceof SnapshotRefusedError) return { refused: error.message };
    throw error;
  }
  try {
    await withSource(env, (client) => withSnapshotTransaction(client, () => Promise.resolve(undefined), { snapshotId: holder.snapshotId }));
  } catch (error) {
    if (error instanceof IcebridgeError && error.retryable) throw error;
    await releaseSnapshots(runId);
    return { refused: `the source exports a snapshot but another connection cannot import it: ${errorMessage(error)}` };
  }
  return { holder, snapshot: { id: holder.snapshotId, generation } };
}

/**
 * Locks the planned tables under the holder, then makes sure no DDL committed on them (or their partitions and
 * children) between the export and the lock: a rewrite in that window (ALTER TABLE … TYPE, TRUNCATE) would read as
 * an empty table in the snapshot. Any change of their pg_class rows is such DDL; planning then starts again
 * (retryable), under a new snapshot.
 */
export async function lockPlannedTables(env: RunEnvironment, holder: SnapshotHolder, schema: string, tables: readonly string[]): Promise<void> {
  await holder.lock(tables.map((name) => ({ schema, name })));
  const versions = async (client: Client): Promise<string> => {
    const { rows } = await client.query<{ v: string }>(
      `WITH RECURSIVE planned(oid) AS (
         SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = ANY($2::text[])
         UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN planned p ON i.inhparent = p.oid)
       SELECT string_agg(c.oid::text || ':' || c.xmin::text, ',' ORDER BY c.oid) AS v
         FROM pg_catalog.pg_class c JOIN planned p ON p.oid = c.oid`,
      [schema, tables],
    );
    return rows[0]?.v ?? '';
  };
  const [seen, now] = [await holder.read(versions), await withSource(env, versions)];
  if (seen !== now) {
    throw new IcebridgeError(
      'SOURCE_CHANGED_DURING_PLANNING',
      'a planned table was altered while its snapshot was being taken; planning again under a new snapshot',
      { retryable: true },
    );
  }
}

/** The sentence a run without one snapshot carries from its start, in its status and its summary. */
export function notOneSnapshotWarning(reason: string): string {
  return `not one snapshot: ${reason}; each partition is read in a snapshot of its own, so rows written during the copy may be missing or copied twice (the row counts and the verification judge the result)`;
}

/**
 * A replacement snapshot for a table whose snapshot was lost, locking that table; tables asking for the same
 * generation in this process share one. Throws SnapshotRefusedError when the source refuses now.
 */
export async function renewSnapshot(env: RunEnvironment, input: RenewSnapshotInput): Promise<SourceSnapshot> {
  const taken = await takeRunSnapshot(env, input.runId, input.generation);
  if ('refused' in taken)
    throw new SnapshotRefusedError(
      `${displayQualified(input.table.schema, input.table.name)}: a new snapshot could not be taken after the run's snapshot was lost: ${taken.refused}`,
    );
  await taken.holder.lock([input.table]);
  return taken.snapshot;
}

/**
 * Ends every holder of the run: those of this process now, those of other processes (an Azure instance that
 * planned or renewed) at their next keepalive, when they find the release marker. Returns how many were here.
 */
export async function releaseRunSnapshot(env: RunEnvironment, runId: string): Promise<number> {
  await markSnapshotReleased(env, runId);
  return releaseSnapshots(runId);
}

/** Writes the run's release marker: every holder of the run opened before now ends at its next keepalive. */
export async function markSnapshotReleased(env: RunEnvironment, runId: string, at: Date = new Date()): Promise<void> {
  await env.catalog.io.write(releaseMarker(env, runId), new TextEncoder().encode(JSON.stringify({ runId, releasedAt: at.toISOString() })));
}

/** `<warehouse>/.icebridge/runs/<runId>/snapshot-released`, beside the cancellation marker. */
function releaseMarker(env: RunEnvironment, runId: string): string {
  return `${env.catalog.tableLocation({ namespace: ['.icebridge', 'runs'], name: runId })}/snapshot-released`;
}

/**
 * Whether the run's snapshot was released after `openedAt`: a later run reusing the id (after its history was
 * purged) opens its holders after the marker's time, so an old marker does not end them.
 */
async function releasedSince(env: RunEnvironment, runId: string, openedAt: number): Promise<boolean> {
  const location = releaseMarker(env, runId);
  if (!(await env.catalog.io.stat(location))) return false;
  const marker = JSON.parse(new TextDecoder().decode(await env.catalog.io.read(location))) as { releasedAt?: string };
  return marker.releasedAt !== undefined && Date.parse(marker.releasedAt) >= openedAt;
}

/** A cancelled run lets its snapshot go at the holder's next keepalive, wherever the holder lives. */
async function cancelled(env: RunEnvironment, runId: string): Promise<boolean> {
  return (await env.catalog.io.stat(cancellationMarker(env.catalog, runId))) !== undefined;
}
