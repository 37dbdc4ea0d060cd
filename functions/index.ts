/** The function app's entry module: loading it registers every function (package.json "main" points here). */
import '../orchestrators/migrate-database';
import '../orchestrators/migrate-table';
import '../orchestrators/verify-database';
import '../orchestrators/verify-table';
import './activities/migration-activities';
import './activities/verification-activities';
import './http/migrations';
import './http/verifications';
