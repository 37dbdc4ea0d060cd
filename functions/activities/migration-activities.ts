/** The migration's activities: decode input, call shared/migrate, return references and figures. */
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { commitTable } from '../../shared/migrate/commit-table';
import type { CommitTableInput, CopyPartitionInput, CountRowsInput, MigrateDatabaseInput } from '../../shared/migrate/contracts';
import { copyPartition } from '../../shared/migrate/copy-partition';
import { countRows } from '../../shared/migrate/count-rows';
import { type MigrationEnvironment, environmentFromSettings } from '../../shared/migrate/environment';
import { planMigration } from '../../shared/migrate/plan-migration';
import { reportCopyProgress } from '../../shared/telemetry/copy-progress';
import { Activities } from '../../orchestrators/names';
import { activityOutcome } from './activity-outcome';

const environments = new Map<string, MigrationEnvironment>();

/**
 * The environment (catalog, connection factory) for the current settings, built once per distinct source and
 * warehouse: on Azure that is once per process; a local host may run migrations of several databases in turn.
 */
function env(): MigrationEnvironment {
  const settings = loadSettings();
  const key = `${settings.sourceUrl ?? ''}\u0000${settings.warehouse}`;
  let environment = environments.get(key);
  if (!environment) {
    environment = environmentFromSettings(settings);
    environments.set(key, environment);
  }
  return environment;
}

df.app.activity(Activities.planMigration, {
  handler: (input: MigrateDatabaseInput) => activityOutcome(() => planMigration(env(), input)),
});

df.app.activity(Activities.copyPartition, {
  handler: (input: CopyPartitionInput) =>
    activityOutcome(() =>
      copyPartition(env(), input, {
        onProgress: (rows) => reportCopyProgress({ runId: input.runId, table: input.table.source.name, partition: input.partition.index, rows }),
      }),
    ),
});

df.app.activity(Activities.commitTable, {
  handler: (input: CommitTableInput) => activityOutcome(() => commitTable(env().catalog, input)),
});

df.app.activity(Activities.countRows, {
  handler: (input: CountRowsInput) => activityOutcome(() => countRows(env(), input)),
});
