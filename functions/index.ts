/** The function app's entry module: loading it registers every function (package.json "main" points here). */
import '../orchestrators/migrate-database';
import '../orchestrators/migrate-table';
import './activities/migration-activities';
import './http/migrations';
