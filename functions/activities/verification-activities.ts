/** The verification's activities: decode input, call shared/verify, return figures and differences; save a table's report. */
import { loadSettings } from '../../shared/config/settings';
import { redactUrl, sourceOnThisMachine } from '../../shared/postgres/connection';
import { planVerification } from '../../shared/verify/steps/plan-verification';
import { saveTableVerification, verificationReportsLocation } from '../../shared/verify/reports/report-store';
import { verifyRowRange, verifyTable } from '../../shared/verify/steps/verify-table';
import type { VerifyRowRangeInput } from '../../shared/verify/steps/plan-verification';
import type { RowRangeResult } from '../../shared/verify/contracts';
import { CopyWorkerStartError, describeTask, sharedCopyWorkerPool } from '../../shared/migrate/copy-worker-pool';
import { MEMORY_SCHEME } from '../../shared/iceberg/io/memory-file-io';
import { searchTableRows, verifyScanRange } from '../../shared/verify/steps/verify-scan-range';
import { recordVerification } from '../../shared/telemetry/metrics';
import { activityOutcome } from './activity-outcome';
import { environment } from './environment';
import { registerActivity } from './register-activity';

registerActivity('planVerification', (input) => {
  const settings = loadSettings();
  const shownAs = { source: settings.sourceUrl ? redactUrl(settings.sourceUrl) : '', warehouse: settings.warehouse };
  return activityOutcome(async () => {
    const env = environment();
    // Ranges run one per worker thread when the warehouse lets them (verifyRowRangeOnWorker below), else in this thread.
    const workerThreads = settings.warehouse.startsWith(MEMORY_SCHEME) ? 0 : (sharedCopyWorkerPool()?.size ?? 0);
    const sourceLocal = settings.sourceUrl === undefined || sourceOnThisMachine(settings.sourceUrl);
    return {
      ...(await planVerification(env, input, shownAs, { workerThreads, sourceOnThisMachine: sourceLocal })),
      reports: verificationReportsLocation(env.catalog, input.verificationId),
    };
  });
});

registerActivity('verifyTableChecks', (input) => activityOutcome(() => verifyTable(environment(), input.request, input.options)));

registerActivity('verifyScanRange', (input) => activityOutcome(() => verifyScanRange(environment(), input.request, input.range, input.options)));

registerActivity('searchTableRows', (input) => activityOutcome(async () => (await searchTableRows(environment(), input.request, input.options)) ?? null));

// A range is verified on a worker thread (one per core), as partitions are copied: its Iceberg side keeps one
// JavaScript thread busy, so ranges verified at once use more than one core only on threads of their own.
registerActivity('verifyRowRange', (input, context) => activityOutcome(() => verifyRowRangeOnWorker(input, (message) => context.debug(message))));

/**
 * verifyRowRange on a worker thread of the shared pool, or in this thread when workers are off
 * (ICEBRIDGE_COPY_WORKERS=0), when the warehouse is in memory or when no worker can be started here (said in
 * `debug`). The result is the same either way.
 */
async function verifyRowRangeOnWorker(input: VerifyRowRangeInput, debug: (message: string) => void): Promise<RowRangeResult> {
  const settings = loadSettings();
  const pool = sharedCopyWorkerPool();
  if (pool && !settings.warehouse.startsWith(MEMORY_SCHEME)) {
    try {
      return await pool.verifyRange(settings, input);
    } catch (error) {
      if (!(error instanceof CopyWorkerStartError)) throw error;
      debug(`${describeTask({ type: 'verify-range', taskId: 0, settings, input })} in the main thread: ${error.message}`);
    }
  }
  return verifyRowRange(environment(), input.request, input.range, input.options);
}

registerActivity('saveTableVerification', (input) =>
  activityOutcome(async () => {
    await saveTableVerification(environment().catalog.io, input.location, input.verification);
    recordVerification(input.verification);
    return null;
  }),
);
