/** The verification's activities: decode input, call shared/verify, return figures and differences; save a table's report. */
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { redactUrl } from '../../shared/postgres/connection';
import type { TableVerification, VerifyDatabaseInput } from '../../shared/verify/contracts';
import { type VerifyRowRangeInput, type VerifyTableChecksInput, planVerification } from '../../shared/verify/steps/plan-verification';
import { saveTableVerification, verificationReportsLocation } from '../../shared/verify/reports/report-store';
import { verifyRowRange, verifyTable } from '../../shared/verify/steps/verify-table';
import { Activities } from '../../orchestrators/names';
import { activityOutcome } from './activity-outcome';
import { environment } from './environment';
import type { SearchTableRowsInput, VerifyScanRangeInput } from '../../shared/verify/steps/plan-verification';
import { searchTableRows, verifyScanRange } from '../../shared/verify/steps/verify-scan-range';

df.app.activity(Activities.planVerification, {
  handler: (input: VerifyDatabaseInput) => {
    const settings = loadSettings();
    const shownAs = { source: settings.sourceUrl ? redactUrl(settings.sourceUrl) : '', warehouse: settings.warehouse };
    return activityOutcome(async () => {
      const env = environment();
      return { ...(await planVerification(env, input, shownAs)), reports: verificationReportsLocation(env.catalog, input.verificationId) };
    });
  },
});

df.app.activity(Activities.verifyTableChecks, {
  handler: (input: VerifyTableChecksInput) => activityOutcome(() => verifyTable(environment(), input.request, input.options)),
});

df.app.activity(Activities.verifyScanRange, {
  handler: (input: VerifyScanRangeInput) => activityOutcome(() => verifyScanRange(environment(), input.request, input.range, input.options)),
});

df.app.activity(Activities.searchTableRows, {
  handler: (input: SearchTableRowsInput) => activityOutcome(async () => (await searchTableRows(environment(), input.request, input.options)) ?? null),
});

df.app.activity(Activities.verifyRowRange, {
  handler: (input: VerifyRowRangeInput) => activityOutcome(() => verifyRowRange(environment(), input.request, input.range, input.options)),
});

df.app.activity(Activities.saveTableVerification, {
  handler: (input: { location: string; verification: TableVerification }) =>
    activityOutcome(async () => {
      await saveTableVerification(environment().catalog.io, input.location, input.verification);
      return null;
    }),
});
