/**
 * planMigration: resolve the requested tables against pg_catalog, map their types, create or evolve each
 * Iceberg table, order the tables by foreign keys and split each into copy partitions. A table that cannot be
 * planned (an unmappable type, a schema clash) is reported as a failure; the others go ahead.
 */
import { errorMessage } from '../errors';
import { describeTables } from '../postgres/introspect';
import type { SourceTable } from '../postgres/source-table';
import { mapTable } from '../postgres/type-mapping';
import { currentSchema } from '../iceberg/spec/table-metadata';
import type { MigrateDatabaseInput, MigrationPlan, TableFailure, TablePlan } from './contracts';
import { type MigrationEnvironment, withSource } from './environment';
import { planPartitions } from './partition-planner';
import { orderByForeignKeys } from './table-order';
import { ensureTargetTable } from './target-table';

/** Plans a migration run. Unknown tables or schema are an error naming what exists. */
export async function planMigration(env: MigrationEnvironment, input: MigrateDatabaseInput): Promise<MigrationPlan> {
  const described = await withSource(env, (client) => describeTables(client, input.sourceSchema, input.tables));
  const { order, cycles } = orderByForeignKeys(
    described.map((t) => t.name),
    described.flatMap((t) => t.foreignKeys.filter((fk) => fk.referencedTable.schema === t.schema).map((fk) => ({ from: t.name, to: fk.referencedTable.name }))),
  );
  const byName = new Map(described.map((t) => [t.name, t]));
  const tables: TablePlan[] = [];
  const failures: TableFailure[] = [];
  for (const name of order) {
    try {
      tables.push(await planTable(env, input, byName.get(name)!));
    } catch (error) {
      failures.push({ table: name, reason: errorMessage(error) });
    }
  }
  return { runId: input.runId, tables, cycles, failures };
}

async function planTable(env: MigrationEnvironment, input: MigrateDatabaseInput, source: SourceTable): Promise<TablePlan> {
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
  return {
    source: { schema: source.schema, name: source.name },
    target,
    // The copy writes rows in the Iceberg table's field order, which may differ after evolution.
    columns: currentSchema(table.metadata).fields.map((f) => f.name),
    key,
    estimatedRows: Math.max(0, Math.round(source.stats.reltuples ?? 0)),
    partitions: planPartitions(source, input.partitionSizeInBytes),
  };
}
