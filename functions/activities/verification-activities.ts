/** The verification's activities: decode input, call shared/verify, return figures and differences; save a table's report. */
import { loadSettings } from '../../shared/config/settings';
import { redactUrl, sourceOnThisMachine } from '../../shared/postgres/connection';
import { planVerification } from '../../shared/verify/steps/plan-verification';
import { saveTableVerification, verificationReportsLocation } from '../../shared/verify/reports/report-store';
import { verifyTable } from '../../shared/verify/steps/verify-table';
import { rangeWorkerThreads, verifyRowRangeOnWorker } from '../../shared/migrate/copy-worker-pool';
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
    // Ranges run one per worker thread when the warehouse lets them (verifyRowRangeOnWorker), else in this thread.
    const workerThreads = rangeWorkerThreads(settings.warehouse);
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
registerActivity('verifyRowRange', (input, context) =>
  activityOutcome(() => verifyRowRangeOnWorker(input, { settings: loadSettings(), environment, debug: (message) => context.debug(message) })),
);

registerActivity('saveTableVerification', (input) =>
  activityOutcome(async () => {
    await saveTableVerification(environment().catalog.io, input.location, input.verification);
    recordVerification(input.verification);
    return null;
  }),
);
