/**
 * Child process of telemetry-export.test.ts: starts the app's telemetry from its environment (Azure Monitor or
 * OTLP; the SDK is process-global, hence a process of its own), runs one activity invocation
 * through the real wrapper, records a partition's copy figures, then flushes or shuts down telemetry (CHILD_END),
 * either of which must send everything before the process exits.
 */
import { InvocationContext } from '@azure/functions';
import { activityOutcome } from '../../../functions/activities/activity-outcome';
import { observeActivity } from '../../../functions/activities/activity-telemetry';
import { flushTelemetry, shutdownTelemetry, startTelemetry } from '../../../functions/telemetry-setup';
import { recordPartitionCopied } from '../../../shared/telemetry/metrics';

async function main(): Promise<void> {
  const mode = startTelemetry();
  if (mode !== process.env.CHILD_EXPECTED_MODE) throw new Error(`telemetry started as ${mode}`);
  const context = new InvocationContext({ functionName: 'copyPartition', triggerMetadata: { instanceId: process.env.CHILD_INSTANCE_ID } });
  const input = { runId: process.env.CHILD_INSTANCE_ID, table: { source: { schema: 'public', name: 'orders' } }, partition: { index: 7 } };
  await observeActivity('copyPartition', input, context, () =>
    activityOutcome(() => {
      recordPartitionCopied({ table: 'orders', rows: 1234, bytes: 56789, durationMs: 250 });
      return Promise.resolve(null);
    }),
  );
  // flush: as the CLI ends a command (the process exits at once after); shutdown: as the Functions worker stops.
  if (process.env.CHILD_END === 'flush') await flushTelemetry();
  else await shutdownTelemetry();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
