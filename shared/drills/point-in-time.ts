/**
 * The point-in-time drill: a scratch table is migrated (S1), changed and migrated again (S2), then restored as of
 * S1 with restoreTable twice: into a new table, and in place with a backup. Proven: each restore reports itself
 * verified exact against S1, each restored table holds exactly the rows kept when S1 was taken, and the backup holds
 * exactly the rows the table had before the in-place restore.
 */
import { restoreTable } from '../restore/restore-table';
import { backupTableName } from '../restore/restore-target';
import type { Row } from '../iceberg/spec/values';
import { type DrillEnvironment, type DrillOptions, SCRATCH_COLUMNS, currentSnapshot, migrateScratch, rowDifference, scratchRowsSql } from './drill-environment';
import { type DrillSteps, check } from './drill-steps';
import { type Scratch, inScratch } from './scratch';

/** Runs the drill's steps in the scratch; throws DrillStepFailed at the first that fails. */
export async function pointInTimeDrill(drill: DrillEnvironment, scratch: Scratch, steps: DrillSteps, options: DrillOptions = {}): Promise<void> {
  await steps.run('create the scratch table', () =>
    inScratch(drill.env, scratch, async (client, t) => {
      await client.query(`CREATE TABLE ${t('accounts')} (${SCRATCH_COLUMNS})`);
      await client.query(scratchRowsSql(t('accounts'), 1, 400));
      // The rows as of S1, kept in PostgreSQL to compare the restores with independently of their own verification.
      await client.query(`CREATE TABLE ${t('accounts_s1')} AS TABLE ${t('accounts')}`);
    }),
  );
  const s1 = await steps.run(
    'migrate: S1',
    async () => {
      await migrateScratch(drill, scratch, ['accounts']);
      return currentSnapshot(drill, scratch, 'accounts');
    },
    (s) => `snapshot ${s}`,
  );
  const s2 = await steps.run(
    'change the source and bring the change to Iceberg: S2',
    async () => {
      await inScratch(drill.env, scratch, async (client, t) => {
        await client.query(`UPDATE ${t('accounts')} SET amount = amount + 1000, doc = doc || '{"changed": true}' WHERE id % 5 = 0`);
        await client.query(`DELETE FROM ${t('accounts')} WHERE id <= 20`);
        await client.query(scratchRowsSql(t('accounts'), 401, 450));
        await client.query(`CREATE TABLE ${t('accounts_before_restore')} AS TABLE ${t('accounts')}`);
      });
      await migrateScratch(drill, scratch, ['accounts']);
      const snapshot = await currentSnapshot(drill, scratch, 'accounts');
      check(snapshot !== s1, `the second migration left S1 (${s1}) current`);
      return snapshot;
    },
    (s) => `snapshot ${s}`,
  );
  // Sabotage: one row lost on the way into PostgreSQL, which the restore's own verification must catch.
  const tamper = options.sabotageRecovery ? (row: Row, index: number): Row | undefined => (index === 0 ? undefined : row) : undefined;
  await steps.run(
    'restore as of S1 into a new table',
    async () => {
      const result = await restoreTable(drill.env, {
        table: { schema: scratch.name, name: 'accounts' },
        target: { namespace: [scratch.name], name: 'accounts' },
        asOf: { snapshotId: BigInt(s1) },
        mode: { into: 'accounts_restored' },
        ...(tamper ? { tamper } : {}),
      });
      check(
        result.ok && result.verification.status === 'ok',
        `the restore reported ${result.verification.status}${result.verification.error ? `: ${result.verification.error}` : ''}`,
      );
      check(result.snapshotId === s1, `restored snapshot ${result.snapshotId}, asked for ${s1}`);
      const diff = await inScratch(drill.env, scratch, (client, t) => rowDifference(client, t('accounts_restored'), t('accounts_s1')));
      check(diff === 0, `the new table differs from the rows of S1 in ${diff} row(s)`);
      return `${result.rows} rows, verified exact against S1`;
    },
    (d) => d,
  );
  const now = new Date();
  await steps.run(
    'restore as of S1 in place, with a backup',
    async () => {
      const result = await restoreTable(drill.env, {
        table: { schema: scratch.name, name: 'accounts' },
        target: { namespace: [scratch.name], name: 'accounts' },
        asOf: { snapshotId: BigInt(s1) },
        mode: { replace: true },
        now: () => now,
        ...(tamper ? { tamper } : {}),
      });
      check(
        result.ok && result.verification.status === 'ok',
        `the restore reported ${result.verification.status}${result.verification.error ? `: ${result.verification.error}` : ''}`,
      );
      const diff = await inScratch(drill.env, scratch, (client, t) => rowDifference(client, t('accounts'), t('accounts_s1')));
      check(diff === 0, `the table differs from the rows of S1 in ${diff} row(s)`);
      return `${result.rows} rows, verified exact against S1 (S2 was ${s2})`;
    },
    (d) => d,
  );
  await steps.run(
    'the backup holds the rows from before the restore',
    async () => {
      const backup = backupTableName('accounts', now);
      const diff = await inScratch(drill.env, scratch, (client, t) => rowDifference(client, t(backup), t('accounts_before_restore')));
      check(diff === 0, `${backup} differs from the pre-restore rows in ${diff} row(s)`);
      return backup;
    },
    (d) => d,
  );
}
