/** The migration's activities: decode input, call shared/migrate, return references and figures. */
import { loadSettings } from '../../shared/config/settings';
import { dropHandover } from '../../shared/migrate/cdc-handover';
import { commitTable } from '../../shared/migrate/commit-table';
import type { CopyPartitionSummary } from '../../shared/migrate/contracts';
import { copyPartitionOnWorker } from '../../shared/migrate/copy-worker-pool';
import { countRows } from '../../shared/migrate/count-rows';
import { planMigration } from '../../shared/migrate/plan-migration';
import { releaseRunSnapshot, renewSnapshot } from '../../shared/migrate/run-snapshot';
import { withSource } from '../../shared/run/environment';
import { recordMigrationEnd, recordMigrationStart, recordTableCommitted } from '../../shared/state-db/migration-state';
import { reportCopyProgress } from '../../shared/telemetry/copy-progress';
import { recordPartitionCopied } from '../../shared/telemetry/metrics';
import { activityOutcome } from './activity-outcome';
import { environment as env } from './environment';
import { registerActivity } from './register-activity';

registerActivity('planMigration', (input) => activityOutcome(() => planMigration(env(), input).then((plan) => recordMigrationStart(input, plan))));

// The copy itself runs on a worker thread (one per core), so partitions copied at once use more than one core.
// Its references stay in the receipt it wrote; the orchestration's history gets the counts.
registerActivity('copyPartition', (input, context) =>
  activityOutcome(async (): Promise<CopyPartitionSummary> => {
    const started = performance.now();
    const { partition, attempt, files, rows, bytes } = await copyPartitionOnWorker(input, {
      settings: loadSettings(),
      environment: env,
      onProgress: (copied, threadId) =>
        reportCopyProgress({ runId: input.runId, table: input.table.source.name, partition: input.partition.index, rows: copied, threadId }),
      debug: (message) => context.debug(message),
    });
    recordPartitionCopied({ table: input.table.source.name, rows, bytes, durationMs: performance.now() - started });
    return { partition, attempt, files, rows, bytes };
  }),
);

registerActivity('commitTable', (input) => activityOutcome(() => commitTable(env().catalog, input).then((result) => recordTableCommitted(input, result))));

registerActivity('countRows', (input) => activityOutcome(() => countRows(env(), input)));

// The run's snapshot holder lives in the process that planned (or renewed); holders on other instances end at their
// next keepalive, when they find the release marker this writes.
registerActivity('releaseSnapshot', (input) =>
  activityOutcome(async () => {
    const released = await releaseRunSnapshot(env(), input.runId);
    if (input.dropHandover) await withSource(env(), (client) => dropHandover(client, input.runId));
    return recordMigrationEnd(input, { released });
  }),
);

registerActivity('renewSnapshot', (input) => activityOutcome(() => renewSnapshot(env(), input)));
