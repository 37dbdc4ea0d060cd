/**
 * The tables of a sync ("members"): each publication table opened for applying, or stopped (by an earlier run,
 * by a failure now, or because a subset sync left it out), with the stop recorded in the table before the slot
 * can move past its changes.
 */
import type { TableBinding, TableName } from '../cdc/change-decoder';
import { type Lsn, formatLsn } from '../cdc/lsn';
import { IcebridgeError, TableShapeChangedError, ValidationError, errorMessage } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import { displayQualified } from '../postgres/identifiers';
import type { RunEnvironment } from '../run/environment';
import { appliedLsn } from './applied-lsn';
import { type SyncTable, type SyncTableColumns, openSyncTable } from './apply-changes';
import { appliedColumns } from './evolve-table';
import type { SqlLink } from './reconnect';
import { bindingFor, checkHeldTypes, describeSyncBinding } from './sync-binding';
import { type ApplyRetryOptions, type TableStop, isRetriesExhausted, readTableStop, recordTableStop, withApplyRetries } from './table-stop';
import { tableList } from './table-selection';

/** One table of the sync. */
export interface Member {
  /** `schema.name` of the source table. */
  name: string;
  id: TableIdentifier;
  source: TableName;
  shape: SyncTableColumns;
  /** The opened table; undefined once stopped. */
  table: SyncTable | undefined;
  /** The position the table holds everything up to. */
  applied: Lsn;
  /** Row changes applied by this run. */
  changes: number;
  stop: TableStop | undefined;
  /** Running when the sync started (reported in the progress's tables). */
  started: boolean;
}

/** A subset sync that would leave out tables still running, without the permission to stop them. */
export class SubsetRefusedError extends ValidationError {}

/** What `openMembers` needs. */
export interface OpenMembersOptions {
  slot: string;
  publication: string;
  namespace?: string;
  /** The tables to sync; the publication's other tables are left out (stopped). Default: all. */
  tables?: readonly TableName[];
  /** Allows leaving out tables that are not stopped yet: they are stopped for good. */
  force?: boolean;
  applyRetry?: ApplyRetryOptions;
  notice: (message: string) => void;
  /** Opens each table at the start (default `openSyncTable`): a caller that kept a table open, its key index current, hands it back. */
  openTable?: typeof openSyncTable;
}

/**
 * Every table of the publication as a member, and the bindings the stream decodes with (all of them: the stream
 * carries every published table's changes). Tables stopped for this slot stay stopped; left-out tables are
 * stopped (refused without `force`); a table that cannot be opened is stopped like one whose batch failed.
 */
