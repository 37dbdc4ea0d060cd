/** The scheduled jobs' activity: run one job for one slot and record its result (shared/ops/run-job.ts). */
import { loadSettings } from '../../shared/config/settings';
import { runJob } from '../../shared/ops/run-job';
import { activityOutcome } from './activity-outcome';
import { environment } from './environment';
import { registerActivity } from './register-activity';

registerActivity('runJob', (input) => activityOutcome(() => runJob(environment(), loadSettings().warehouse, input)));
