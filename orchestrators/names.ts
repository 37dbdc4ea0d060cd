/** Names of every orchestration and activity, in one place so registrations and calls cannot drift apart. */
export const Orchestrations = {
  migrateDatabase: 'migrateDatabase',
  migrateTable: 'migrateTable',
  verifyDatabase: 'verifyDatabase',
  verifyTable: 'verifyTable',
} as const;

/** Activity function names. */
export const Activities = {
  planMigration: 'planMigration',
  copyPartition: 'copyPartition',
  commitTable: 'commitTable',
  countRows: 'countRows',
  planVerification: 'planVerification',
  verifyTableChecks: 'verifyTableChecks',
  verifyRowRange: 'verifyRowRange',
} as const;
