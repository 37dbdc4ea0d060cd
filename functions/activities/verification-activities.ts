/** The verification's activities: decode input, call shared/verify, return figures and differences; save a table's report. */
import { loadSettings } from '../../shared/config/settings';
import { redactUrl } from '../../shared/postgres/connection';
import { planVerification } from '../../shared/verify/steps/plan-verification';
import { saveTableVerification, verificationReportsLocation } from '../../shared/verify/reports/report-store';
import { verifyRowRange, verifyTable } from '../../shared/verify/steps/verify-table';
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
    return { ...(await planVerification(env, input, shownAs)), reports: verificationReportsLocation(env.catalog, input.verificationId) };
  });
});

registerActivity('verifyTableChecks', (input) => activityOutcome(() => verifyTable(environment(), input.request, input.options)));

registerActivity('verifyScanRange', (input) => activityOutcome(() => verifyScanRange(environment(), input.request, input.range, input.options)));

registerActivity('searchTableRows', (input) => activityOutcome(async () => (await searchTableRows(environment(), input.request, input.options)) ?? null));

registerActivity('verifyRowRange', (input) => activityOutcome(() => verifyRowRange(environment(), input.request, input.range, input.options)));

registerActivity('saveTableVerification', (input) =>
  activityOutcome(async () => {
    await saveTableVerification(environment().catalog.io, input.location, input.verification);
    recordVerification(input.verification);
    return null;
  }),
);
