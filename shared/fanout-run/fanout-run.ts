/**
 * The fan-out of a migrate --cdc run: its tables (the run's publication, described as the sync describes them), the
 * load, the sync's hook, the check. What the CLI, the HTTP functions and the consistency job share.
 */
import type { Client } from 'pg';
import type { TableBinding } from '../cdc/change-decoder';
import { ValidationError } from '../errors';
import { type FanoutConsistencyReport, checkFanout } from '../fanout/consistency/check-fanout';
import { icebergInventory, postgresInventory } from '../fanout/consistency/source-inventory';
import { FanoutFeed } from '../fanout/fanout-feed';
import { type FanoutTablesOptions, fanoutTables } from '../fanout/fanout-tables';
import type { FanoutTable } from '../fanout/fanout-types';
import { type TableLoadProgress, loadHistory } from '../fanout/historical-load';
import { qualifiedName } from '../fanout/identity';
import { clearLoadCheckpoints, loadedPositions, readLoadCheckpoints } from '../fanout/load-checkpoints';
import type { Catalog } from '../iceberg/catalog/catalog';
import { handoverName } from '../migrate/handover-names';
import { withStateDatabase } from '../state-db/state-connection';
import { type StateDatabaseSettings, stateDatabaseFromEnv } from '../state-db/state-settings';
import { describeSyncBinding } from '../sync/sync-binding';
import type { FanoutStart, SyncFanout } from '../sync/sync-fanout';
import { publicationTables } from '../sync/sync-loop';
import { type FanoutSystems, openFanoutSystems } from './fanout-systems';

/** The run's tables as the fan-out sees them, described now on `client`. */
export async function runTables(client: Client, runId: string, options: FanoutTablesOptions & { tables?: readonly string[] } = {}): Promise<FanoutTable[]> {
  const published = await publicationTables(client, handoverName(runId));
  if (published.length === 0) throw new ValidationError(`run ${runId} has no publication with tables on the source: was it migrated with --cdc?`);
  const bindings: TableBinding[] = [];
  for (const table of published) bindings.push(await describeSyncBinding(client, table));
  return selected(fanoutTables(bindings, options), options.tables);
}

function selected(tables: FanoutTable[], names: readonly string[] | undefined): FanoutTable[] {
  if (names === undefined) return tables;
  const unknown = names.filter((n) => !tables.some((t) => qualifiedName(t) === n || t.name === n));
  if (unknown.length > 0) throw new ValidationError(`not a table of the run: ${unknown.join(', ')}`);
  return tables.filter((t) => names.includes(qualifiedName(t)) || names.includes(t.name));
}

/** Whether the run's slot is being streamed now (a sync runs). */
export async function slotActive(client: Client, runId: string): Promise<boolean> {
  const { rows } = await client.query<{ active: boolean }>('SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1', [handoverName(runId)]);
  if (rows.length === 0) throw new ValidationError(`replication slot ${handoverName(runId)} does not exist: was run ${runId} migrated with --cdc?`);
  return rows[0]!.active;
}

/** Options of `loadRun`. */
export interface LoadRunOptions {
  catalog: Catalog;
  namespace?: string;
  state: StateDatabaseSettings;
  systems: FanoutSystems;
  tables: readonly FanoutTable[];
  /** Forget earlier loads first. */
  again?: boolean;
  dryRun?: boolean;
  chunkRows?: number;
  signal?: AbortSignal;
  onProgress?: (progress: TableLoadProgress) => void;
}

/** The historical load of the run's tables into its systems. */
export function loadRun(options: LoadRunOptions): Promise<TableLoadProgress[]> {
  return withStateDatabase(options.state, async (client) => {
    if (options.again === true && options.dryRun !== true) await clearLoadCheckpoints(client, options.state.schema);
    return loadHistory({
      catalog: options.catalog,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      tables: options.tables,
      sinks: options.systems.sinks,
      state: { client, schema: options.state.schema },
      ...(options.chunkRows === undefined ? {} : { chunkRows: options.chunkRows }),
      ...(options.dryRun === undefined ? {} : { dryRun: options.dryRun }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    });
  });
}

/** The sync's fan-out hook over `systems`: the running tables of the sync, each after its load. */
export function syncFanout(
  state: StateDatabaseSettings,
  systems: FanoutSystems,
  options: FanoutTablesOptions = {},
): (start: FanoutStart) => Promise<SyncFanout> {
  return async (start) => {
    const running = start.bindings.filter((b) => start.applied.has(qualifiedName(b.table)));
    const loaded = await withStateDatabase(state, async (client) => loadedPositions(await readLoadCheckpoints(client, state.schema)));
    return FanoutFeed.open(systems.sinks, fanoutTables(running, options), loaded, start);
  };
}

/** The systems of `settings` and the sync's hook over them; a ValidationError without a state database. */
export async function openSyncFanout(
  settings: NodeJS.ProcessEnv,
  runId: string,
): Promise<{ systems: FanoutSystems; hook: (start: FanoutStart) => Promise<SyncFanout> }> {
  const state = stateDatabaseFromEnv(settings);
  if (state === undefined) throw new ValidationError('the fan-out keeps its checkpoints in the state database: set ICEBRIDGE_STATE_DATABASE_URL');
  const systems = await openFanoutSystems(settings, runId);
  return { systems, hook: syncFanout(state, systems) };
}

/** Options of `checkRun`. */
export interface CheckRunOptions {
  source: Client;
  catalog: Catalog;
  namespace?: string;
  systems: FanoutSystems;
  tables: readonly FanoutTable[];
  now?: Date;
}

/** The cross-system check of the run's tables: PostgreSQL, Iceberg and every configured downstream system. */
export function checkRun(options: CheckRunOptions): Promise<FanoutConsistencyReport> {
  return checkFanout({
    tables: options.tables,
    sources: [
      { system: 'postgres', inventory: (table) => postgresInventory(options.source, table) },
      { system: 'iceberg', inventory: (table) => icebergInventory(options.catalog, table, options.namespace) },
      ...options.systems.inventories,
    ],
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}