export async function openMembers(
  env: RunEnvironment,
  sql: SqlLink,
  published: readonly TableName[],
  options: OpenMembersOptions,
): Promise<{ members: Member[]; bindings: TableBinding[] }> {
  const selected = options.tables ?? published;
  const missing = selected.filter((s) => !published.some((t) => t.schema === s.schema && t.name === s.name));
  if (missing.length > 0) throw new ValidationError(`not in publication ${options.publication}: ${tableList(missing)}`);
  const bindings: TableBinding[] = [];
  const members: Member[] = [];
  /** Tables whose held column types the copy no longer maps to: stopped below, the others go on. */
  const retyped = new Map<Member, string>();
  for (const source of published) {
    const id = { namespace: [options.namespace ?? source.schema], name: source.name };
    const name = displayQualified(source.schema, source.name);
    const { metadata } = await env.catalog.loadTable(id);
    const applied = appliedLsn(metadata);
    if (applied === undefined) throw new ValidationError(`table ${name} records no change capture position: was it migrated with --cdc?`);
    // As of the columns the table has applied: a column the source gained since is taken on when the stream reaches it.
    const binding = bindingFor(await sql.run((client) => describeSyncBinding(client, source)), appliedColumns(metadata));
    bindings.push(binding);
    const shape = { keyColumns: binding.table.key.columns, rowColumns: binding.mapping.schema.fields.map((f) => f.name) };
    const stop = readTableStop(metadata, options.slot);
    const inSync = selected.some((s) => s.schema === source.schema && s.name === source.name);
    const member: Member = { name, id, source, shape, table: undefined, applied, changes: 0, stop, started: inSync && stop === undefined };
    members.push(member);
    try {
      checkHeldTypes(binding, metadata, source);
    } catch (error) {
      if (!(error instanceof TableShapeChangedError)) throw error;
      retyped.set(member, error.message);
    }
  }
  const leftOut = members.filter((m) => m.stop === undefined && !m.started);
  if (leftOut.length > 0 && options.force !== true) {
    throw new SubsetRefusedError(
      `the slot's position is shared by every table of the run: syncing a subset loses the changes of ${leftOut.map((m) => m.name).join(', ')} for good ` +
        '(they would be stopped and need a new copy); add --force to do so',
    );
  }
  for (const member of leftOut) {
    await stopMember(env.catalog, options.slot, member, "left out of a sync of a subset of the run's tables (--tables/--schema with --force)", options.notice);
  }
  for (const member of members) {
    if (member.stop !== undefined) continue;
    const problem = retyped.get(member);
    if (problem !== undefined) {
      await stopMember(env.catalog, options.slot, member, problem, options.notice);
      continue;
    }
    try {
      await withApplyRetries(
        () => reopenMember(env.catalog, member, options.openTable),
        () => Promise.resolve(),
        options.applyRetry,
      );
    } catch (error) {
      if (isRetriesExhausted(error)) throw error;
      await stopMember(env.catalog, options.slot, member, errorMessage(error), options.notice);
    }
  }
  return { members, bindings };
}

/** Opens the member's table again: its key index rebuilt and its applied position read from the table. */
export async function reopenMember(catalog: Catalog, member: Member, open: typeof openSyncTable = openSyncTable): Promise<void> {
  member.table = undefined;
  member.table = await open({ catalog }, member.id, member.source, member.shape);
  const applied = appliedLsn((await catalog.loadTable(member.id)).metadata);
  if (applied !== undefined && applied > member.applied) member.applied = applied;
}

/**
 * Stops the member and records the stop in its table. When the record fails the stop is not durable, so the
 * error is thrown: the caller must not confirm the slot past the table's changes.
 */
export async function stopMember(catalog: Catalog, slot: string, member: Member, reason: string, notice: (message: string) => void): Promise<void> {
  // What the table holds, read from it: a commit may have landed before the failure that stops it.
  const held = await catalog.loadTable(member.id).then(
    ({ metadata }) => appliedLsn(metadata),
    () => undefined,
  );
  const lsn = held !== undefined && held > member.applied ? held : member.applied;
  const stop: TableStop = { reason, lsn: formatLsn(lsn), at: new Date().toISOString() };
  try {
    await recordTableStop(catalog, member.id, slot, stop);
  } catch (error) {
    throw new IcebridgeError(
      'SYNC_STOP_NOT_RECORDED',
      `table ${member.name} failed (${reason}) and its stop could not be recorded in the table (${errorMessage(error)}); the batch is not confirmed`,
      { cause: error },
    );
  }
  member.stop = stop;
  member.table = undefined;
  notice(`table ${member.name} stopped, holding every change up to ${stop.lsn}: ${reason}`);
}

/** The stop of each stopped member, as reported. */
export function stoppedTables(members: readonly Member[]): Array<{ table: string } & TableStop> {
  return members.filter((m) => m.stop !== undefined).map((m) => ({ table: m.name, ...m.stop! }));
}

/** The smallest applied position over the running members (where the stream must start), or undefined when none runs. */
export function lowestApplied(members: readonly Member[]): Lsn | undefined {
  let low: Lsn | undefined;
  for (const m of members) if (m.stop === undefined && (low === undefined || m.applied < low)) low = m.applied;
  return low;
}
