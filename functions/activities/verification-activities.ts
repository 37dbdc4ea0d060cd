/** The verification's activities: decode input, call shared/verify, return figures and differences. */
import * as df from 'durable-functions';
import { loadSettings } from '../../shared/config/settings';
import { redactUrl } from '../../shared/postgres/connection';
import type { KeyRange, VerifyDatabaseInput, VerifyTablePlan } from '../../shared/verify/contracts';
import { planVerification, tableRequest } from '../../shared/verify/plan-verification';
import { type VerifyTableOptions, verifyRowRange, verifyTable } from '../../shared/verify/verify-table';
import { Activities } from '../../orchestrators/names';
import { activityOutcome } from './activity-outcome';
import { environment } from './environment';

df.app.activity(Activities.planVerification, {
  handler: (input: VerifyDatabaseInput) => {
    const settings = loadSettings();
    const shownAs = { source: settings.sourceUrl ? redactUrl(settings.sourceUrl) : '', warehouse: settings.warehouse };
    return activityOutcome(() => planVerification(environment(), input, shownAs));
  },
});

df.app.activity(Activities.verifyTableChecks, {
  handler: (input: { plan: VerifyTablePlan; options: VerifyTableOptions }) => activityOutcome(() => verifyTable(environment(), tableRequest(input.plan), input.options)),
});

df.app.activity(Activities.verifyRowRange, {
  handler: (input: { plan: VerifyTablePlan; range: KeyRange; options: Pick<VerifyTableOptions, 'maxDifferences' | 'samples'> }) =>
    activityOutcome(() => verifyRowRange(environment(), tableRequest(input.plan), input.range, input.options)),
});
