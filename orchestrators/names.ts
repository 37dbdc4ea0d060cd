/** Names of every orchestration and activity, in one place so registrations and calls cannot drift apart. */
import type { ActivityName } from './activity-table';

/** Orchestration function names. */
export const Orchestrations = {
  migrateDatabase: 'migrateDatabase',
  migrateTable: 'migrateTable',
  verifyDatabase: 'verifyDatabase',
  verifyTable: 'verifyTable',
  syncDatabase: 'syncDatabase',
  restoreDatabase: 'restoreDatabase',
  runScheduledJob: 'runScheduledJob',
} as const;

/** Activity function names. */
export const Activities = {
  planMigration: 'planMigration',
  copyPartition: 'copyPartition',
  commitTable: 'commitTable',
  countRows: 'countRows',
  releaseSnapshot: 'releaseSnapshot',
  renewSnapshot: 'renewSnapshot',
  planVerification: 'planVerification',
  verifyScanRange: 'verifyScanRange',
  searchTableRows: 'searchTableRows',
  verifyTableChecks: 'verifyTableChecks',
  verifyRowRange: 'verifyRowRange',
  saveTableVerification: 'saveTableVerification',
  syncBatch: 'syncBatch',
  planRestore: 'planRestore',
  restoreTable: 'restoreTable',
  runJob: 'runJob',
  // Every activity of the typed table, each under its own name, and nothing else.
} as const satisfies { [N in ActivityName]: N };

/**
 * Instance id of the n-th table sub-orchestration of `parentId`. Derived, not stored, so the parent's custom status
 * stays small; ':' cannot occur in a request id, so no request can name a child's id.
 */
export function tableInstanceId(parentId: string, n: number): string {
  return `${parentId}:table:${n}`;
}

/** Instance id (and verification id) of the verification a migration runs after its copy. */
export function verificationInstanceId(migrationId: string): string {
  return `${migrationId}:verify`;
}
