/** The restore's activities: the tables' foreign-key order, and one table restored and verified (figures only). */
import { restoreOrder, restoreTableSummary } from '../../shared/restore/restore-tables';
import { activityOutcome } from './activity-outcome';
import { environment } from './environment';
import { registerActivity } from './register-activity';

registerActivity('planRestore', (input) => activityOutcome(async () => ({ order: await restoreOrder(environment(), input.schema, input.tables) })));

registerActivity('restoreTable', (input) => activityOutcome(() => restoreTableSummary(environment(), input)));
