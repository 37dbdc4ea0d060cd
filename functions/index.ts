/** The function app's entry module: loading it registers every function (package.json "main" points here). */
import './telemetry-start';
import { loadResourceSettings } from '../shared/config/resource-settings';
import { loadSettings } from '../shared/config/settings';
import { copyWorkerCount } from '../shared/migrate/copy-resources';
import { migrateStateOnStart } from '../shared/state-db/start-up';
import { stateDatabaseFromEnv } from '../shared/state-db/state-settings';
import { alertSettingsFromEnv } from '../shared/alerts/alert-settings';
import '../orchestrators/migrate-database';
import '../orchestrators/migrate-table';
import '../orchestrators/verify-database';
import '../orchestrators/verify-table';
import '../orchestrators/sync-database';
import '../orchestrators/restore-database';
import '../orchestrators/run-scheduled-job';
import './activities/migration-activities';
import './activities/verification-activities';
import './activities/sync-activities';
import './activities/restore-activities';
import './activities/job-activities';
import './http/flags';
import './http/migrations';
import './http/verifications';
import './http/syncs';
import './http/tables';
import './http/restores';
import './http/clickhouse';
import './http/table-retry';
import './http/dashboard';
import './http/jobs';
import './http/weaviate';
import './http/kafka-offsets';
import './timers/job-timers';
import './timers/outbox-relay';

// Settings are checked as the app loads, so a missing or wrong one (the task hub, a warehouse Azure cannot keep)
// stops the Functions host at start-up with the setting's name, not at the first request.
loadSettings();
loadResourceSettings();
stateDatabaseFromEnv();
alertSettingsFromEnv();
copyWorkerCount();
void migrateStateOnStart();
