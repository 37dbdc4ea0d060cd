/** The migration's activities: decode input, call shared/migrate, return references and figures. */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { commitTable } from '../../shared/migrate/commit-table';
import type { CommitTableInput, CopyPartitionInput, CopyPartitionSummary, CountRowsInput, MigrateDatabaseInput } from '../../shared/migrate/contracts';
import { copyPartitionOnWorker } from '../../shared/migrate/copy-worker-pool';
import { countRows } from '../../shared/migrate/count-rows';
import { planMigration } from '../../shared/migrate/plan-migration';
import { reportCopyProgress } from '../../shared/telemetry/copy-progress';
import { Activities } from '../../orchestrators/names';
import { activityOutcome } from './activity-outcome';
import { environment as env } from './environment';

df.app.activity(Activities.planMigration, {
  handler: (input: MigrateDatabaseInput) => activityOutcome(() => planMigration(env(), input)),
});

// The copy itself runs on a worker thread (one per core), so partitions copied at once use more than one core.
// Its references stay in the receipt it wrote; the orchestration's history gets the counts.
df.app.activity(Activities.copyPartition, {
  handler: (input: CopyPartitionInput, context: InvocationContext) =>
    activityOutcome(async (): Promise<CopyPartitionSummary> => {
      const { partition, attempt, files, rows, bytes } = await copyPartitionOnWorker(input, {
        settings: loadSettings(),
        environment: env,
        onProgress: (copied, threadId) => reportCopyProgress({ runId: input.runId, table: input.table.source.name, partition: input.partition.index, rows: copied, threadId }),
        debug: (message) => context.debug(message),
      });
      return { partition, attempt, files, rows, bytes };
    }),
});

df.app.activity(Activities.commitTable, {
  handler: (input: CommitTableInput) => activityOutcome(() => commitTable(env().catalog, input)),
});

df.app.activity(Activities.countRows, {
  handler: (input: CountRowsInput) => activityOutcome(() => countRows(env(), input)),
});
