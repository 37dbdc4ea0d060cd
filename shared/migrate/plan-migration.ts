/**
 * planMigration: resolve the requested tables against pg_catalog, map their types, create or evolve each
 * Iceberg table, order the tables by foreign keys and split each into copy partitions. A table that cannot be
 * planned (an unmappable type, a schema clash) is reported as a failure; the others go ahead.
 */
import { IcebridgeError, errorMessage } from '../errors';
import { dropHandover, takeHandoverSnapshot } from './cdc-handover';
import { describeTables, serverVersionNum } from '../postgres/introspect';
import type { SourceTable } from '../postgres/source-table';
import { mapTable } from '../postgres/type-mapping';
import { currentSchema } from '../iceberg/spec/table-metadata';
import type { Client } from 'pg';
import type { MigrateDatabaseInput, SourceSnapshot, TableFailure } from './contracts';
import { type RunSnapshot, lockPlannedTables, notOneSnapshotWarning, releaseRunSnapshot, takeRunSnapshot } from './run-snapshot';
import { type RunEnvironment, withSource } from '../run/environment';
import { type PlanPartitionsOptions, partitionSizing, planPartitions } from '../postgres/partition-planner';
import type { WarnedMigrationPlan, WarnedTablePlan } from './plan-warnings';
import { orderByForeignKeys } from './table-order';
import { ensureTargetTable } from './target-table';

/**
 * Plans a migration run. Unknown tables or schema are an error naming what exists. The plan's warnings say what
 * a person should know about its partitions (a clamped size, an old server, a table that cannot be split).
 */
export async function planMigration(env: RunEnvironment, input: MigrateDatabaseInput): Promise<WarnedMigrationPlan> {
  try {
    // The snapshot comes first, so the tables are described as the copies will read them.
    const shared = input.cdc === true ? await takeHandoverSnapshot(env, input) : await takeRunSnapshot(env, input.runId, 0);
    return await planInSnapshot(env, input, shared);
  } catch (error) {
    await releaseRunSnapshot(env, input.runId);
    // A planning that will not be tried again must not leave a slot keeping WAL on the source.
    if (input.cdc === true && !(error instanceof IcebridgeError && error.retryable))
      await withSource(env, (client) => dropHandover(client, input.runId)).catch(() => undefined);
    throw error;
  }
}

async function planInSnapshot(env: RunEnvironment, input: MigrateDatabaseInput, shared: RunSnapshot): Promise<WarnedMigrationPlan> {
  const describe = async (client: Client) => ({
    described: await describeTables(client, input.sourceSchema, input.tables),
    version: await serverVersionNum(client),
  });
  const { described, version } = 'holder' in shared ? await shared.holder.read(describe) : await withSource(env, describe);
  // As pg_dump does: DDL on a table being copied waits for the copy instead of changing it underneath.
  if ('holder' in shared)
    await lockPlannedTables(
      env,
      shared.holder,
      input.sourceSchema,
      described.map((t) => t.name),
    );
  const snapshot = 'holder' in shared ? shared.snapshot : undefined;
  const sizing: PlanPartitionsOptions = {
    ...(input.partitionSizeInBytes !== undefined ? { partitionSizeInBytes: input.partitionSizeInBytes } : {}),
    serverVersionNum: version,
  };
  const { order, cycles } = orderByForeignKeys(
    described.map((t) => t.name),
    described.flatMap((t) => t.foreignKeys.filter((fk) => fk.referencedTable.schema === t.schema).map((fk) => ({ from: t.name, to: fk.referencedTable.name }))),
  );
  const byName = new Map(described.map((t) => [t.name, t]));
  const tables: WarnedTablePlan[] = [];
  const failures: TableFailure[] = [];
  for (const name of order) {
    try {
      tables.push(await planTable(env, input, byName.get(name)!, sizing, snapshot));
    } catch (error) {
      failures.push({ table: name, reason: errorMessage(error) });
    }
  }
  const warnings = [...('refused' in shared ? [notOneSnapshotWarning(shared.refused)] : []), ...partitionSizing(sizing).warnings];
  return { runId: input.runId, tables, cycles, failures, ...(snapshot ? { snapshot } : {}), ...(warnings.length > 0 ? { warnings } : {}) };
}

async function planTable(
  env: RunEnvironment,
  input: MigrateDatabaseInput,
  source: SourceTable,
  sizing: PlanPartitionsOptions,
  snapshot: SourceSnapshot | undefined,
): Promise<WarnedTablePlan> {
  const config = input.tableConfig?.[source.name] ?? {};
  const mapping = mapTable(source, config.excludeColumns ? { excludedColumns: config.excludeColumns } : {});
  const target = { namespace: [input.namespace], name: config.targetName ?? source.name };
  const table = await ensureTargetTable(env.catalog, target, mapping.schema, {
    ...(config.partitionSpec ? { partitionSpec: config.partitionSpec } : {}),
    properties: { 'icebridge.source-table': `${source.schema}.${source.name}` },
  });
  const key = config.key ?? source.key.columns;
  for (const column of key) {
    if (!mapping.columns.some((c) => c.name === column)) throw new Error(`key column ${column} is not among the migrated columns`);
  }
  const { partitions, warnings } = planPartitions(source, sizing);
  return {
    source: { schema: source.schema, name: source.name },
    target,
    // The copy writes rows in the Iceberg table's field order, which may differ after evolution.
    columns: currentSchema(table.metadata).fields.map((f) => f.name),
    key,
    estimatedRows: Math.max(0, Math.round(source.stats.reltuples ?? 0)),
    partitions,
    ...(config.excludeColumns ? { excludedColumns: config.excludeColumns } : {}),
    ...(snapshot ? { sourceSnapshot: snapshot } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}
