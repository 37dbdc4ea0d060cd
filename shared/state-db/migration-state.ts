/**
 * A migration's state in the state database: the run (`migration_runs`), each committed table's checkpoint
 * (`table_checkpoints`) and the `migration.start` / `migration.end` actions. Each function answers its input
 * unchanged, so an activity adds it with one `.then`; none of them can fail the migration.
 */
import type { CommitTableInput, CommitTableResult, MigrateDatabaseInput, MigrationPlan, ReleaseSnapshotInput } from '../migrate/contracts';
import { type TransactionLogOptions, recordAction, writeState } from './transaction-log';

const ACTOR = 'migration';

/** Records that a run planned its tables and starts copying; answers `plan`. */
export async function recordMigrationStart<T extends MigrationPlan>(input: MigrateDatabaseInput, plan: T, options: TransactionLogOptions = {}): Promise<T> {
  const detail = { schema: input.sourceSchema, namespace: input.namespace, tables: plan.tables.length, failures: plan.failures.length };
  await writeState(`the start of run ${input.runId}`, options, (client, schema) =>
    client.query(
      `INSERT INTO ${schema}.migration_runs (run_id, status, detail) VALUES ($1, 'copying', $2::jsonb)
       ON CONFLICT (run_id) DO UPDATE SET status = 'copying', finished_at = NULL, updated_at = now(), detail = excluded.detail`,
      [input.runId, JSON.stringify(detail)],
    ),
  );
  await recordAction({ kind: 'migration.start', actor: ACTOR, subject: input.sourceSchema, after: detail, correlationId: input.runId }, options);
  return plan;
}

/** Records a committed table's checkpoint (rows, snapshot); answers `result`. */
export async function recordTableCommitted(
  input: CommitTableInput,
  result: CommitTableResult,
  options: TransactionLogOptions = {},
): Promise<CommitTableResult> {
  const table = `${input.table.source.schema}.${input.table.source.name}`;
  await writeState(`the checkpoint of ${table}`, options, (client, schema) =>
    client.query(
      `INSERT INTO ${schema}.table_checkpoints (run_id, table_name, status, rows, updated_at) VALUES ($1, $2, 'committed', $3, now())
       ON CONFLICT (run_id, table_name) DO UPDATE SET status = excluded.status, rows = excluded.rows, updated_at = now()`,
      [input.runId, table, result.rows],
    ),
  );
  return result;
}

/** Records that a run's copies are done (its source snapshot released); answers `output`. */
export async function recordMigrationEnd<T>(input: ReleaseSnapshotInput, output: T, options: TransactionLogOptions = {}): Promise<T> {
  // A planning that failed for good releases its slot too: that run ends failed.
  const status = input.dropHandover ? 'failed' : 'copied';
  await writeState(`the end of run ${input.runId}`, options, (client, schema) =>
    client.query(
      `INSERT INTO ${schema}.migration_runs (run_id, status, finished_at) VALUES ($1, $2, now())
       ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, finished_at = now(), updated_at = now()`,
      [input.runId, status],
    ),
  );
  await recordAction({ kind: 'migration.end', actor: ACTOR, after: { status }, correlationId: input.runId }, options);
  return output;
}
